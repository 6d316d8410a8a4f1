"""The poll loop: claims, concurrency, the adaptive schedule, errors and time-outs."""

import threading
import time
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import sent_jobs
from videogen import polling, progress, submission, timing
from videogen.client import AsyncVideoClient
from videogen.conf import PollSettings, get_settings
from videogen.fastpath import bulk_update
from videogen.models import Status, VideoJob
from videogen.provider import video_client

CONF = PollSettings()


def test_first_poll_at_a_fraction_of_the_typical_duration():
    assert polling.next_poll_delay(0, 120, CONF) == 60
    assert polling.next_poll_delay(50, 120, CONF) == 10


def test_tight_polls_around_the_expected_finish_then_backoff():
    assert polling.next_poll_delay(100, 120, CONF) == 10
    assert polling.next_poll_delay(170, 120, CONF) == 10
    assert polling.next_poll_delay(300, 120, CONF) == 70
    assert polling.next_poll_delay(5000, 120, CONF) == CONF.max_interval


def test_bounds_hold_for_short_models():
    assert polling.next_poll_delay(0, 4, CONF) == CONF.min_interval


def test_error_backoff_grows_and_honours_retry_after():
    delays = [polling.error_delay(n, CONF) for n in range(8)]
    assert delays[0] >= CONF.min_interval * 0.8
    assert delays[3] > delays[0]
    assert max(delays) <= CONF.max_interval
    assert polling.error_delay(0, CONF, retry_after=42) == 42


def calls_and_delay(duration: float, typical: float, conf=CONF):
    """Poll calls and detection delay for a job of ``duration`` seconds under the schedule."""
    age, calls = 0.0, 0
    while True:
        age += polling.next_poll_delay(age, typical, conf)
        calls += 1
        if age >= duration:
            return calls, age - duration


@pytest.mark.parametrize("duration", [60, 90, 120, 150, 240])
def test_schedule_uses_far_fewer_calls_than_a_fixed_five_second_loop(duration):
    calls, delay = calls_and_delay(duration, typical=120)
    fixed = -(-duration // 5)
    assert calls <= fixed / 3 + 1
    assert delay <= max(0.1 * duration, CONF.min_interval)


@pytest.mark.django_db
def test_typical_duration_is_learned_from_finished_jobs(settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"TIME_SCALE": 1}}  # the real API
    now = timezone.now()
    for seconds in (30, 40, 50):
        VideoJob.objects.create(model="google/veo-2.0", prompt="a", status=Status.COMPLETED,
                                submitted_at=now - timedelta(seconds=seconds), finished_at=now)
    assert timing.typical_seconds("google/veo-2.0") == 40
    assert timing.typical_seconds("google/veo-3.0") == 120  # catalog default


def make_in_flight(count, **fields):
    now = timezone.now()
    return VideoJob.objects.bulk_create([
        VideoJob(model="google/veo-2.0", prompt="p", remote_id=f"r-{i}-{now.timestamp()}",
                 status=Status.IN_PROGRESS, submitted_at=now, next_poll_at=now, **fields)
        for i in range(count)
    ])


@pytest.mark.django_db(transaction=True)
def test_two_pollers_never_claim_the_same_job():
    make_in_flight(300)
    claimed: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def poller(index):
        start.wait()
        try:
            while batch := polling.claim_due(25, CONF):
                claimed[index].extend(str(job.pk) for job in batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=poller, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = set(claimed[0]), set(claimed[1])
    assert len(claimed[0]) == len(first) and len(claimed[1]) == len(second)
    assert not first & second
    assert len(first | second) == 300


@pytest.mark.django_db(transaction=True)
def test_loop_polls_many_jobs_concurrently_once_per_cycle(sandbox, settings):
    sandbox.configure(time_scale=1)
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"TIME_SCALE": 1}}
    sent_jobs(30)
    VideoJob.objects.update(next_poll_at=timezone.now())
    before = sandbox.stats()["requests"].get("retrieve", 0)
    report = polling.run_loop(seconds=2)
    assert report.polled == 30 and report.errors == 0
    assert sandbox.stats()["requests"].get("retrieve", 0) - before == 30
    # Each job is rescheduled (not due again within this cycle).
    assert not VideoJob.objects.filter(next_poll_at__lte=timezone.now()).exists()


