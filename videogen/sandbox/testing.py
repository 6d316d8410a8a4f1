"""pytest fixtures for host sites' own tests (and ours).

Enable them in a ``conftest.py``::

    pytest_plugins = ["videogen.sandbox.testing"]

``videogen_sandbox``: a running ``SandboxServer`` (one per test session, reset before each
test), with ``time_scale=0`` so every job is ``completed`` at its first poll; call
``videogen_sandbox.configure(time_scale=0.01)`` in a test to watch statuses progress.
``videogen_sandbox_settings``: the same, with pytest-django's ``settings`` pointing
``VIDEOGEN["BASE_URL"]`` and ``VIDEOGEN["API_KEY"]`` at it, and ``VIDEOGEN["POLL"]["TIME_SCALE"]``
at its speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .render import MediaMissing
from .server import SandboxServer


@pytest.fixture(scope="session")
def videogen_sandbox_server() -> Iterator[SandboxServer]:
    """The session's server; prefer ``videogen_sandbox``, which resets it for each test."""
    server = SandboxServer(time_scale=0.0)
    missing = None
    try:
        server.start()
    except MediaMissing as error:
        missing = str(error)
    if missing:  # one line per test, not a traceback into PyAV's import
        pytest.fail(missing, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def videogen_sandbox(videogen_sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """A clean sandbox: no jobs, no faults, zeroed counters, start-up settings."""
    videogen_sandbox_server.reset()
    yield videogen_sandbox_server
    videogen_sandbox_server.reset()


@pytest.fixture
def videogen_sandbox_settings(videogen_sandbox: SandboxServer, settings: Any) -> SandboxServer:
    """``videogen_sandbox`` with ``settings.VIDEOGEN`` pointed at it (needs pytest-django)."""
    current = getattr(settings, "VIDEOGEN", None) or {}
    # The poller plans on the sandbox's speed (time_scale 0: done at the first poll), not on
    # the real API's minutes, so a test's wait() returns in seconds.
    poll = {**current.get("POLL", {}), "TIME_SCALE": videogen_sandbox.config.time_scale}
    settings.VIDEOGEN = {**current, "BASE_URL": videogen_sandbox.url,
                         "API_KEY": videogen_sandbox.api_key, "POLL": poll}
    return videogen_sandbox
