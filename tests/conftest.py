"""Suite-wide fixtures. Database choice comes from DATABASE_URL / REDIS_URL (see Makefile)."""

import os

import pytest
from django.conf import settings

# The sandbox fixtures host sites use, loaded the way docs/sandbox.md tells them to.
pytest_plugins = ["videogen.sandbox.testing"]


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if "redis" in settings.Q_CLUSTER else "orm"
    return f"videogen: database={db} broker={broker} CI={os.environ.get('CI', '')}"


@pytest.fixture(autouse=True)
def _real_api_timing(settings):
    """Tests plan on the real API's durations, as a host site does; the demo's sandbox speed
    (project/settings.py) is for the demo. Tests on a sandbox get its speed from
    ``videogen_sandbox_settings``."""
    poll = {**settings.VIDEOGEN.get("POLL", {}), "TIME_SCALE": 1}
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": poll}


@pytest.fixture(autouse=True)
def _no_observed_durations():
    """Progress medians are kept per process for a minute; each test measures its own jobs."""
    from videogen import progress

    progress.forget_observed()
    yield
    progress.forget_observed()


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


def _reachable(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    """A run meant for PostgreSQL + Redis must have them: in CI a missing server is a failure."""
    needed = []
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        db = settings.DATABASES["default"]
        needed.append(("PostgreSQL", db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    if "redis" in settings.Q_CLUSTER:
        from urllib.parse import urlsplit

        url = urlsplit(settings.Q_CLUSTER["redis"])
        needed.append(("Redis", url.hostname or "127.0.0.1", url.port or 6379))
    missing = [f"{name} at {host}:{port}" for name, host, port in needed
               if not _reachable(host, port)]
    if not missing:
        return
    message = "not reachable: " + ", ".join(missing) + " (see README: starting the services)"
    if os.environ.get("CI"):
        pytest.exit("CI needs these servers, " + message, returncode=3)
    pytest.exit("Skipping this run, " + message, returncode=0)


@pytest.fixture
def s3(settings):
    """A bucket of the test's own on moto's S3 (127.0.0.1) behind the "videos" STORAGES alias."""
    from tests.s3 import moto_bucket

    with moto_bucket(settings) as bucket:
        yield bucket


@pytest.fixture
def s3_archives(s3, settings):
    """New archives go to the "videos" alias on S3."""
    settings.VIDEOGEN = {**settings.VIDEOGEN, "STORAGE": "videos"}
    return s3


@pytest.fixture
def q_sync(monkeypatch):
    """django-q2 runs tasks in-process at enqueue time (its Conf is frozen at import)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def queued(monkeypatch):
    """Every task enqueued during the test, recorded instead of sent to a broker."""
    from tests.enqueued import record_tasks

    return record_tasks(monkeypatch)


@pytest.fixture
def sandbox(videogen_sandbox_settings, q_sync):
    """The sandbox with VIDEOGEN pointed at it and django-q2 in sync mode."""
    return videogen_sandbox_settings


class SignalLog:
    """Records every videogen signal sent, as (name, job id, kwargs)."""

    def __init__(self):
        from videogen import signals

        self.sent = []
        self._receivers = []
        for name in ("job_submitted", "job_status_changed", "job_completed", "job_failed",
                     "job_cancelled", "video_archived"):
            def receiver(sender, job, _name=name, **kwargs):
                kwargs.pop("signal", None)
                self.sent.append((_name, str(job.pk), kwargs))

            getattr(signals, name).connect(receiver, weak=False)
            self._receivers.append((getattr(signals, name), receiver))

    def names(self, job=None):
        return [n for n, pk, _ in self.sent if job is None or pk == str(job.pk)]

    def disconnect(self):
        for signal, receiver in self._receivers:
            signal.disconnect(receiver)


@pytest.fixture
def signal_log():
    log = SignalLog()
    yield log
    log.disconnect()
