"""Suite-wide fixtures. Database choice comes from DATABASE_URL / REDIS_URL (see Makefile)."""

import os

import pytest
from django.conf import settings


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if "redis" in settings.Q_CLUSTER else "orm"
    return f"videogen: database={db} broker={broker} CI={os.environ.get('CI', '')}"


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Every test archives into its own folder, never into the demo's media/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
