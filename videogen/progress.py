"""How far along a job is, for staff pages: time spent against the model's typical duration.

Everything here is computed from the job's own fields and the catalog, so a page of a hundred
jobs costs no query beyond the one that loaded them (the poller's site-specific median,
:func:`videogen.lifecycle.typical_seconds`, needs a query per model and is not used here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from videogen import timing
from videogen.models import IN_FLIGHT_STATUSES, ArchiveStatus, Status, VideoJob


@dataclass(frozen=True)
class Progress:
    """``percent`` is None when there is nothing to measure (a draft, a failed job)."""

    percent: int | None
    text: str
    elapsed: float | None
    typical: float


def typical_seconds(model: str) -> float:
    return timing.catalog_seconds(model)


def duration_text(seconds: float) -> str:
    """``75`` → ``1:15``; ``3725`` → ``1:02:05``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def is_moving(job: VideoJob) -> bool:
    """True while something will still happen by itself (pages keep refreshing): sending,
    generating, or archiving. An uncertain submission waits for a person, so it is not."""
    if job.status == Status.SUBMITTING:
        return job.error_code != "outcome_unknown"
    if job.status == Status.DRAFT and job.submit_requested_at:
        return True  # queued for sending: a worker picks it up
    if job.status in IN_FLIGHT_STATUSES:
        return True
    return job.archive_status in (ArchiveStatus.PENDING, ArchiveStatus.ARCHIVING)


def is_editable(job: VideoJob) -> bool:
    """Only a draft nobody has asked to send yet can be edited: once "Save and submit" has
    queued it, what goes to the provider is settled."""
    return job.status == Status.DRAFT and job.submit_requested_at is None


def progress(job: VideoJob, now: datetime | None = None) -> Progress:
    now = now or timezone.now()
    typical = typical_seconds(job.model)
    started = job.submitted_at or job.created_at
    if job.status == Status.DRAFT:
        text = _("queued for sending…") if job.submit_requested_at else _("not sent yet")
        return Progress(None, text, None, typical)
    if job.status == Status.SUBMITTING:
        text = _("outcome unknown") if job.error_code == "outcome_unknown" else _("sending…")
        return Progress(None, text, None, typical)
    if job.status in IN_FLIGHT_STATUSES:
        return _running(now - started, typical)
    if job.submitted_at is None:  # refused before sending, or cancelled as a draft
        return Progress(None, _("never sent"), None, typical)
    elapsed = (job.finished_at - started).total_seconds() if job.finished_at else None
    return _finished(job, elapsed, typical)


def _running(delta: Any, typical: float) -> Progress:
    elapsed = max(0.0, delta.total_seconds())
    values = {"elapsed": duration_text(elapsed), "typical": duration_text(typical)}
    if elapsed <= typical:
        text = _("%(elapsed)s of ~%(typical)s") % values
    else:
        text = _("%(elapsed)s, longer than the usual ~%(typical)s") % values
    # Never 100 % before the provider says so: a full bar that does not finish misleads.
    percent = min(99, int(100 * elapsed / typical)) if typical else None
    return Progress(percent, text, elapsed, typical)


def _finished(job: VideoJob, elapsed: float | None, typical: float) -> Progress:
    took = duration_text(elapsed) if elapsed is not None else "—"
    if job.status == Status.COMPLETED:
        if job.archive_status in (ArchiveStatus.PENDING, ArchiveStatus.ARCHIVING):
            return Progress(100, _("took %(took)s; archiving…") % {"took": took}, elapsed,
                            typical)
        return Progress(100, _("took %(took)s") % {"took": took}, elapsed, typical)
    return Progress(None, _("stopped after %(took)s") % {"took": took}, elapsed, typical)


def status_json(job: VideoJob, now: datetime | None = None) -> dict[str, Any]:
    """What the pages' refresh script needs to update a job in place."""
    current = progress(job, now)
    return {
        "id": str(job.pk),
        "status": job.status,
        "status_label": job.get_status_display(),
        "archive_status": job.archive_status,
        "archive_label": job.get_archive_status_display() if job.archive_status else "",
        "moving": is_moving(job),
        # False once the job is sent or queued for sending: an open edit form is stale.
        "editable": is_editable(job),
        "percent": current.percent,
        "text": current.text,
        "poster": job.poster.url if job.poster else "",
        "error": job.error_message if job.status == Status.FAILED else "",
    }
