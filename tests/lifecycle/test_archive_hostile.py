"""Hostile downloads cost only the job that carries them: a file that is no video, a body that
trickles, a name that rebinds, a URL too long for its column, a worker killed between saving
the files and recording them. Real HTTP on 127.0.0.1 (a scripted provider or the sandbox)."""

import logging
import threading
import time

import pytest
from django.utils import timezone

from tests.client.scripted import Scripted
from tests.enqueued import record_tasks
from tests.factories import make_job
from tests.faults import first_archive_outlives_its_lease, raises
from tests.lifecycle.test_crash_safety import archived_files
from videogen import archive, lifecycle, polling, submission, sweeper
from videogen.models import ArchiveOutcome, ArchiveStatus, Status, VideoJob
from videogen.storage import archive_name

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
    job = make_job()
    started = time.monotonic()

    def submit_and_poll():
        submission.submit(job)
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])

    assert in_thread(submit_and_poll, 20), "the download did not end"
    assert time.monotonic() - started < 10
    job.refresh_from_db()
    assert job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.FAILED
    assert "ARCHIVE.DOWNLOAD_TIMEOUT" in job.archive_error
    assert sandbox.stats()["faults"] == {"trickle": 1}


# --- DNS rebinding and long URLs --------------------------------------------------------------

# Stands in for a public address: a second loopback address the guard is told to treat as
# public, so that no test traffic leaves the machine. 127.0.0.1 stays internal.
PUBLIC = "127.0.0.2"


@pytest.fixture
def rebinding(monkeypatch):
    """Two servers on one port: "public" (127.0.0.2) and an internal one (127.0.0.1). Each
    name listed in ``names`` resolves to the public address the first time, then to loopback
    (what a rebinding DNS server answers); other names resolve normally."""
    import ipaddress
    import socket

    from videogen.webhooks import safety

    internal = Scripted()
    public = Scripted(host=PUBLIC, port=internal.port)
    real_internal, real_lookup = safety._internal, socket.getaddrinfo
    looked_up = []

    def is_internal(address):
        return address != ipaddress.ip_address(PUBLIC) and real_internal(address)

    def getaddrinfo(host, port, *args, **kwargs):
        if host.endswith(".rebind.test"):
            address = "127.0.0.1" if host in looked_up else PUBLIC
            looked_up.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 80))]
        return real_lookup(host, port, *args, **kwargs)

    monkeypatch.setattr(safety, "_internal", is_internal)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield public, internal
    public.stop()
    internal.stop()


def download(url):
    from videogen.conf import get_settings
    from videogen.provider import video_client

    with video_client() as client:
        result = archive.stream_to_file(client, url, get_settings().archive)
    data = result.file.read()
    archive.discard(result.file, result.path)
    return data


def test_a_rebinding_video_host_is_downloaded_from_the_checked_address(rebinding, provider):
    """The check resolved the name to a public address, the download resolved it again and
    reached the loopback service."""
    public, internal = rebinding
    public.script = [(200, {}, b"video bytes")]
    url = f"http://cdn.rebind.test:{public.port}/files/v.mp4?sig=1"
    assert download(url) == b"video bytes"
    assert internal.requests == []
    [(_, path, headers, _)] = public.requests
    assert path == "/files/v.mp4?sig=1"
    assert headers["host"] == f"cdn.rebind.test:{public.port}"


@pytest.mark.parametrize("location", ["http://other.rebind.test:{port}/next.mp4", "/next.mp4"])
def test_every_redirect_of_a_download_is_pinned_too(rebinding, provider, location):
    """A redirect to another rebinding name, or a relative one (the same name, now resolving
    to loopback): each hop connects to the address its check saw, or is refused."""
    public, internal = rebinding
    public.script = [(302, {"location": location.format(port=public.port)}, b""),
                     (200, {}, b"video bytes")]
    url = f"http://cdn.rebind.test:{public.port}/files/v.mp4"
    try:
        assert download(url) == b"video bytes"
        hosts = [headers["host"].split(":")[0] for _, _, headers, _ in public.requests]
        assert hosts == ["cdn.rebind.test", "other.rebind.test"]
    except archive.ArchiveError as error:
        # The relative redirect names the host again, whose second answer is loopback.
        assert location == "/next.mp4" and "internal address" in str(error)
    assert internal.requests == []


