"""Archives survive a storage change: each job reads its files from the alias it recorded, and
``manage.py videogen move-archives`` moves them, resumably. Real FileSystemStorage ("default",
in tmp_path) and S3 through moto's server on 127.0.0.1 ("videos")."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.urls import reverse

from tests.factories import make_job
from tests.lifecycle.test_crash_safety import archived_files
from videogen import archive, checks, lifecycle, moving, polling, submission, sweeper
from videogen.management.commands.videogen import _copy_video
from videogen.models import ArchiveStatus, JobEvent, VideoJob
from videogen.progress import status_json
from videogen.webhooks.events import _video

pytestmark = pytest.mark.django_db(transaction=True)



def use_storage(settings, alias):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "STORAGE": alias}


def archived_job(**fields):
    job = make_job(**fields)
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED, job.archive_error
    return job



def move(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("videogen", "move-archives", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- Switching the setting -------------------------------------------------------------------


def test_old_archives_stay_served_after_the_setting_switches(sandbox, s3, settings, tmp_path,
                                                             admin_client):
    old = archived_job()
    assert old.storage_alias == "default"
    use_storage(settings, "videos")
    old = VideoJob.objects.get(pk=old.pk)
    assert old.video.url.startswith("/media/") and old.video.storage.exists(old.video.name)
    assert archive.verify_stored(old)
    assert _video(old)["url"].endswith(old.video.url) and _video(old)["poster_url"]
    assert status_json(old)["poster"] == old.poster.url
    page = admin_client.get(reverse("admin:videogen_videojob_change", args=[old.pk]))
    assert old.video.url in page.content.decode()
    html = Template("{% load videogen %}{% videogen_player job %}").render(Context({"job": old}))
    assert f'src="{old.video.url}"' in html

    new = archived_job()  # new archives go to the current setting
    assert new.storage_alias == "videos" and "X-Amz-Signature" in new.video.url
    assert s3.listing() == sorted([new.video.name, new.poster.name])
    assert s3.sha256(new.video.name) == new.video_sha256

    # Archiving the old job again saves into S3 and deletes its files from the old storage.
    lifecycle.request_archive(old)
    old.refresh_from_db()
    assert old.storage_alias == "videos" and archive.verify_stored(old)
    assert archived_files(tmp_path) == []


def test_cli_out_reads_the_recorded_storage(sandbox, s3, settings, tmp_path):
    job = archived_job()
    use_storage(settings, "videos")
    _copy_video(VideoJob.objects.get(pk=job.pk), str(tmp_path / "out.mp4"))
    assert hashlib.sha256((tmp_path / "out.mp4").read_bytes()).hexdigest() == job.video_sha256


def test_an_alias_taken_out_of_storages_is_named_not_a_500(sandbox, settings, admin_client,
                                                           caplog):
    job = archived_job()
    VideoJob.objects.filter(pk=job.pk).update(storage_alias="old-disk")
    job = VideoJob.objects.get(pk=job.pk)
    page = admin_client.get(reverse("admin:videogen_videojob_change", args=[job.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "&#x27;old-disk&#x27; is not in STORAGES" in text
    changelist = admin_client.get(reverse("admin:videogen_videojob_changelist"))
    assert changelist.status_code == 200
    html = Template("{% load videogen %}{% videogen_player job %}").render(Context({"job": job}))
    assert "videogen-player--storage-missing" in html and "<video" not in html
    assert _video(job)["url"] is None
    assert "old-disk" in caplog.text
    with pytest.raises(CommandError, match="'old-disk' is not in STORAGES"):
        _copy_video(job, "/tmp/never")
    # The move names it too, and leaves the job alone.
    with pytest.raises(CommandError, match="1 archive"):
        move("--to", "default")
    assert VideoJob.objects.get(pk=job.pk).storage_alias == "old-disk"


# --- move-archives ---------------------------------------------------------------------------


def test_an_unknown_target_names_the_aliases(settings):
    with pytest.raises(CommandError, match=r"'nowhere' is not in STORAGES \(there are: "
                                           r"default, staticfiles\)"):
        move("--to", "nowhere")


def test_dry_run_lists_and_changes_nothing_then_the_move_moves(sandbox, s3, settings, tmp_path):
    jobs = [archived_job(), archived_job()]
    before = archived_files(tmp_path)
    out, _ = move("--to", "videos", "--dry-run")
    for job in jobs:
        assert f"{job.pk}  default -> videos  {job.video.name}, {job.poster.name}" in out
    assert "2 archives would move to videos" in out
    assert archived_files(tmp_path) == before and s3.listing() == []
    assert set(VideoJob.objects.values_list("storage_alias", flat=True)) == {"default"}

    out, err = move("--to", "videos")
    assert "2/2 moved" in err and "Moved 2 archives to videos." in out
    assert archived_files(tmp_path) == []
    for job in jobs:
        job.refresh_from_db()
        assert job.storage_alias == "videos" and job.archive_unrecorded is None
        assert s3.sha256(job.video.name) == job.video_sha256
        assert archive.verify_stored(job) and "X-Amz-Signature" in job.poster.url
        assert job.events.filter(kind=JobEvent.Kind.NOTE, detail__contains="to videos").exists()
    # Nothing left to do; and back again, S3 to local files.
    assert "Moved 0" in move("--to", "videos")[0]
    move("--to", "default")
    assert s3.listing() == [] and len(archived_files(tmp_path)) == 4
    assert all(archive.verify_stored(job) for job in VideoJob.objects.all())


def test_a_run_stopped_after_copying_is_resumed_reusing_the_copy(sandbox, s3, monkeypatch,
                                                                 tmp_path):
    first, second = archived_job(), archived_job()
    real_switch = moving.switch

    def crash(*args):
        raise KeyboardInterrupt  # killed after the copy, before the row switched

    monkeypatch.setattr(moving, "switch", crash)
    with pytest.raises(SystemExit):
        move("--to", "videos")
    first.refresh_from_db()
    assert first.storage_alias == "default" and archive.verify_stored(first)  # still whole
    assert s3.listing() == sorted([first.video.name, first.poster.name])  # the copy stays

    monkeypatch.setattr(moving, "switch", real_switch)
    saved = []
    real_copy = moving.copy_verified

    def counting(source, destination, name, expected):
        exists = destination.exists(name)
        saved.append((name, exists))
        return real_copy(source, destination, name, expected)

    monkeypatch.setattr(moving, "copy_verified", counting)
    out, err = move("--to", "videos")
    assert "2/2 moved" in err
    assert (first.video.name, True) in saved and (second.video.name, False) in saved
    for job in (first, second):
        job.refresh_from_db()
        assert job.storage_alias == "videos" and archive.verify_stored(job)
    assert archived_files(tmp_path) == []


def test_a_copy_cut_short_is_replaced(sandbox, s3):
    job = archived_job()
    s3.put_object(Key=job.video.name, Body=b"half a vid")
    move("--to", "videos")
    job.refresh_from_db()
    assert job.storage_alias == "videos" and s3.sha256(job.video.name) == job.video_sha256


def test_a_run_stopped_after_switching_is_finished_by_the_sweeper(sandbox, s3, monkeypatch,
                                                                  tmp_path):
    job = archived_job()

    def crash(alias, name):
        raise KeyboardInterrupt  # killed before the old copies were deleted

    monkeypatch.setattr(archive, "delete_quietly", crash)
    with pytest.raises(SystemExit):
        move("--to", "videos")
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.storage_alias == "videos" and archive.verify_stored(job)
    assert len(archived_files(tmp_path)) == 2 and len(job.archive_unrecorded) == 2
    assert sweeper.sweep().unrecorded_files_removed == 2
    assert archived_files(tmp_path) == [] and archive.verify_stored(job)


def test_a_sha256_mismatch_refuses_to_switch(sandbox, s3, tmp_path):
    damaged, fine = archived_job(), archived_job()
    (tmp_path / "media" / damaged.video.name).write_bytes(b"bit rot")
    with pytest.raises(CommandError, match=f"1 archive.*not moved.*{damaged.pk}"):
        move("--to", "videos")
    damaged.refresh_from_db()
    fine.refresh_from_db()
    assert damaged.storage_alias == "default"
    assert (tmp_path / "media" / damaged.video.name).read_bytes() == b"bit rot"  # not deleted
    assert fine.storage_alias == "videos"
    assert damaged.video.name not in s3.listing()  # the bad copy is not left behind


def test_the_move_skips_a_job_being_archived(sandbox, s3):
    job = archived_job()
    VideoJob.objects.filter(pk=job.pk).update(archive_status=ArchiveStatus.ARCHIVING)
    with pytest.raises(CommandError, match="not moved"):
        move("--to", "videos")
    assert VideoJob.objects.get(pk=job.pk).storage_alias == "default"
    assert s3.listing() == []


def test_s3_reads_stream(sandbox, s3, settings):
    """Reading an S3 object for the copy goes through boto3's body, piece by piece."""
    use_storage(settings, "videos")
    job = archived_job()
    from django.core.files.storage import storages

    with moving.open_stream(storages["videos"], job.video.name) as stream:
        assert not stream.seekable() and len(stream.read(10)) == 10
    assert moving.sha256_of(storages["videos"], job.video.name) == job.video_sha256


