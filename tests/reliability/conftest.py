"""Reliability runs: `pytest.mark.reliability` tests run with the main suite;
`pytest.mark.reliability(heavy=True)` ones (real clusters, minutes long, PostgreSQL) only when
asked: `VIDEOGEN_RELIABILITY=1` or `-m reliability` (see `make reliability`)."""

import os

import pytest
from django.db import connection

from tests.reliability.harness import Receiver


def _heavy_wanted(config):
    markexpr = config.getoption("markexpr", "") or ""
    asked = "reliability" in markexpr and "not reliability" not in markexpr
    return os.environ.get("VIDEOGEN_RELIABILITY", "") not in ("", "0") or asked


def pytest_collection_modifyitems(config, items):
    if _heavy_wanted(config):
        return
    skip = pytest.mark.skip(reason="heavy reliability run: VIDEOGEN_RELIABILITY=1 or "
                                   "make reliability")
    for item in items:
        marker = item.get_closest_marker("reliability")
        if marker is not None and marker.kwargs.get("heavy"):
            item.add_marker(skip)


@pytest.fixture
def receiver():
    """A live webhook receiver on 127.0.0.1 that verifies and records every delivery."""
    with Receiver() as instance:
        yield instance


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the scale-out path is PostgreSQL + Redis (make reliability)")
