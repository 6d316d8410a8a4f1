"""What the job page tells staff (issue #19): the cost, the audio track, a real download with a
readable name, a progress estimate from this site's own history, and one history with seconds
and the status labels staff see elsewhere."""

import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_job
from videogen import archive, progress, timing
from videogen.admin import download_name
from videogen.models import JobEvent, Status, VideoJob

from .conftest import VIEW, change_page

pytestmark = pytest.mark.django_db



def download_url(job):
    return reverse("admin:videogen_videojob_download", args=[job.pk])


# --- Cost ---------------------------------------------------------------------------------------


def test_the_job_page_shows_the_cost_and_its_refresh_carries_it(superuser_client):
    done = make_job(Status.COMPLETED, cost="0.0045")
    html = change_page(superuser_client, done)
    assert f'Cost: <span data-vg-cost="{done.pk}">$0.0045</span>' in html
    running = make_job(Status.IN_PROGRESS)
    assert f'<span data-vg-cost="{running.pk}">—</span>' in change_page(superuser_client, running)
    # The provider reports the cost with the result: the next refresh brings it.
    VideoJob.objects.filter(pk=running.pk).update(status=Status.COMPLETED, cost="0.28",
                                                  finished_at=timezone.now())
    one = superuser_client.get(reverse("admin:videogen_videojob_progress_one",
                                       args=[running.pk])).json()
    assert one["cost"] == "$0.28"
    many = superuser_client.get(reverse("admin:videogen_videojob_progress"),
                                {"id": [str(running.pk)]}).json()
    assert many["jobs"][0]["cost"] == "$0.28"


def test_the_list_marks_each_cost_cell_for_the_refresh(superuser_client):
    job = make_job(Status.IN_PROGRESS)
    html = superuser_client.get(reverse("admin:videogen_videojob_changelist")).content.decode()
    assert f'<span data-vg-cost="{job.pk}">—</span>' in html


# --- Audio --------------------------------------------------------------------------------------


def sandbox_clip(tmp_path, audio):
    render = pytest.importorskip("videogen.sandbox.render")
    path = str(tmp_path / ("with-audio.mp4" if audio else "silent.mp4"))
    return render.render(render.RenderSpec(width=64, height=64, fps=8, seconds=1, audio=audio),
                         path)


def test_the_probe_reads_the_audio_track(tmp_path):
    job = VideoJob(model="google/veo-3.0-audio", prompt="waves")
    with open(sandbox_clip(tmp_path, audio=True), "rb") as file:
        probe = archive.probe_file(file, job)
    fields = archive._stored_fields(probe)
    assert (fields["video_codec"], fields["audio_codec"]) == ("h264", "aac")
    assert (fields["audio_channels"], fields["audio_sample_rate"]) == (1, 48000)
    with open(sandbox_clip(tmp_path, audio=False), "rb") as file:
        silent = archive._stored_fields(archive.probe_file(file, job))
    assert (silent["audio_codec"], silent["audio_channels"], silent["audio_sample_rate"]) == (
        "", None, None)


def test_file_info_lists_the_audio_track(superuser_client):
    job = make_job(Status.COMPLETED, video="videogen/v.mp4", video_codec="h264",
                   audio_codec="aac", audio_channels=2, audio_sample_rate=48000)
    html = change_page(superuser_client, job)
    assert "<dt>Audio</dt><dd>aac, 2 channels, 48000 Hz</dd>" in html
    silent = make_job(Status.COMPLETED, video="videogen/s.mp4", video_codec="h264")
    assert "<dt>Audio</dt><dd>none</dd>" in change_page(superuser_client, silent)


# --- Download -----------------------------------------------------------------------------------


def archived(prompt="A paper boat drifting on a calm lake at dawn", body=b"\x00video-bytes"):
    job = make_job(Status.COMPLETED, model="google/veo-2.0", prompt=prompt,
                   video_container="mp4")
    job.video.save(f"{job.pk}.mp4", ContentFile(body), save=True)
    return job


def test_download_name_is_readable_and_safe_in_a_header():
    job = VideoJob(model="google/veo-2.0", prompt="A paper boat drifting on a calm lake at dawn",
                   video="videogen/2026/12/0b6c.mp4")
    assert download_name(job) == "veo-2-0-a-paper-boat-drifting-on-a-calm-lake.mp4"
    hostile = VideoJob(model="x/\r\nSet-Cookie: a=b", video="v.webm",
                       prompt='"; filename=evil.exe\r\n日本語 <script>')
    name = download_name(hostile)
    assert name == "set-cookie-ab-filenameevilexe-script.webm"
    assert download_name(VideoJob(model="", prompt="", video="v.mp4")) == "video.mp4"


def test_download_is_an_attachment_with_a_readable_name(superuser_client):
    job = archived()
    html = change_page(superuser_client, job)
    assert f'href="{download_url(job)}" download="veo-2-0-a-paper-boat-drifting-on-a-calm' in html
    response = superuser_client.get(download_url(job))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="veo-2-0-a-paper-boat-drifting-on-a-calm-lake.mp4"')
    assert response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content) == b"\x00video-bytes"


