"""The soak run (minutes of the whole demo) runs only when asked: `make soak`, or `-m soak`."""

import pytest


def pytest_collection_modifyitems(config, items):
    markexpr = config.getoption("markexpr", "") or ""
    if "soak" in markexpr and "not soak" not in markexpr:
        return
    skip = pytest.mark.skip(reason="the whole-stack soak run: make soak")
    for item in items:
        if item.get_closest_marker("soak") is not None:
            item.add_marker(skip)
