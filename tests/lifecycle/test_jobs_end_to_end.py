"""Jobs go draft → submitted → polled → completed → archived against the sandbox over real
HTTP, with django-q2 in sync mode; failures and cancellations end right; signals fire once."""

from datetime import timedelta

import av
import pytest

from videogen import lifecycle, polling, submission
from videogen.archive import verify_stored
from videogen.models import ArchiveStatus, JobEvent, Status, VideoJob

pytestmark = pytest.mark.django_db(transaction=True)

CASES = [
    {"model": "google/veo-2.0", "prompt": "a red fox in snow", "width": 720, "height": 1280,
     "seconds": "2", "fps": 12},
    {"model": "minimax/video-01-director", "prompt": "city lights at night", "seconds": "1",
     "width": 1366, "height": 768, "fps": 8},
    {"model": "pixverse/pixverse-v5", "prompt": "waves", "width": 360, "height": 360,
     "seconds": "2", "fps": 16, "output_format": "WEBM"},
    {"model": "Wan-AI/wan2.7-t2v", "prompt": "a paper boat", "resolution": "720P",
     "ratio": "1:1", "seconds": "2"},
    {"model": "kwaivgI/kling-2.1-standard", "width": 1080, "height": 1080, "seconds": "1",
     "fps": 8},
]


def run_to_the_end(jobs):
    for job in jobs:
        submission.submit(job)
    VideoJob.objects.filter(pk__in=[j.pk for j in jobs]).update(next_poll_at=None)
    polling.poll_jobs(list(VideoJob.objects.filter(pk__in=[j.pk for j in jobs])))
    return {job.pk: VideoJob.objects.get(pk=job.pk) for job in jobs}


def test_jobs_across_models_complete_and_archive(sandbox, signal_log):
    jobs = [VideoJob.objects.create(**case) for case in CASES]
    finished = run_to_the_end(jobs)
    for case, job in zip(CASES, jobs, strict=True):
        job = finished[job.pk]
        assert job.status == Status.COMPLETED, (case, job.error_message)
        assert job.archive_status == ArchiveStatus.ARCHIVED, job.archive_error
        assert job.remote_id and job.cost is not None and job.finished_at
        assert verify_stored(job)
        with job.video.open("rb") as handle, av.open(handle) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (
                job.video_width, job.video_height)
        assert job.video_container == ("webm" if case.get("output_format") == "WEBM" else "mp4")
        assert job.poster.name.endswith("-poster.jpg") and job.poster.size > 100
        if "width" in case:
            assert (job.video_width, job.video_height) == (case["width"], case["height"])
        assert abs(job.video_duration - int(case["seconds"])) < 0.6
        assert signal_log.names(job) == [
            "job_status_changed",                    # draft → submitting
            "job_status_changed", "job_submitted",   # submitting → queued
            "job_status_changed",                    # queued → completed
            "video_archived", "job_completed",
        ]
        history = [(e.old_status, e.new_status) for e in job.events.filter(
            kind=JobEvent.Kind.STATUS)]
        assert history == [("draft", "submitting"), ("submitting", "queued"),
                           ("queued", "completed")]
    assert sandbox.stats()["jobs_created"] == len(CASES)


def test_progress_through_in_progress_with_time(sandbox, signal_log):
    sandbox.configure(time_scale=0.02)  # veo-2.0 typical ~90 s → ~2 s here
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="slow clouds", seconds="1",
                                  width=1280, height=720, fps=8)
    submission.submit(job)
    seen = []
    for _ in range(200):
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
        job.refresh_from_db()
        if not seen or seen[-1] != job.status:
            seen.append(job.status)
        if job.is_terminal:
            break
        __import__("time").sleep(0.05)
    assert seen[-1] == Status.COMPLETED and Status.IN_PROGRESS in seen
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED
    assert job.started_at and job.finished_at >= job.started_at
    assert signal_log.names(job).count("job_completed") == 1


def test_failed_job_reports_the_providers_reason(sandbox, signal_log):
    sandbox.faults.add("fail_job", message="NSFW content detected")
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="something", seconds="1")
    finished = run_to_the_end([job])[job.pk]
    assert finished.status == Status.FAILED
    assert "NSFW content detected" in finished.error_message
    assert finished.archive_status == ArchiveStatus.NONE
    assert signal_log.names(job) == ["job_status_changed", "job_status_changed",
                                     "job_submitted", "job_status_changed", "job_failed"]
    failed = next(kw for name, _, kw in signal_log.sent if name == "job_failed")
    assert "NSFW" in failed["error_message"]


def test_catalog_refusal_fails_without_calling_the_provider(sandbox, signal_log):
    job = VideoJob.objects.create(model="minimax/hailuo-02", prompt="a cat", width=1280,
                                  height=720)
    submission.submit(job)
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == "invalid_request"
    assert "minimax/hailuo-02 supports 1366x768 or 1920x1080, got 1280x720" in job.error_message
    assert sandbox.stats()["requests"].get("create", 0) == 0
    assert signal_log.names(job) == ["job_status_changed", "job_failed"]


def test_provider_400_fails_with_its_message(sandbox, settings):
    # This site's catalog allows a size the provider (the sandbox's builtin table) refuses.
    settings.VIDEOGEN = {**settings.VIDEOGEN, "MODELS": {"google/veo-2.0": {
        "sizes": ["640x480"]}}}
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat", width=640,
                                  height=480)
    submission.submit(job)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "640x480" in job.error_message
    assert sandbox.stats()["jobs_created"] == 0


