"""Stand-ins for a process dying mid-step, to patch over the step it dies in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn


class Killed(BaseException):
    """Stands in for kill -9: not an Exception, so no handler of ours catches it."""


def raises(error: BaseException) -> Callable[..., NoReturn]:
    """A replacement for any function or method: whatever it is called with, it raises
    ``error``."""
    def replacement(*args: Any, **kwargs: Any) -> NoReturn:
        raise error

    return replacement


def first_archive_outlives_its_lease(monkeypatch: Any) -> list[str]:
    """The first archive worker is slow, not dead: once it has stored the video, its lease runs
    out and the sweeper hands the job to a second worker (django-q2 in sync mode runs it at
    once), which archives it. Returns the archive status the first one then finds."""
    from django.utils import timezone

    from videogen import archive, sweeper
    from videogen.models import VideoJob

    real_fetch = archive.fetch_and_store
    found: list[str] = []

    def slow_first(job: VideoJob, *args: Any) -> Any:
        stored = real_fetch(job, *args)
        monkeypatch.setattr(archive, "fetch_and_store", real_fetch)
        VideoJob.objects.filter(pk=job.pk).update(archive_lease_until=timezone.now())
        sweeper.sweep()
        found.append(VideoJob.objects.get(pk=job.pk).archive_status)
        return stored

    monkeypatch.setattr(archive, "fetch_and_store", slow_first)
    return found
