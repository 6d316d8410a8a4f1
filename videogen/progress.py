"""How far along a job is, for staff pages: time spent against the model's typical duration.

The typical duration is what this site has seen: the median of the last completed jobs of the
model (submitted → finished, the span the bar measures), once there are enough of them; until
then the catalog's figure. Those medians come from one query for every model, kept for a
minute in each process, so a page of a hundred jobs costs at most one query beyond the one
that loaded them.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from videogen import timing
from videogen.models import IN_FLIGHT_STATUSES, ArchiveStatus, Status, VideoJob
from videogen.storage import file_url


@dataclass(frozen=True)
class Progress:
    """``percent`` is None when there is nothing to measure (a draft, a failed job)."""

    percent: int | None
    text: str
    elapsed: float | None
    typical: float


#: Completed jobs of a model the site needs before their median replaces the catalog's figure.
MIN_OBSERVED = 5
#: The newest completed jobs per model (of the last OBSERVED_DAYS) the median is taken over.
OBSERVED_JOBS = 20
OBSERVED_DAYS = 30
OBSERVED_CACHE_SECONDS = 60
#: (monotonic time it expires, medians per model)
_observed: tuple[float, dict[str, float]] | None = None


def typical_seconds(model: str) -> float:
    """How long a job of ``model`` usually takes here (see the module's docstring)."""
    observed = observed_seconds().get(model)
    return observed if observed is not None else timing.catalog_seconds(model)


def observed_seconds() -> dict[str, float]:
    """Median generation time per model with enough history. Kept in this process for
    OBSERVED_CACHE_SECONDS: a page asks for it once per row, and a shared cache would cost a
    round trip per row."""
    global _observed
    now = time.monotonic()
    if _observed is None or _observed[0] < now:
        _observed = (now + OBSERVED_CACHE_SECONDS, _measure())
    return _observed[1]


def forget_observed() -> None:
    """Measure again on the next call (tests, or after importing a history)."""
    global _observed
    _observed = None


def _measure() -> dict[str, float]:
    """One query: the newest OBSERVED_JOBS completed jobs of each model, ranked in SQL."""
    newest = Window(RowNumber(), partition_by=[F("model")], order_by=F("finished_at").desc())
    rows = (VideoJob.objects
            .filter(status=Status.COMPLETED, submitted_at__isnull=False,
                    finished_at__gte=timezone.now() - timedelta(days=OBSERVED_DAYS))
            .annotate(newest=newest).filter(newest__lte=OBSERVED_JOBS)
            .values_list("model", "submitted_at", "finished_at"))
    durations: dict[str, list[float]] = defaultdict(list)
    for model, sent, done in rows:
        if sent and done and done > sent:
            durations[model].append((done - sent).total_seconds())
    return {model: max(timing.FLOOR_SECONDS, statistics.median(values))
            for model, values in durations.items() if len(values) >= MIN_OBSERVED}


def duration_text(seconds: float) -> str:
    """``75`` → ``1:15``; ``3725`` → ``1:02:05``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress(job: VideoJob, now: datetime | None = None) -> Progress:
    now = now or timezone.now()
    typical = typical_seconds(job.model)
    started = job.submitted_at or job.created_at
    if job.status == Status.DRAFT:
        text = _("queued for sending…") if job.submit_requested_at else _("not sent yet")
        return Progress(None, text, None, typical)
    if job.status == Status.SUBMITTING:
        text = _("outcome unknown") if job.is_outcome_unknown else _("sending…")
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


def money(value: Decimal) -> str:
    """``0.28`` → ``$0.28``, ``1234.5`` → ``$1,234.50``; sub-cent costs keep their digits
    (``$0.0045``)."""
    text = f"{value.normalize():f}"
    whole, _sep, cents = text.partition(".")
    return f"${int(whole):,}.{cents.ljust(2, '0')}"


def cost_text(job: VideoJob) -> str:
    """What the provider billed, once it has said (``—`` until then)."""
    return money(job.cost) if job.cost is not None else "—"


def status_json(job: VideoJob, now: datetime | None = None) -> dict[str, Any]:
    """What the pages' refresh script needs to update a job in place."""
    current = progress(job, now)
    return {
        "id": str(job.pk),
        "status": job.status,
        "status_label": job.get_status_display(),
        "archive_status": job.archive_status,
        "archive_label": job.get_archive_status_display() if job.archive_status else "",
        "moving": job.is_moving,
        # False once the job is sent or queued for sending: an open edit form is stale.
        "editable": job.is_editable,
        "percent": current.percent,
        "text": current.text,
        "poster": file_url(job.poster),
        "error": job.error_message if job.status == Status.FAILED else "",
        "cost": cost_text(job),
    }