@pytest.mark.django_db(transaction=True)
def test_poll_jobs_polls_them_at_once_on_the_loops_fetch_thread(sandbox, settings, monkeypatch):
    """Re-polls (``videogen poll``, the admin) go through the loop's one fetcher: its GETs run
    concurrently on the fetch thread, and a bug in one is a failed poll of that job only."""
    sandbox.configure(time_scale=1)
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"CONCURRENCY": 8}}
    jobs = sent_jobs(6)
    sandbox.faults.add("latency", ms=600, route="retrieve")
    threads, real_retrieve = set(), AsyncVideoClient.retrieve

    async def retrieve(client, remote_id):
        threads.add(threading.current_thread().name)
        if remote_id == jobs[0].remote_id:
            raise RuntimeError("a bug")
        return await real_retrieve(client, remote_id)

    monkeypatch.setattr(AsyncVideoClient, "retrieve", retrieve)
    started = time.monotonic()
    report = polling.poll_jobs(jobs)
    assert time.monotonic() - started < 6 * 0.6 / 2  # not one after another
    assert threads == {"videogen-poll-fetch"}
    assert (report.polled, report.errors) == (6, 1)
    assert VideoJob.objects.get(pk=jobs[0].pk).poll_failures == 1
    assert all(VideoJob.objects.get(pk=job.pk).poll_attempts == 1 for job in jobs[1:])


@pytest.mark.django_db(transaction=True)
def test_errors_back_off_and_retry_after_is_honoured(sandbox):
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a quiet harbour", seconds="1")
    sandbox.configure(time_scale=1)
    submission.submit(job)
    sandbox.faults.add("rate_limit", route="retrieve", retry_after=30)
    polling.poll_jobs([job])
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.poll_failures == 1
    assert job.next_poll_at - timezone.now() > timedelta(seconds=25)
    assert job.events.filter(kind="poll_error").count() == 1


@pytest.mark.django_db(transaction=True)
def test_jobs_past_max_age_time_out(sandbox, signal_log):
    sandbox.configure(time_scale=1)
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a quiet harbour", seconds="1")
    submission.submit(job)
    VideoJob.objects.filter(pk=job.pk).update(
        submitted_at=timezone.now() - timedelta(seconds=get_settings().poll.max_age + 1))
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == "timeout"
    assert signal_log.names(job)[-1] == "job_failed"


@pytest.mark.django_db(transaction=True)
def test_a_job_the_provider_forgot_fails_after_repeated_404(sandbox):
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a quiet harbour",
                                  remote_id="no-such-job", status=Status.QUEUED,
                                  submitted_at=timezone.now())
    for _ in range(polling.NOT_FOUND_LIMIT):
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == "not_found"