def test_a_database_check_warns_of_archives_in_a_missing_alias(settings):
    make_job(video="videogen/a.mp4", storage_alias="old-disk")
    make_job(video="videogen/b.mp4")
    assert checks.check_archive_aliases() == []  # without --database: no queries
    messages = checks.check_archive_aliases(databases=["default"])
    assert [m.id for m in messages] == ["videogen.W004"]
    assert "'old-disk'" in messages[0].msg and "move-archives" in messages[0].hint
    with pytest.raises(CommandError, match="videogen.W004"):
        call_command("check", "--database", "default", "--fail-level", "WARNING")


def test_a_file_saved_through_the_field_records_the_current_alias(settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.STORAGES = {**settings.STORAGES, "videos": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "videos")}}}
    use_storage(settings, "videos")
    job = make_job()
    job.video.save("clip.mp4", ContentFile(b"bytes"))
    use_storage(settings, "default")
    job = VideoJob.objects.get(pk=job.pk)
    assert job.storage_alias == "videos" and job.video.read() == b"bytes"
    # A name written by code of its own is in the current storage, and recorded so.
    assert make_job(poster="videogen/p.jpg").storage_alias == "default"


def test_a_journal_of_the_previous_release_means_the_current_storage(sandbox, tmp_path):
    """Bare names (no alias) in archive_unrecorded, from before the alias was recorded."""
    job = archived_job()
    stray = tmp_path / "media" / "videogen" / "stray.mp4"
    stray.write_bytes(b"orphan")
    VideoJob.objects.filter(pk=job.pk).update(
        archive_unrecorded=["videogen/stray.mp4", job.video.name])
    assert sweeper.sweep().unrecorded_files_removed == 1
    assert not stray.exists() and archive.verify_stored(VideoJob.objects.get(pk=job.pk))


def test_a_file_missing_from_the_old_storage_is_reported_and_the_rest_move(sandbox, s3,
                                                                           tmp_path):
    broken, fine = archived_job(), archived_job()
    (tmp_path / "media" / broken.video.name).unlink()
    with pytest.raises(CommandError, match=f"1 archive.*{broken.pk}"):
        move("--to", "videos")
    assert VideoJob.objects.get(pk=broken.pk).storage_alias == "default"
    assert VideoJob.objects.get(pk=fine.pk).storage_alias == "videos"
    assert broken.poster.name not in s3.listing()  # its poster's copy did not stay


def test_the_sweeper_cleans_partial_downloads_in_the_old_local_storage(sandbox, settings,
                                                                       tmp_path):
    import os
    import time

    archived_job()  # a job in "default"
    settings.STORAGES = {**settings.STORAGES, "videos": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "videos")}}}
    use_storage(settings, "videos")
    left = tmp_path / "media" / archive.PARTIAL_FOLDER / f"download-x{archive.PARTIAL_SUFFIX}"
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_bytes(b"half")
    stale = time.time() - archive.lease_seconds(in_worker=True) - 60
    os.utime(left, (stale, stale))
    assert sweeper.sweep().partial_downloads_removed == 1 and not left.exists()
