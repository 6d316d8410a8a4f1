"""The provider client's errors: which one an HTTP answer becomes.

No bare ``httpx`` exception, ``KeyError`` or ``JSONDecodeError`` escapes the client: each failure
becomes one of these, carrying the provider's message, ``code``, ``type`` and ``param`` where the
error body had them. The API key never appears in them (the client scrubs it from messages).
The classes are defined in :mod:`videogen.exceptions` (Django-free, under ``VideogenError``) and
importable from here as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from videogen.exceptions import (
    APIConnectionError,
    APITimeout,
    AuthenticationError,
    BadRequest,
    CancelNotSupported,
    Conflict,
    InvalidResponse,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    ServerError,
    SubmissionOutcomeUnknown,
    VideoAPIError,
)

__all__ = [
    "APIConnectionError",
    "APITimeout",
    "AuthenticationError",
    "BadRequest",
    "CancelNotSupported",
    "Conflict",
    "InvalidResponse",
    "NotFound",
    "PaymentRequired",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "SubmissionOutcomeUnknown",
    "VideoAPIError",
]  # the exception classes (their home is videogen.exceptions), re-exported by videogen.client

# How much of a non-JSON error body is kept in a message.
BODY_EXCERPT = 300


_BY_STATUS: dict[int, type[VideoAPIError]] = {
    400: BadRequest, 401: AuthenticationError, 402: PaymentRequired, 403: PermissionDenied,
    404: NotFound, 409: Conflict, 422: BadRequest, 429: RateLimited,
}


def error_class(status_code: int) -> type[VideoAPIError]:
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if status_code >= 500:
        return ServerError
    if status_code == 408:
        return APITimeout
    return BadRequest if 400 <= status_code < 500 else VideoAPIError


def from_response(status_code: int, headers: Mapping[str, str], body: bytes,
                  retry_after: float | None = None) -> VideoAPIError:
    """The error for an HTTP error answer; the body is parsed tolerantly: OpenAI-style
    ``{"error": {message, type, param, code}}``, a top-level ``message``, or plain text."""
    details = _error_details(body)
    message = details.get("message") or f"HTTP {status_code}"
    return error_class(status_code)(
        message, status_code=status_code, code=details.get("code"), type=details.get("type"),
        param=details.get("param"), retry_after=retry_after,
        request_id=headers.get("x-request-id") or headers.get("request-id"),
        rate_limit=rate_limit_headers(headers),
    )


def rate_limit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``x-ratelimit-limit``, ``-remaining``, ``-reset`` (and any other ``x-ratelimit-*``)."""
    return {name.lower(): value for name, value in headers.items()
            if name.lower().startswith("x-ratelimit-")}


def _error_details(body: bytes) -> dict[str, str | None]:
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        text = body[:BODY_EXCERPT].decode("utf-8", "replace").strip()
        return {"message": text or None}
    if not isinstance(data, dict):
        return {"message": _text(data)}
    error = data.get("error")
    if isinstance(error, str):
        return {"message": error}
    source = error if isinstance(error, dict) else data
    details = {key: _text(source.get(key)) for key in ("message", "type", "param", "code")}
    details["message"] = details["message"] or _text(data.get("message"))
    return details


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return (value if isinstance(value, str) else json.dumps(value))[:BODY_EXCERPT]
