"""A hostile provider and hostile input around submissions (issue 18): the echoed API key,
create/submit validation, unstorable text, a provider that cannot be reached for a while."""

import json
import logging

import pytest
from django.urls import reverse

from tests.client.scripted import KEY, Scripted, back_after
from tests.client.test_hostile import ECHOES, leaks
from tests.factories import make_job
from tests.servers import free_port
from videogen import api, polling, submission
from videogen.models import JobEvent, Status, VideoJob
from videogen.progress import status_json
from videogen.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(settings):
    """A scripted provider with VIDEOGEN pointed at it and the key set."""
    server = Scripted()
    settings.VIDEOGEN = {**getattr(settings, "VIDEOGEN", {}), "BASE_URL": server.url,
                         "API_KEY": KEY, "MAX_RETRIES": 0}
    yield server
    server.stop()


def everything_stored(job):
    job.refresh_from_db()
    rows = [{f.attname: getattr(job, f.attname) for f in VideoJob._meta.concrete_fields}]
    rows += list(JobEvent.objects.filter(job=job).values())
    rows += list(WebhookEvent.objects.filter(job=job).values("payload"))
    return json.dumps(rows, default=str) + json.dumps(status_json(job))


@pytest.mark.parametrize("echo", ECHOES)
def test_a_key_echoed_by_a_refused_create_is_nowhere(provider, echo, caplog, admin_client):
    caplog.set_level(logging.DEBUG)
    provider.script = [(400, {}, json.dumps({"error": {
        "message": f"bad key {echo}", "param": echo, "code": echo}}).encode())]
    job = submission.submit(make_job())
    assert job.status == Status.FAILED
    page = admin_client.get(reverse("admin:videogen_videojob_change", args=[job.pk]))
    assert page.status_code == 200
    assert not leaks(everything_stored(job) + caplog.text + page.content.decode())
    assert "[redacted]" in job.error_message


@pytest.mark.parametrize("echo", ECHOES)
def test_a_key_echoed_by_a_failed_job_answer_is_nowhere(provider, echo, caplog):
    caplog.set_level(logging.DEBUG)
    job = make_job(status=Status.QUEUED, remote_id="r-1")
    provider.script = [(200, {}, json.dumps({
        "id": "r-1", "status": "failed", "error": {"code": echo, "message": f"no: {echo}"},
        "info": {"echo": echo}}).encode())]
    job = polling.repoll(job)
    assert job.status == Status.FAILED
    assert not leaks(everything_stored(job) + caplog.text)
    assert job.error_code.endswith("[redacted]")


# --- Bad input: a clear error naming the field, never a 500 or a database error -------------

SURROGATE = "\udc80"


@pytest.mark.parametrize("fields", [
    {"metadata": {"note": f"bad {SURROGATE}"}},
    {"metadata": {SURROGATE: 1}},
    {"media": {"reference_images": [f"https://img.example/{SURROGATE}.png"]},
     "model": "unknown/any"},
    {"prompt": f"a cat {SURROGATE}"},
    {"negative_prompt": SURROGATE},
], ids=["metadata-value", "metadata-key", "media", "prompt", "negative_prompt"])
def test_a_lone_surrogate_is_refused_by_create_naming_the_field(fields):
    with pytest.raises(api.InvalidRequest) as caught:
        api.create(**{"model": "google/veo-2.0", "prompt": "a cat", **fields})
    field = next(iter(fields))
    assert any(p.field.startswith(field) for p in caught.value.problems), caught.value.problems
    assert "surrogate" in str(caught.value)
    assert not VideoJob.objects.exists()


def test_a_lone_surrogate_in_the_admin_metadata_is_a_form_error(admin_client):
    from tests.admin.test_form import ADD, errors_of, form_data

    response = admin_client.post(ADD, form_data(metadata='{"note": "\\udc80"}'))
    assert response.status_code == 200
    assert "surrogate" in errors_of(response)["metadata"]
    assert not VideoJob.objects.exists()


