"""Choosing which jobs are due, polling them concurrently, and the adaptive schedule.

django-q2's scheduler starts :func:`run_loop` at most once a minute, so one run keeps going for
``POLL["LOOP_SECONDS"]``: it claims due jobs (``select_for_update(skip_locked=True)`` and a lease
in ``next_poll_at``, so several clusters never poll one job twice in a cycle), fetches them
concurrently on a fetch thread of its own (:mod:`videogen.fastpath.fetcher`), writes routine
results back in bulk (:mod:`videogen.fastpath.bulk_update`) and hands status changes to
:mod:`videogen.lifecycle`.

The schedule: the first poll comes at a fraction of the model's typical duration (learned from
this site's finished jobs), polls are tight around the expected finish, then back off; errors back
off exponentially; ``Retry-After`` is honoured up to ``MAX_INTERVAL``; jobs older than
``POLL["MAX_AGE"]`` time out.

One job's answer never costs another's: each job's write-back stands alone (a value the
database refuses is a failed poll of that job only), and the loop carries on.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from videogen import lifecycle, timing
from videogen.client import AsyncVideoClient
from videogen.client import errors as api_errors
from videogen.client.schemas import RemoteJob
from videogen.conf import PollSettings, VideogenSettings, get_settings
from videogen.fastpath import bulk_update
from videogen.fastpath.fetcher import Fetcher
from videogen.models import IN_FLIGHT_STATUSES, VideoJob
from videogen.provider import async_video_client
from videogen.schedules import cover_polls, uncover_polls

logger = logging.getLogger("videogen.polling")

# After this many "not found" answers since the last good poll the provider has lost the job.
NOT_FOUND_LIMIT = 3


@dataclass
class PollReport:
    rounds: int = 0
    polled: int = 0
    changed: int = 0
    errors: int = 0
    timed_out: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


# --- The schedule --------------------------------------------------------------------------------


def next_poll_delay(age: float, typical: float, conf: PollSettings) -> float:
    """Seconds until the next poll of a job ``age`` seconds after submission."""
    first = conf.first_poll_fraction * typical
    if age < first:
        return _clamp(first - age, conf)
    tight = _clamp(typical / 12, conf)
    if age < typical * 1.5:
        return tight
    # Overdue: back off in proportion to how late it is, up to MAX_INTERVAL.
    return _clamp(tight + (age - typical * 1.5) * 0.5, conf)


def error_delay(failures: int, conf: PollSettings, retry_after: float | None = None) -> float:
    """Exponential backoff, or the provider's ``Retry-After`` when longer; always within
    ``MIN_INTERVAL…MAX_INTERVAL`` (a Retry-After of years froze a job; inf or NaN crashed the
    loop), an unreadable value ignored."""
    backoff = conf.min_interval * 2 ** min(failures, 16) * random.uniform(0.8, 1.2)
    if retry_after is None or not math.isfinite(retry_after):
        retry_after = 0.0
    return _clamp(max(backoff, retry_after), conf)


def _clamp(seconds: float, conf: PollSettings) -> float:
    return min(max(seconds, conf.min_interval), conf.max_interval)


def _age(job: VideoJob, now: datetime) -> float:
    start = job.submitted_at or job.created_at or now
    return max(0.0, (now - start).total_seconds())


# --- Claiming ----------------------------------------------------------------------------------


def claim_due(limit: int, conf: PollSettings, *, queued: int = 0) -> list[VideoJob]:
    """Due in-flight jobs, leased to this poller until the last of them will have had its
    answer: ``queued`` requests are ahead of them (see :func:`lease_seconds`)."""
    now = timezone.now()
    with transaction.atomic():
        due = (VideoJob.objects.filter(status__in=IN_FLIGHT_STATUSES, next_poll_at__lte=now,
                                       remote_id__isnull=False)
               .order_by("next_poll_at").select_for_update(skip_locked=True))
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            lease = now + timedelta(seconds=lease_seconds(queued + len(ids), conf))
            VideoJob.objects.filter(pk__in=ids).update(next_poll_at=lease)
    return list(VideoJob.objects.filter(pk__in=ids)) if ids else []


def lease_seconds(requests: int, conf: PollSettings) -> float:
    """How long to hide jobs from other pollers when ``requests`` GETs (theirs included) are
    queued at ``CONCURRENCY`` at a time: each round ends within half of ``CLAIM_SECONDS`` (the
    poll timeout, :func:`poll_timeout`), so a job far back in a big batch is not taken for
    abandoned, and claimed and polled twice, while it still waits its turn."""
    rounds = -(-requests // conf.concurrency)
    return max(conf.claim_seconds, rounds * conf.claim_seconds / 2)


def seconds_until_next_due() -> float | None:
    earliest = (VideoJob.objects.filter(status__in=IN_FLIGHT_STATUSES, remote_id__isnull=False)
                .aggregate(at=Min("next_poll_at"))["at"])
    if earliest is None:
        return None
    return max(0.0, (earliest - timezone.now()).total_seconds())


# --- Fetching ----------------------------------------------------------------------------------


def make_async_client() -> AsyncVideoClient:
    # No retries inside the client: a failed poll is simply rescheduled by the loop.
    settings = get_settings()
    return async_video_client(max_retries=0, max_connections=settings.poll.concurrency,
                              timeout=poll_timeout(settings))


def fetcher(concurrency: int) -> Fetcher:
    """The poller's fetch thread (bench P1): GETs up to ``concurrency`` at a time while the
    caller claims and writes back."""
    return Fetcher(concurrency, make_async_client)


def poll_timeout(settings: VideogenSettings) -> float:
    """The read timeout of a poll: ``TIMEOUT``, shortened so that a round of requests ends
    within half of ``CLAIM_SECONDS`` (leases count in such rounds, :func:`lease_seconds`); a
    job status that takes longer is a failed poll anyway."""
    fits = settings.poll.claim_seconds / 2 - settings.connect_timeout
    return max(1.0, min(settings.timeout, fits))


# --- Writing back --------------------------------------------------------------------------------


class _Typical(dict):
    """Typical generation seconds per model, looked up once per poll loop."""

    def __missing__(self, model: str) -> float:
        self[model] = timing.typical_seconds(model)
        return self[model]


def write_back(jobs: Sequence[VideoJob], results: Sequence[RemoteJob | Exception],
               report: PollReport, conf: PollSettings, *, typical: _Typical | None = None
               ) -> None:
    now = timezone.now()
    typical = _Typical() if typical is None else typical
    routine: list[bulk_update.Row] = []
    for job, result in zip(jobs, results, strict=True):
        report.polled += 1
        if isinstance(result, RemoteJob) and result.id != job.remote_id:
            result = _someone_elses(job, result)
        if isinstance(result, Exception):
            report.errors += 1
            _alone(job, now, conf, partial(_failed_poll, job, result, now, conf, report))
            continue
        report.statuses[result.status] = report.statuses.get(result.status, 0) + 1
        age = _age(job, now)
        next_at = now + timedelta(seconds=next_poll_delay(age, typical[job.model], conf))
        if lifecycle.is_routine(job, result) and age <= conf.max_age:
            routine.append((job, lifecycle.storable_poll(
                job, lifecycle.routine_fields(job, result, next_at))))
            continue
        if not _alone(job, now, conf, partial(_apply, job, result, next_at, age, conf, report)):
            report.errors += 1
    # One statement for the handful, each row guarded by the status this poll saw (bench P1).
    for job, error in bulk_update.write_guarded(routine):
        report.errors += 1
        _unstorable(job, error, now, conf)


def _apply(job: VideoJob, result: RemoteJob, next_at: datetime, age: float,
           conf: PollSettings, report: PollReport) -> None:
    lifecycle.apply_remote(job, result, next_poll_at=next_at)
    if job.is_in_flight and age > conf.max_age:
        lifecycle.time_out(job, max_age=conf.max_age)
        report.timed_out += 1
    report.changed += 1


def _alone(job: VideoJob, now: datetime, conf: PollSettings, write: Callable[[], None]
           ) -> bool:
    """Run one job's ``write``-back so that no error of it stops the others'; False when it
    failed. A value the database refuses is a failed poll of this job (its own count ends
    it); anything else is logged, and the job comes due again when its lease runs out."""
    try:
        write()
    except lifecycle.WRITE_ERRORS as error:
        _unstorable(job, error, now, conf)
        return False
    except Exception:
        logger.exception("write-back of job %s failed; it is polled again when its lease "
                         "runs out", job.pk)
        return False
    return True


def _unstorable(job: VideoJob, error: Exception, now: datetime, conf: PollSettings) -> None:
    try:
        lifecycle.answer_unstorable(job, error, next_poll_at=now + timedelta(
            seconds=error_delay(job.poll_failures, conf)))
    except Exception:  # the database is gone: the lease brings the job back later
        logger.exception("could not record the failed write-back of job %s", job.pk)


def _someone_elses(job: VideoJob, result: RemoteJob) -> Exception:
    """An answer about another job than the one asked for is no answer: applying it would
    give this job another's status, video and cost."""
    return api_errors.InvalidResponse(
        f"the provider answered about job {result.id[:200]!r} when asked about "
        f"{job.remote_id!r}; nothing of it was applied")


