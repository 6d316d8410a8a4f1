"""The smaller things content staff tripped over (issue #19, 16), as the pages render them."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_job
from videogen.models import Status
from videogen.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

from .conftest import change_page, png_bytes

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:videogen_videojob_changelist")
ADD = reverse("admin:videogen_videojob_add")



def test_the_uncertain_panel_gives_its_advice_once_and_no_exception_names(superuser_client):
    job = make_job(Status.SUBMITTING, error_code="outcome_unknown", error_message=(
        "The provider may or may not have received this job (ReadTimeout: timed out). It was "
        "not sent again automatically, to avoid paying twice. Check the provider's dashboard, "
        "then mark it failed or resubmit it."))
    html = change_page(superuser_client, job)
    panel = html[html.index("vg-error--warning"):]
    panel = panel[:panel.index("</div>")]
    assert "ReadTimeout" not in panel
    assert panel.count("provider's dashboard") == 1, panel
    assert "to avoid paying twice" in panel


def test_a_kept_upload_sits_under_its_input(superuser_client):
    upload = SimpleUploadedFile("first.png", png_bytes(), content_type="image/png")
    response = superuser_client.post(ADD, {
        "model": "pixverse/pixverse-v5", "prompt": "x", "size": "360x360", "seconds": "5",
        "fps": "16", "generate_audio": "unknown", "metadata": "{}",
        "first_frame_file": upload})
    html = response.content.decode()
    box = html[html.index('name="first_frame_file"') - 200:]
    assert box.index('name="first_frame_file"') < box.index("vg-kept")


def test_the_prompt_box_has_room_and_the_save_buttons_one_case(superuser_client):
    html = superuser_client.get(ADD).content.decode()
    prompt = re.search(r"<textarea[^>]*name=\"prompt\"[^>]*>", html)[0]
    assert 'class="vg-prompt"' in prompt and 'rows="12"' in prompt
    assert '<div class="submit-row vg-submit-row">' in html


def test_wan_resolution_and_ratio_have_their_own_rows(superuser_client):
    job = make_job(Status.QUEUED, model="Wan-AI/wan2.7-t2v", width=None, height=None,
                   fps=None, resolution="1080P", ratio="9:16")
    html = change_page(superuser_client, job)
    assert "field-resolution" in html and "field-ratio" in html
    assert "field-size_label" not in html
    pixverse = change_page(superuser_client, make_job(Status.QUEUED))
    assert "field-size_label" in pixverse and "field-resolution" not in pixverse


def test_an_empty_job_list_says_how_to_make_the_first_video(superuser_client):
    html = superuser_client.get(CHANGELIST).content.decode()
    assert "Make your first video" in html and f'href="{ADD}"' in html
    assert "Make your first video" not in superuser_client.get(
        CHANGELIST, {"q": "nothing like this"}).content.decode()
    make_job()
    assert "Make your first video" not in superuser_client.get(CHANGELIST).content.decode()


def test_the_created_column_is_short(superuser_client):
    make_job()
    html = superuser_client.get(CHANGELIST).content.decode()
    cell = re.search(r'<td class="field-created">([^<]*)</td>', html)[1]
    # "12/04/2026 11:14 p.m." (the short format), not "Dec. 4, 2026, 11:14 p.m."
    assert "," not in cell and len(cell) <= 22, cell


def test_webhook_pages_wide_url_and_rows_without_a_repeated_caption(superuser_client):
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/in")
    html = superuser_client.get(reverse("admin:videogen_webhookendpoint_change",
                                        args=[endpoint.pk])).content.decode()
    url_input = re.search(r"<input[^>]*name=\"url\"[^>]*>", html)[0]
    assert "vg-wide" in url_input
    assert "vg-rows" in html and "videogen/admin/videogen.css" in html
    event = WebhookEvent.objects.create(id="msg_rows", type="video.completed", payload={})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    WebhookAttempt.objects.create(delivery=delivery, status_code=200)
    html = superuser_client.get(reverse("admin:videogen_webhookdelivery_change",
                                        args=[delivery.pk])).content.decode()
    assert re.search(r'<fieldset class="module [^"]*vg-rows', html)