def test_download_needs_view_permission(staff_client):
    job = archived()
    assert staff_client().get(download_url(job)).status_code in (403, 404)


def test_download_of_a_job_without_a_video_or_a_lost_file_is_a_404(staff_client):
    client = staff_client(*VIEW)
    assert client.get(download_url(make_job(Status.COMPLETED))).status_code == 404
    job = archived()
    job.video.storage.delete(job.video.name)
    assert client.get(download_url(job)).status_code == 404
    assert client.get("/admin/videogen/videojob/not-a-uuid/download/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_download_from_s3_is_a_signed_attachment(superuser_client, s3_archives):
    job = archived(body=b"s3-video-bytes")
    response = superuser_client.get(download_url(job))
    assert response.status_code == 302
    signed = response["Location"]
    assert signed.startswith(s3_archives.endpoint) and "X-Amz-Signature" in signed
    fetched = httpx.get(signed)
    assert fetched.status_code == 200 and fetched.content == b"s3-video-bytes"
    assert fetched.headers["content-disposition"] == (
        'attachment; filename="veo-2-0-a-paper-boat-drifting-on-a-calm-lake.mp4"')


# --- Progress from this site's history ----------------------------------------------------------


def finished_in(model, seconds, days_ago=0):
    sent = timezone.now() - timedelta(days=days_ago, seconds=seconds + 30)
    return make_job(Status.COMPLETED, model=model, submitted_at=sent,
                    finished_at=sent + timedelta(seconds=seconds))


def running_for(model, seconds):
    return make_job(Status.IN_PROGRESS, model=model,
                    submitted_at=timezone.now() - timedelta(seconds=seconds))


def test_estimate_follows_what_the_site_has_seen(monkeypatch):
    model = "minimax/hailuo-02"  # the catalog says ~4:00
    for seconds in (18, 19, 20, 21, 40):
        finished_in(model, seconds)
    finished_in(model, 500, days_ago=40)  # too old to count
    finished_in("google/veo-2.0", 5)  # one job is no history: the catalog's figure
    job = running_for(model, 15)
    assert progress.progress(job).text == "0:15 of ~0:20"
    assert progress.typical_seconds("google/veo-2.0") == timing.catalog_seconds("google/veo-2.0")
    assert progress.progress(running_for(model, 30)).text == "0:30, longer than the usual ~0:20"
    # Kept for a minute (a page asks once per row): newer history shows once the minute is up.
    for _ in range(6):
        finished_in(model, 100)
    assert progress.progress(job).text == "0:15 of ~0:20"
    later = time.monotonic() + progress.OBSERVED_CACHE_SECONDS + 1
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: later))
    assert progress.progress(job).text == "0:15 of ~1:40"


def test_estimate_uses_the_catalog_until_there_is_enough_history():
    model = "minimax/hailuo-02"
    for seconds in (18, 19, 20, 21):
        finished_in(model, seconds)
    assert progress.progress(running_for(model, 15)).text == "0:15 of ~4:00"
    progress.forget_observed()
    finished_in(model, 22)
    assert progress.progress(running_for(model, 15)).text == "0:15 of ~0:20"


def test_estimate_takes_the_newest_jobs_only():
    model = "minimax/hailuo-02"
    for _ in range(10):
        finished_in(model, 600, days_ago=2)
    for _ in range(progress.OBSERVED_JOBS):
        finished_in(model, 30)
    assert progress.typical_seconds(model) == 30


# --- History ------------------------------------------------------------------------------------


def test_history_has_seconds_and_status_labels(superuser_client):
    job = make_job(Status.QUEUED)
    event = JobEvent.objects.create(job=job, old_status="in_progress", new_status="completed")
    JobEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.make_aware(datetime(2026, 12, 4, 10, 15, 42)))
    html = change_page(superuser_client, job)
    assert "In progress → Completed" in html and "in_progress →" not in html
    assert "10:15:42" in html
    assert 'id="vg-history"' in html
    assert '<a href="#vg-history" class="historylink">History</a>' in html
    events = superuser_client.get(reverse("admin:videogen_jobevent_changelist"))
    listing = events.content.decode()
    assert "10:15:42" in listing
    assert '<td class="field-old_status">In progress</td>' in listing
    assert '<td class="field-new_status">Completed</td>' in listing


def test_the_history_page_is_the_jobs_own_timeline(superuser_client, staff_client):
    job = make_job(Status.QUEUED)
    url = reverse("admin:videogen_videojob_history", args=[job.pk])
    response = superuser_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:videogen_videojob_change",
                                           args=[job.pk]) + "#vg-history"
    assert superuser_client.get(
        "/admin/videogen/videojob/not-a-uuid/history/").status_code in (302, 404)


@pytest.mark.django_db(transaction=True)
def test_an_archived_video_with_sound_records_its_audio_track(sandbox):
    from videogen import polling, submission

    job = VideoJob.objects.create(model="google/veo-3.0-audio", prompt="waves on a beach",
                                  width=1280, height=720, seconds="1", fps=8)
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.video and job.video_codec == "h264", job.archive_error
    assert (job.audio_codec, job.audio_channels, job.audio_sample_rate) == ("aac", 1, 48000)
