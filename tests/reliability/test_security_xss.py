"""Stored data is shown escaped: a job made from code (or answered by a provider) with markup in
every text field it has, and a webhook endpoint and event carrying markup, render on every admin
page and in the progress JSON without one unescaped tag. Uploaded files are named by the job,
never by the uploader."""

import json

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.admin.conftest import png_bytes
from tests.factories import make_job
from videogen import api
from videogen.models import JobEvent, Status, VideoJob
from videogen.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

XSS = '"><script>alert("vg-xss")</script><img src=x onerror=alert(1)>'
MARKERS = ('<script>alert("vg-xss")', "<img src=x onerror")


@pytest.fixture
def marked_up(db):
    job = api.create(model="unknown/" + XSS[:60], prompt=XSS, negative_prompt=XSS,
                     metadata={XSS: XSS},
                     media={"reference_images": ["https://img.example.com/" + XSS[:40]]})
    failed = make_job(Status.FAILED, prompt=XSS, error_code=XSS[:100], error_message=XSS,
                      last_response={"error": {"message": XSS}}, remote_id="r-" + XSS[:60])
    JobEvent.objects.create(job=failed, kind="note", detail=XSS)
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/" + XSS[:30],
                                              description=XSS, headers={"X-Team": "a"})
    event = WebhookEvent.objects.create(id="msg_xss", type="video.failed", job=failed,
                                        payload={"data": {"prompt": XSS}})
    WebhookDelivery.objects.create(event=event, endpoint=endpoint, last_error=XSS)
    return [job, failed]


def pages(client):
    found = []
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label != "videogen":
            continue
        found.append(client.get(reverse(f"admin:videogen_{opts.model_name}_changelist"),
                                {"q": XSS}))
        found.append(client.get(reverse(f"admin:videogen_{opts.model_name}_changelist")))
        for pk in model.objects.values_list("pk", flat=True)[:10]:
            found.append(client.get(reverse(f"admin:videogen_{opts.model_name}_change",
                                            args=[pk])))
    found.append(client.get(reverse("admin:videogen_videojob_dashboard")))
    return found


def test_markup_in_stored_fields_is_escaped_everywhere(admin_client, marked_up):
    for page in pages(admin_client):
        assert page.status_code == 200, page.request["PATH_INFO"]
        text = page.content.decode()
        for marker in MARKERS:
            assert marker not in text, (page.request["PATH_INFO"], marker)
    for job in marked_up:
        progress = admin_client.get(reverse("admin:videogen_videojob_progress_one",
                                            args=[job.pk]))
        assert progress["Content-Type"] == "application/json"
        json.loads(progress.content)


def test_uploaded_file_names_come_from_the_job(admin_client, settings, tmp_path):
    upload = SimpleUploadedFile("../../../../etc/" + XSS[:20] + ".png", png_bytes(),
                                content_type="image/png")
    response = admin_client.post(reverse("admin:videogen_videojob_add"), {
        "model": "Wan-AI/wan2.7-r2v", "prompt": "a kettle", "resolution": "720P",
        "ratio": "16:9", "generate_audio": "unknown", "reference_files": [upload]})
    assert response.status_code == 302
    job = VideoJob.objects.get()
    [url] = job.media["reference_images"]
    assert f"{job.pk}-reference-1.png" in url and ".." not in url and "script" not in url


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


def test_a_stored_malformed_url_does_not_break_the_job_page(admin_client):
    """Media written directly (old rows, a script) with a URL urlsplit refuses: the page
    still renders."""
    job = make_job(Status.FAILED, media={"frame_images": [{"input_image": "https://[::1",
                                                           "frame": "first"}],
                                         "reference_images": ["http://[x]/" + XSS[:20]]})
    response = admin_client.get(reverse("admin:videogen_videojob_change", args=[job.pk]))
    assert response.status_code == 200
    assert MARKERS[0] not in response.content.decode()
