"""Fixtures for the sandbox's own tests: the public fixtures plus an authenticated client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from videogen.sandbox import SandboxServer
from videogen.sandbox.testing import videogen_sandbox, videogen_sandbox_server  # noqa: F401


@pytest.fixture
def sb(videogen_sandbox: SandboxServer) -> SandboxServer:
    return videogen_sandbox


@pytest.fixture
def api(sb: SandboxServer) -> Iterator[httpx.Client]:
    """An authenticated client on the sandbox's base URL."""
    with httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.api_key}"},
                      timeout=30) as client:
        yield client