def _failed_poll(job: VideoJob, error: Exception, now: datetime, conf: PollSettings,
                 report: PollReport) -> None:
    if _age(job, now) > conf.max_age:
        lifecycle.time_out(job, max_age=conf.max_age)
        report.timed_out += 1
        return
    # 404s only: timeouts or 503s in between say nothing about whether the job still exists.
    if isinstance(error, api_errors.NotFound) and job.poll_not_found + 1 >= NOT_FOUND_LIMIT:
        lifecycle.lost_remotely(job, str(error))
        report.changed += 1
        return
    delay = error_delay(job.poll_failures, conf, getattr(error, "retry_after", None))
    logger.info("poll of job %s failed (%s); next try in %.0fs", job.pk, error, delay)
    lifecycle.poll_failed(job, error, next_poll_at=now + timedelta(seconds=delay))


# --- Loops ----------------------------------------------------------------------------------------


def run_loop(seconds: float | None = None, *, wait: bool = True) -> PollReport:
    """The scheduled task: poll due jobs for ``seconds`` (default ``POLL["LOOP_SECONDS"]``),
    returning early when nothing will be due before the time is up. ``wait=False`` polls
    what is due now and returns (one cycle).

    A pipeline: up to twice ``CONCURRENCY`` jobs are in flight at a time, and each handful of
    answers is written back while the next requests are under way (bench P1)."""
    conf = get_settings().poll
    budget = conf.loop_seconds if seconds is None else seconds
    started = time.monotonic()
    report = PollReport()
    until = timezone.now() + timedelta(seconds=budget)
    cover_polls(until)
    try:
        with fetcher(conf.concurrency) as fetch:
            _pipeline(fetch, conf, report, started + budget, wait, until)
    finally:
        uncover_polls(until)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info("poll loop: %s", report)
    return report


