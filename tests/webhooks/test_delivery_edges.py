"""Delivery edge cases: re-enabling however it happens, DNS outages, headers HTTP cannot carry,
a failure count raised meanwhile, and a claim that ran out mid-send. Real HTTP to a local
receiver; the resolver is replaced only to produce a DNS outage, which no local server can."""

import socket
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tests.enqueued import record_tasks
from videogen.models import VideoJob, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from videogen.webhooks import delivery as sending
from videogen.webhooks import events, safety
from videogen.webhooks.endpoints import create_endpoint

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookDelivery.Status
INLINE = {"secrets-TOTAL_FORMS": "0", "secrets-INITIAL_FORMS": "0"}


def record_event(event_type="video.completed"):
    """One event of a new job, its deliveries written (their tasks queued, not run here)."""
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a lighthouse")
    with transaction.atomic():
        return events.record(job, event_type)


def pending_delivery(endpoint):
    """A delivery to ``endpoint`` that no task has sent yet."""
    sending.disable(endpoint, "setting up")
    event = record_event()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True, disabled_at=None)
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint,
                                          next_attempt_at=timezone.now())


@pytest.fixture
def staff_client(client):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["change_webhookendpoint", "view_webhookendpoint"]))
    client.force_login(user)
    return client


def change_form(client, endpoint, **fields):
    data = {"url": endpoint.url, "description": endpoint.description,
            "headers": "{}", **INLINE, **fields}
    return client.post(reverse("admin:videogen_webhookendpoint_change", args=[endpoint.pk]),
                       data, follow=True)


def test_the_enabled_checkbox_pauses_and_resumes_like_the_actions(staff_client, receiver):
    endpoint, _ = create_endpoint(receiver.url, event_types=["video.completed"])
    delivery = pending_delivery(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=7)
    assert change_form(staff_client, endpoint).status_code == 200  # "enabled" unticked
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "Disabled by staff."
    assert sending.deliver(delivery.pk) == "paused"
    while_disabled = record_event()  # no delivery: the endpoint is off
    change_form(staff_client, endpoint, enabled="on")
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0
    # A bare save left the paused delivery unscheduled for good; now both go out.
    assert sending.deliver_due() == {"delivered": 2}
    assert {e["data"]["id"] for e in receiver.events()} == {
        str(delivery.event.job_id), str(while_disabled.job_id)}


