"""A worker that dies (or raises) at any step of submit, poll or archive loses nothing, submits
nothing twice and archives nothing twice."""

import errno
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from tests.enqueued import record_tasks
from tests.factories import make_job
from tests.faults import Killed, first_archive_outlives_its_lease, raises
from videogen import archive, lifecycle, polling, submission, sweeper
from videogen.client import VideoClient
from videogen.models import ArchiveStatus, Status, VideoJob
from videogen.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_death_before_the_post_leaves_a_visible_submitting_job(sandbox, monkeypatch):
    job = make_job()
    monkeypatch.setattr(VideoClient, "create", raises(Killed()))
    with pytest.raises(Killed):
        submission.submit(job)
    job.refresh_from_db()
    assert job.status == Status.SUBMITTING and job.remote_id is None
    assert sandbox.stats()["requests"].get("create", 0) == 0
    # Never sent again by itself: not by polling, not by the sweeper, not by a second submit.
    polling.run_loop(seconds=0.2)
    VideoJob.objects.filter(pk=job.pk).update(submitted_at=timezone.now() - timedelta(hours=1))
    report = sweeper.sweep()
    assert report.stuck_submitting == [str(job.pk)]
    with pytest.raises(lifecycle.InvalidTransition, match="it is submitting"):
        submission.submit(job)
    assert sandbox.stats()["requests"].get("create", 0) == 0


def test_death_after_the_post_is_never_resubmitted_automatically(sandbox, monkeypatch):
    job = make_job()
    real_accepted = lifecycle.accepted
    monkeypatch.setattr(lifecycle, "accepted", raises(Killed()))
    with pytest.raises(Killed):
        submission.submit(job)
    monkeypatch.setattr(lifecycle, "accepted", real_accepted)
    job.refresh_from_db()
    assert job.status == Status.SUBMITTING
    assert sandbox.stats()["jobs_created"] == 1
    polling.run_loop(seconds=0.2)
    sweeper.sweep()
    assert sandbox.stats()["jobs_created"] == 1
    # Staff decide: mark failed (or resubmit explicitly).
    lifecycle.mark_failed(job)
    assert job.status == Status.FAILED and job.error_code == "marked_failed"


def test_lost_create_response_stays_uncertain_and_creates_one_job(sandbox):
    sandbox.faults.add("lost_response", route="create", count=1)
    job = make_job()
    submission.submit(job)
    job.refresh_from_db()
    assert job.status == Status.SUBMITTING and job.error_code == "outcome_unknown"
    assert "not sent again automatically" in job.error_message
    assert sandbox.stats()["jobs_created"] == 1
    # Explicit resubmission by staff sends it once more.
    submission.resubmit(job)
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.remote_id
    assert sandbox.stats()["jobs_created"] == 2


def test_rate_limited_create_is_retried_by_the_client_and_creates_one_job(sandbox):
    sandbox.faults.add("rate_limit", route="create", count=1, retry_after=0)
    job = make_job()
    submission.submit(job)
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    assert sandbox.stats()["jobs_created"] == 1


def test_death_during_poll_write_back_loses_nothing(sandbox, monkeypatch):
    job = make_job()
    submission.submit(job)
    VideoJob.objects.filter(pk=job.pk).update(next_poll_at=timezone.now())
    real_write_back = polling.write_back
    monkeypatch.setattr(polling, "write_back", raises(Killed()))
    with pytest.raises(Killed):
        polling.run_loop(seconds=1)
    monkeypatch.setattr(polling, "write_back", real_write_back)
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    assert job.next_poll_at > timezone.now()  # leased: other pollers leave it alone meanwhile
    # When the lease runs out, the next cycle polls it and it completes.
    VideoJob.objects.filter(pk=job.pk).update(next_poll_at=timezone.now())
    polling.run_loop(seconds=1)
    job.refresh_from_db()
    assert job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.ARCHIVED


