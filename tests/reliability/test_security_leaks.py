"""The API key and the webhook secrets never show up where they should not: a full run —
create, submit, poll, complete, archive, webhook deliveries to a real receiver, a job that
fails, a provider 500, a refused key, an exception in a task and a 500 in an admin page — with
everything captured: every log record (root and every named logger, at DEBUG), every admin page,
every webhook received (body and headers), every JobEvent, WebhookAttempt and delivery row, the
error e-mails Django would send to ADMINS, cookies, and the repr/str of clients, settings and
exceptions. The secrets are distinctive, so a hit is a leak; a secret is shown to staff exactly
once, on the page right after it was made."""

import base64
import logging
import secrets
from contextlib import contextmanager

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.log import AdminEmailHandler

# The webhooks suite's receiver (it keeps the raw headers and bodies), not the harness's.
from tests.webhooks.conftest import receiver  # noqa: F401
from videogen import api, conf
from videogen.models import JobEvent, VideoJob
from videogen.provider import video_client
from videogen.webhooks.endpoints import create_endpoint, sync_settings_endpoints
from videogen.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.reliability]

API_KEY = "vgk-LEAKCHECK-" + secrets.token_hex(12)
CODE_SECRET_BYTES = b"LEAKCHECK-code-endpoint-secret!!"
SETTINGS_SECRET_BYTES = b"LEAKCHECK-settings-endpoint-key!"
CODE_SECRET = "whsec_" + base64.b64encode(CODE_SECRET_BYTES).decode()
SETTINGS_SECRET = "whsec_" + base64.b64encode(SETTINGS_SECRET_BYTES).decode()


def needles_for(secret: str) -> list[str]:
    """A secret, its base64 body and the key bytes it stands for (as text and hex)."""
    body = secret.removeprefix("whsec_")
    raw = base64.b64decode(body)
    return [secret, body, raw.hex(), raw.decode("latin-1")]


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))
        self.lines.append(repr(record.args))


@contextmanager
def every_log_record():
    """A handler on the root and on every logger that does not propagate (videogen's own,
    in the demo settings), everything at DEBUG."""
    handler = Capture()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in
                                      list(logging.Logger.manager.loggerDict))]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        for lg, level in levels:
            lg.setLevel(level)
            lg.removeHandler(handler)


@contextmanager
def error_mails(settings):
    """Django's 500 reports, as an AdminEmailHandler would mail them (with the HTML page)."""
    settings.ADMINS = [("ops", "ops@example.com")]
    handler = AdminEmailHandler(include_html=True)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield mail.outbox
    finally:
        logger.removeHandler(handler)


def run_everything(client, sandbox, receiver, texts):
    """The scenario; everything it sees goes into ``texts`` (what is shown on purpose is
    returned separately)."""
    # Endpoints: one from code, one from settings (both with known secrets), one made in the
    # admin (its random secret is shown once).
    create_endpoint(receiver.url, secret=CODE_SECRET, description="from code")
    sync_settings_endpoints()
    page = client.post(reverse("admin:videogen_webhookendpoint_add"), {
        "url": receiver.url + "/admin", "description": "from the admin",
        "secrets-TOTAL_FORMS": "0", "secrets-INITIAL_FORMS": "0"}, follow=True)
    shown = [page.content.decode()]

    # A job that completes and is archived, announced to all three endpoints.
    done = api.create(model="google/veo-2.0", prompt="a lighthouse at dusk", seconds=1,
                      width=1280, height=720, fps=8, metadata={"campaign": "leaks"})
    api.wait(api.submit(done), timeout=60, interval=0.05)
    # A job the provider fails.
    sandbox.faults.add("fail_job", count=1)
    failing = api.submit(api.create(model="google/veo-2.0", prompt="a failing kettle",
                                    seconds=1, width=1280, height=720, fps=8))
    api.wait(failing, timeout=60, interval=0.05)
    # A provider 500 while polling, then recovery.
    flaky = api.submit(api.create(model="google/veo-2.0", prompt="a flaky kettle", seconds=1,
                                  width=1280, height=720, fps=8))
    sandbox.faults.add("error", status=500, route="retrieve", count=5)
    texts.append(repr(_raised(lambda: video_client(max_retries=0).retrieve(
        flaky.remote_id))))
    api.refresh(flaky)
    sandbox.faults.clear()
    # The provider refuses the key.
    sandbox.configure(api_key="vgk-some-other-key")
    refused = api.submit(api.create(model="google/veo-2.0", prompt="a refused kettle",
                                    seconds=1, width=1280, height=720, fps=8))
    error = _raised(lambda: video_client().retrieve(flaky.remote_id))
    texts.extend([str(error), repr(error), repr(vars(error)), repr(error.args)])
    sandbox.configure(api_key=API_KEY)
    # An exception inside a task (archiving), logged by the task.
    from unittest import mock
    with mock.patch("videogen.archive.fetch_and_store",
                    side_effect=RuntimeError("disk on fire")):
        crashed = api.submit(api.create(model="google/veo-2.0", prompt="a crashing kettle",
                                        seconds=1, width=1280, height=720, fps=8))
        _raised(lambda: api.wait(crashed, timeout=20, interval=0.05))
    # Rotation: the new secret is shown once.
    endpoint = WebhookEndpoint.objects.get(description="from code")
    page = client.post(reverse("admin:videogen_webhookendpoint_changelist"), {
        "action": "rotate_secrets", "_selected_action": [str(endpoint.pk)], "index": "0"},
        follow=True)
    shown.append(page.content.decode())
    texts.extend(str(c) for c in client.cookies.values())
    # A 500 in an admin page, reported the way Django mails ADMINS.
    with mock.patch("videogen.admin.VideoJobAdmin.job_context",
                    side_effect=RuntimeError("template on fire")):
        client.raise_request_exception = False
        response = client.get(reverse("admin:videogen_videojob_change", args=[done.pk]))
        client.raise_request_exception = True
        assert response.status_code == 500
    return [done, failing, flaky, refused, crashed], shown


