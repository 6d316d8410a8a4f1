"""What the app knows about media values: images (URLs or raw base64), keyframe positions, and
the media JSON stored on a job.

One place for it, used by the form, the admin, the API, the catalog, webhook payloads and the
sandbox. This module must work without Django configured (the sandbox imports it on its own),
so it imports nothing from Django and says nothing in people's words: callers translate.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

Position = Literal["first", "last", "middle"]
#: The keyframe positions the form has a field for.
KEYFRAMES: tuple[Literal["first"], Literal["last"]] = ("first", "last")
#: Media keys that hold video or audio URLs (Wan 2.7), in the order pages list them.
OTHER_MEDIA = ("frame_videos", "reference_videos", "source_video", "audio_inputs")

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


# --- Images -------------------------------------------------------------------------------------


def sniff_image(head: bytes) -> str | None:
    """The MIME type of a PNG, JPEG or WEBP from its first bytes (16 are enough); None for
    anything else, SVG included (it can carry script, so it is never taken as an image)."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_kind(head: bytes) -> str | None:
    """``"PNG"``, ``"JPEG"`` or ``"WEBP"`` from an image's first bytes; None for anything else."""
    mime = sniff_image(head)
    return mime.removeprefix("image/").upper() if mime else None


def is_http_url(value: str) -> bool:
    """Whether an image value is a URL to fetch (``http://`` or ``https://``), not base64."""
    return value.startswith(("http://", "https://"))


def looks_like_url(value: str) -> bool:
    """Whether a value was meant as a URL of any scheme (data: URIs included), so that it is
    judged as one rather than as base64 that fails to decode."""
    return "://" in value[:16] or value.startswith(("http:", "https:", "ftp:", "file:", "data:"))


def decoded_size(value: str) -> int:
    """The number of bytes raw base64 text decodes to (about; without decoding it)."""
    return len(value) * 3 // 4


def decode_base64_image(value: str) -> bytes | None:
    """The bytes of a raw-base64 (or data: URI) image; None for URLs and non-base64 text."""
    text = value.strip()
    if is_http_url(text):
        return None
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True) or None
    except (binascii.Error, ValueError):
        return None


def base64_mime(value: str) -> str | None:
    """The MIME type of raw base64 image data, read from its first bytes only (an image of
    megabytes is never decoded whole for this); None when it is not an image we take."""
    try:
        head = base64.b64decode(value[:24], validate=True)
    except (binascii.Error, ValueError):
        return None
    return sniff_image(head)


def data_uri(value: str) -> str:
    """A ``data:`` URI for raw base64 image data; "" when it is not a PNG, JPEG or WEBP."""
    mime = base64_mime(value)
    return f"data:{mime};base64,{value}" if mime else ""


def base64_summary(value: str) -> str:
    """What a payload shows instead of inline image data: ``<base64 image, 1234 bytes>``."""
    return f"<base64 image, {decoded_size(value)} bytes>"


def summarize_frames(frames: Iterable[Any], summary: Callable[[str], str] = base64_summary
                     ) -> list[Any]:
    """Keyframes with their base64 images replaced by ``summary(image)`` (they can be
    megabytes); URLs and anything that is not a frame object are kept as they are."""
    shown = []
    for frame in frames:
        image = str(frame.get("input_image", "")) if isinstance(frame, dict) else ""
        if isinstance(frame, dict) and not is_http_url(image):
            frame = {**frame, "input_image": summary(image)}
        shown.append(frame)
    return shown


# --- Keyframe positions -------------------------------------------------------------------------


def keyframe_position(frame: Any, index: int, count: int, last_frame: float | None = None
                      ) -> Position:
    """Where one of ``count`` keyframes sits, from its ``frame`` value (None, "first", "last"
    or a frame number): one image is the first, two are the first and the last. A number is
    the first at 0 and the last from ``last_frame - 1`` on (when known); anything else is in
    the middle."""
    if frame is None:
        return "first" if index == 0 else ("last" if count == 2 else "middle")
    if frame in KEYFRAMES:
        return frame
    if frame == 0:
        return "first"
    if last_frame is not None and isinstance(frame, int | float) and frame >= last_frame - 1:
        return "last"
    return "middle"


# --- The media JSON stored on a job -------------------------------------------------------------


def frame_objects(media: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored keyframes that are objects (anything else in the list is not counted)."""
    return [frame for frame in media.get("frame_images") or [] if isinstance(frame, dict)]


def stored_keyframes(media: Mapping[str, Any]) -> dict[str, str]:
    """The first and last keyframe images stored in a job's media, by position."""
    frames = frame_objects(media)
    found: dict[str, str] = {}
    for index, frame in enumerate(frames):
        position = keyframe_position(frame.get("frame"), index, len(frames))
        if position in KEYFRAMES and frame.get("input_image"):
            found.setdefault(position, frame["input_image"])
    return found


def other_frames(media: Mapping[str, Any]) -> list[Any]:
    """The stored frames that are neither the first nor the last keyframe as
    :func:`stored_keyframes` reads them (kept as they are when a draft is saved)."""
    frames = frame_objects(media)
    shown = set(stored_keyframes(media).values())
    keyframes = {id(frame) for index, frame in enumerate(frames)
                 if keyframe_position(frame.get("frame"), index, len(frames)) in KEYFRAMES
                 and frame.get("input_image") in shown}
    return [frame for frame in media.get("frame_images") or [] if id(frame) not in keyframes]


def item_url(item: Any) -> str:
    """The URL of one video or audio input: a plain URL, or ``{"video": …}``/``{"audio": …}``."""
    if isinstance(item, dict):
        return str(item.get("video") or item.get("audio") or "")
    return str(item)


def other_media_urls(media: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The video and audio inputs (Wan 2.7) as (media key, URL) pairs, empty ones left out."""
    pairs = []
    for key in OTHER_MEDIA:
        value = media.get(key)
        for item in value if isinstance(value, list) else ([value] if value else []):
            if url := item_url(item) if item else "":
                pairs.append((key, url))
    return pairs