def test_death_while_archiving_is_recovered_by_the_sweeper_once(sandbox, monkeypatch,
                                                                 signal_log):
    job = make_job()
    real_fetch = archive.fetch_and_store
    monkeypatch.setattr(archive, "fetch_and_store", raises(Killed()))
    submission.submit(job)
    with pytest.raises(Killed):
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.ARCHIVING
    # A duplicate delivery of the archive task while the lease holds does nothing.
    monkeypatch.setattr(archive, "fetch_and_store", real_fetch)
    assert archive.archive_job(job.pk) == "skipped"
    VideoJob.objects.filter(pk=job.pk).update(archive_lease_until=timezone.now())
    report = sweeper.sweep()
    assert report.leases_expired == [str(job.pk)]
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED and job.archive_attempts == 2
    assert archive.archive_job(job.pk) == "skipped"
    assert signal_log.names(job).count("job_completed") == 1
    assert signal_log.names(job).count("video_archived") == 1


def test_lost_archive_task_is_requeued_by_the_sweeper(sandbox, monkeypatch):
    job = make_job()
    lost = record_tasks(monkeypatch, "archive_job")  # the broker lost it
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.PENDING
    lost.stop()
    VideoJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert sweeper.sweep().archives_requeued == [str(job.pk)]
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED


def archived_files(tmp_path):
    return sorted(str(p.relative_to(tmp_path / "media")) for p in (tmp_path / "media").rglob("*")
                  if p.is_file())


def test_rearchiving_replaces_files_without_orphans(sandbox, tmp_path):
    job = archived_job()
    first = (job.video.name, job.poster.name, job.video_sha256)
    for _ in range(2):
        lifecycle.request_archive(job)
        job.refresh_from_db()
        assert job.video_sha256 == first[2] and archive.verify_stored(job)
        # FileSystemStorage does not overwrite: the new files were saved beside the old ones
        # (suffixed names, or the plain ones again once free), and the old ones deleted.
        assert archived_files(tmp_path) == sorted([job.video.name, job.poster.name])


def overwriting_storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media"), "allow_overwrite": True}}}


def archived_job():
    job = make_job()
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    return job


def fail_poster_saves(monkeypatch):
    """A full disk by the time the poster is saved (the video went in)."""
    from django.core.files.storage import FileSystemStorage

    real_save = FileSystemStorage._save

    def full(self, name, content):
        if "-poster" in name:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", full)


def test_rearchiving_keeps_the_names_where_storage_overwrites(sandbox, tmp_path, settings):
    overwriting_storage(settings, tmp_path)
    job = archived_job()
    first = (job.video.name, job.poster.name)
    lifecycle.request_archive(job)
    job.refresh_from_db()
    assert (job.video.name, job.poster.name) == first and archive.verify_stored(job)
    assert archived_files(tmp_path) == sorted(first)


@pytest.mark.parametrize("overwrite", [False, True], ids=["suffixed names", "overwriting"])
def test_a_rearchive_whose_save_fails_leaves_the_previous_archive_whole(
        sandbox, tmp_path, monkeypatch, settings, overwrite):
    """The old files were deleted before the new ones were saved: a storage error in between
    (a full disk, an S3 outage) lost the only copy once the provider's URL had expired. On
    storage that overwrites, the new video went over the old one: when the poster then fails,
    that file is the job's video and must stay."""
    if overwrite:
        overwriting_storage(settings, tmp_path)
    job = archived_job()
    before = archived_files(tmp_path)
    fail_poster_saves(monkeypatch)
    lifecycle.request_archive(job)
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.FAILED
    assert "No space left on device" in job.archive_error
    assert archive.verify_stored(job)  # the previous video, still where the job says
    assert archived_files(tmp_path) == before  # and a new video saved meanwhile removed


def test_truncated_download_is_retried_and_expired_url_refreshed(sandbox, tmp_path):
    sandbox.faults.add("truncate", count=1, bytes=100)
    sandbox.faults.add("expire", count=1)
    job = make_job()
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED
    assert archive.verify_stored(job)
    faults = sandbox.stats()["faults"]
    assert faults.get("truncate") == 1 and faults.get("expire") == 1
    # The failed attempts' partial files are gone; the good one was moved into place.
    assert list((tmp_path / "media" / archive.PARTIAL_FOLDER).iterdir()) == []
    assert (tmp_path / "media" / job.video.name).stat().st_mode & 0o777 == 0o644


def test_death_mid_download_leaves_no_partial_file(sandbox, tmp_path, monkeypatch):
    from videogen.client.core import DownloadStream

    def one_chunk_then_die(self, *args):
        yield b"\x00" * 1024
        raise Killed()

    monkeypatch.setattr(DownloadStream, "iter_chunks", one_chunk_then_die)
    job = make_job()
    submission.submit(job)
    with pytest.raises(Killed):
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    assert list((tmp_path / "media" / archive.PARTIAL_FOLDER).iterdir()) == []


