import pytest

from tests.client.scripted import Scripted


@pytest.fixture
def scripted():
    """A scripted provider (see ``scripted.py``)."""
    with Scripted() as server:
        yield server


@pytest.fixture
def elsewhere():
    """A second scripted server: another origin, as a CDN serving downloads would be."""
    with Scripted() as server:
        yield server
