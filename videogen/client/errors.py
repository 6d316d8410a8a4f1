"""One exception hierarchy for everything the provider client can raise.

No bare ``httpx`` exception, ``KeyError`` or ``JSONDecodeError`` escapes the client: each failure
becomes one of these, carrying the provider's message, ``code``, ``type`` and ``param`` where the
error body had them. The API key never appears in them (the client scrubs it from messages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# How much of a non-JSON error body is kept in a message.
BODY_EXCERPT = 300


class VideoAPIError(Exception):
    """Base class. ``status_code`` is None for errors without an HTTP answer (and for requests
    refused before sending, like an invalid create body)."""

    default_message = "the video API call failed"

    def __init__(self, message: str = "", *, status_code: int | None = None,
                 code: str | None = None, type: str | None = None, param: str | None = None,
                 request_id: str | None = None, retry_after: float | None = None,
                 rate_limit: Mapping[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.status_code = status_code
        self.code = code
        self.type = type
        self.param = param
        self.request_id = request_id
        self.retry_after = retry_after
        # The answer's ``x-ratelimit-*`` headers (limit, remaining, reset), when it had any.
        self.rate_limit = dict(rate_limit or {})
        super().__init__(self.message)

    def __str__(self) -> str:
        prefix = f"{self.status_code} " if self.status_code else ""
        param = f" (param: {self.param})" if self.param else ""
        return f"{prefix}{self.message}{param}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status_code={self.status_code!r}, code={self.code!r}, "
                f"message={self.message!r})")


class BadRequest(VideoAPIError):
    """400/422: the provider refused the request; ``param`` names the field when it says."""


class AuthenticationError(VideoAPIError):
    """401: missing or invalid API key."""


class PaymentRequired(VideoAPIError):
    """402: spend limit reached or billing problem."""


class PermissionDenied(VideoAPIError):
    """403: the key may not do this (also an expired download URL)."""


class NotFound(VideoAPIError):
    """404: unknown job id (or an expired download URL)."""


class Conflict(VideoAPIError):
    """409."""


class RateLimited(VideoAPIError):
    """429: ``retry_after`` holds the seconds the provider asked for, when it did."""


class ServerError(VideoAPIError):
    """5xx."""


class APITimeout(VideoAPIError):
    default_message = "the video API did not answer in time"


class APIConnectionError(VideoAPIError):
    """No HTTP answer. ``request_sent`` tells whether the request may have reached the server."""

    default_message = "could not talk to the video API"

    def __init__(self, message: str = "", *, request_sent: bool = False, **kwargs: Any) -> None:
        self.request_sent = request_sent
        super().__init__(message, **kwargs)


class InvalidResponse(VideoAPIError):
    """A success status with a body that is not the expected JSON."""


class SubmissionOutcomeUnknown(VideoAPIError):
    """A create whose request may have reached the provider but whose answer was lost (timeout
    or dropped connection). Not retried: the API has no idempotency key, so a retry could create
    and bill a second job. ``request_body`` is what was sent (it holds no secrets)."""

    def __init__(self, message: str = "", *, request_body: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        self.request_body = dict(request_body or {})
        super().__init__(message or "the create request may have reached the provider, but "
                         "its answer was lost", **kwargs)


class CancelNotSupported(VideoAPIError):
    """Together's ``/v2/videos`` API has no cancel call (the official SDK has none either; the
    only documented cancel, ``POST /v1/queue/cancel``, belongs to the queue API of custom
    deployments). A cancel is therefore local: stop polling and mark the job cancelled."""

    default_message = ("the provider has no cancel endpoint for /v2/videos jobs; stop polling "
                       "and treat the job as cancelled locally (the provider may still finish "
                       "and bill it)")


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
