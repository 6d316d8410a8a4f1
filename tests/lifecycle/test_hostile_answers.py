"""Provider answers nobody planned for cost only the job that carries them (issue 18, items 1,
2, 3 and 9): a scripted provider on 127.0.0.1 answers each job's GET with its own body."""

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.client.scripted import KEY, Scripted
from tests.enqueued import record_tasks
from videogen import api, lifecycle, polling, submission, sweeper
from videogen.conf import get_settings
from videogen.models import JobEvent, Status, VideoJob

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(settings, monkeypatch):
    """The scripted provider as the site's API; archives are only recorded, not run."""
    server = Scripted()
    settings.VIDEOGEN = {**settings.VIDEOGEN, "BASE_URL": server.url, "API_KEY": KEY,
                         "MAX_RETRIES": 0}
    server.archives = record_tasks(monkeypatch, "archive_job").calls
    yield server
    server.stop()


def in_flight(provider, answer, *, remote_id=None, status=Status.QUEUED, **fields):
    """A job whose GET the provider answers with ``answer`` (a dict, its id filled in)."""
    job = VideoJob.objects.create(
        model="google/veo-2.0", prompt="a harbour", status=status,
        remote_id=remote_id or f"r-{VideoJob.objects.count()}-{timezone.now().timestamp()}",
        submitted_at=timezone.now(), next_poll_at=timezone.now(), **fields)
    body = json.dumps({"id": job.remote_id, **answer}).encode()
    provider.routes[f"/v2/videos/{job.remote_id}"] = (200, {}, body)
    return job


def fresh(job):
    return VideoJob.objects.get(pk=job.pk)


def completed(provider, cost=0.25):
    return {"status": "completed",
            "outputs": {"video_url": f"{provider.url}/files/v.mp4", "cost": cost}}


# --- Item 1: one bad answer costs only its job ---------------------------------------------

def _escaped_in_answer(job):
    assert job.status == Status.QUEUED and job.poll_failures == 0 and job.poll_attempts == 1
    assert job.last_response["note"] in ("a\\u0000b", "a\\udc80b")


def _nan_as_null(job):
    assert job.status == Status.QUEUED and job.poll_failures == 0
    assert job.last_response["note"] == [None, None, 1.5]


def _failed_with_escaped_message(job):
    assert job.status == Status.FAILED
    assert job.error_message == "it broke \\u0000 here" and job.error_code == "bad\\u0000code"
    assert job.events.filter(new_status=Status.FAILED).get().detail == job.error_message


def _completed_cost_unknown(job):
    assert job.status == Status.COMPLETED and job.cost is None
    assert job.last_response["outputs"]["cost"] == 10**6
    note = job.events.filter(new_status=Status.COMPLETED).get().detail
    assert "1000000" in note and "unknown" in note


def _completed_times_unknown(job):
    assert job.status == Status.COMPLETED and job.started_at is None
    assert timezone.now() - job.finished_at < timedelta(minutes=1)


BAD_ANSWERS = {
    "nul in the answer": ({"status": "queued", "note": "a\x00b"}, _escaped_in_answer),
    "lone surrogate in the answer": ({"status": "queued", "note": "a\udc80b"},
                                     _escaped_in_answer),
    "NaN and Infinity in the answer": ({"status": "queued",
                                        "note": [float("nan"), float("inf"), 1.5]}, _nan_as_null),
    "nul in error.message": ({"status": "failed", "error": {
        "message": "it broke \x00 here", "code": "bad\x00code"}}, _failed_with_escaped_message),
    "cost of 10^6": (None, _completed_cost_unknown),
    "times no database stores": ({"status": "completed",
                                  "completed_at": "9999-12-31T23:59:59-01:00",
                                  "claimed_at": "9999-12-31T23:30:00-05:00",
                                  "outputs": {"video_url": "https://cdn.example/v.mp4"}},
                                 _completed_times_unknown),
}


def bad_answer(provider, name):
    answer, check = BAD_ANSWERS[name]
    return answer or completed(provider, cost=10**6), check