def _raised(call):
    try:
        call()
    except Exception as error:
        return error
    return None


def admin_pages(client):
    """Every list and change page of every videogen model, the dashboard and progress JSON."""
    from django.contrib import admin

    pages = []
    for model, _model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label != "videogen":
            continue
        pages.append(client.get(reverse(f"admin:videogen_{opts.model_name}_changelist")))
        for pk in model.objects.values_list("pk", flat=True)[:30]:
            pages.append(client.get(reverse(f"admin:videogen_{opts.model_name}_change",
                                            args=[pk])))
    pages.append(client.get(reverse("admin:videogen_videojob_dashboard")))
    for job in VideoJob.objects.all():
        pages.append(client.get(reverse("admin:videogen_videojob_progress_one", args=[job.pk])))
    assert all(page.status_code == 200 for page in pages), [
        (p.request["PATH_INFO"], p.status_code) for p in pages if p.status_code != 200]
    return [page.content.decode() for page in pages]


def rows():
    """Every stored row a person or a receiver could see."""
    texts = []
    for model in (JobEvent, VideoJob, WebhookAttempt, WebhookDelivery, WebhookEvent,
                  WebhookEndpoint):
        texts.extend(repr(values) for values in model.objects.values())
        texts.extend(f"{obj!r} {obj}" for obj in model.objects.all())
    texts.extend(f"{obj!r} {obj}" for obj in WebhookSecret.objects.all())
    return texts


def test_no_secret_leaks_anywhere_in_a_full_run(sandbox, receiver, settings, admin_client):
    sandbox.configure(api_key=API_KEY)
    settings.VIDEOGEN = {**settings.VIDEOGEN, "API_KEY": API_KEY, "WEBHOOKS": {
        **settings.VIDEOGEN.get("WEBHOOKS", {}),
        "ENDPOINTS": [{"KEY": "crm", "URL": receiver.url + "/settings",
                       "SECRET": SETTINGS_SECRET, "HEADERS": {"X-Team": "video"}}]}}
    texts = []
    with every_log_record() as logs, error_mails(settings) as outbox:
        jobs, shown = run_everything(admin_client, sandbox, receiver, texts)
        texts.extend(admin_pages(admin_client))
    # What was captured, beyond the pages.
    texts.extend(logs.lines)
    texts.extend(f"{m.subject}\n{m.body}\n" + "".join(c for c, _t in m.alternatives)
                 for m in outbox)
    texts.extend(f"{headers!r} {body!r}" for headers, body in receiver.received)
    texts.extend(rows())
    settings_now = conf.get_settings()
    texts += [repr(settings_now), str(settings_now), repr(settings_now.webhooks),
              repr(video_client()), str(video_client())]

    # The scenario did happen (else "nothing leaked" would prove nothing).
    statuses = {job.prompt: VideoJob.objects.get(pk=job.pk).status for job in jobs}
    assert statuses["a lighthouse at dusk"] == "completed"
    assert statuses["a failing kettle"] == "failed"
    assert statuses["a refused kettle"] == "failed"
    assert len(receiver.received) >= 6 and outbox and any("disk on fire" in t for t in logs.lines)
    assert any("500" in line for line in logs.lines)

    rotated = WebhookEndpoint.objects.get(description="from code").active_secrets()[-1]
    made_in_admin = WebhookEndpoint.objects.get(description="from the admin").active_secrets()[0]
    needles = {"API key": [API_KEY], "code endpoint secret": needles_for(CODE_SECRET),
               "settings endpoint secret": needles_for(SETTINGS_SECRET),
               "rotated secret": needles_for(rotated),
               "admin-made secret": needles_for(made_in_admin)}
    for what, values in needles.items():
        leaks = leaks_of(texts, values)
        assert not leaks, f"the {what} appears in: {leaks[:3]}"
    # Shown once, on purpose: each new secret on the page right after it was made.
    assert made_in_admin in shown[0] and rotated in shown[1]
    assert made_in_admin not in shown[1] and rotated not in shown[0]