def _pipeline(fetch: Fetcher, conf: PollSettings, report: PollReport, deadline: float,
              wait: bool, until: datetime) -> None:
    in_flight, claim_at, typical = 0, 0.0, _Typical()
    while True:
        now = time.monotonic()
        claiming = now < deadline
        # With nothing in flight there is no answer to wait for: look now (and then sleep in
        # _wait_for_due) instead of going round until claim_at, which kept a core busy.
        if claiming and in_flight < 2 * conf.concurrency and (now >= claim_at or not in_flight):
            jobs = claim_due(conf.batch_size, conf, queued=in_flight)
            if jobs:
                report.rounds += 1
                fetch.submit(jobs)
                in_flight += len(jobs)
            elif in_flight:
                claim_at = now + 0.5  # nothing due: look again in a moment, not every answer
            elif not _wait_for_due(deadline - now, wait, until):
                return
            else:
                continue
        if not in_flight:  # only past the deadline: before it, the claim above ran
            return
        done = fetch.take(min(in_flight, conf.concurrency))
        in_flight -= len(done)
        jobs_done, results = zip(*done, strict=True)
        write_back(jobs_done, results, report, conf, typical=typical)


def _wait_for_due(remaining: float, wait: bool, until: datetime) -> bool:
    """Sleep until the next job comes due (at most a second); False when none will in time."""
    if not wait:
        return False
    due_in = seconds_until_next_due()
    if due_in is None or due_in >= remaining:
        # Say this loop stops, then look once more: a submit that still saw it covering has
        # committed its job by now, and one that comes later starts a loop itself.
        uncover_polls(until)
        due_in = seconds_until_next_due()
        if due_in is None or due_in >= remaining:
            return False
        cover_polls(until)
    time.sleep(min(max(due_in, 0.05), 1.0))
    return True


def poll_jobs(jobs: Sequence[VideoJob]) -> PollReport:
    """Poll these jobs now, whatever their schedule (re-poll, ``api.refresh``, ``api.wait``),
    through the loop's fetcher."""
    conf = get_settings().poll
    report = PollReport()
    jobs = [job for job in jobs if job.remote_id]
    if not jobs:
        return report
    with fetcher(conf.concurrency) as fetch:
        fetch.submit(jobs)
        done = fetch.take_all(len(jobs))
    jobs_done, results = zip(*done, strict=True)
    write_back(jobs_done, results, report, conf)
    return report


def repoll(job: VideoJob) -> VideoJob:
    """Poll now, whatever the schedule (also records a late answer for finished jobs)."""
    if not job.remote_id:
        raise lifecycle.refused(job, _("re-poll"))
    poll_jobs([job])
    job.refresh_from_db()
    return job
