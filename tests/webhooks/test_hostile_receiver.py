"""Hostile receivers and endpoint settings (issue 18, items 4 and 11): each costs only its own
delivery. Real HTTP to a scripted receiver on 127.0.0.1."""

import time

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from tests.webhooks.conftest import endless, redirect_to, trickle
from tests.webhooks.test_delivery_edges import INLINE, pending_delivery, record_event
from videogen.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from videogen.webhooks import delivery as sending
from videogen.webhooks.endpoints import create_endpoint

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookDelivery.Status


# --- Item 11: a failure of any kind is one failed attempt -------------------------------------


@pytest.mark.parametrize("location", ["javascript:alert(1)", "http://[::1", "http://a b/"])
def test_a_redirect_to_a_bad_location_is_a_recorded_failure(receiver, location):
    endpoint, _ = create_endpoint(receiver.url)
    delivery = pending_delivery(endpoint)
    receiver.script = [redirect_to(location)]
    assert sending.deliver(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code in (302, None)
    assert delivery.claimed_until is None
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_bad_redirect_counts_toward_disabling(receiver, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "WEBHOOKS": {
        **settings.VIDEOGEN["WEBHOOKS"], "RETRY_SCHEDULE": [], "MAX_CONSECUTIVE_FAILURES": 2}}
    endpoint, _ = create_endpoint(receiver.url)
    receiver.default = redirect_to("javascript:alert(1)")
    for _ in range(2):
        assert sending.deliver(pending_delivery(endpoint).pk) == "failed"
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.consecutive_failures == 2


def test_one_bad_endpoint_does_not_hold_up_the_others(receiver):
    hostile, _ = create_endpoint(receiver.url + "?bad", description="hostile")
    healthy, _ = create_endpoint(receiver.url, description="healthy")
    record_event()  # one delivery to each, both due
    hostile_url = hostile.url

    def answer(handler):
        if handler.path.endswith("?bad"):
            return redirect_to("javascript:alert(1)")(handler)
        handler.send_response(204)
        handler.send_header("content-length", "0")
        handler.end_headers()

    receiver.default = answer
    WebhookDelivery.objects.update(next_attempt_at=None)
    assert sending.deliver_due() == {"retrying": 1, "delivered": 1}
    rows = {d.endpoint.url: d for d in WebhookDelivery.objects.select_related("endpoint")}
    assert rows[healthy.url].status == Status.SUCCEEDED
    assert rows[hostile_url].attempts == 1


@pytest.fixture
def tester(client):
    user = User.objects.create_user("tester", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=[
        "view_webhookendpoint", "change_webhookendpoint", "add_webhookendpoint",
        "send_test_webhookendpoint"]))
    client.force_login(user)
    return client


def test_send_a_test_event_to_a_bad_redirect_is_a_message_not_a_500(tester, receiver):
    endpoint, _ = create_endpoint(receiver.url)
    receiver.script = [redirect_to("javascript:alert(1)")]
    response = tester.post(reverse("admin:videogen_webhookendpoint_changelist"),
                           {"action": "send_test_event", "_selected_action": [endpoint.pk]},
                           follow=True)
    assert response.status_code == 200
    assert "failed" in response.content.decode() or "answered 302" in response.content.decode()


@pytest.mark.parametrize("name", [
    "Host", "host", "Transfer-Encoding", "Content-Length", "Content-Type", "User-Agent",
    "Connection", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization",
    "Proxy-Connection", "Webhook-Id", "webhook-signature", "Expect", "Content-Encoding",
    "X-Forwarded-Host", "Forwarded"])
def test_framing_hop_by_hop_and_identity_headers_are_refused_when_saved(tester, receiver,
                                                                       name):
    with pytest.raises(ValueError, match=f"headers: {name} "):
        create_endpoint(receiver.url, headers={name: "x"})
    response = tester.post(reverse("admin:videogen_webhookendpoint_add"), {
        "url": receiver.url, "enabled": "on", "headers": f'{{"{name}": "x"}}', **INLINE})
    assert response.status_code == 200
    assert f"{name} " in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_ordinary_extra_headers_still_go_out(receiver):
    endpoint, _ = create_endpoint(receiver.url, headers={"Authorization": "Bearer t",
                                                         "X-Team": "video"})
    assert sending.deliver(pending_delivery(endpoint).pk) == "delivered"
    headers = receiver.received[0][0]
    assert headers["authorization"] == "Bearer t" and headers["x-team"] == "video"
    assert [n for n, _ in receiver.raw_headers[0]].count("Host") == 1


