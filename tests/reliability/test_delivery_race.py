"""Found by the scale-out run: a few deliveries reached the receiver twice (same webhook-id)
with no node killed. Allowed by the contract (consumers deduplicate on the id), but avoidable."""

import pytest
from django.db import transaction

from videogen.models import Status, VideoJob
from videogen.webhooks import delivery
from videogen.webhooks import events as webhook_events
from videogen.webhooks.endpoints import create_endpoint
from videogen.webhooks.models import EventType, WebhookDelivery

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]


def test_a_delivery_claimed_by_a_worker_is_not_released_to_another(receiver, monkeypatch):
    _, receiver.secret = create_endpoint(receiver.url)
    job = VideoJob.objects.create(model="pixverse/pixverse-v5", prompt="race", seconds="1",
                                  width=360, height=360, fps=16, status=Status.QUEUED)
    with transaction.atomic():
        first = webhook_events.record(job, EventType.SUBMITTED, old="submitting", new="queued")
        second = webhook_events.record(job, EventType.STATUS_CHANGED, old="submitting",
                                       new="queued")
    d1 = WebhookDelivery.objects.get(event=first).pk
    d2 = WebhookDelivery.objects.get(event=second).pk
    claims = []
    release = delivery._release_next

    def worker_b_claims_first(done):
        # Worker B picks up the second delivery just after the first one's result committed:
        # its order check passes, it is about to send.
        claims.append(delivery._claim(d2))
        release(done)

    monkeypatch.setattr(delivery, "_release_next", worker_b_claims_first)
    assert delivery.deliver(d1) == "delivered"        # worker A
    worker_b = claims[0]
    assert worker_b is not None and delivery._earlier_pending(worker_b) is None
    delivery.deliver(d2)                               # worker C, from the release's task
    delivery._record(worker_b, delivery.attempt(worker_b))  # worker B sends what it claimed
    sent = [r for r in receiver.receipts if r.webhook_id == second.id]
    assert len(sent) == 1, f"{second.id} sent {len(sent)} times"
