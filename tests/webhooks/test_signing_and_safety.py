"""Signatures interoperate with the standardwebhooks package; URLs inside the network are
refused unless allow-listed."""

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as LibError

from videogen.webhooks import WebhookVerificationError, generate_secret, verify
from videogen.webhooks.safety import UnsafeURL, check_url
from videogen.webhooks.signing import sign, signature_header

BODY = json.dumps({"type": "video.completed", "data": {"id": "1"}}).encode()


def signed(secret, msg_id="msg_1", timestamp=None, body=BODY):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body)}


def test_secret_format():
    secret = generate_secret()
    assert secret.startswith("whsec_") and len(secret) > 40
    assert generate_secret() != secret


def test_our_signature_verifies_with_the_library_and_theirs_with_ours():
    secret = generate_secret()
    headers = signed(secret)
    assert Webhook(secret).verify(BODY, headers)["type"] == "video.completed"
    theirs = Webhook(secret).sign("msg_2", __import__("datetime").datetime.now(
        __import__("datetime").UTC), BODY.decode())
    verify(BODY, {**signed(secret, "msg_2"), "webhook-signature": theirs}, [secret])


def test_tampered_body_fails():
    secret = generate_secret()
    headers = signed(secret)
    with pytest.raises(WebhookVerificationError, match="no valid signature"):
        verify(BODY + b" ", headers, [secret])
    with pytest.raises(LibError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_stale_or_future_timestamp_fails():
    secret = generate_secret()
    for skew in (-600, 600):
        headers = signed(secret, timestamp=int(time.time()) + skew)
        with pytest.raises(WebhookVerificationError, match="too old or in the future"):
            verify(BODY, headers, [secret])
        with pytest.raises(LibError):
            Webhook(secret).verify(BODY, headers)


def test_wrong_secret_missing_headers_and_rotation():
    old, new = generate_secret(), generate_secret()
    headers = signed(old)
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers, [new])
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(BODY, {}, [old])
    both = {**headers, "webhook-signature": signature_header([old, new], "msg_1",
                                                             int(headers["webhook-timestamp"]),
                                                             BODY)}
    verify(BODY, both, new)
    verify(BODY, both, [old])
    verify(BODY, {k.upper(): v for k, v in both.items()}, [new])  # any header case


@pytest.mark.parametrize("url", [
    "http://10.0.0.5/hook", "http://192.168.1.1/hook", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8000/x", "http://[::1]/",
    "http://[fd00:ec2::254]/", "http://0.0.0.0/", "http://localhost/hook",
    "http://100.64.0.1/", "http://[::ffff:127.0.0.1]/",
])
def test_internal_addresses_are_refused(url):
    with pytest.raises(UnsafeURL, match="internal address"):
        check_url(url)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/x", "http or https"), ("file:///etc/passwd", "http or https"),
    ("http:///nohost", "no host"), ("http://no-such-host.invalid/", "does not resolve"),
])
def test_bad_urls_are_refused(url, message):
    with pytest.raises(UnsafeURL, match=message):
        check_url(url)


def test_allow_list_by_host_and_by_range():
    check_url("http://127.0.0.1:9000/x", ["127.0.0.1"])
    check_url("http://localhost/x", ["localhost"])
    check_url("http://10.1.2.3/x", ["10.0.0.0/8"])
    with pytest.raises(UnsafeURL):
        check_url("http://10.1.2.3/x", ["192.168.0.0/16"])
    check_url("http://93.184.216.34/x")  # a public address


@pytest.mark.django_db
def test_send_time_check_refuses_once_no_longer_allowed(receiver, settings):
    from videogen.models import WebhookDelivery, WebhookEvent
    from videogen.webhooks import delivery as sending
    from videogen.webhooks.endpoints import create_endpoint

    endpoint, _ = create_endpoint(receiver.url)
    settings.VIDEOGEN = {**settings.VIDEOGEN, "WEBHOOKS": {"ALLOWED_HOSTS": []}}
    event = WebhookEvent.objects.create(id="msg_x", type="video.failed", payload={"type": "x"})
    item = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    assert sending.deliver(item.pk) == "failed"
    item.refresh_from_db()
    assert item.last_error.startswith("refused:") and receiver.received == []


@pytest.mark.parametrize(("url", "answer", "sent_to", "host", "sni"), [
    ("https://hooks.example.com/in", "93.184.216.34", "https://93.184.216.34/in",
     "hooks.example.com", "hooks.example.com"),
    ("http://hooks.example.com:8080/in?x=1", "93.184.216.34",
     "http://93.184.216.34:8080/in?x=1", "hooks.example.com:8080", None),
    ("https://user:pw@hooks.example.com/in", "2606:2800:220:1::1",
     "https://user:pw@[2606:2800:220:1::1]/in", "hooks.example.com", "hooks.example.com"),
])
def test_a_send_goes_to_the_address_that_was_checked(monkeypatch, url, answer, sent_to, host,
                                                     sni):
    import socket

    from videogen.webhooks.safety import pinned

    family = socket.AF_INET6 if ":" in answer else socket.AF_INET
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (family, socket.SOCK_STREAM, 6, "", (answer, 443))])
    target = pinned(url)
    assert target.url == sent_to and target.headers == {"host": host}
    assert target.extensions == ({"sni_hostname": sni} if sni else {})


def test_addresses_and_allow_listed_names_are_sent_as_written():
    from videogen.webhooks.safety import pinned

    assert pinned("http://93.184.216.34/in").url == "http://93.184.216.34/in"
    assert pinned("http://localhost:9000/in", ["localhost"]).url == "http://localhost:9000/in"
