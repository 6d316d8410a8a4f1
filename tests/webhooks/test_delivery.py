"""Webhooks end to end: real jobs against the sandbox, real HTTP to a local receiver, signatures
checked with the `standardwebhooks` package."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.faults import Killed, raises
from videogen import lifecycle, polling, submission
from videogen.models import (
    VideoJob,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from videogen.webhooks import delivery as sending
from videogen.webhooks import events
from videogen.webhooks.endpoints import create_endpoint, rotate_secret

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookDelivery.Status


def complete_a_job(**fields):
    values = {"model": "google/veo-2.0", "prompt": "a lighthouse", "seconds": "1",
              "width": 1280, "height": 720, "fps": 8} | fields
    job = VideoJob.objects.create(**values)
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    return job


def expire_claims():
    WebhookDelivery.objects.update(claimed_until=timezone.now())


def make_due():
    WebhookDelivery.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())


def test_completed_job_sends_one_signed_video_completed(sandbox, receiver):
    endpoint, secret = create_endpoint(receiver.url, event_types=["video.completed"])
    job = complete_a_job()
    assert receiver.types() == ["video.completed"]
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    data = payload["data"]
    assert data["id"] == str(job.pk) and data["status"] == "completed"
    assert data["video"]["sha256"] == job.video_sha256
    assert data["video"]["size"] == job.video_bytes
    assert data["video"]["url"].startswith("http://127.0.0.1:8000/media/videogen/")
    assert data["video"]["poster_url"].endswith("-poster.jpg")
    assert data["video"]["width"] == 1280 and data["cost"] == str(job.cost)
    assert headers["webhook-id"].startswith("msg_")
    assert WebhookEvent.objects.filter(type="video.completed").count() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 1
    assert WebhookAttempt.objects.get().status_code == 200
    # Re-archiving by staff does not announce the job again.
    lifecycle.request_archive(job)
    assert receiver.types() == ["video.completed"]


def test_every_transition_is_an_event_and_filters_apply(sandbox, receiver):
    create_endpoint(receiver.url)
    only_failures, _ = create_endpoint(receiver.url + "?failures", event_types=["video.failed"])
    complete_a_job()
    assert receiver.types() == ["video.status_changed", "video.submitted",
                                "video.status_changed", "video.status_changed",
                                "video.completed"]
    assert not WebhookDelivery.objects.filter(endpoint=only_failures).exists()
    sandbox.faults.add("fail_job", message="no GPUs today")
    complete_a_job()
    failed = [e for e in receiver.events() if e["type"] == "video.failed"]
    assert len(failed) == 2  # one per endpoint
    assert failed[0]["data"]["error"]["message"].endswith("no GPUs today")


def test_rotation_sends_two_signatures_that_both_verify(sandbox, receiver):
    endpoint, old = create_endpoint(receiver.url, event_types=["video.completed"])
    new = rotate_secret(endpoint)
    complete_a_job()
    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    # After the overlap only the new secret signs.
    endpoint.secrets.filter(secret=old).update(expires_at=timezone.now())
    assert endpoint.active_secrets() == [new]


def test_500_then_200_is_retried_with_the_same_id(sandbox, receiver):
    create_endpoint(receiver.url, event_types=["video.completed"])
    receiver.script = [500]
    complete_a_job()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=3)
    make_due()
    assert sending.deliver_due() == {"delivered": 1}
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 2
    ids = [headers["webhook-id"] for headers, _ in receiver.received]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert [a.status_code for a in WebhookAttempt.objects.order_by("id")] == [500, 200]


def test_receiver_down_past_the_budget_disables_and_keeps_events(sandbox, receiver, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "WEBHOOKS": {
        **settings.VIDEOGEN["WEBHOOKS"], "RETRY_SCHEDULE": [1, 1, 1],
        "MAX_CONSECUTIVE_FAILURES": 1}}
    endpoint, secret = create_endpoint(receiver.url, event_types=["video.completed"])
    receiver.default = 503
    complete_a_job()
    for _ in range(3):
        make_due()
        sending.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.FAILED and delivery.attempts == 4
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "1 events in a row" in endpoint.disabled_reason
    # The event is kept: replay once the receiver is back.
    receiver.default = 200
    sending.enable(endpoint)
    sending.resend(delivery)
    sending.deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED
    Webhook(secret).verify(receiver.received[-1][1], receiver.received[-1][0])


def test_re_enabling_catches_up_on_events_recorded_while_disabled(sandbox, receiver, settings):
    endpoint, secret = create_endpoint(receiver.url, event_types=["video.completed"])
    sending.disable(endpoint, "1 events in a row could not be delivered.")
    while_disabled = complete_a_job()
    assert not WebhookDelivery.objects.exists()  # nothing is sent to a disabled endpoint
    endpoint.refresh_from_db()
    assert sending.enable(endpoint) == 1
    assert sending.enable(endpoint) == 1  # again: nothing queued twice
    sending.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.SUCCEEDED and delivery.event.job_id == while_disabled.pk
    assert len(receiver.received) == 1
    Webhook(secret).verify(receiver.received[0][1], receiver.received[0][0])


def test_410_gone_disables_the_endpoint(sandbox, receiver):
    endpoint, _ = create_endpoint(receiver.url, event_types=["video.completed"])
    receiver.script = [410]
    complete_a_job()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert WebhookDelivery.objects.get().status == Status.FAILED


def waiting_backlog(endpoint, jobs=2):
    """Deliveries that failed once and now wait hours for their next retry (after an outage)."""
    for _ in range(jobs):
        complete_a_job()
    hours_away, a_while_ago = timezone.now() + timedelta(hours=3), timezone.now() - \
        timedelta(minutes=10)
    WebhookDelivery.objects.filter(endpoint=endpoint).update(
        status=Status.PENDING, attempts=1, next_attempt_at=hours_away,
        last_attempt_at=a_while_ago, delivered_at=None)
    return hours_away


def test_a_waiting_backlog_is_probed_and_released_when_the_receiver_is_back(sandbox,
                                                                             receiver):
    endpoint, _ = create_endpoint(receiver.url, event_types=["video.completed"])
    hours_away = waiting_backlog(endpoint)
    receiver.received.clear()
    receiver.script = [503]  # still down: the probe fails and costs no retry
    assert sending.deliver_due() == {"probe failed": 1}
    assert list(WebhookDelivery.objects.values_list("attempts", "next_attempt_at")) == \
        [(1, hours_away)] * 2
    assert sending.deliver_due() == {}  # probed less than 5 minutes ago: left alone
    WebhookDelivery.objects.update(last_attempt_at=timezone.now() - timedelta(minutes=6))
    assert sending.deliver_due() == {"delivered": 2}  # the probe, then the released backlog
    assert WebhookDelivery.objects.filter(status=Status.SUCCEEDED).count() == 2
    assert WebhookAttempt.objects.filter(status_code=503).count() == 1


def test_a_probe_answered_410_disables_the_endpoint(sandbox, receiver):
    endpoint, _ = create_endpoint(receiver.url, event_types=["video.completed"])
    waiting_backlog(endpoint, jobs=1)
    receiver.script = [410]
    assert sending.deliver_due() == {"gone": 1}
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason


def test_the_archive_sends_video_completed_itself_without_claiming_it_again(
        sandbox, receiver, monkeypatch):
    create_endpoint(receiver.url, event_types=["video.completed"])
    claims = []
    real_claim = sending._claim
    monkeypatch.setattr(sending, "_claim", lambda *a, **k: claims.append(a) or real_claim(*a, **k))
    complete_a_job()
    assert receiver.types() == ["video.completed"]
    # Written claimed in the archive's own transaction, sent right after its commit.
    assert claims == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == (
        Status.SUCCEEDED, 1, None)


def test_lost_task_is_delivered_by_the_periodic_task(sandbox, receiver, monkeypatch):
    create_endpoint(receiver.url, event_types=["video.completed"])
    monkeypatch.setattr(events, "_dispatch", lambda d: None)  # the task or worker was lost
    complete_a_job()
    assert receiver.received == []
    # The archive task wrote its delivery claimed for sending in-process: the periodic task
    # leaves it alone until the claim expires.
    assert sending.deliver_due() == {}
    expire_claims()
    assert sending.deliver_due() == {"delivered": 1}
    assert receiver.types() == ["video.completed"]


def test_worker_killed_after_claiming_is_delivered_once_later(sandbox, receiver, monkeypatch):
    create_endpoint(receiver.url, event_types=["video.completed"])
    monkeypatch.setattr(events, "_dispatch", lambda d: None)
    complete_a_job()
    expire_claims()
    delivery = WebhookDelivery.objects.get()

    real_attempt = sending.attempt
    monkeypatch.setattr(sending, "attempt", raises(Killed()))
    with pytest.raises(Killed):
        sending.deliver(delivery.pk)
    monkeypatch.setattr(sending, "attempt", real_attempt)
    assert sending.deliver_due() == {}  # still claimed
    expire_claims()
    assert sending.deliver_due() == {"delivered": 1}
    assert sending.deliver(delivery.pk) == "skipped"
    assert len(receiver.received) == 1


def test_events_of_a_job_arrive_in_order_despite_a_retry(sandbox, receiver):
    create_endpoint(receiver.url)
    receiver.script = [500]  # the first event fails once
    complete_a_job()
    for _ in range(10):
        if not WebhookDelivery.objects.filter(status=Status.PENDING).exists():
            break
        make_due()
        sending.deliver_due()
    delivered = [h["webhook-id"] for h, _ in receiver.received[1:]]
    expected = list(WebhookEvent.objects.order_by("created_at", "id").values_list("id",
                                                                                  flat=True))
    assert delivered == expected


def test_payloads_carry_no_secrets(sandbox, receiver, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "API_KEY": "tgp_v1_SECRET_KEY_abc123"}
    endpoint, secret = create_endpoint(receiver.url)
    complete_a_job()
    for headers, body in receiver.received:
        text = body.decode() + repr(headers)
        assert "tgp_v1_SECRET_KEY_abc123" not in text and secret not in text
    assert secret not in repr(endpoint.secrets.first()) and secret not in str(
        endpoint.secrets.first())


def test_send_test_event(receiver):
    endpoint, secret = create_endpoint(receiver.url)
    result = sending.send_test(endpoint)
    assert result.ok
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "webhook.test" and payload["data"] == {"endpoint": endpoint.pk}
    # Written like every other event's timestamp (docs/webhooks.md), not "+00:00".
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", payload["timestamp"])


def test_endpoints_declared_in_settings(settings, receiver):
    from django.core.management import call_command

    settings.VIDEOGEN = {**settings.VIDEOGEN, "WEBHOOKS": {
        **settings.VIDEOGEN["WEBHOOKS"], "ENDPOINTS": [
            {"KEY": "crm", "URL": receiver.url, "EVENTS": ["video.completed"],
             "SECRET": "whsec_" + "A" * 40}]}}
    call_command("videogen_setup")
    call_command("videogen_setup")
    endpoint = WebhookEndpoint.objects.get(settings_key="crm")
    assert endpoint.url == receiver.url and endpoint.event_types == ["video.completed"]
    assert endpoint.active_secrets() == ["whsec_" + "A" * 40]