def test_a_delivery_that_still_raises_does_not_stop_the_run(receiver, monkeypatch, caplog):
    # No receiver can make attempt() raise any more: a bug is simulated to prove the run's guard.
    broken, _ = create_endpoint(receiver.url + "?broken", description="broken")
    create_endpoint(receiver.url, description="healthy")
    record_event()
    real = sending.attempt

    def attempt(delivery):
        if delivery.endpoint.pk == broken.pk:
            raise RuntimeError("a bug")
        return real(delivery)

    monkeypatch.setattr(sending, "attempt", attempt)
    assert sending.deliver_due() == {"error": 1, "delivered": 1}
    assert "raised RuntimeError" in caplog.text


# --- Item 4: the answer is read only so far, and only for so long ------------------------------


def timeout(settings, seconds):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "WEBHOOKS": {
        **settings.VIDEOGEN["WEBHOOKS"], "TIMEOUT": seconds}}


def test_a_2_gib_answer_is_not_read(receiver):
    endpoint, _ = create_endpoint(receiver.url)
    delivery = pending_delivery(endpoint)
    receiver.script = [endless(receiver)]
    started = time.monotonic()
    assert sending.deliver(delivery.pk) == "delivered"
    assert time.monotonic() - started < 5
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == 200 and attempt.response_excerpt == "x" * 2048
    # What the receiver got into its socket before the hang-up: buffers, not gigabytes.
    time.sleep(0.2)
    assert receiver.sent_bytes < 32 * 1024 ** 2


def test_the_excerpt_cap_is_a_setting(receiver, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "WEBHOOKS": {
        **settings.VIDEOGEN["WEBHOOKS"], "RESPONSE_EXCERPT_BYTES": 10}}
    endpoint, _ = create_endpoint(receiver.url)
    receiver.script = [endless(receiver, status=500)]
    assert sending.deliver(pending_delivery(endpoint).pk) == "retrying"
    assert WebhookAttempt.objects.get().response_excerpt == "x" * 10


def test_an_answer_with_nul_bytes_is_stored(receiver):
    endpoint, _ = create_endpoint(receiver.url)

    def answer(handler):
        handler.send_response(500)
        handler.send_header("content-length", "6")
        handler.end_headers()
        handler.wfile.write(b"a\x00b\xed\xa0\x80")  # a NUL, and a UTF-8-encoded surrogate
    receiver.script = [answer]
    assert sending.deliver(pending_delivery(endpoint).pk) == "retrying"
    assert WebhookAttempt.objects.get().response_excerpt.startswith("a\ufffdb")


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_trickling_receiver_is_cut_off_at_the_deadline(receiver, settings, where):
    timeout(settings, 1.5)
    endpoint, _ = create_endpoint(receiver.url)
    delivery = pending_delivery(endpoint)
    if where == "headers":
        receiver.script = [trickle(0.3)]
    else:
        def answer(handler):
            handler.send_response(200)
            handler.send_header("content-length", "100")
            handler.end_headers()
            trickle(0.3, b"y" * 100)(handler)
        receiver.script = [answer]
    started = time.monotonic()
    assert sending.deliver(delivery.pk) == "retrying"
    assert time.monotonic() - started < 3
    delivery.refresh_from_db()
    assert "within 1.5 s" in delivery.last_error


def test_send_a_test_event_to_a_trickling_receiver_answers_by_the_deadline(tester, receiver,
                                                                           settings):
    timeout(settings, 1.5)
    endpoint, _ = create_endpoint(receiver.url)
    receiver.script = [trickle(0.3)]
    started = time.monotonic()
    response = tester.post(reverse("admin:videogen_webhookendpoint_changelist"),
                           {"action": "send_test_event", "_selected_action": [endpoint.pk]},
                           follow=True)
    assert time.monotonic() - started < 3
    assert "within 1.5 s" in response.content.decode()