def leaks_of(texts, values):
    return [text[max(0, text.find(value) - 200):text.find(value) + 100]
            for value in values for text in texts if value in text]


def test_the_capture_would_see_a_leak(settings, rf):
    """The canary: a key logged by a non-propagating videogen logger, and a key held in a local
    variable of a view that fails, are both caught by the capture above."""
    with every_log_record() as logs, error_mails(settings) as outbox:
        logging.getLogger("videogen.tasks").debug("oops %s", API_KEY)
        request = rf.get("/admin/")

        def view():
            api_key = API_KEY  # noqa: F841 - a local the error report shows
            raise RuntimeError("boom")

        try:
            view()
        except RuntimeError:
            logging.getLogger("django.request").error("Internal Server Error", exc_info=True,
                                                      extra={"request": request,
                                                             "status_code": 500})
    assert leaks_of(logs.lines, [API_KEY])
    assert leaks_of(["".join(c for c, _t in m.alternatives) for m in outbox], [API_KEY])


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


# --- Regressions ----------------------------------------------------------------------------------

BAD_SECRET = "whsec_LEAKCHECK-not-base64!!"


def test_a_secret_that_cannot_sign_is_refused_in_settings_and_from_code(settings):
    """It would fail every delivery with a traceback holding it; now it never gets stored."""
    from django.core.exceptions import ImproperlyConfigured

    settings.VIDEOGEN = {"WEBHOOKS": {"ENDPOINTS": [{"KEY": "crm", "URL": "https://x.example",
                                                     "SECRET": BAD_SECRET}]}}
    with pytest.raises(ImproperlyConfigured) as error:
        conf.get_settings()
    assert "VIDEOGEN['WEBHOOKS']['ENDPOINTS'][0]['SECRET']" in str(error.value)
    assert BAD_SECRET not in str(error.value)
    settings.VIDEOGEN = {}
    with pytest.raises(ValueError, match="whsec_") as error:
        create_endpoint("https://93.184.216.34/hooks", secret=BAD_SECRET)
    assert BAD_SECRET not in str(error.value)
    assert not WebhookEndpoint.objects.exists()


def test_error_reports_hide_secrets_held_by_the_signing_code(rf, settings):
    """Django mails a failing request's frames and their variables to ADMINS; the frames that
    hold secrets (signing, endpoint creation and rotation) are marked sensitive."""
    import sys

    from django.views.debug import ExceptionReporter

    from videogen.webhooks import signing

    settings.DEBUG = False
    for call in (lambda: signing.signature_header([CODE_SECRET, BAD_SECRET], "msg", 1, b"{}"),
                 lambda: signing.verify(b"{}", {"webhook-id": "m", "webhook-timestamp": "1",
                                                "webhook-signature": "v1,x"},
                                        [BAD_SECRET], now=1)):
        try:
            call()
        except ValueError:
            report = ExceptionReporter(rf.get("/admin/"), *sys.exc_info()).get_traceback_html()
        else:
            raise AssertionError("the bad secret signed")
        assert BAD_SECRET not in report and CODE_SECRET not in report
        assert "********" in report  # the variables are there, hidden


def test_sending_a_test_with_a_broken_stored_secret_is_a_message_not_a_500(admin_client):
    endpoint = WebhookEndpoint.objects.create(url="https://93.184.216.34/hooks")
    WebhookSecret.objects.create(endpoint=endpoint, secret=BAD_SECRET)  # old data, say
    response = admin_client.post(reverse("admin:videogen_webhookendpoint_changelist"), {
        "action": "send_test_event", "_selected_action": [str(endpoint.pk)], "index": "0"},
        follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "failed: cannot sign: a webhook secret is" in text and BAD_SECRET not in text


def test_a_delivery_with_a_broken_stored_secret_records_a_failed_attempt():
    from django.utils import timezone

    from videogen.webhooks import delivery as sending

    endpoint = WebhookEndpoint.objects.create(url="https://93.184.216.34/hooks")
    WebhookSecret.objects.create(endpoint=endpoint, secret=BAD_SECRET)
    event = WebhookEvent.objects.create(id="msg_bad", type="video.failed", payload={})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint,
                                              next_attempt_at=timezone.now())
    assert sending.deliver(delivery.pk) in ("retrying", "failed")
    assert WebhookAttempt.objects.filter(delivery=delivery).exists()
