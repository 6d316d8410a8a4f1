"""Issue 17 item 4: retries go out when docs/webhooks.md says (about 5 s, 5 min, 30 min…),
not when the minute schedule comes round. On a simulated clock, with django-q2 played as the
delivery code sees it; real HTTP to a local receiver."""

import ast
from datetime import timedelta

import pytest
from django_q.conf import Conf
from django_q.models import Schedule

from tests.reliability.harness import Clock
from tests.webhooks.test_delivery_edges import record_event
from videogen import schedules, tasks
from videogen.models import WebhookDelivery
from videogen.webhooks import delivery as sending
from videogen.webhooks.endpoints import create_endpoint

pytestmark = pytest.mark.django_db(transaction=True)
TICK = timedelta(seconds=30)  # how often django-q2's scheduler looks for due schedules


class Cluster:
    """Idle workers run a queued task at once; the scheduler runs a one-off schedule at its
    first tick (every 30 s) at or after its time, and the minute schedule every other tick;
    a task's sleep moves the clock."""

    def __init__(self, monkeypatch):
        self.clock = Clock(monkeypatch)
        self.queued = []
        self.next_tick = self.clock.now + TICK
        monkeypatch.setattr(schedules, "enqueue", lambda task, *args: self.queued.append(
            (task, args)))
        monkeypatch.setattr(sending, "sleep", self.sleep, raising=False)
        monkeypatch.setattr(Conf, "SYNC", False)

    def sleep(self, seconds):
        self.clock.now += timedelta(seconds=seconds)

    def run(self, duration):
        until = self.clock.now + duration
        while self.clock.now < until:
            if self.queued:
                task, args = self.queued.pop(0)
                getattr(tasks, task)(*args)
                continue
            self.clock.now = min(self.next_tick, until)
            if self.clock.now >= self.next_tick:
                self.next_tick += TICK
                self.scheduler_tick()

    def scheduler_tick(self):
        self.ticks = getattr(self, "ticks", 0) + 1
        if self.ticks % 2 == 0:  # "videogen: deliver due webhooks", every minute
            self.queued.append(("deliver_due_webhooks", ()))
        for due in Schedule.objects.filter(next_run__lte=self.clock.now,
                                           schedule_type=Schedule.ONCE):
            due.delete()
            self.queued.append((due.func.rsplit(".", 1)[1], ast.literal_eval(due.args)))


def answering(cluster, receiver, *statuses, then=503):
    """Answer ``statuses`` then ``then``, noting each request's webhook-id at simulated time."""
    script = list(statuses)
    cluster.arrivals = []

    def answer(handler):
        cluster.arrivals.append((handler.headers["webhook-id"], cluster.clock.now))
        handler.send_response(script.pop(0) if script else then)
        handler.send_header("content-length", "0")
        handler.end_headers()
    receiver.default = answer


def attempt_times(cluster, delivery):
    """Seconds from the delivery's first attempt to each later one."""
    times = [at for webhook_id, at in cluster.arrivals if webhook_id == delivery.event_id]
    return [round((t - times[0]).total_seconds(), 1) for t in times]


def test_retries_follow_the_documented_schedule(receiver, monkeypatch):
    cluster = Cluster(monkeypatch)
    create_endpoint(receiver.url)
    answering(cluster, receiver, 503, 503, then=200)
    record_event()
    cluster.run(timedelta(minutes=10))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    at = attempt_times(cluster, delivery)
    # RETRY_SCHEDULE 5, 300… s with ±10 % jitter; the scheduler's 30 s tick may add to 300.
    assert len(at) == 3 and 4.5 <= at[1] <= 5.6, at
    assert 270 <= at[2] - at[1] <= 330 + 30, at


def test_a_later_retry_is_scheduled_for_its_time(receiver, monkeypatch):
    cluster = Cluster(monkeypatch)
    create_endpoint(receiver.url)
    answering(cluster, receiver)
    record_event()
    cluster.run(timedelta(minutes=6))  # attempts at 0, ~5 s, ~5 min: the next in ~30 min
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 3
    once = Schedule.objects.get(schedule_type=Schedule.ONCE)
    assert (once.func, ast.literal_eval(once.args)) == ("videogen.tasks.deliver_webhook",
                                                       (delivery.pk,))
    wait = (once.next_run - delivery.last_attempt_at).total_seconds()
    assert 1620 <= wait <= 1980 and once.next_run == delivery.next_attempt_at


def test_every_delivery_to_a_failing_endpoint_is_retried_on_time(receiver, monkeypatch):
    cluster = Cluster(monkeypatch)
    create_endpoint(receiver.url)
    answering(cluster, receiver)
    for _ in range(3):
        record_event()  # three jobs' events, failing together
    cluster.run(timedelta(seconds=20))
    for delivery in WebhookDelivery.objects.all():
        at = attempt_times(cluster, delivery)
        assert len(at) == 2 and 4.5 <= at[1] <= 5.6, at  # none waits for a minute's run


def test_without_a_cluster_nothing_waits_inline(receiver, q_sync):
    """django-q2's sync mode runs tasks inside their caller: the retry is left to a one-off
    schedule (and the minute run) instead of a sleep there."""
    endpoint, _ = create_endpoint(receiver.url)
    receiver.default = 503
    event = record_event()  # sent at once (sync), failed
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    assert delivery.attempts == 1
    once = Schedule.objects.get(schedule_type=Schedule.ONCE)
    assert once.func == "videogen.tasks.deliver_webhook"
    assert ast.literal_eval(once.args) == (delivery.pk,)
    assert abs((once.next_run - delivery.next_attempt_at).total_seconds()) < 0.01
