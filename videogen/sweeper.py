"""Finds work that a lost task left behind and puts it back on the queue.

Tasks are enqueued after commit; a broker outage or a killed worker can lose one. Everything a
task would do is visible in the database, so this periodic sweep re-enqueues it: archives pending
longer than a grace period, archives whose worker's lease ran out, drafts queued for sending
whose submit task never ran, and it reports jobs stuck in
``submitting`` (which are never re-sent automatically). It times out jobs past
``POLL["MAX_AGE"]`` that the poller no longer looks at, and removes downloads that a killed
worker left half-written in local storage, and archive files saved but never recorded.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from videogen import archive, lifecycle, schedules, upload_stash
from videogen.conf import get_settings
from videogen.models import (  # noqa: F401  (SUBMITTING_STUCK: still importable from here)
    IN_FLIGHT_STATUSES,
    SUBMITTING_STUCK,
    ArchiveStatus,
    Status,
    VideoJob,
)
from videogen.storage import UnknownStorage

logger = logging.getLogger("videogen.sweeper")

# A freshly enqueued archive gets this long before the sweeper enqueues it again.
PENDING_GRACE = timedelta(minutes=2)


@dataclass
class SweepReport:
    archives_requeued: list[str] = field(default_factory=list)
    submits_requeued: list[str] = field(default_factory=list)
    leases_expired: list[str] = field(default_factory=list)
    stuck_submitting: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    partial_downloads_removed: int = 0
    unrecorded_files_removed: int = 0
    kept_uploads_removed: int = 0


def sweep() -> SweepReport:
    now = timezone.now()
    report = SweepReport()
    expired = VideoJob.objects.filter(archive_status=ArchiveStatus.ARCHIVING,
                                      archive_lease_until__lt=now)
    for job in expired:
        if lifecycle.release_archive(job):
            report.leases_expired.append(str(job.pk))
    pending = VideoJob.objects.filter(archive_status=ArchiveStatus.PENDING,
                                      updated_at__lt=now - PENDING_GRACE)
    for pk in pending.values_list("pk", flat=True):
        schedules.enqueue("archive_job", str(pk))
        report.archives_requeued.append(str(pk))
    # Drafts staff queued for sending whose task never ran (submit refuses a second run).
    queued = VideoJob.objects.filter(status=Status.DRAFT,
                                     submit_requested_at__lt=now - PENDING_GRACE)
    for pk in queued.values_list("pk", flat=True):
        schedules.enqueue("submit_job", str(pk))
        report.submits_requeued.append(str(pk))
    stuck = VideoJob.objects.stuck_submitting(now)
    report.stuck_submitting = [str(pk) for pk in stuck.values_list("pk", flat=True)]
    if report.stuck_submitting:
        logger.warning("%d job(s) stuck in submitting; staff must mark them failed or "
                       "resubmit: %s", len(report.stuck_submitting),
                       ", ".join(report.stuck_submitting[:20]))
    report.timed_out = time_out_forgotten()
    report.partial_downloads_removed = remove_stale_partials()
    report.unrecorded_files_removed = remove_unrecorded_files()
    report.kept_uploads_removed = upload_stash.remove_stale()
    return report


def remove_unrecorded_files() -> int:
    """Delete the files archive attempts saved but never recorded (a worker killed, or the
    database failing, between the save and the commit), once no attempt holds the job: a
    killed worker's job is released when its lease runs out, so that is the grace period."""
    jobs = VideoJob.objects.filter(archive_unrecorded__isnull=False).exclude(
        archive_status=ArchiveStatus.ARCHIVING)
    return sum(archive.remove_unrecorded(pk) for pk in jobs.values_list("pk", flat=True))


def time_out_forgotten() -> list[str]:
    """Fail the in-flight jobs past ``MAX_AGE`` that polling has not ended: the poller times a
    job out only when it polls it, and a job whose next poll lies far ahead (a schedule written
    before delays were capped, a poller that keeps failing on it) would wait for ever. A job
    gets ``MAX_INTERVAL`` and a lease beyond ``MAX_AGE`` for the poller's own last look."""
    conf = get_settings().poll
    cutoff = timezone.now() - timedelta(
        seconds=conf.max_age + conf.max_interval + conf.claim_seconds)
    ended = []
    for job in VideoJob.objects.filter(status__in=IN_FLIGHT_STATUSES, submitted_at__lt=cutoff):
        if lifecycle.time_out(job, max_age=conf.max_age).status == Status.FAILED:
            ended.append(str(job.pk))
    if ended:
        logger.warning("timed out %d job(s) past POLL['MAX_AGE'] that were not being polled: "
                       "%s", len(ended), ", ".join(ended[:20]))
    return ended


def remove_stale_partials() -> int:
    """Delete half-written downloads untouched for longer than a worker's archive lease (a
    download in progress keeps writing, so its file stays fresh; one that stalls for that long
    has hit its read timeout long before). In every local storage archives went to, not only
    the current one: a download killed just before the setting changed is in the old one."""
    aliases = {get_settings().storage} | set(
        VideoJob.objects.exclude(storage_alias="").values_list("storage_alias", flat=True)
        .distinct())
    return sum(_remove_partials_in(alias) for alias in sorted(aliases))


def _remove_partials_in(alias: str) -> int:
    try:
        directory = archive.partial_directory(alias)
    except UnknownStorage:
        return 0  # reported by the reads of its jobs; nothing of ours to clean there
    if directory is None or not os.path.isdir(directory):
        return 0
    cutoff, removed = time.time() - archive.lease_seconds(in_worker=True), 0
    for entry in os.scandir(directory):
        if entry.name.endswith(archive.PARTIAL_SUFFIX) and entry.stat().st_mtime < cutoff:
            try:
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                pass  # another sweeper got there first
    if removed:
        logger.info("removed %d abandoned partial download(s) from %s", removed, directory)
    return removed
