"""The provider client as this site configures it: ``VIDEOGEN`` → the client's arguments.

:mod:`videogen.client` takes plain arguments and knows nothing of Django; this module is the
Django side that reads the settings (at call time, so ``override_settings`` works) and builds it.
"""

from __future__ import annotations

from typing import Any

from videogen.client import AsyncVideoClient, VideoClient
from videogen.conf import get_settings
from videogen.schedules import task_timeout


def client_kwargs() -> dict[str, Any]:
    """Client arguments from ``VIDEOGEN``."""
    conf = get_settings()
    return {"api_key": conf.api_key_value(), "base_url": conf.base_url, "timeout": conf.timeout,
            "connect_timeout": conf.connect_timeout, "max_retries": conf.max_retries,
            "connect_retry_seconds": connect_window(conf.submit_connect_retry),
            "max_response_bytes": conf.max_response_bytes}


def video_client(**overrides: Any) -> VideoClient:
    """A :class:`~videogen.client.VideoClient` configured from ``VIDEOGEN``; keyword arguments
    override single settings (``max_retries=0``...)."""
    return VideoClient(**{**client_kwargs(), **overrides})


def async_video_client(**overrides: Any) -> AsyncVideoClient:
    """As :func:`video_client`, for asyncio."""
    return AsyncVideoClient(**{**client_kwargs(), **overrides})


def connect_window(configured: float) -> float:
    """``SUBMIT_CONNECT_RETRY``, cut to end well before django-q2 kills the task that waits
    (a killed worker would leave a job in ``submitting`` that was never sent)."""
    timeout = task_timeout()
    return configured if timeout is None else max(0.0, min(configured, timeout * 0.5))
