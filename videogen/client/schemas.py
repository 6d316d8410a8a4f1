"""Pydantic schemas of the provider's create request and job response.

``CreateVideoRequest`` holds every documented field; ``to_wire()`` is the JSON body sent, with the
deprecated top-level ``frame_images`` / ``reference_images`` moved into ``media``.

``RemoteJob.from_payload`` accepts both documented response shapes (the docs' 2025-10 example with
``info.errors``, ``inputs``, ISO times and Go zero times; the SDK 3.x ``VideoJob`` with ``error``,
unix-float times, ``size`` and ``seconds``) and normalizes them into one typed result, keeping the
raw payload and any unknown fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TERMINAL_REMOTE_STATUSES = frozenset({"completed", "failed", "cancelled"})
FramePosition = int | float | Literal["first", "last"]


class _Strict(BaseModel):
    # Unknown request fields are refused by name rather than silently dropped; NaN and
    # Infinity are refused because they are not JSON (PostgreSQL's jsonb rejects them).
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # NUL and lone surrogates (a "\udc80" from a JSON escape or a mis-decoded argv)
        # cannot be stored in PostgreSQL text or jsonb, nor encoded as UTF-8: refuse them
        # here, on the field and before any other check, rather than as a database error.
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and unstorable(item) for item in items):
            raise ValueError(UNSTORABLE)
        return value


UNSTORABLE = "must not contain NUL (\\u0000) or lone surrogate (\\ud800-\\udfff) characters"


def unstorable(text: str) -> bool:
    """True when ``text`` holds a NUL or a surrogate code point (no UTF-8 form)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class FrameImage(_Strict):
    input_image: str = Field(min_length=1, description="URL or raw base64 (no data: prefix).")
    frame: FramePosition | None = None


class VideoInput(_Strict):
    video: str = Field(min_length=1)


class AudioInput(_Strict):
    audio: str = Field(min_length=1)


class Media(_Strict):
    frame_images: list[FrameImage] | None = None
    frame_videos: list[VideoInput] | None = None
    reference_images: list[str] | None = None
    reference_videos: list[VideoInput] | None = None
    source_video: str | VideoInput | None = None
    audio_inputs: list[str | AudioInput] | None = None

    def used_fields(self) -> list[str]:
        return [name for name, value in self if value not in (None, [])]


