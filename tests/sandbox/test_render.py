"""Downloads are real, deterministic clips that follow the request."""

from __future__ import annotations

import base64
import io

import av

from .helpers import create, download, frames, mean_rgb, solid_png


def probe(data: bytes) -> dict:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(video=0))
        return {
            "format": container.format.name, "codec": stream.codec_context.name,
            "width": stream.width, "height": stream.height, "fps": stream.average_rate,
            "pix_fmt": stream.codec_context.pix_fmt, "frames": len(decoded),
            "duration": container.duration / 1_000_000 if container.duration else None,
        }


def test_mp4_is_h264_with_the_requested_size_fps_and_length(api, sb):
    info = probe(download(api, sb, width=96, height=64, fps=12, seconds="2"))
    assert "mp4" in info["format"] and info["codec"] == "h264"
    assert (info["width"], info["height"]) == (96, 64)
    assert info["fps"] == 12 and info["frames"] == 24
    assert abs(info["duration"] - 2.0) < 0.1
    assert info["pix_fmt"] == "yuv420p"


def test_webm_is_vp9(api, sb):
    info = probe(download(api, sb, output_format="WEBM", width=80, height=48, fps=10))
    assert "webm" in info["format"] and info["codec"] == "vp9"
    assert (info["width"], info["height"]) == (80, 48)
    assert info["frames"] == 10
    assert abs(info["duration"] - 1.0) < 0.15


def test_documented_model_defaults(api, sb):
    # pixverse-v5 defaults: 5 s at 24 fps; 360x360 is one of its sizes.
    info = probe(download(api, sb, model="pixverse/pixverse-v5", width=360, height=360,
                          seconds=None, fps=None))
    assert (info["width"], info["height"], info["fps"], info["frames"]) == (360, 360, 24, 120)


def test_odd_sizes_render(api, sb):
    info = probe(download(api, sb, width=45, height=30))
    assert (info["width"], info["height"]) == (45, 30)


def test_same_request_and_seed_give_identical_bytes(api, sb):
    first = download(api, sb, seed=7)
    sb.renders.clear()  # a second real render, not a cache hit
    second = download(api, sb, seed=7)
    assert first == second
    assert download(api, sb, seed=8) != first


def test_different_prompts_give_different_frames(api, sb):
    fox = frames(download(api, sb, prompt="a red fox"))[0]
    sea = frames(download(api, sb, prompt="a calm grey sea"))[0]
    assert mean_rgb(fox) != mean_rgb(sea)


def test_frames_move(api, sb):
    clip = frames(download(api, sb, fps=8))
    assert bytes(clip[0].planes[0]) != bytes(clip[-1].planes[0])


def test_first_frame_image_shows_in_frame_zero(api, sb):
    red = base64.b64encode(solid_png((230, 20, 20))).decode()
    blue = base64.b64encode(solid_png((20, 20, 230))).decode()
    reds = mean_rgb(frames(download(api, sb, media={
        "frame_images": [{"input_image": red, "frame": 0}]}))[0])
    blues = mean_rgb(frames(download(api, sb, frame_images=[{"input_image": blue}]))[0])
    assert reds[0] > reds[2] + 60
    assert blues[2] > blues[0] + 60


def test_last_frame_image_shows_at_the_end(api, sb):
    red = base64.b64encode(solid_png((230, 20, 20))).decode()
    blue = base64.b64encode(solid_png((20, 20, 230))).decode()
    clip = frames(download(api, sb, media={"frame_images": [
        {"input_image": red, "frame": "first"}, {"input_image": blue, "frame": "last"}]}))
    assert mean_rgb(clip[0])[0] > mean_rgb(clip[0])[2] + 60
    assert mean_rgb(clip[-1])[2] > mean_rgb(clip[-1])[0] + 60


def test_generate_audio_adds_a_sound_track(api, sb):
    def kinds(data: bytes) -> list[tuple[str, str]]:
        with av.open(io.BytesIO(data)) as container:
            return [(s.type, s.codec_context.name) for s in container.streams]

    assert kinds(download(api, sb)) == [("video", "h264")]
    assert kinds(download(api, sb, generate_audio=True)) == [("video", "h264"), ("audio", "aac")]
    assert kinds(download(api, sb, generate_audio=True, output_format="WEBM")) == [
        ("video", "vp9"), ("audio", "opus")]


def test_audio_models_make_sound_by_default(api, sb):
    job = create(api, model="openai/sora-2", width=1280, height=720, seconds=None, fps=None)
    assert sb.job(job["id"]).render.audio
    job = create(api, model="openai/sora-2", width=1280, height=720, generate_audio=False)
    assert not sb.job(job["id"]).render.audio