def test_sweeper_removes_partial_downloads_a_killed_worker_left(sandbox, tmp_path):
    import os
    import time

    folder = tmp_path / "media" / archive.PARTIAL_FOLDER
    folder.mkdir(parents=True)
    stale, fresh = folder / "download-a.part", folder / "download-b.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - archive.LEASE_SECONDS - 60
    os.utime(stale, (old, old))
    assert sweeper.sweep().partial_downloads_removed == 1
    assert not stale.exists() and fresh.exists()


def test_url_that_keeps_expiring_fails_the_archive_clearly(sandbox):
    sandbox.faults.add("expire")
    job = make_job()
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert job.archive_status == ArchiveStatus.FAILED
    assert "expired" in job.archive_error


def test_completed_answer_without_url_is_refreshed_before_archiving(sandbox):
    from videogen.client.schemas import RemoteJob

    job = make_job()
    sandbox.configure(time_scale=1)
    submission.submit(job)
    sandbox.advance(job.remote_id)
    lifecycle.apply_remote(job, RemoteJob(id=job.remote_id, status="completed"))
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED, job.archive_error
    assert job.provider_video_url


def test_a_video_url_redirecting_inside_the_network_is_refused(settings):
    from tests.client.scripted import Scripted

    provider = Scripted()
    try:
        provider.script = [(302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")]
        settings.VIDEOGEN = {**settings.VIDEOGEN, "BASE_URL": provider.url, "API_KEY": "k"}
        job = make_job(status=Status.COMPLETED, archive_status=ArchiveStatus.PENDING,
                      remote_id="r-1", provider_video_url=provider.url + "/files/v.mp4")
        assert archive.archive_job(job.pk) == "failed"
    finally:
        provider.stop()
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.FAILED
    assert "refused to download the video" in job.archive_error
    assert "169.254.169.254" in job.archive_error
    assert provider.paths() == ["/files/v.mp4"]  # asked once, the redirect never followed


def test_a_full_disk_fails_the_archive_clearly_and_leaves_no_partial_file(sandbox, tmp_path,
                                                                           monkeypatch):

    real_new_spool = archive.new_spool

    class FullDisk:
        def __init__(self, file):
            self.file, self.name = file, file.name

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.file, name)

    def full_spool(conf):
        file, path = real_new_spool(conf)
        return FullDisk(file), path

    monkeypatch.setattr(archive, "new_spool", full_spool)
    job = make_job()
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.FAILED
    assert "No space left on device" in job.archive_error
    assert list((tmp_path / "media" / archive.PARTIAL_FOLDER).iterdir()) == []


def test_an_archive_whose_worker_keeps_dying_fails_saying_why(sandbox, monkeypatch, settings):
    """A download that outlasts django-q2's timeout is killed every time: the sweeper used to
    release and re-queue it forever. After ARCHIVE_WORKER_LOSSES lost attempts it fails."""
    settings.Q_CLUSTER = {**getattr(settings, "Q_CLUSTER", {}), "timeout": 90}
    real_fetch = archive.fetch_and_store
    monkeypatch.setattr(archive, "fetch_and_store", raises(Killed()))
    job = make_job()
    submission.submit(job)
    with pytest.raises(Killed):
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])  # completes; the archive dies
    for _ in range(lifecycle.ARCHIVE_WORKER_LOSSES - 1):
        VideoJob.objects.filter(pk=job.pk).update(archive_lease_until=timezone.now())
        with pytest.raises(Killed):
            sweeper.sweep()  # released; its new task runs at once (sync mode) and dies too
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVING
    VideoJob.objects.filter(pk=job.pk).update(archive_lease_until=timezone.now())
    sweeper.sweep()
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.FAILED
    assert job.archive_attempts == job.archive_workers_lost == lifecycle.ARCHIVE_WORKER_LOSSES
    assert "stopped 3 times" in job.archive_error and "timeout of 90 s" in job.archive_error
    assert sweeper.sweep().archives_requeued == []
    # Staff archive again (after raising the timeout): a fresh count, and this time it works.
    monkeypatch.setattr(archive, "fetch_and_store", real_fetch)
    lifecycle.request_archive(job)
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED and job.archive_workers_lost == 0


