"""The provider client: knows HTTP and the API's JSON, nothing of Django models."""

from videogen.client import errors
from videogen.client.core import AsyncVideoClient, DownloadStream, VideoClient
from videogen.client.errors import (
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
from videogen.client.schemas import CreateVideoRequest, Media, RemoteJob

__all__ = [
    "APIConnectionError", "APITimeout", "AsyncVideoClient", "AuthenticationError", "BadRequest",
    "CancelNotSupported", "Conflict", "CreateVideoRequest", "DownloadStream", "InvalidResponse",
    "Media", "NotFound", "PaymentRequired", "PermissionDenied", "RateLimited", "RemoteJob",
    "ServerError", "SubmissionOutcomeUnknown", "VideoAPIError", "VideoClient", "errors",
]