def test_paused_deliveries_go_once_enabled_in_code_too(receiver):
    endpoint, _ = create_endpoint(receiver.url)
    delivery = pending_delivery(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    assert sending.deliver(delivery.pk) == "paused"
    endpoint.refresh_from_db()
    endpoint.enabled = True
    endpoint.save()  # not through enable()
    assert sending.deliver_due() == {"delivered": 1}
    assert len(receiver.received) == 1


def test_a_dns_outage_is_retried_not_a_refusal(receiver, monkeypatch):
    # receiver.test resolves to the receiver's address (allow-listed), except during the outage.
    real, dns = socket.getaddrinfo, {"up": True}

    def resolver(host, *args, **kwargs):
        if host != "receiver.test":
            return real(host, *args, **kwargs)
        if not dns["up"]:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(safety.socket, "getaddrinfo", resolver)
    endpoint, _ = create_endpoint(receiver.url.replace("127.0.0.1", "receiver.test"))
    delivery = pending_delivery(endpoint)
    dns["up"] = False
    assert sending.deliver(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and "does not resolve" in delivery.last_error
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    # Saving an endpoint whose host does not resolve is still refused.
    with pytest.raises(safety.UnsafeURL, match="does not resolve"):
        create_endpoint(endpoint.url)
    dns["up"] = True
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert sending.deliver_due() == {"delivered": 1}
    assert receiver.received[0][0]["host"] == endpoint.url.split("/")[2]


def test_a_header_http_cannot_carry_fails_the_attempt_not_the_run(receiver):
    with pytest.raises(ValueError, match="headers: the value of X-Team must be printable"):
        create_endpoint(receiver.url, headers={"X-Team": "équipe"})
    broken, _ = create_endpoint(receiver.url, description="broken")
    WebhookEndpoint.objects.filter(pk=broken.pk).update(
        headers={"Authorization": "Bearer sécret-token"})  # past the checks, in code
    healthy, _ = create_endpoint(receiver.url, description="healthy")
    record_event()  # one delivery each
    assert sending.deliver_due() == {"retrying": 1, "delivered": 1}  # the run went on
    by_endpoint = {d.endpoint_id: d for d in WebhookDelivery.objects.all()}
    assert by_endpoint[healthy.pk].status == Status.SUCCEEDED
    failed = by_endpoint[broken.pk]
    assert failed.status == Status.PENDING and failed.attempts == 1
    assert failed.last_error == "cannot send: an extra header is not printable ASCII"
    assert "sécret" not in failed.last_error
    broken.refresh_from_db()
    assert not sending.send_test(broken).ok  # the admin's test action: no 500
    assert len(receiver.received) == 1


def test_a_host_name_idna_cannot_encode_is_refused_not_raised():
    with pytest.raises(safety.UnsafeURL, match="the host name is not valid"):
        safety.check_url(f"https://{'a' * 64}.example.com/hook")


def test_a_success_clears_a_failure_count_raised_after_the_claim(receiver):
    endpoint, _ = create_endpoint(receiver.url)
    delivery = sending._claim(pending_delivery(endpoint).pk)
    assert delivery.endpoint.consecutive_failures == 0  # as loaded with the claim
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=19)
    assert sending.deliver_claimed(delivery) == "delivered"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_claim_lost_mid_send_does_not_overwrite_the_newer_outcome(receiver):
    endpoint, _ = create_endpoint(receiver.url)
    pk = pending_delivery(endpoint).pk
    slow = sending._claim(pk)  # worker A claims, then its send outlives the lease
    WebhookDelivery.objects.filter(pk=pk).update(claimed_until=timezone.now())
    assert sending.deliver(pk) == "delivered"  # worker B takes over and delivers
    late = sending.AttemptResult(status_code=500, error="")
    assert sending._record(slow, late) == "superseded"
    row = WebhookDelivery.objects.get(pk=pk)
    assert row.status == Status.SUCCEEDED and row.attempts == 1 and row.last_status_code == 200
    assert sorted(WebhookAttempt.objects.values_list("status_code", flat=True)) == [200, 500]


def test_a_claim_about_to_run_out_is_renewed_before_sending_unless_lost(receiver):
    endpoint, _ = create_endpoint(receiver.url)
    pk = pending_delivery(endpoint).pk
    delivery = sending._claim(pk)
    soon = timezone.now() + timedelta(seconds=5)
    WebhookDelivery.objects.filter(pk=pk).update(claimed_until=soon)
    delivery.claimed_until = soon
    assert sending.deliver_claimed(delivery) == "delivered"  # renewed, then recorded
    lost = sending._claim(pending_delivery(endpoint).pk)
    WebhookDelivery.objects.filter(pk=lost.pk).update(claimed_until=timezone.now() + sending.LEASE)
    lost.claimed_until = timezone.now() + timedelta(seconds=5)  # another worker's claim now
    assert sending.deliver_claimed(lost) == "skipped"
    assert len(receiver.received) == 1


def test_inline_deliveries_go_out_right_after_commit_without_a_task(receiver, monkeypatch):
    """The archive task's path (delivery.deliver_inline): rows written claimed, sent by this
    process after commit; nothing is queued. Events get the sender handed in, so they need not
    import delivery."""
    endpoint, _ = create_endpoint(receiver.url)
    queued = record_tasks(monkeypatch, "deliver_webhook").calls
    with sending.deliver_inline():
        event = record_event()
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    assert (delivery.status, queued, len(receiver.received)) == (Status.SUCCEEDED, [], 1)
    queued_later = record_event()  # outside the block: queued as before
    assert [name for name, *_ in queued] == ["deliver_webhook"]
    assert WebhookDelivery.objects.get(event=queued_later).claimed_until is None


def test_an_inline_send_that_raises_leaves_the_delivery_to_the_periodic_task(receiver,
                                                                             monkeypatch):
    endpoint, _ = create_endpoint(receiver.url)

    def broken(delivery):
        raise RuntimeError("worker trouble")

    monkeypatch.setattr(sending, "deliver_claimed", broken)
    with sending.deliver_inline():
        event = record_event()  # does not raise
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    assert delivery.status == Status.PENDING and delivery.claimed_until is not None
    assert receiver.received == []
