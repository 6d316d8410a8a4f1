"""Every public exception of videogen, under one base class: :class:`VideogenError`.

``except videogen.exceptions.VideogenError`` catches anything videogen raises on purpose. Each
exception is also importable from the module that raises it (``videogen.lifecycle.
InvalidTransition``, ``videogen.client.errors.NotFound`` ...), and keeps its other base
(``InvalidRequest`` is a ``ValueError``, ``WaitTimeout`` a ``TimeoutError``), so existing
``except`` clauses still match.

This module imports nothing of Django or of the rest of the app at run time: the provider
client (which knows no Django) raises its errors from here too. The two configuration errors,
``videogen.conf.InvalidSettings`` and ``videogen.storage.UnknownStorage``, are Django's
``ImproperlyConfigured`` as well, so they are defined beside Django there (also subclassing
:class:`VideogenError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videogen.catalog import Problem
    from videogen.models import VideoJob

__all__ = [
    "APIConnectionError",
    "APITimeout",
    "ArchiveError",
    "ArchiveSuperseded",
    "AuthenticationError",
    "BadRequest",
    "BudgetExceeded",
    "CallerGaveUp",
    "CancelNotSupported",
    "Conflict",
    "ExpiredURL",
    "ImageError",
    "InvalidRequest",
    "InvalidResponse",
    "InvalidTransition",
    "LifecycleError",
    "MoveError",
    "NotConfigured",
    "NotFound",
    "PaymentRequired",
    "PermissionDenied",
    "RateLimited",
    "RequestWarning",
    "RetryableDownload",
    "ServerError",
    "SubmissionOutcomeUnknown",
    "Unresolved",
    "UnsafeURL",
    "UnstorableAnswer",
    "VideoAPIError",
    "VideogenError",
    "WaitTimeout",
    "WebhookVerificationError",
]


class VideogenError(Exception):
    """Base class of every exception videogen raises on purpose."""


# --- The Python API (videogen.api) ---------------------------------------------------------------


class InvalidRequest(VideogenError, ValueError):
    """The request was refused before anything was saved or sent; ``problems`` name fields."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class WaitTimeout(VideogenError, TimeoutError):
    """``wait()`` ran out of time; the job keeps going."""

    def __init__(self, job: VideoJob, timeout: float) -> None:
        self.job = job
        super().__init__(f"job {job.pk} is still {job.status} after {timeout:.0f} s")


class ImageError(VideogenError, ValueError):
    """An image that cannot be used; the message says why (never the image itself)."""


class RequestWarning(UserWarning):
    """The catalog accepted the request with a reservation (``seconds=2`` where the model's
    table lists 5, say); the job is saved and can be sent. A warning, not an error."""


# --- The state machine (videogen.lifecycle) ------------------------------------------------------


class LifecycleError(VideogenError):
    """A refused operation, with a message fit for staff."""


class InvalidTransition(LifecycleError):
    """The job's status does not allow the operation."""


class BudgetExceeded(LifecycleError):
    """Sending the job would exceed ``VIDEOGEN['BUDGET']``; nothing was sent."""


class NotConfigured(LifecycleError):
    """Settings keep videogen from calling the provider (no API key); nothing was sent."""


class ArchiveSuperseded(LifecycleError):
    """This worker's archive lease was taken over (it ran past the lease, the sweeper released
    the job and another worker claimed it): its outcome is not recorded."""


class UnstorableAnswer(VideogenError):
    """A poll answer the database refused (recorded as a failed poll)."""


# --- Archiving (videogen.archive, videogen.moving) -----------------------------------------------


class ArchiveError(VideogenError):
    """The archive cannot be made; the message says why, for staff."""


class RetryableDownload(ArchiveError):
    """The bytes were wrong this time (truncated, unreadable); a new download may do."""


class ExpiredURL(ArchiveError):
    """The provider's video URL has expired."""


class CallerGaveUp(VideogenError):
    """The caller archiving inline (``wait()``) ran out of time: not the archive's fault."""


class MoveError(VideogenError):
    """This job's archive was not moved; the message says why. Its row is unchanged."""


# --- Webhooks (videogen.webhooks) ----------------------------------------------------------------


class WebhookVerificationError(VideogenError):
    """The body, timestamp or signature does not check out."""


class UnsafeURL(VideogenError, ValueError):
    """The URL may not be used; the message says why."""


class Unresolved(UnsafeURL):
    """The host name did not resolve this time. Refused when an endpoint is saved; at send
    time a failed attempt that is retried, since DNS outages pass."""


# --- The provider client (videogen.client.errors) ------------------------------------------------
# One hierarchy for everything the client can raise: no bare httpx exception, KeyError or
# JSONDecodeError escapes it. The API key never appears in them (the client scrubs messages).


class VideoAPIError(VideogenError):
    """Base class of the provider client's errors. ``status_code`` is None for errors without
    an HTTP answer (and for requests refused before sending, like an invalid create body)."""

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
