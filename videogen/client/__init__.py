"""The provider client: knows HTTP and the API's JSON, nothing of Django models."""

from videogen.client import errors
from videogen.client.core import AsyncVideoClient, DownloadStream, VideoClient
from videogen.client.errors import *  # noqa: F403  (the exception classes: errors.__all__)
from videogen.client.schemas import CreateVideoRequest, Media, RemoteJob

__all__ = [*errors.__all__, "AsyncVideoClient", "CreateVideoRequest", "DownloadStream",
           "Media", "RemoteJob", "VideoClient", "errors"]
