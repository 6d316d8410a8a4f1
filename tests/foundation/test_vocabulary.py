"""The job's vocabulary on the model: predicates on VideoJob (and their query forms), and the
codes compared across modules as enums whose values are the strings stored and returned."""

import datetime
import itertools

import pytest
from django.utils import timezone

from videogen import sweeper
from videogen.client import core as client_core
from videogen.models import (
    SUBMITTING_STUCK,
    ArchiveOutcome,
    ArchiveStatus,
    ErrorCode,
    Status,
    VideoJob,
)
from videogen.webhooks import delivery
from videogen.webhooks.models import DeliveryOutcome

pytestmark = pytest.mark.django_db


def test_codes_keep_the_strings_stored_and_returned_before():
    # Rows, webhook payloads and task results written by earlier releases hold these.
    assert ErrorCode.values == [
        "invalid_request", "unusable_remote_id", "outcome_unknown", "marked_failed",
        "unstorable_answer", "not_found", "timeout", "failed", "provider_unreachable"]
    assert ErrorCode.PROVIDER_UNREACHABLE == client_core.UNREACHABLE
    assert set(ArchiveOutcome.values) == {
        "archived", "failed", "skipped", "handed back", "interrupted", "superseded", "deleted"}
    assert set(DeliveryOutcome.values) == {
        "delivered", "retrying", "failed", "gone", "skipped", "paused", "waiting",
        "superseded", "probe failed", "error"}
    assert {"retrying", "failed", "gone", "probe failed", "error"} == delivery.FAILED_OUTCOMES
    assert set(DeliveryOutcome) >= delivery.FAILED_OUTCOMES


def test_deliver_due_counts_under_plain_string_keys():
    counts: dict[str, int] = {}
    failing: set[int] = set()
    delivery._tally(counts, failing, 7, DeliveryOutcome.PROBE_FAILED)
    assert counts == {"probe failed": 1} and failing == {7}
    assert all(type(key) is str for key in counts)


def _every_state() -> list[VideoJob]:
    """One saved job for every status × archive status × error code × send request."""
    requested = timezone.now()
    jobs = []
    for status, archive_status, code, queued in itertools.product(
            Status.values, ArchiveStatus.values, ["", ErrorCode.OUTCOME_UNKNOWN], [False, True]):
        jobs.append(VideoJob(model="m", prompt="p", status=status, archive_status=archive_status,
                             error_code=code, submitted_at=requested,
                             submit_requested_at=requested if queued else None))
    return VideoJob.objects.bulk_create(jobs)


def test_settled_query_agrees_with_the_property():
    jobs = _every_state()
    settled = set(VideoJob.objects.settled().values_list("pk", flat=True))
    assert settled == {job.pk for job in jobs if job.is_settled}
    assert 0 < len(settled) < len(jobs)



def test_an_unknown_outcome_is_uncertain_and_not_moving():
    job = VideoJob(model="m", status=Status.SUBMITTING, submitted_at=timezone.now(),
                   error_code="outcome_unknown")
    assert job.is_outcome_unknown and job.is_uncertain and not job.is_moving
    job.error_code = ""
    assert not job.is_outcome_unknown and not job.is_uncertain and job.is_moving


def test_stuck_submissions_are_the_sweepers_and_the_uncertain_ones():
    now = timezone.now()
    old = now - SUBMITTING_STUCK - datetime.timedelta(seconds=1)
    stuck = VideoJob.objects.create(model="m", status=Status.SUBMITTING, submitted_at=old)
    VideoJob.objects.create(model="m", status=Status.SUBMITTING, submitted_at=now)
    VideoJob.objects.create(model="m", status=Status.QUEUED, submitted_at=old)
    assert list(VideoJob.objects.stuck_submitting(now)) == [stuck]
    assert stuck.is_uncertain
    assert sweeper.SUBMITTING_STUCK == SUBMITTING_STUCK  # still importable from there
