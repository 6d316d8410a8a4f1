"""videogen.media: image sniffing, base64 summaries, keyframe positions, the stored media JSON."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from videogen import media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 16
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize(("head", "mime", "kind"), [
    (PNG, "image/png", "PNG"), (JPEG, "image/jpeg", "JPEG"), (WEBP, "image/webp", "WEBP"),
    (SVG, None, None), (b"GIF89a", None, None), (b"", None, None),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", None, None),
])
def test_sniffing_takes_png_jpeg_webp_only(head: bytes, mime: str | None, kind: str | None):
    assert media.sniff_image(head) == mime
    assert media.image_kind(head) == kind


@pytest.mark.parametrize(("value", "http", "url"), [
    ("https://example.com/a.png", True, True), ("http://x/y", True, True),
    ("ftp://example.com/a.png", False, True), ("data:image/png;base64,AAAA", False, True),
    ("file:/etc/passwd", False, True), ("HTTPS://example.com", False, True),
    (b64(PNG), False, False), ("", False, False),
])
def test_urls(value: str, http: bool, url: bool):
    assert media.is_http_url(value) is http
    assert media.looks_like_url(value) is url


def test_base64_images_decode_and_urls_do_not():
    assert media.decode_base64_image(b64(PNG)) == PNG
    assert media.decode_base64_image(f"  data:image/png;base64,{b64(PNG)}\n") == PNG
    assert media.decode_base64_image("https://example.com/a.png") is None
    assert media.decode_base64_image("not base64!") is None
    assert media.decode_base64_image("") is None


def test_data_uri_reads_only_the_head():
    value = b64(PNG + b"\x00" * 3000)
    assert media.base64_mime(value) == "image/png"
    assert media.data_uri(value) == f"data:image/png;base64,{value}"
    assert media.data_uri(b64(SVG)) == ""  # never an SVG in an <img src> from stored data
    assert media.data_uri("%%%") == ""


def test_summaries_replace_inline_images_only():
    image = b64(PNG + b"\x00")  # 33 bytes: no padding, so the size is exact
    assert media.decoded_size(image) == 33
    assert media.base64_summary(image) == "<base64 image, 33 bytes>"
    frames = [{"input_image": image, "frame": "first"},
              {"input_image": "https://example.com/b.png", "frame": "last"}, "odd"]
    assert media.summarize_frames(frames) == [
        {"input_image": "<base64 image, 33 bytes>", "frame": "first"}, frames[1], "odd"]
    assert media.summarize_frames(frames[:1], lambda value: "x")[0]["input_image"] == "x"
    assert frames[0]["input_image"] == image  # the stored frame is not changed


@pytest.mark.parametrize(("frame", "index", "count", "last_frame", "position"), [
    (None, 0, 1, None, "first"), (None, 0, 2, None, "first"), (None, 1, 2, None, "last"),
    (None, 1, 3, None, "middle"), ("first", 1, 2, None, "first"), ("last", 0, 1, None, "last"),
    (0, 1, 2, None, "first"), (0.0, 0, 1, None, "first"), (48, 1, 3, None, "middle"),
    (48, 1, 3, 120, "middle"), (119, 2, 3, 120, "last"), (120, 2, 3, 120, "last"),
    ("middle", 0, 1, 120, "middle"),
])
def test_keyframe_positions(frame, index, count, last_frame, position):
    assert media.keyframe_position(frame, index, count, last_frame) == position


def test_stored_keyframes_and_the_other_frames():
    stored = {"frame_images": [
        {"input_image": "A", "frame": 0}, {"input_image": "B", "frame": 48},
        {"input_image": "C", "frame": "last"}, "junk"]}
    assert media.stored_keyframes(stored) == {"first": "A", "last": "C"}
    assert media.other_frames(stored) == [{"input_image": "B", "frame": 48}, "junk"]
    two = {"frame_images": [{"input_image": "A"}, {"input_image": "B"}]}
    assert media.stored_keyframes(two) == {"first": "A", "last": "B"}
    assert media.other_frames(two) == []
    assert media.stored_keyframes({}) == {} and media.other_frames({"frame_images": None}) == []


def test_other_media_urls_in_order():
    stored = {"audio_inputs": ["https://x/a.mp3", {"audio": "https://x/b.wav"}, None],
              "source_video": {"video": "https://x/s.mp4"},
              "frame_videos": [{"video": ""}, {"video": "https://x/f.mp4"}]}
    assert media.other_media_urls(stored) == [
        ("frame_videos", "https://x/f.mp4"), ("source_video", "https://x/s.mp4"),
        ("audio_inputs", "https://x/a.mp3"), ("audio_inputs", "https://x/b.wav")]
    assert media.item_url({"video": "v"}) == "v" and media.item_url("u") == "u"


def test_imports_nothing_from_django():
    code = "import sys, videogen.media; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PATH": ""})
    assert out.stdout.strip() == "False"