@pytest.mark.parametrize("name", BAD_ANSWERS)
def test_a_bad_value_in_an_answer_is_stored_made_safe(provider, name, admin_client):
    answer, check = bad_answer(provider, name)
    job = in_flight(provider, answer)
    report = polling.poll_jobs([job])
    assert report.errors == 0
    check(fresh(job))
    # Every row stays readable: the admin's job list is no 500 (SQLite kept a cost of 10^6,
    # then failed every read of it with decimal.InvalidOperation).
    assert admin_client.get(reverse("admin:videogen_videojob_changelist")).status_code == 200


@pytest.mark.parametrize("name", BAD_ANSWERS)
def test_thirty_healthy_jobs_complete_beside_one_bad_answer(provider, name):
    healthy = [in_flight(provider, completed(provider)) for _ in range(30)]
    answer, check = bad_answer(provider, name)
    bad = in_flight(provider, answer)
    report = polling.run_loop(seconds=10, wait=False)
    assert report.polled == 31
    assert [fresh(job).status for job in healthy] == [Status.COMPLETED] * 30
    assert len(provider.archives) >= 30
    check(fresh(bad))


def test_a_write_that_still_fails_costs_only_its_job_then_fails_it(provider, monkeypatch,
                                                                    caplog):
    """A value that slips past the storable step (here: it is switched off) fails the handful's
    one-statement write; each row is then written alone, so only the bad job records a failed
    poll, and after ``UNSTORABLE_LIMIT`` of them in a row it fails with a clear code."""
    monkeypatch.setattr(lifecycle, "_storable", lambda fields: (fields, []))
    running = Status.IN_PROGRESS  # answered "in_progress" again: routine polls, one statement
    healthy = [in_flight(provider, {"status": "in_progress"}, status=running) for _ in range(3)]
    bad = in_flight(provider, {"status": "in_progress",
                               "outputs": {"video_url": "https://cdn.example/\udc80.mp4"}},
                    status=running)
    for attempt in range(1, lifecycle.UNSTORABLE_LIMIT + 1):
        report = polling.poll_jobs([fresh(job) for job in [*healthy, bad]])
        assert report.errors == 1
        assert [fresh(job).poll_attempts for job in healthy] == [attempt] * 3
        assert {fresh(job).status for job in healthy} == {Status.IN_PROGRESS}
    job = fresh(bad)
    assert job.status == Status.FAILED and job.error_code == "unstorable_answer"
    assert "could not be stored" in job.error_message
    assert job.events.filter(kind=JobEvent.Kind.POLL_ERROR).exists()
    assert "could not be stored" in caplog.text


# --- Item 2: every delay within MIN_INTERVAL…MAX_INTERVAL -----------------------------------