class CreateVideoRequest(_Strict):
    """The body of ``POST /v2/videos``. Bounds here are the API spec's; per-model limits
    (sizes, prompt length, keyframes, media) are checked by :mod:`videogen.catalog`."""

    model: str = Field(min_length=1, max_length=200)
    prompt: str | None = Field(None, max_length=32000)
    width: int | None = Field(None, ge=16, le=8192)
    height: int | None = Field(None, ge=16, le=8192)
    seconds: str | None = Field(None, max_length=3)
    fps: int | None = Field(None, ge=1, le=120)
    steps: int | None = Field(None, ge=10, le=50)
    guidance_scale: float | None = Field(None, ge=0, le=100)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    negative_prompt: str | None = Field(None, max_length=32000)
    output_format: Literal["MP4", "WEBM"] | None = None
    output_quality: int | None = Field(None, ge=0, le=100)
    generate_audio: bool | None = None
    resolution: str | None = Field(None, max_length=16)
    ratio: str | None = Field(None, max_length=8)
    media: Media | None = None
    # Deprecated top-level forms, still in the docs; sent inside ``media``.
    frame_images: list[FrameImage] | None = None
    reference_images: list[str] | None = None

    @field_validator("seconds", mode="before")
    @classmethod
    def _seconds_as_string(cls, value: Any) -> Any:
        # The API types seconds as a string; accept 5 and "5" alike, but not 5.5 or True.
        # Numbers go through the same check as text, so that what is saved from -5 is
        # refused now, not when the draft is submitted.
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number of seconds")
        if isinstance(value, int | float):
            value = str(int(value))
        if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
            raise ValueError("must be a whole number of seconds, like \"5\"")
        return value.strip() if isinstance(value, str) else value

    @field_validator("output_format", mode="before")
    @classmethod
    def _upper_format(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def merged_media(self) -> Media | None:
        """``media`` with the legacy top-level lists folded in."""
        if not (self.frame_images or self.reference_images):
            return self.media
        media = self.media.model_copy() if self.media else Media()
        if self.frame_images:
            media.frame_images = [*(media.frame_images or []), *self.frame_images]
        if self.reference_images:
            media.reference_images = [*(media.reference_images or []), *self.reference_images]
        return media

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: no nulls, legacy lists inside ``media``."""
        body = self.model_dump(exclude_none=True, exclude={"media", "frame_images",
                                                           "reference_images"})
        media = self.merged_media()
        if media is not None and media.used_fields():
            body["media"] = media.model_dump(exclude_none=True)
        return body


class JobError(BaseModel):
    message: str
    code: str | None = None


class RemoteJob(BaseModel):
    """One job as the provider reported it, whichever response shape it used."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    model: str | None = None
    video_url: str | None = None
    cost: Decimal | None = None
    error: JobError | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    seconds: str | None = None
    width: int | None = None
    height: int | None = None
    inputs: dict[str, Any] | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_REMOTE_STATUSES

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> RemoteJob:
        """Normalize either documented shape. Raises ``ValueError`` when ``id``/``status`` lack."""
        if not isinstance(payload, dict):
            raise ValueError("job response is not a JSON object")
        job_id, status = payload.get("id"), payload.get("status")
        if not isinstance(job_id, str) or not job_id:
            raise ValueError("job response has no 'id'")
        if not isinstance(status, str) or not status:
            raise ValueError("job response has no 'status'")
        inputs = payload.get("inputs") if isinstance(payload.get("inputs"), dict) else None
        outputs = payload["outputs"] if isinstance(payload.get("outputs"), dict) else {}
        width, height = _size(payload.get("size"), inputs)
        info = payload["info"] if isinstance(payload.get("info"), dict) else {}
        return cls(
            id=job_id,
            status=status.strip().lower(),
            model=_text(payload.get("model")) or _text((inputs or {}).get("model")),
            video_url=_text(outputs.get("video_url")),
            cost=_decimal(outputs.get("cost")),
            error=_error(payload.get("error")) or _error(info.get("errors")),
            created_at=parse_time(payload.get("created_at")),
            started_at=parse_time(payload.get("claimed_at")),
            completed_at=parse_time(payload.get("completed_at") or payload.get("done_at")),
            seconds=_text(payload.get("seconds")) or _text((inputs or {}).get("seconds")),
            width=width,
            height=height,
            inputs=inputs,
            raw=payload,
        )


def parse_time(value: Any) -> datetime | None:
    """Unix seconds or ISO-8601; Go's zero time ("0001-01-01T00:00:00Z") means unset."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # Out-of-range numbers (1e20, Infinity) read as unset rather than crash the caller.
        try:
            return datetime.fromtimestamp(value, tz=UTC) if value > 0 else None
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.year <= 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _size(size: Any, inputs: dict[str, Any] | None) -> tuple[int | None, int | None]:
    if isinstance(size, str) and "x" in size:
        w, _, h = size.lower().partition("x")
        if w.strip().isdigit() and h.strip().isdigit():
            return int(w), int(h)
    inputs = inputs or {}
    width, height = inputs.get("width"), inputs.get("height")
    return (width if isinstance(width, int) else None,
            height if isinstance(height, int) else None)


def _error(value: Any) -> JobError | None:
    """``error`` ({message, code}) or ``info.errors`` (null, a string, a dict or a list)."""
    if value in (None, "", [], {}):
        return None
    if isinstance(value, str):
        return JobError(message=value)
    if isinstance(value, list):
        parts = [_error(item) for item in value]
        messages = [p.message for p in parts if p]
        codes = [p.code for p in parts if p and p.code]
        return JobError(message="; ".join(messages), code=codes[0] if codes else None) \
            if messages else None
    if isinstance(value, dict):
        message = _text(value.get("message")) or _text(value.get("error")) or _text(
            value.get("detail")) or str(value)
        return JobError(message=message, code=_text(value.get("code")))
    return JobError(message=str(value))