@pytest.mark.parametrize("seconds", [-5, -5.0, "-5", " -5 "])
def test_create_refuses_what_submit_would_refuse(seconds):
    with pytest.raises(api.InvalidRequest, match="seconds"):
        api.create(model="unknown/any", prompt="a cat", seconds=seconds)
    assert not VideoJob.objects.exists()


@pytest.mark.parametrize("seconds", [5, 5.0, "5", " 5 "])
def test_what_create_saves_submit_does_not_refuse(seconds):
    job = api.create(model="unknown/any", prompt="a cat", seconds=seconds)
    assert not [p for p in submission.check_request(job) if p.is_error]


@pytest.mark.parametrize(("args", "message"), [
    (["generate", "--model", "unknown/any", "--prompt", "a cat", "--media",
      '{"reference_images": ["https://img.example/\\udc80.png"]}'], "surrogate"),
    (["generate", "--model", "google/veo-2.0", "--prompt", f"a cat {SURROGATE}"], "surrogate"),
    (["generate", "--model", "google/veo-2.0", "--prompt", "a cat", "--media", SURROGATE],
     "--media is not valid JSON"),
    (["list", "--limit", "99999999999999999999"], "--limit"),
    (["generate", "--model", "google/veo-2.0", "--prompt", "a cat", "--wait", "--timeout",
      "nan"], "--timeout"),
    (["generate", "--model", "google/veo-2.0", "--prompt", "a cat", "--wait", "--timeout",
      "-1"], "--timeout"),
    (["generate", "--model", "google/veo-2.0", "--prompt", "a cat", "--wait", "--timeout",
      "inf"], "--timeout"),
], ids=["media-surrogate", "prompt-surrogate", "media-not-json", "limit-huge", "timeout-nan",
        "timeout-negative", "timeout-inf"])
def test_the_cli_refuses_bad_input_before_sending(provider, args, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=message) as caught:
        call_command("videogen", *args)
    str(caught.value).encode("utf-8")  # printable: no lone surrogate in the message
    assert provider.requests == [] and not VideoJob.objects.exists()


# --- A provider that cannot be reached for a while -------------------------------------------


def test_a_provider_outage_of_a_few_seconds_fails_no_job(settings):
    port = free_port()
    answers = [(200, {}, json.dumps({"id": f"r-{n}", "status": "queued"}).encode())
               for n in range(3)]
    started = back_after(2.0, port, answers)
    settings.VIDEOGEN = {**getattr(settings, "VIDEOGEN", {}), "API_KEY": KEY,
                         "BASE_URL": f"http://127.0.0.1:{port}", "SUBMIT_CONNECT_RETRY": 30}
    try:
        jobs = [submission.submit(make_job()) for _ in range(3)]
    finally:
        for server in started:
            server.stop()
    assert [job.status for job in jobs] == [Status.QUEUED] * 3
    assert [job.remote_id for job in jobs] == ["r-0", "r-1", "r-2"]
    assert len(started[0].requests) == 3  # each sent once


def test_a_provider_unreachable_past_the_window_fails_the_job_saying_why(settings):
    settings.VIDEOGEN = {**getattr(settings, "VIDEOGEN", {}), "API_KEY": KEY,
                         "BASE_URL": f"http://127.0.0.1:{free_port()}",
                         "SUBMIT_CONNECT_RETRY": 1.5}
    job = submission.submit(make_job())
    assert job.status == Status.FAILED
    assert job.error_code == "provider_unreachable"
    assert "could not connect to the video API" in job.error_message
    assert "nothing was sent" in job.error_message


def test_the_connect_window_ends_well_before_the_task_queue_kills_the_worker(settings):
    from videogen.provider import client_kwargs

    settings.VIDEOGEN = {**getattr(settings, "VIDEOGEN", {}), "SUBMIT_CONNECT_RETRY": 600}
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 90}
    assert client_kwargs()["connect_retry_seconds"] == 45
