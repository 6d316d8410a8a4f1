"""A webhook receiver's outage on a simulated clock (no real waiting): down for 12 hours then
back, and down for good (the endpoint is disabled; events can be replayed). The scheduled
``deliver_due`` task is called once per simulated minute, as django-q2 would run it.
Figures: docs/reliability.md."""

from datetime import timedelta

import pytest

from tests.reliability import harness
from tests.reliability.harness import write_figures
from videogen import api, polling
from videogen.models import VideoJob
from videogen.webhooks import delivery
from videogen.webhooks.endpoints import create_endpoint
from videogen.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]
JOBS = 20
MINUTE = timedelta(minutes=1)


class Clock(harness.Clock):

    def run(self, duration, step=MINUTE, until=None):
        """Advance in ``step``s, running the periodic delivery task after each; stops early
        when ``until()`` is true. Returns the simulated time it took."""
        started = self.now
        while self.now - started < duration:
            self.now += step
            delivery.deliver_due()
            if until is not None and until():
                break
        return self.now - started


@pytest.fixture
def outage(sandbox, receiver, settings, monkeypatch):
    """A receiver that is down, and JOBS jobs that went through their whole life meanwhile."""
    clock = Clock(monkeypatch)
    endpoint, receiver.secret = create_endpoint(receiver.url)
    receiver.up = False
    jobs = [api.generate(model="pixverse/pixverse-v5", prompt=f"outage clip {i}", seconds="1",
                         width=360, height=360, fps=16, seed=3) for i in range(JOBS)]
    clock.now += timedelta(seconds=5)
    VideoJob.objects.update(next_poll_at=clock.now)
    polling.run_loop(wait=False)  # completed, archived (sync tasks), video.completed written
    return clock, endpoint, jobs


def pending():
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count()


def test_twelve_hour_outage_then_back(outage, receiver):
    clock, endpoint, jobs = outage
    events = WebhookEvent.objects.count()
    clock.run(timedelta(hours=12))
    failed_meanwhile = WebhookDelivery.objects.filter(status="failed").count()
    receiver.up = True
    back_at = len(receiver.receipts)
    took = clock.run(timedelta(hours=24), until=lambda: pending() == 0)
    result = figures(receiver, events, back_at)
    result.update(outage_hours=12, failed_during_outage=failed_meanwhile,
                  delivered_after_back_min=round(took.total_seconds() / 60),
                  endpoint_enabled=WebhookEndpoint.objects.get(pk=endpoint.pk).enabled)
    write_figures("webhook-outage-12h", result)
    assert result["undelivered"] == 0 and result["ids_per_event_max"] == 1, result
    assert result["out_of_order_jobs"] == 0, result


def test_outage_backlog_goes_out_soon_after_the_receiver_is_back(outage, receiver):
    clock, _, _ = outage
    clock.run(timedelta(hours=12))
    receiver.up = True
    took = clock.run(timedelta(hours=24), until=lambda: pending() == 0)
    assert took <= timedelta(minutes=15)


def test_receiver_down_for_good_disables_endpoint_then_replay(outage, receiver):
    clock, endpoint, jobs = outage
    events = WebhookEvent.objects.count()
    took = clock.run(timedelta(days=3), step=2 * MINUTE,
                     until=lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).enabled)
    endpoint.refresh_from_db()
    assert not endpoint.enabled, "the endpoint was never disabled"
    exhausted = WebhookDelivery.objects.filter(status="failed").count()
    # A job that finishes while the endpoint is disabled: its events get no delivery rows.
    late = api.generate(model="pixverse/pixverse-v5", prompt="while disabled", seconds="1",
                        width=360, height=360, fps=16, seed=3)
    receiver.up = True
    resumed = delivery.enable(endpoint)
    clock.run(timedelta(minutes=5), until=lambda: pending() == 0)
    late_ids = set(WebhookEvent.objects.filter(job=late).values_list("id", flat=True))
    late_after_enable = len(late_ids & {r.webhook_id for r in receiver.receipts})
    replayed = [e for e in WebhookEvent.objects.all()
                if not e.deliveries.filter(status="succeeded").exists()]
    for event in replayed:
        delivery.resend_event(event)
    clock.run(timedelta(minutes=5), until=lambda: pending() == 0)
    result = figures(receiver, events + len(late_ids), 0)
    result.update(events_while_disabled=len(late_ids),
                  delivered_by_enable_alone=late_after_enable,
                  disabled_after_h=round(took.total_seconds() / 3600, 1),
                  deliveries_exhausted=exhausted, resumed_on_enable=resumed,
                  replayed=len(replayed), disabled_reason=endpoint.disabled_reason)
    write_figures("webhook-receiver-dead", result)
    assert result["undelivered"] == 0 and result["ids_per_event_max"] == 1, result
    assert late_after_enable == len(late_ids), result  # re-enabling caught up on them


def figures(receiver, events, back_at):
    """Delivered once (one id per event, all of them), and per job in order."""
    ids_by_key, first_seen = {}, {}
    for index, receipt in enumerate(receiver.receipts):
        key = (receipt.job, receipt.type, receipt.previous, receipt.status)
        ids_by_key.setdefault(key, set()).add(receipt.webhook_id)
        first_seen.setdefault(receipt.webhook_id, index)
    out_of_order = 0
    for job_id in {r.job for r in receiver.receipts}:
        ordered = list(WebhookEvent.objects.filter(job_id=job_id).order_by("created_at")
                       .values_list("id", flat=True))
        arrived = sorted((i for i in ordered if i in first_seen), key=first_seen.get)
        out_of_order += arrived != [i for i in ordered if i in first_seen]
    return {"jobs": JOBS, "events": events, "receipts": len(receiver.receipts),
            "receipts_before_back": back_at,
            "undelivered": events - len(first_seen),
            "ids_per_event_max": max(len(v) for v in ids_by_key.values()),
            "unsigned": sum(not r.signed for r in receiver.receipts),
            "out_of_order_jobs": out_of_order}
