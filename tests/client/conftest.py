import pytest

from tests.client.scripted import Scripted


@pytest.fixture
def scripted():
    """A scripted provider (see ``scripted.py``)."""
    server = Scripted()
    yield server
    server.stop()


@pytest.fixture
def elsewhere():
    """A second scripted server: another origin, as a CDN serving downloads would be."""
    server = Scripted()
    yield server
    server.stop()
