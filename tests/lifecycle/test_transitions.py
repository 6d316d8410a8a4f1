"""What a transition hands its after-commit steps (signals, follow-up tasks): the job as
committed, read again only when an enclosing transaction may have changed it since."""

import pytest
from django.db import transaction

from videogen import lifecycle, signals
from videogen.models import Status, VideoJob

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failed_receiver():
    seen = []

    def receiver(sender, job, **kwargs):
        seen.append((job, job.status, job.error_message, job.metadata))

    signals.job_failed.connect(receiver)
    yield seen
    signals.job_failed.disconnect(receiver)


def stuck_job():
    return VideoJob.objects.create(model="google/veo-2.0", prompt="stuck",
                                   status=Status.SUBMITTING, metadata={"n": 1})


def row(job):
    return {f.attname: getattr(job, f.attname) for f in VideoJob._meta.concrete_fields}


def test_a_transition_that_is_its_own_transaction_hands_over_the_saved_job(failed_receiver):
    job = stuck_job()
    lifecycle.mark_failed(job, reason="gave up")
    ((received, status, message, metadata),) = failed_receiver
    # Exactly the row as committed, every field (timestamps included), and the caller's job too.
    assert row(received) == row(VideoJob.objects.get(pk=job.pk)) == row(job)
    assert (status, message, metadata) == (Status.FAILED, "gave up", {"n": 1})
    # A copy: a receiver that changes it changes neither the caller's job nor the row.
    assert received is not job
    received.metadata["n"] = 2
    assert job.metadata == {"n": 1}


def test_inside_an_enclosing_transaction_the_steps_read_the_job_as_finally_committed(
        failed_receiver):
    job = stuck_job()
    with transaction.atomic():
        lifecycle.mark_failed(job, reason="gave up")
        assert failed_receiver == []  # not before the commit
        VideoJob.objects.filter(pk=job.pk).update(metadata={"n": 3})
    ((_, status, _, metadata),) = failed_receiver
    assert (status, metadata) == (Status.FAILED, {"n": 3})
