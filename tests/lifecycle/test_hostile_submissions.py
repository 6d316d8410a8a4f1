"""A hostile provider and hostile input around submissions (issue 18): the echoed API key,
create/submit validation, unstorable text, a provider that cannot be reached for a while."""

import json
import logging

import pytest
from django.urls import reverse

from tests.client.scripted import KEY, Scripted
from tests.client.test_hostile import ECHOES, leaks
from videogen import lifecycle
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


def new_job(**fields):
    values = {"model": "google/veo-2.0", "prompt": "a lighthouse", "seconds": "5",
              "width": 1280, "height": 720} | fields
    return VideoJob.objects.create(**values)


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
    job = lifecycle.submit(new_job())
    assert job.status == Status.FAILED
    page = admin_client.get(reverse("admin:videogen_videojob_change", args=[job.pk]))
    assert page.status_code == 200
    assert not leaks(everything_stored(job) + caplog.text + page.content.decode())
    assert "[redacted]" in job.error_message


@pytest.mark.parametrize("echo", ECHOES)
def test_a_key_echoed_by_a_failed_job_answer_is_nowhere(provider, echo, caplog):
    caplog.set_level(logging.DEBUG)
    job = new_job(status=Status.QUEUED, remote_id="r-1")
    provider.script = [(200, {}, json.dumps({
        "id": "r-1", "status": "failed", "error": {"code": echo, "message": f"no: {echo}"},
        "info": {"echo": echo}}).encode())]
    job = lifecycle.repoll(job)
    assert job.status == Status.FAILED
    assert not leaks(everything_stored(job) + caplog.text)
    assert job.error_code.endswith("[redacted]")
