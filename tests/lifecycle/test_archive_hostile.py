"""Hostile downloads cost only the job that carries them: a file that is no video, a body that
trickles, a name that rebinds, a URL too long for its column, a worker killed between saving
the files and recording them. Real HTTP on 127.0.0.1 (a scripted provider or the sandbox)."""

import logging
import threading
import time

import pytest

from tests.client.scripted import Scripted
from tests.lifecycle.test_crash_safety import new_job
from videogen import archive, lifecycle, polling
from videogen.models import ArchiveStatus, Status, VideoJob

pytestmark = pytest.mark.django_db(transaction=True)

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
       b'<rect width="64" height="64" fill="red"/></svg>')


@pytest.fixture
def provider(settings):
    """A scripted provider: its own origin is trusted for downloads, like the real one's."""
    server = Scripted()
    settings.VIDEOGEN = {**settings.VIDEOGEN, "BASE_URL": server.url, "API_KEY": "k",
                         "ARCHIVE": {"DOWNLOAD_RETRIES": 0}}
    yield server
    server.stop()


def completed_job(url, **fields):
    values = {"model": "google/veo-2.0", "prompt": "a lighthouse", "seconds": "1",
              "width": 1280, "height": 720, "fps": 8, "status": Status.COMPLETED,
              "remote_id": "r-1", "archive_status": ArchiveStatus.PENDING,
              "provider_video_url": url} | fields
    return VideoJob.objects.create(**values)


def test_an_svg_served_as_the_video_is_not_a_readable_video(provider, caplog):
    """FFmpeg names an SVG's stream but has no decoder for it: reading its codec raised
    AttributeError, logged with a traceback as an unexpected error."""
    provider.script = [(200, {"content-type": "image/svg+xml"}, SVG)]
    job = completed_job(provider.url + "/files/v.mp4")
    with caplog.at_level(logging.INFO, logger="videogen.archive"):
        assert archive.archive_job(job.pk) == "failed"
    job.refresh_from_db()
    assert "not a readable video" in job.archive_error, job.archive_error
    assert "unexpected" not in job.archive_error
    assert not [r for r in caplog.records if r.exc_info]


def in_thread(work, seconds):
    """Run ``work`` in a thread; whether it ended within ``seconds``."""
    from django.db import connection

    def run():
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def test_a_download_that_trickles_ends_at_its_deadline(sandbox, settings):
    """One byte every 2 s: each read came within the read timeout, so nothing stopped the
    download but the task queue's timeout killing the worker."""
    settings.VIDEOGEN = {**settings.VIDEOGEN,
                         "ARCHIVE": {"DOWNLOAD_TIMEOUT": 3, "DOWNLOAD_RETRIES": 0}}
    sandbox.faults.add("trickle", ms=2000)
    job = new_job()
    started = time.monotonic()

    def submit_and_poll():
        lifecycle.submit(job)
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])

    assert in_thread(submit_and_poll, 20), "the download did not end"
    assert time.monotonic() - started < 10
    job.refresh_from_db()
    assert job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.FAILED
    assert "ARCHIVE.DOWNLOAD_TIMEOUT" in job.archive_error
    assert sandbox.stats()["faults"] == {"trickle": 1}
