"""The suite's one way to make a job row for a test."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from videogen.models import ArchiveStatus, Status, VideoJob


def make_job(status: str = Status.DRAFT, **fields: Any) -> VideoJob:
    """A job in any state, written directly (tests set up states; the lifecycle makes them):
    a small valid request, and the timestamps, remote id, cost and archive a job in
    ``status`` would have. ``fields`` override any of it."""
    now = timezone.now()
    values: dict[str, Any] = {"model": "pixverse/pixverse-v5", "prompt": "a red fox",
                              "width": 360, "height": 360, "seconds": "2", "fps": 16,
                              "status": status}
    if status != Status.DRAFT:
        values["submitted_at"] = now
    if status in (Status.QUEUED, Status.IN_PROGRESS, Status.COMPLETED, Status.FAILED):
        values["remote_id"] = f"remote-{VideoJob.objects.count()}-{now.timestamp()}"
    if status in (Status.COMPLETED, Status.FAILED, Status.CANCELLED):
        values["finished_at"] = now
    if status == Status.COMPLETED:
        values["archive_status"] = ArchiveStatus.ARCHIVED
        values["cost"] = "0.28"
    values.update(fields)
    return VideoJob.objects.create(**values)


def sent_jobs(count: int, prompt: str = "job") -> list[VideoJob]:
    """``count`` jobs really sent to the sandbox (veo-2.0, one second), as stored after."""
    from videogen import submission

    jobs = []
    for i in range(count):
        job = VideoJob.objects.create(model="google/veo-2.0", prompt=f"{prompt} {i}", seconds="1")
        submission.submit(job)
        jobs.append(VideoJob.objects.get(pk=job.pk))
    return jobs