RETRY_AFTERS = {
    "Retry-After 99999999999": {"retry-after": "99999999999"},
    "Retry-After in 9999": {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"},
    "retry-after-ms inf": {"retry-after-ms": "inf"},
    "retry-after-ms 1e308": {"retry-after-ms": "1e308"},
    "retry-after-ms nan": {"retry-after-ms": "nan"},
    "Retry-After unreadable": {"retry-after": "soon-ish"},
}


@pytest.mark.parametrize("headers", RETRY_AFTERS.values(), ids=RETRY_AFTERS)
def test_a_retry_after_never_delays_a_poll_past_max_interval(provider, headers):
    job = in_flight(provider, {"status": "queued"})
    provider.routes.clear()
    provider.script = [(429, headers, b'{"error": {"message": "slow down"}}')]
    report = polling.poll_jobs([job])
    assert report.errors == 1
    job = fresh(job)
    conf = get_settings().poll
    delay = (job.next_poll_at - timezone.now()).total_seconds()
    assert job.status == Status.QUEUED and job.poll_failures == 1
    assert 0.8 * conf.min_interval - 1 <= delay <= conf.max_interval


def test_the_sandbox_rate_limit_fault_is_capped_too(sandbox):
    sandbox.configure(time_scale=1)
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a quiet harbour", seconds="1")
    submission.submit(job)
    sandbox.faults.add("rate_limit", route="retrieve", retry_after=99999999)
    polling.poll_jobs([fresh(job)])
    delay = (fresh(job).next_poll_at - timezone.now()).total_seconds()
    assert 0 < delay <= get_settings().poll.max_interval


def test_the_sweeper_times_out_a_job_nobody_polls():
    """A job whose next poll lies far ahead (a Retry-After from before the cap, a stuck
    schedule) failed only when polled; the sweeper now ends it past MAX_AGE."""
    conf = get_settings().poll
    old = timezone.now() - timedelta(seconds=conf.max_age + conf.max_interval
                                     + conf.claim_seconds + 60)
    frozen = datetime(2030, 1, 1, tzinfo=UTC)
    stale, young = (VideoJob.objects.create(
        model="google/veo-2.0", prompt="p", status=Status.QUEUED, remote_id=f"r-{i}",
        submitted_at=submitted, next_poll_at=frozen)
        for i, submitted in enumerate([old, timezone.now()]))
    report = sweeper.sweep()
    assert report.timed_out == [str(stale.pk)]
    stale = fresh(stale)
    assert stale.status == Status.FAILED and stale.error_code == "timeout"
    assert stale.next_poll_at is None
    assert fresh(young).status == Status.QUEUED


# --- Item 3: provider ids the database cannot store -------------------------------------------

def _create_answer(remote_id):
    return (200, {}, json.dumps({"id": remote_id, "status": "queued"}).encode())


@pytest.mark.parametrize("remote_id", ["x" * 300, "job-\x00-1", "taken"],
                         ids=["300 characters", "a NUL", "another job's id"])
def test_a_provider_id_the_database_cannot_store_fails_the_job_clearly(provider, remote_id):
    VideoJob.objects.create(model="google/veo-2.0", prompt="older", status=Status.COMPLETED,
                            remote_id="taken")
    provider.script = [_create_answer(remote_id)]
    job = api.submit(VideoJob.objects.create(model="google/veo-2.0", prompt="a harbour"))
    job = fresh(job)
    assert job.status == Status.FAILED and job.error_code == "unusable_remote_id"
    assert job.remote_id is None and job.remote_may_finish is True
    event = job.events.get(new_status=Status.FAILED)
    kept = remote_id.replace("\x00", "\\u0000")
    assert event.data["remote_id"] == kept and kept[:100] in event.detail
    assert "dashboard" in job.error_message


def test_an_id_another_job_records_after_the_check_fails_the_job_clearly(provider,
                                                                       monkeypatch):
    """The race: the duplicate check passed, then another job got the id before the write
    (played by skipping the check): the unique index refuses it, the outcome is the same."""
    VideoJob.objects.create(model="google/veo-2.0", prompt="older", status=Status.COMPLETED,
                            remote_id="taken")
    monkeypatch.setattr(lifecycle, "_remote_id_problem", lambda job, remote_id: None)
    provider.script = [_create_answer("taken")]
    job = fresh(api.submit(VideoJob.objects.create(model="google/veo-2.0", prompt="a harbour")))
    assert job.status == Status.FAILED and job.error_code == "unusable_remote_id"
    assert "another job already has it" in job.error_message
    assert job.events.get(new_status=Status.FAILED).data["remote_id"] == "taken"


# --- Item 9: an answer about another job ------------------------------------------------------

@pytest.mark.parametrize("answer", [{"status": "completed"}, {"status": "in_progress"}])
def test_an_answer_for_another_job_id_is_a_failed_poll(provider, answer, caplog):
    job = in_flight(provider, {}, remote_id="mine")
    provider.routes["/v2/videos/mine"] = (200, {}, json.dumps(
        {"id": "someone-else", **answer,
         "outputs": {"video_url": "https://cdn.example/theirs.mp4", "cost": 9}}).encode())
    with caplog.at_level(logging.INFO, logger="videogen.polling"):
        report = polling.poll_jobs([job])
    assert report.errors == 1
    job = fresh(job)
    assert job.status == Status.QUEUED and job.poll_failures == 1
    assert job.last_response is None and job.cost is None and not job.provider_video_url
    assert "someone-else" in job.events.get(kind=JobEvent.Kind.POLL_ERROR).detail
    assert "someone-else" in caplog.text and not provider.archives
    assert job.cost != Decimal(9)
