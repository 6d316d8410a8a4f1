"""What the admin says, as content staff read it (issue #19, 12 and 16): plurals from ngettext,
reports without a button's ellipsis, both save buttons answering alike, the deliveries list
naming each delivery's job."""

import pytest
from django.urls import reverse

from tests.factories import make_job
from videogen.models import Status
from videogen.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:videogen_videojob_changelist")
ADD = reverse("admin:videogen_videojob_add")
DRAFT = {"model": "pixverse/pixverse-v5", "prompt": "a paper boat", "size": "360x360",
         "seconds": "5", "fps": "16", "generate_audio": "unknown", "metadata": "{}"}


def texts(response):
    return [str(m) for m in response.context["messages"]]


def test_a_report_counts_in_words_without_the_buttons_ellipsis(superuser_client):
    jobs = [make_job(Status.QUEUED, prompt=f"boat {n}") for n in range(2)]
    data = {"action": "cancel_jobs", "_selected_action": [str(j.pk) for j in jobs],
            "post": "yes"}
    [text] = texts(superuser_client.post(CHANGELIST, data, follow=True))
    assert text.startswith("Cancel — done for 2 jobs:"), text
    assert "(s)" not in text and "…" not in text

    one = make_job(Status.QUEUED)
    data["_selected_action"] = [str(one.pk)]
    [text] = texts(superuser_client.post(CHANGELIST, data, follow=True))
    assert text.startswith("Cancel — done for 1 job:"), text


def test_resending_webhooks_counts_deliveries_in_words(superuser_client, queued,
                                                       django_capture_on_commit_callbacks):
    job = make_job(Status.COMPLETED)
    WebhookEndpoint.objects.create(url="https://hooks.example.com/in")
    WebhookEvent.objects.create(id="msg_words", type="video.completed", job=job,
                                payload={"type": "video.completed"})
    data = {"action": "resend_webhooks", "_selected_action": [str(job.pk)]}
    with django_capture_on_commit_callbacks(execute=True):
        [text] = texts(superuser_client.post(CHANGELIST, data, follow=True))
    assert "1 delivery queued" in text and "(ies)" not in text
    deliveries = reverse("admin:videogen_webhookdelivery_changelist")
    response = superuser_client.post(deliveries, {
        "action": "resend", "_selected_action": list(
            WebhookDelivery.objects.values_list("pk", flat=True))}, follow=True)
    assert texts(response) == ["1 delivery queued."]


@pytest.mark.parametrize("button", ["_continue", "_submit"])
def test_both_save_buttons_answer_alike(superuser_client, queued, button):
    response = superuser_client.post(ADD, {**DRAFT, button: "1"}, follow=True)
    said = texts(response)
    assert said[0] == "The draft was saved.", said
    assert not any("successfully" in text for text in said)
    job = response.context["original"]
    change = reverse("admin:videogen_videojob_change", args=[job.pk])
    assert response.redirect_chain[-1][0] == change
    if button == "_continue":  # an edit of the draft says the same
        again = superuser_client.post(change, {**DRAFT, "prompt": "two boats", button: "1"},
                                      follow=True)
        assert texts(again) == ["The draft was saved."]


def test_the_deliveries_list_names_the_job(superuser_client):
    job = make_job(Status.COMPLETED, prompt="a lighthouse at dawn")
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/in")
    event = WebhookEvent.objects.create(id="msg_job", type="video.completed", job=job,
                                        payload={})
    WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    html = superuser_client.get(reverse("admin:videogen_webhookdelivery_changelist")
                                ).content.decode()
    assert 'class="column-job' in html
    assert reverse("admin:videogen_videojob_change", args=[job.pk]) in html
    assert "a lighthouse at dawn" in html
