"""How a job moves through the admin pages (issue #19): a job sent is read-only at once, a late
save from a stale tab gets a page that keeps what was typed, a retry opens the new draft, and
people who may not submit are told what happens to their drafts."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_job
from videogen.models import Status, VideoJob
from videogen.progress import status_json

pytestmark = pytest.mark.django_db

ADD = reverse("admin:videogen_videojob_add")
CHANGELIST = reverse("admin:videogen_videojob_changelist")
DRAFTER = ("view_videojob", "add_videojob", "change_videojob")


def change_url(job):
    return reverse("admin:videogen_videojob_change", args=[job.pk])


def form_data(**fields):
    data = {"model": "pixverse/pixverse-v5", "prompt": "a paper boat", "size": "360x360",
            "seconds": "5", "fps": "16", "generate_audio": "unknown", "metadata": "{}"}
    return {**data, **fields}


def messages_text(response):
    return " ".join(str(m) for m in response.context["messages"])


def is_edit_form(html):
    return 'name="prompt"' in html or 'name="_continue"' in html


# --- 1. Sent means read-only, at once -------------------------------------------------------------


def test_save_and_submit_shows_the_read_only_page_before_the_worker_runs(
        superuser_client, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(ADD, {**form_data(), "_submit": "1"}, follow=True)
    job = VideoJob.objects.get()
    assert queued.names() == ["submit_job"]  # queued, not run: the job is still a draft
    assert job.status == Status.DRAFT and job.submit_requested_at is not None
    html = response.content.decode()
    assert not is_edit_form(html), "a job queued for sending must not be editable"
    assert "View video job" in html and "queued for sending…" in html
    assert status_json(job)["editable"] is False and status_json(job)["moving"] is True


def test_a_draft_queued_for_sending_is_not_offered_submit_again(superuser_client, queued):
    job = make_job(submit_requested_at=timezone.now())
    html = superuser_client.get(change_url(job)).content.decode()
    assert 'data-vg-op="submit"' not in html and 'data-vg-op="cancel"' in html
    response = superuser_client.post(CHANGELIST, {
        "action": "submit_jobs", "_selected_action": [str(job.pk)], "index": "0"}, follow=True)
    assert "it is queued for sending already" in messages_text(response)
    assert queued.calls == []


def test_a_draft_nobody_sent_is_editable():
    job = make_job()
    assert status_json(job)["editable"] is True and status_json(job)["moving"] is False


@pytest.mark.parametrize("status", [Status.DRAFT, Status.QUEUED, Status.IN_PROGRESS])
def test_a_late_save_gets_a_page_with_what_was_typed(superuser_client, status):
    sent = timezone.now().replace(hour=18, minute=47)
    fields = {"submit_requested_at": sent} if status == Status.DRAFT else {"submitted_at": sent}
    job = make_job(status, prompt="as sent", **fields)
    response = superuser_client.post(change_url(job), {
        **form_data(prompt="my <b>new</b> words", negative_prompt="no rain"),
        "_continue": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    text = messages_text(response)
    assert "This job was sent at 6:47 p.m.; it can no longer be edited" in text
    assert "Retry as a new draft to change it." in text
    # What was typed comes back, escaped, read-only, and not as a field that could be saved.
    assert "my &lt;b&gt;new&lt;/b&gt; words</textarea>" in html
    assert "no rain</textarea>" in html
    assert not is_edit_form(html)
    job.refresh_from_db()
    assert job.prompt == "as sent" and job.status == status


def test_a_late_save_of_a_draft_cancelled_meanwhile(superuser_client):
    job = make_job(Status.CANCELLED, submitted_at=None, prompt="as it was")
    response = superuser_client.post(change_url(job), form_data(prompt="typed"))
    assert response.status_code == 200
    assert "This job is cancelled; it can no longer be edited" in messages_text(response)
    assert "typed</textarea>" in response.content.decode()


def test_a_late_save_without_the_change_permission_is_still_refused(staff_client):
    client = staff_client("view_videojob")
    job = make_job(Status.QUEUED, prompt="as sent")
    assert client.post(change_url(job), form_data(prompt="typed")).status_code == 403


def test_a_save_that_loses_the_race_shows_what_was_typed(superuser_client, monkeypatch):
    """The worker sends the job between loading it and saving it: same page as a late save."""
    from videogen.admin import VideoJobAdmin

    job = make_job(prompt="before")
    real_get_object = VideoJobAdmin.get_object

    def get_then_send(self, request, object_id, from_field=None):
        obj = real_get_object(self, request, object_id, from_field)
        VideoJob.objects.filter(pk=job.pk).update(status=Status.QUEUED,
                                                  submitted_at=timezone.now())
        return obj

    monkeypatch.setattr(VideoJobAdmin, "get_object", get_then_send)
    response = superuser_client.post(change_url(job), {**form_data(prompt="after"),
                                                       "_continue": "1"})
    assert response.status_code == 200
    assert "can no longer be edited" in messages_text(response)
    assert "after</textarea>" in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.prompt) == (Status.QUEUED, "before")
    # Nothing was changed, so the history does not say it was.
    from django.contrib.admin.models import CHANGE, LogEntry
    assert not LogEntry.objects.filter(object_id=str(job.pk), action_flag=CHANGE).exists()


def test_the_edit_page_carries_the_stale_notice_for_the_script(superuser_client):
    html = superuser_client.get(change_url(make_job())).content.decode()
    assert "data-vg-sent-notice" in html and "data-vg-watch" in html
    sent = superuser_client.get(change_url(make_job(Status.QUEUED))).content.decode()
    assert "data-vg-sent-notice" not in sent


# --- 2. Retry as a new draft ----------------------------------------------------------------------


def test_retry_from_the_page_opens_the_new_draft(superuser_client):
    job = make_job(Status.FAILED, prompt="try again")
    url = reverse("admin:videogen_videojob_do", args=[job.pk, "retry"])
    response = superuser_client.post(url)
    new = VideoJob.objects.get(retry_of=job)
    assert response.status_code == 302 and response["Location"] == change_url(new)
    page = superuser_client.get(change_url(new))
    html = page.content.decode()
    assert is_edit_form(html) and "try again</textarea>" in html
    assert re.search(rf'A retry of <a href="{change_url(job)}">', html)
    assert "Change what you need" in messages_text(page)
    # The original's history points at the new draft, with a link.
    original = superuser_client.get(change_url(job)).content.decode()
    assert f"Retried as {new.pk}." in original
    assert f'href="{change_url(new)}">open the new draft</a>' in original
    event = job.events.get(data__retried_as=str(new.pk))
    assert event.actor == superuser_client.user and event.new_status == ""
    job.refresh_from_db()
    assert job.status == Status.FAILED


def test_retry_from_the_page_that_does_not_apply_stays(superuser_client):
    job = make_job(Status.QUEUED)
    response = superuser_client.post(
        reverse("admin:videogen_videojob_do", args=[job.pk, "retry"]), follow=True)
    assert response.redirect_chain[-1][0] == change_url(job)
    assert "retry it once it has finished" in messages_text(response)
    assert not VideoJob.objects.filter(retry_of=job).exists()


def test_the_retry_report_links_differ(superuser_client):
    job = make_job(Status.FAILED, prompt="same words")
    response = superuser_client.post(CHANGELIST, {
        "action": "retry_jobs", "_selected_action": [str(job.pk)], "index": "0"}, follow=True)
    new = VideoJob.objects.get(retry_of=job)
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', messages_text(response))
    assert (change_url(new), "open the new draft") in links
    assert len({text for _href, text in links}) == len(links) == 2


# --- 3. People who may not submit -----------------------------------------------------------------


def test_the_add_page_fits_a_person_who_may_not_submit(staff_client, superuser_client):
    submitter = superuser_client.get(ADD).content.decode()
    assert "press “Save and submit”" in submitter
    client = staff_client(*DRAFTER)
    html = client.get(ADD).content.decode()
    assert "Save and submit" not in html
    assert "someone who may submit will send it" in html


def test_saving_a_draft_says_who_sends_it(staff_client):
    client = staff_client(*DRAFTER)
    response = client.post(ADD, {**form_data(), "_continue": "1"}, follow=True)
    assert "Someone who may submit will send it" in messages_text(response)
    assert "Save the draft; someone who may submit will send it." in response.content.decode()
    job = VideoJob.objects.get()
    response = client.post(change_url(job), {**form_data(prompt="better"), "_continue": "1"},
                           follow=True)
    assert "“Drafts waiting to be sent”" in messages_text(response)


def test_a_submitter_is_not_told_to_wait(superuser_client):
    response = superuser_client.post(ADD, {**form_data(), "_continue": "1"}, follow=True)
    assert "Someone who may submit" not in messages_text(response)


def test_the_drafts_waiting_to_be_sent_filter(superuser_client):
    waiting = make_job(prompt="waiting draft")
    make_job(prompt="queued draft", submit_requested_at=timezone.now())
    make_job(Status.QUEUED, prompt="sent job")
    page = superuser_client.get(CHANGELIST)
    assert "Drafts waiting to be sent" in page.content.decode()
    response = superuser_client.get(CHANGELIST, {"sending": "waiting"})
    assert [job.pk for job in response.context["cl"].result_list] == [waiting.pk]
    queued = superuser_client.get(CHANGELIST, {"sending": "queued"})
    assert [job.prompt for job in queued.context["cl"].result_list] == ["queued draft"]