def test_a_long_video_url_is_stored_and_downloaded_whole(provider, q_sync):
    """A signed URL of 2,500 characters was cut to the column's 2,000 and the cut URL fetched."""
    import json

    from videogen import polling

    url = f"{provider.url}/files/v.mp4?sig=" + "a" * 2500
    answer = {"id": "r-1", "status": "completed", "outputs": {"video_url": url}}
    provider.script = [(200, {"content-type": "application/json"}, json.dumps(answer).encode()),
                       (200, {"content-type": "image/svg+xml"}, SVG)]
    job = completed_job("", status=Status.IN_PROGRESS, archive_status=ArchiveStatus.NONE)
    polling.poll_jobs([job])
    job.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert job.provider_video_url == url
    assert provider.paths()[1] == url.removeprefix(provider.url)


# --- Files saved but never recorded -------------------------------------------------------------

KILLED_BEFORE_THE_COMMIT = """
import os, signal, sys
import django
django.setup()
from videogen import archive, lifecycle, submission
# The worker dies the moment both files are saved, before the row that names them commits.
lifecycle.archive_succeeded = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
archive.archive_job(sys.argv[1])
"""


def completed_unarchived(monkeypatch):
    """A job the sandbox finished whose archive task has not run yet."""
    job = make_job()
    lost = record_tasks(monkeypatch, "archive_job")
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    lost.stop()
    job.refresh_from_db()
    assert job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.PENDING
    return job


def lease_runs_out(job, **fields):
    VideoJob.objects.filter(pk=job.pk).update(archive_lease_until=timezone.now(), **fields)


def test_a_worker_killed_between_saving_and_recording_leaves_no_orphans(sandbox, tmp_path,
                                                                        monkeypatch):
    """A real worker process SIGKILLed after saving the video and poster, before the commit:
    its files stayed for ever, and the next attempt saved beside them under suffixed names."""
    import signal
    import subprocess
    import sys

    from tests.processes import ROOT, cluster_env

    job = completed_unarchived(monkeypatch)
    env = cluster_env(sandbox_url=sandbox.url, api_key=sandbox.api_key,
                      media_root=tmp_path / "media")
    worker = subprocess.run([sys.executable, "-c", KILLED_BEFORE_THE_COMMIT, str(job.pk)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert worker.returncode == -signal.SIGKILL, worker.stderr[-3000:]
    saved = archived_files(tmp_path)
    assert len(saved) == 2 and not VideoJob.objects.filter(video__in=saved).exists()

    lease_runs_out(job)  # the sweeper's grace period for a silent worker
    sweeper.sweep()
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED, job.archive_error
    assert archived_files(tmp_path) == sorted([job.video.name, job.poster.name])
    assert job.video.name == archive_name(job, "mp4")  # the plain name, not a suffixed one


def test_files_of_a_commit_that_failed_are_removed_by_the_sweeper(sandbox, tmp_path,
                                                                  monkeypatch):
    """The database failed as the archive was recorded, and stayed down for the hand-back
    too; no later attempt came (the job's archive failed for good): nothing named the saved
    files, and nothing removed them."""
    from django.db import OperationalError

    job = completed_unarchived(monkeypatch)
    release = lifecycle.release_archive
    database_down = raises(OperationalError("server closed the connection unexpectedly"))
    monkeypatch.setattr(lifecycle, "archive_succeeded", database_down)
    monkeypatch.setattr(lifecycle, "release_archive", database_down)
    assert archive.archive_job(job.pk) == ArchiveOutcome.INTERRUPTED
    assert len(archived_files(tmp_path)) == 2
    monkeypatch.setattr(lifecycle, "release_archive", release)  # the database is back
    lease_runs_out(job, archive_workers_lost=lifecycle.ARCHIVE_WORKER_LOSSES - 1)
    sweeper.sweep()
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.FAILED
    assert archived_files(tmp_path) == []


def test_files_of_a_worker_that_outlived_its_lease_are_removed(sandbox, tmp_path, monkeypatch):
    """The first worker is slow, not dead: a second one archives the job meanwhile, and the
    first one's late result is dropped. Its files were left beside the second one's."""
    first_archive_outlives_its_lease(monkeypatch)
    job = make_job()
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    sweeper.sweep()
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED and job.archive_attempts == 2
    assert archived_files(tmp_path) == sorted([job.video.name, job.poster.name])
    assert archive.verify_stored(job)
