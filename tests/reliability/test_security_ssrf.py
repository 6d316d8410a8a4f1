"""SSRF: webhook URLs that point inside the network are refused when saved and again when sent,
whatever form the address takes, with the allow-list as the only way in; and the media URLs a
job carries are never fetched by this app (the provider fetches them).

No test here reaches the network: hostnames "resolve" through a patched ``getaddrinfo``, and
any attempt to send raises."""

import socket

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.servers import LocalServer, QuietHandler
from videogen import api
from videogen.models import VideoJob
from videogen.webhooks import delivery as sending
from videogen.webhooks.endpoints import create_endpoint
from videogen.webhooks.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)
from videogen.webhooks.safety import UnsafeURL, check_url
from videogen.webhooks.signing import generate_secret

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

PUBLIC = "93.184.216.34"
DNS = {"hooks.example.com": [PUBLIC], "internal.example.com": ["10.20.30.40"],
       "metadata.example.com": ["169.254.169.254"], "mixed.example.com": [PUBLIC, "127.0.0.1"],
       "v6.example.com": ["::1"], "mapped.example.com": ["::ffff:10.0.0.1"],
       "localhost": ["127.0.0.1", "::1"], "hooks.internal": ["10.1.2.3"]}

REFUSED = [
    "http://10.0.0.1/hooks", "http://172.16.5.4/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://100.100.100.200/", "http://100.64.0.1/",
    "http://127.0.0.1:8000/", "http://[::1]/", "http://[::]/", "http://0.0.0.0/", "http://0/",
    "http://localhost/", "http://2130706433/", "http://017700000001/", "http://0x7f000001/",
    "http://0x7f.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/", "http://[::127.0.0.1]/", "http://[fe80::1%25eth0]/",
    "http://[fd00:ec2::254]/", "http://[fc00::1]/", "http://224.0.0.1/", "http://255.255.255.255/",
    "http://internal.example.com/", "http://metadata.example.com/", "http://mixed.example.com/",
    "http://v6.example.com/", "http://mapped.example.com/", "http://user:pw@10.0.0.1/",
    "http://hooks.example.com@10.0.0.1/", "ftp://hooks.example.com/", "file:///etc/passwd",
    "http:///nohost", "http://unknown.example.com/", "https://hooks.example.com:99999/",
    "http://[x]/", "https://[::1", "http://hooks.example.com:-1/",
]


# The inline of secrets on the endpoint page (none added).
INLINE = {"secrets-TOTAL_FORMS": "0", "secrets-INITIAL_FORMS": "0"}


@pytest.fixture(autouse=True)
def no_allow_list(settings):
    """The demo settings allow loopback for its own receiver; these tests allow nothing."""
    current = getattr(settings, "VIDEOGEN", {})
    settings.VIDEOGEN = {**current, "WEBHOOKS": {**current.get("WEBHOOKS", {}),
                                                 "ALLOWED_HOSTS": []}}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    """Names resolve from DNS above; nothing is ever sent."""
    def getaddrinfo(host, port, *args, **kwargs):
        if host not in DNS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port or 443)) for a in DNS[host]]

    def no_send(*args, **kwargs):
        raise AssertionError("an HTTP request was sent")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpx.Client, "send", no_send)


@pytest.mark.parametrize("url", REFUSED)
def test_refused_by_the_guard(url):
    with pytest.raises(UnsafeURL):
        check_url(url)


@pytest.mark.parametrize("url", ["https://hooks.example.com/x", f"http://{PUBLIC}:8080/x"])
def test_public_addresses_pass(url):
    check_url(url)


@pytest.mark.parametrize("url", [u for u in REFUSED if "://" in u and "ftp" not in u
                                 and "///" not in u][:24])
def test_refused_when_the_endpoint_is_saved_in_the_admin(admin_client, url):
    response = admin_client.post(reverse("admin:videogen_webhookendpoint_add"),
                                 {"url": url, **INLINE})
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", REFUSED[::3])
def test_refused_when_the_endpoint_is_made_from_code(url):
    with pytest.raises(UnsafeURL):
        create_endpoint(url)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["https://hooks.example.com:99999/x",
                                 "https://hooks.example.com:65536/x"])
def test_a_malformed_port_is_a_field_error_not_a_500(admin_client, url):
    """Django's URLField lets a five-digit port through; urlsplit then raised a plain
    ValueError in the guard, which the form did not catch."""
    response = admin_client.post(reverse("admin:videogen_webhookendpoint_add"),
                                 {"url": url, **INLINE})
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()


def stored_endpoint(url):
    """An endpoint whose URL was fine when saved (or came from settings) and is not now."""
    endpoint = WebhookEndpoint.objects.create(url=url)
    WebhookSecret.objects.create(endpoint=endpoint, secret=generate_secret())
    return endpoint


