"""Reliability runs: `pytest.mark.reliability` tests run with the main suite;
`pytest.mark.reliability(heavy=True)` ones (real clusters, minutes long, PostgreSQL) only when
asked: `VIDEOGEN_RELIABILITY=1` or `-m reliability` (see `make reliability`)."""

import os

import pytest


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