def test_cancel_is_local_and_remembers_the_provider_may_finish(sandbox, signal_log):
    sandbox.configure(time_scale=1)
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat", seconds="1")
    submission.submit(job)
    lifecycle.cancel(job)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and job.remote_may_finish
    assert job.next_poll_at is None
    assert signal_log.names(job)[-2:] == ["job_status_changed", "job_cancelled"]
    # Polling never picks it up again; the provider's late completion is only recorded.
    assert polling.claim_due(100, __import__("videogen.conf").conf.get_settings().poll) == []
    sandbox.configure(time_scale=0)
    sandbox.advance(job.remote_id)
    polling.repoll(job)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert job.archive_status == ArchiveStatus.NONE
    assert job.provider_video_url
    assert "finished this job after it was cancelled" in job.events.last().detail
    # Staff may ask for the archive all the same.
    lifecycle.request_archive(job)
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED


def test_a_late_finished_cancelled_job_takes_a_fresh_url_from_a_later_poll(sandbox):
    """The provider signs a new URL on each answer. For a cancelled job that finished late,
    later polls (the archive's refresh of an expired URL, a staff re-poll) kept only the poll
    time: the archive retried the expired URL and always failed."""
    sandbox.configure(time_scale=1)
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat", seconds="1")
    submission.submit(job)
    lifecycle.cancel(job)
    sandbox.configure(time_scale=0)
    sandbox.advance(job.remote_id)
    polling.repoll(job)
    job.refresh_from_db()
    current = job.provider_video_url
    VideoJob.objects.filter(pk=job.pk).update(provider_video_url=current + "?signature=old")
    polling.repoll(job)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert job.provider_video_url == current
    assert job.last_response["outputs"]["video_url"] == current


def test_cancel_a_draft_and_refuse_to_cancel_twice(sandbox):
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat")
    lifecycle.cancel(job)
    assert job.status == Status.CANCELLED and not job.remote_may_finish
    with pytest.raises(lifecycle.InvalidTransition, match="it is cancelled"):
        lifecycle.cancel(job)
    with pytest.raises(lifecycle.InvalidTransition):
        submission.submit(job)


def test_retry_makes_a_linked_draft(sandbox):
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat", seconds="1",
                                  metadata={"campaign": "spring"})
    lifecycle.cancel(job)
    again = lifecycle.retry(job, prompt="a calmer cat")
    assert again.status == Status.DRAFT and again.retry_of == job
    assert again.prompt == "a calmer cat" and again.seconds == "1"
    assert again.metadata == {"campaign": "spring"}
    with pytest.raises(lifecycle.LifecycleError, match="Unknown fields: colour"):
        lifecycle.retry(job, colour="red")


def test_stale_and_out_of_order_answers_are_ignored(sandbox):
    from videogen.client.schemas import RemoteJob

    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat", remote_id="r-1",
                                  status=Status.IN_PROGRESS)
    lifecycle.apply_remote(job, RemoteJob(id="r-1", status="queued"))
    job.refresh_from_db()
    assert job.status == Status.IN_PROGRESS
    lifecycle.apply_remote(job, RemoteJob(id="r-1", status="failed"))
    lifecycle.apply_remote(job, RemoteJob(id="r-1", status="completed", video_url="http://x"))
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.archive_status == ArchiveStatus.NONE


def test_budget_cap_refuses_before_sending(sandbox, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "BUDGET": {"DAILY": "1.00"}}
    spent = VideoJob.objects.create(model="google/veo-2.0", prompt="a", cost="0.80",
                                    status=Status.COMPLETED)
    VideoJob.objects.filter(pk=spent.pk).update(submitted_at=__import__(
        "django.utils.timezone").utils.timezone.now())
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat")
    with pytest.raises(lifecycle.BudgetExceeded, match="daily budget of 1.00"):
        submission.submit(job)
    job.refresh_from_db()
    assert job.status == Status.DRAFT
    assert sandbox.stats()["requests"].get("create", 0) == 0


def test_a_queued_submit_refused_over_budget_is_withdrawn_not_sent_later(sandbox, settings):
    # The sweeper re-queued such a draft every few minutes, and it went out unannounced as
    # soon as the next day's budget allowed.
    from django.utils import timezone

    from videogen import sweeper, tasks

    settings.VIDEOGEN = {**settings.VIDEOGEN, "BUDGET": {"DAILY": "1.00"}}
    VideoJob.objects.create(model="google/veo-2.0", prompt="a", cost="0.80",
                            status=Status.COMPLETED, submitted_at=timezone.now())
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a cat")
    lifecycle.request_submit(job)
    assert tasks.submit_job(str(job.pk)).startswith("refused: The daily budget")
    job.refresh_from_db()
    assert job.status == Status.DRAFT and job.submit_requested_at is None
    assert job.events.filter(kind=JobEvent.Kind.NOTE,
                             detail__startswith="Not sent: The daily budget").exists()
    # An hour on, the sweeper finds no request left to send again.
    VideoJob.objects.filter(pk=job.pk, submit_requested_at__isnull=False).update(
        submit_requested_at=timezone.now() - timedelta(hours=1))
    assert sweeper.sweep().submits_requeued == []
    assert sandbox.stats()["requests"].get("create", 0) == 0