def cut_the_database_before(monkeypatch, module, name):
    """PostgreSQL ends every other connection (a restart, a failover) just before
    ``module.name`` runs, once: this process's connection is gone under the attempt."""
    real = getattr(module, name)

    def cut_then_run(*args, **kwargs):
        monkeypatch.setattr(module, name, real)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, cut_then_run)


@pytest.mark.parametrize("module, step", [(archive, "_store"),
                                          (lifecycle, "archive_succeeded")])
def test_a_database_cut_under_an_archive_retries_it_instead_of_failing_it(
        sandbox, monkeypatch, module, step, tmp_path):
    """Seen under chaos: PostgreSQL's connections were cut while a video was stored, and the
    archive failed for good ("unexpected error: OperationalError: terminating connection")
    though nothing was wrong with the video. Cut before the files are saved, or after they
    are saved but before the row names them, the attempt hands the archive back, and the next
    one removes what the first saved and archives the video."""
    if connection.vendor != "postgresql":
        pytest.skip("cuts PostgreSQL's connections (make test runs it on PostgreSQL)")
    cut_the_database_before(monkeypatch, module, step)
    job = archived_job()  # completes; the archive runs at once (django-q2 sync mode)
    assert job.archive_status == ArchiveStatus.ARCHIVED and archive.verify_stored(job)
    assert job.archive_attempts == 2 and job.archive_workers_lost == 1
    assert job.events.filter(detail__startswith="Archive interrupted (database error: "
                                                "OperationalError: terminating").count() == 1
    assert archived_files(tmp_path) == sorted([job.video.name, job.poster.name])


def test_an_archive_the_database_keeps_interrupting_fails_saying_why(sandbox, monkeypatch):
    """Interruptions count like lost workers: the third in a row fails the archive instead
    of re-queuing it for ever, and says it was the database."""
    real_fetch = archive.fetch_and_store
    monkeypatch.setattr(archive, "fetch_and_store", raises(
        OperationalError("terminating connection due to administrator command")))
    job = archived_job()  # each release re-queues it, and django-q2 sync mode runs it at once
    assert job.archive_status == ArchiveStatus.FAILED
    assert job.archive_attempts == job.archive_workers_lost == lifecycle.ARCHIVE_WORKER_LOSSES
    assert job.archive_error.startswith("The archive was interrupted 3 times in a row; the "
                                        "last time by a database error: OperationalError")
    assert job.events.filter(detail__startswith="Archive interrupted").count() == 2
    monkeypatch.setattr(archive, "fetch_and_store", real_fetch)
    lifecycle.request_archive(job)
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED and job.archive_workers_lost == 0


def test_a_worker_that_outlived_its_lease_does_not_overwrite_the_newer_attempt(sandbox,
                                                                             monkeypatch):
    """The first worker is slow, not dead: its lease runs out, the sweeper hands the job to a
    second worker, which archives it. The first one's late outcome is dropped (before, it was
    written over the second's claim, and its success announced the video once more)."""
    outcomes = first_archive_outlives_its_lease(monkeypatch)
    job = make_job()
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert outcomes == [ArchiveStatus.ARCHIVED]  # the second worker finished first
    assert job.archive_status == ArchiveStatus.ARCHIVED and job.archive_attempts == 2
    assert job.events.filter(detail__startswith="Archived as").count() == 1
    assert WebhookEvent.objects.filter(job=job, type="video.completed").count() == 1


def test_a_job_deleted_while_it_is_archived_ends_the_task_quietly(sandbox, tmp_path,
                                                                  monkeypatch):
    """Staff delete the job while its video downloads: the task raised DoesNotExist and left
    the files it had saved."""
    real_fetch = archive.fetch_and_store

    def then_deleted(job, *args):
        stored = real_fetch(job, *args)
        VideoJob.objects.filter(pk=job.pk).delete()
        return stored

    monkeypatch.setattr(archive, "fetch_and_store", then_deleted)
    job = make_job()
    submission.submit(job)
    record_tasks(monkeypatch, "archive_job")  # the test runs the task
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    assert archive.archive_job(job.pk) == "deleted"
    assert archived_files(tmp_path) == []