@pytest.mark.django_db(transaction=True)
def test_only_404s_count_towards_a_forgotten_job(sandbox, settings):
    """Two 503s and then one 404 failed the job as forgotten: every kind of poll failure was
    counted against NOT_FOUND_LIMIT. Now a run of 404s does it, and a good answer resets it."""
    settings.VIDEOGEN = {**settings.VIDEOGEN, "MAX_RETRIES": 0}
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a quiet harbour",
                                  remote_id="no-such-job", status=Status.QUEUED,
                                  submitted_at=timezone.now())

    def poll():
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
        job.refresh_from_db()

    sandbox.faults.add("error", status=503, route="retrieve", count=polling.NOT_FOUND_LIMIT - 1)
    for _ in range(polling.NOT_FOUND_LIMIT):  # 503, 503, then a 404
        poll()
    assert job.status == Status.QUEUED
    assert (job.poll_failures, job.poll_not_found) == (polling.NOT_FOUND_LIMIT, 1)
    # The provider finds it again (say, an id that was briefly not replicated): reset.
    sandbox.configure(time_scale=1)  # still running when polled
    remote = video_client().create(
        submission.build_request(VideoJob(model="google/veo-2.0", prompt="a harbour",
                                         seconds="1")))
    VideoJob.objects.filter(pk=job.pk).update(remote_id=remote.id)
    poll()
    assert (job.poll_failures, job.poll_not_found) == (0, 0)
    VideoJob.objects.filter(pk=job.pk).update(remote_id="no-such-job")
    for _ in range(polling.NOT_FOUND_LIMIT):
        assert job.status in (Status.QUEUED, Status.IN_PROGRESS)
        poll()
    assert job.status == Status.FAILED and job.error_code == "not_found"


@pytest.mark.django_db(transaction=True)
def test_the_loop_blocks_while_it_waits_and_never_spins(sandbox, settings, monkeypatch):
    # Once the last answer in flight was written back, the loop went round without blocking
    # until its next look for due jobs, half a second later: a core taken from the archives
    # that the completions it had just written back were waiting for (bench P4). One GET at
    # a time: answers come back in several handfuls, the case where it happened.
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"CONCURRENCY": 1}}
    sandbox.configure(time_scale=1)
    sent_jobs(3, "harbour")
    VideoJob.objects.update(next_poll_at=timezone.now())
    clock_reads = []

    def monotonic():
        clock_reads.append(1)
        return time.monotonic()

    monkeypatch.setattr(polling, "time", SimpleNamespace(monotonic=monotonic, sleep=time.sleep))
    report = polling.run_loop(seconds=2, wait=False)
    assert report.polled == 3 and report.errors == 0
    assert len(clock_reads) < 50, f"the loop read the clock {len(clock_reads)} times"


@pytest.mark.django_db(transaction=True)
def test_every_claimed_job_is_answered_before_its_lease_runs_out(sandbox, settings,
                                                                 monkeypatch):
    """The loop claimed a whole batch (200) for CLAIM_SECONDS however few GETs could run at
    once, so with a slow provider the last jobs of a batch waited past their lease and were
    claimed and polled a second time. The lease now counts the rounds of requests ahead of
    the batch's last job, and each round times out within half of CLAIM_SECONDS."""
    settings.VIDEOGEN = {**settings.VIDEOGEN, "CONNECT_TIMEOUT": 0.5,
                         "POLL": {"CONCURRENCY": 1, "CLAIM_SECONDS": 5}}
    sandbox.configure(time_scale=1)
    sent_jobs(5, "harbour")
    VideoJob.objects.update(next_poll_at=timezone.now())
    sandbox.faults.add("latency", ms=1500, route="retrieve")
    leases, answered = {}, {}
    real_claim, real_write_back = polling.claim_due, polling.write_back

    def claim_due(limit, conf, **kwargs):
        jobs = real_claim(limit, conf, **kwargs)
        leases.update({job.pk: job.next_poll_at for job in jobs})
        return jobs

    def write_back(jobs, *args, **kwargs):
        answered.update({job.pk: timezone.now() for job in jobs})
        return real_write_back(jobs, *args, **kwargs)

    monkeypatch.setattr(polling, "claim_due", claim_due)
    monkeypatch.setattr(polling, "write_back", write_back)
    report = polling.run_loop(seconds=20, wait=False)
    assert report.polled == 5 and report.errors == 0
    late = {pk: (answered[pk] - leases[pk]).total_seconds() for pk in leases
            if answered[pk] > leases[pk]}
    assert late == {}, f"answered after the lease ran out, by seconds: {late}"
    assert polling.make_async_client().timeout.read <= 5 / 2 - 0.5