@pytest.mark.parametrize("url", REFUSED[::2])
def test_refused_again_when_sent(url):
    endpoint = stored_endpoint(url)
    event = WebhookEvent.objects.create(id="msg_ssrf", type="video.failed",
                                        payload={"type": "video.failed", "data": {}})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint,
                                              next_attempt_at=timezone.now())
    if url == "http://unknown.example.com/":
        # A host that does not resolve at send time may be a DNS outage: retried, never sent.
        assert sending.deliver(delivery.pk) == "retrying"
        delivery.refresh_from_db()
        assert "does not resolve" in delivery.last_error
    else:
        assert sending.deliver(delivery.pk) == "failed"  # refused: not retried
        delivery.refresh_from_db()
        assert delivery.last_error.startswith("refused")
    assert not sending.send_test(endpoint).ok


def test_a_name_that_starts_resolving_inside_is_refused_at_send(monkeypatch):
    endpoint = stored_endpoint("https://hooks.example.com/x")
    DNS_NOW = {**DNS, "hooks.example.com": ["10.9.8.7"]}
    monkeypatch.setitem(DNS, "hooks.example.com", DNS_NOW["hooks.example.com"])
    result = sending.send_test(endpoint)
    assert result.error.startswith("refused") and "10.9.8.7" in result.error


def test_the_allow_list_takes_names_and_ranges(settings):
    with pytest.raises(UnsafeURL, match="ALLOWED_HOSTS"):
        check_url("http://hooks.internal/x")
    check_url("http://hooks.internal/x", ["hooks.internal"])
    check_url("http://HOOKS.internal/x", ["hooks.internal"])
    check_url("http://hooks.internal/x", ["10.1.0.0/16"])
    check_url("http://10.1.200.1/x", ["10.1.0.0/16"])
    with pytest.raises(UnsafeURL):
        check_url("http://10.2.0.1/x", ["10.1.0.0/16"])
    with pytest.raises(UnsafeURL):  # a name on the list does not allow other names
        check_url("http://internal.example.com/x", ["hooks.internal"])
    settings.VIDEOGEN = {"WEBHOOKS": {"ALLOWED_HOSTS": ["hooks.internal"]}}
    endpoint, _secret = create_endpoint("http://hooks.internal/x")
    assert endpoint.pk


# --- Media URLs -------------------------------------------------------------------------------


def test_media_urls_are_never_fetched_by_this_app(admin_client, monkeypatch):
    """Keyframe, reference, video and audio URLs go to the provider as they are: neither
    create() nor the admin form resolves or requests them (the fixture would raise)."""
    def no_dns(*args, **kwargs):
        raise AssertionError("a media URL was resolved")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    job = api.create(model="Wan-AI/Wan2.2-I2V-A14B", prompt="a kettle",
                     images={"first": "http://169.254.169.254/latest/a.png"},
                     media={"reference_images": ["http://10.0.0.1/r.png"],
                            "frame_videos": [{"video": "http://127.0.0.1/v.mp4"}],
                            "audio_inputs": ["http://[::1]/a.wav"]})
    assert job.media["frame_images"][0]["input_image"].startswith("http://169.254")
    response = admin_client.post(reverse("admin:videogen_videojob_add"), {
        "model": "google/veo-2.0", "prompt": "a kettle", "size": "1280x720",
        "first_frame_url": "http://169.254.169.254/latest/a.png", "generate_audio": "unknown"})
    assert response.status_code == 302
    assert VideoJob.objects.count() == 2


class Recorder:
    """A local HTTP server that records every request it gets."""

    def __init__(self):
        self.paths = []
        recorder = self

        class Handler(QuietHandler):
            def do_GET(self):
                recorder.paths.append(self.path)
                self.send_response(200)
                self.send_header("content-length", "4")
                self.end_headers()
                self.wfile.write(b"\0\0\0\0")

            do_POST = do_GET

        self.http = LocalServer(Handler)
        self.url = self.http.url

    def stop(self):
        self.http.stop()


@pytest.fixture
def recorder(monkeypatch):
    monkeypatch.undo()  # this test uses the real resolver and real sockets, on 127.0.0.1 only
    instance = Recorder()
    yield instance
    instance.stop()


def test_the_archive_refuses_a_video_url_inside_the_network(recorder, sandbox):
    """A provider answer (or a compromised one) naming an internal address must not make this
    server fetch it; the provider's own origin stays trusted."""
    from tests.factories import make_job
    from videogen import archive
    from videogen.models import ArchiveStatus, Status

    job = make_job(Status.COMPLETED, archive_status=ArchiveStatus.PENDING,
                   provider_video_url=recorder.url + "/latest/meta-data/video.mp4")
    archive.archive_job(job.pk)
    assert recorder.paths == []


def test_a_rebinding_name_cannot_reach_an_internal_receiver(recorder, monkeypatch):
    """The first lookup (the check) answers a public address, the second (the connection)
    answers loopback: the request must go to the checked address or not at all."""
    answers = iter([PUBLIC])
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example.com":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = recorder.url.rsplit(":", 1)[1]
    endpoint = stored_endpoint(f"http://rebind.example.com:{port}/hooks")
    sending.send_test(endpoint)
    assert recorder.paths == []


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client
