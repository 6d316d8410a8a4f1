"""The chaos run's forced sweep (``runs.sweep_now``) moves the clock past the leases of the
workers it killed, and no further: an archive a live worker took afterwards keeps its lease.
Moved 16 minutes ahead, each forced sweep counted such an archive as a lost worker, and the
third failed a healthy job's archive (seen as ``lost: 1`` in a chaos run that converged)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_job
from tests.reliability import runs
from videogen import archive, lifecycle
from videogen.models import ArchiveStatus, Status

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]


def archiving(lease_seconds: float):
    job = make_job(Status.COMPLETED, archive_status=ArchiveStatus.PENDING)
    assert lifecycle.claim_archive(job, lease_seconds=lease_seconds)
    return job


def test_forced_sweeps_release_lost_leases_and_keep_live_ones(monkeypatch):
    lease = archive.lease_seconds(in_worker=True)
    lost = archiving(lease)
    lost.__class__.objects.filter(pk=lost.pk).update(
        archive_lease_until=timezone.now() - timedelta(seconds=30))  # its worker was killed
    disturbed_until = time.time() - 1
    live = archiving(lease)  # taken by a live worker a second after the disturbances ended
    for _ in range(3):
        runs.sweep_now(monkeypatch, lost_by=disturbed_until)
    lost.refresh_from_db()
    live.refresh_from_db()
    assert lost.archive_status == ArchiveStatus.PENDING and lost.archive_workers_lost == 1
    assert live.archive_status == ArchiveStatus.ARCHIVING and live.archive_workers_lost == 0