@pytest.mark.django_db(transaction=True)
def test_loop_returns_early_when_nothing_is_due(sandbox):
    report = polling.run_loop(seconds=30)
    assert report.seconds < 5 and report.polled == 0


@pytest.mark.django_db
def test_routine_write_back_writes_each_row_its_own_values_nulls_included():
    # Rows of one handful touch different columns: each row writes every column, its own
    # value or the one it had (PostgreSQL: typed VALUES, where a NULL has no type of its own).
    started = timezone.now() - timedelta(minutes=1)
    first, second = (VideoJob.objects.create(model="google/veo-2.0", prompt=f"job {i}",
                                             status=Status.IN_PROGRESS, remote_id=f"r-{i}",
                                             poll_attempts=2, started_at=started)
                     for i in range(2))
    due = timezone.now() + timedelta(seconds=30)
    bulk_update.write_guarded([
        (first, {"cost": Decimal("1.2500"), "last_response": {"id": "r-0", "n": [1, 2]},
                 "next_poll_at": due, "poll_attempts": 3}),
        (second, {"next_poll_at": None, "started_at": None, "provider_video_url": "https://x/v"}),
    ])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.cost, first.last_response, first.next_poll_at, first.poll_attempts,
            first.started_at, first.provider_video_url) == (
        Decimal("1.2500"), {"id": "r-0", "n": [1, 2]}, due, 3, started, "")
    assert (second.cost, second.last_response, second.next_poll_at, second.poll_attempts,
            second.started_at, second.provider_video_url) == (
        None, None, None, 2, None, "https://x/v")


@pytest.mark.django_db(transaction=True)
def test_routine_write_back_never_lands_on_a_job_whose_status_changed(sandbox):
    sandbox.configure(time_scale=100)
    jobs = []
    for i in range(3):
        job = VideoJob.objects.create(model="google/veo-2.0", prompt=f"job {i}", seconds="1")
        submission.submit(job)
        jobs.append(VideoJob.objects.get(pk=job.pk))
    with video_client() as client:
        results = [client.retrieve(job.remote_id) for job in jobs]
    # Staff cancel one job between the poller's fetch and its write-back.
    VideoJob.objects.filter(pk=jobs[0].pk).update(status=Status.CANCELLED, next_poll_at=None)
    polling.write_back(jobs, results, polling.PollReport(), get_settings().poll)
    cancelled = VideoJob.objects.get(pk=jobs[0].pk)
    assert cancelled.status == Status.CANCELLED
    assert cancelled.next_poll_at is None and cancelled.poll_attempts == jobs[0].poll_attempts - 1
    for job in jobs[1:]:
        fresh = VideoJob.objects.get(pk=job.pk)
        assert fresh.poll_attempts == 1 and fresh.last_polled_at is not None
        assert fresh.last_response["id"] == job.remote_id and fresh.next_poll_at > timezone.now()


@pytest.mark.django_db
def test_a_faster_provider_is_planned_for_only_when_the_settings_say_so(settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"TIME_SCALE": 1, "MIN_INTERVAL": 1}}
    assert timing.typical_seconds("minimax/hailuo-02") == 240  # the real API: unchanged
    real = timing.first_poll_at("minimax/hailuo-02") - timezone.now()
    settings.VIDEOGEN = {**settings.VIDEOGEN, "POLL": {"TIME_SCALE": 0.01, "MIN_INTERVAL": 1}}
    assert timing.typical_seconds("minimax/hailuo-02") == pytest.approx(2.4)
    fast = timing.first_poll_at("minimax/hailuo-02") - timezone.now()
    assert real.total_seconds() == pytest.approx(120, abs=1)
    assert fast.total_seconds() == pytest.approx(1.2, abs=0.5)
    job = VideoJob(model="minimax/hailuo-02", status=Status.IN_PROGRESS,
                   submitted_at=timezone.now() - timedelta(seconds=1.2))
    assert progress.progress(job).percent == 50  # the bar follows the sandbox too
