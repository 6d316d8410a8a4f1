"""Each action needs its own permission, checks the job's state first, reports per job what
happened, and never calls the provider inside the request (provider work is enqueued)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import make_job
from videogen.models import ArchiveStatus, Status, VideoJob
from videogen.webhooks.models import WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:videogen_videojob_changelist")


def with_event(job):
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/in")
    WebhookEvent.objects.create(id=f"msg_{job.pk.hex[:20]}", type="video.completed", job=job,
                                payload={"type": "video.completed"})
    return endpoint


def outcome_submit(job, queued):
    return ("submit_job", str(job.pk)) == queued.calls[0][:2] and \
        VideoJob.objects.get(pk=job.pk).status == Status.DRAFT


def outcome_repoll(job, queued):
    return queued.calls == [("repoll_job", str(job.pk))]


def outcome_cancel(job, queued):
    job.refresh_from_db()
    return job.status == Status.CANCELLED and job.events.last().actor is not None


def outcome_retry(job, queued):
    new = VideoJob.objects.get(retry_of=job)
    return new.status == Status.DRAFT and new.prompt == job.prompt


def outcome_archive(job, queued):
    job.refresh_from_db()
    return job.archive_status == ArchiveStatus.PENDING and queued.names() == ["archive_job"]


def outcome_webhooks(job, queued):
    return queued.names() == ["deliver_webhook"]


def outcome_mark_failed(job, queued):
    job.refresh_from_db()
    return job.status == Status.FAILED and job.error_code == "marked_failed"


def outcome_resubmit(job, queued):
    job.refresh_from_db()
    return job.status == Status.DRAFT and queued.names() == ["submit_job"]


# action, its permission, the job it applies to, what it did
CASES = [
    ("submit_jobs", "submit_videojob", lambda: make_job(), outcome_submit),
    ("repoll_jobs", "repoll_videojob", lambda: make_job(Status.IN_PROGRESS), outcome_repoll),
    ("cancel_jobs", "cancel_videojob", lambda: make_job(Status.QUEUED), outcome_cancel),
    ("retry_jobs", "add_videojob", lambda: make_job(Status.FAILED), outcome_retry),
    ("archive_jobs", "archive_videojob", lambda: make_job(Status.COMPLETED), outcome_archive),
    ("resend_webhooks", "resend_webhookevent", lambda: make_job(Status.COMPLETED),
     outcome_webhooks),
    ("mark_failed", "mark_failed_videojob",
     lambda: make_job(Status.SUBMITTING, error_code="outcome_unknown"), outcome_mark_failed),
    ("resubmit_jobs", "submit_videojob",
     lambda: make_job(Status.SUBMITTING, error_code="outcome_unknown"), outcome_resubmit),
]
IDS = [case[0] for case in CASES]
ALL_ACTION_PERMISSIONS = [case[1] for case in CASES]


def post_action(client, action, job, confirm=True, **extra):
    data = {"action": action, "_selected_action": [str(job.pk)], "index": "0", **extra}
    response = client.post(CHANGELIST, data, follow=True)
    if confirm and "post" not in extra and b'name="post"' in response.content:
        data.pop("index")
        response = client.post(CHANGELIST, {**data, "post": "yes"}, follow=True)
    return response


def target_of(action, make):
    """A job ``action`` applies to (resending needs an event to resend)."""
    job = make()
    if action == "resend_webhooks":
        with_event(job)
    return job


@pytest.mark.parametrize(("action", "codename", "make", "did_it"), CASES, ids=IDS)
def test_action_allowed_with_its_permission(staff_client, queued, action, codename, make,
                                            did_it, django_capture_on_commit_callbacks):
    job = target_of(action, make)
    client = staff_client("view_videojob", codename)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, action, job)
    assert response.status_code == 200
    assert did_it(job, queued), [str(m) for m in response.context["messages"]]
    text = " ".join(str(m) for m in response.context["messages"])
    assert "done for 1 job" in text


@pytest.mark.parametrize(("action", "codename", "make", "did_it"), CASES, ids=IDS)
def test_action_refused_without_its_permission(staff_client, queued, action, codename, make,
                                               did_it, django_capture_on_commit_callbacks):
    job = target_of(action, make)
    others = [c for c in ALL_ACTION_PERMISSIONS if c != codename]
    client = staff_client("view_videojob", "change_videojob", *others)
    page = client.get(CHANGELIST)
    assert f'value="{action}"' not in page.content.decode()  # not even offered
    before = VideoJob.objects.get(pk=job.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, action, job, confirm=False, post="yes")
    assert response.status_code == 200
    assert queued.calls == []
    after = VideoJob.objects.get(pk=job.pk)
    assert (after.status, after.archive_status) == (before.status, before.archive_status)
    assert not VideoJob.objects.filter(retry_of=job).exists()


@pytest.mark.parametrize(("action", "codename", "make", "did_it"), CASES, ids=IDS)
def test_object_button_needs_the_same_permission(staff_client, queued, action, codename, make,
                                                 did_it, django_capture_on_commit_callbacks):
    from videogen.actions import OPERATIONS

    job = target_of(action, make)
    name = next(op.name for op in OPERATIONS.values() if op.action == action)
    url = reverse("admin:videogen_videojob_do", args=[job.pk, name])
    others = [c for c in ALL_ACTION_PERMISSIONS if c != codename]
    client = staff_client("view_videojob", *others)
    assert url not in client.get(reverse("admin:videogen_videojob_change",
                                         args=[job.pk])).content.decode()
    assert client.post(url, {"post": "yes"}).status_code == 403
    client.user.user_permissions.add(*Permission.objects.filter(codename=codename))
    assert url in client.get(reverse("admin:videogen_videojob_change",
                                     args=[job.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert did_it(job, queued)


def test_object_action_rejects_get_and_unknown_jobs(superuser_client):
    job = make_job()
    url = reverse("admin:videogen_videojob_do", args=[job.pk, "submit"])
    assert superuser_client.get(url).status_code == 405
    missing = reverse("admin:videogen_videojob_do", args=["not-a-uuid", "submit"])
    assert superuser_client.post(missing).status_code == 302
    unknown = reverse("admin:videogen_videojob_do", args=[job.pk, "explode"])
    assert superuser_client.post(unknown).status_code == 302


# --- State guards: a per-job report, nothing done to the jobs that do not fit -------------------

GUARDS = [
    ("submit_jobs", lambda: make_job(Status.COMPLETED), "skipped: ", "it is completed"),
    ("repoll_jobs", lambda: make_job(), "", "it is draft and has no provider id yet"),
    ("cancel_jobs", lambda: make_job(Status.FAILED), "", "it is failed"),
    ("retry_jobs", lambda: make_job(), "", "it is a draft; edit it instead"),
    ("retry_jobs", lambda: make_job(Status.QUEUED), "", "retry it once it has finished"),
    ("archive_jobs", lambda: make_job(Status.FAILED), "", "only finished videos can be archived"),
    ("archive_jobs", lambda: make_job(Status.COMPLETED, archive_status=ArchiveStatus.ARCHIVING),
     "", "it is being archived already"),
    ("resend_webhooks", lambda: make_job(Status.COMPLETED), "", "it has no webhook events"),
    ("mark_failed", lambda: make_job(Status.QUEUED), "",
     "only uncertain submissions qualify"),
    ("mark_failed", lambda: make_job(Status.SUBMITTING), "",
     "it is being sent right now; wait for the provider"),
]


@pytest.mark.parametrize(("action", "make", "_prefix", "reason"), GUARDS,
                         ids=[f"{g[0]}-{g[3][:20]}" for g in GUARDS])
def test_state_guards_skip_with_the_reason(superuser_client, queued, action, make, _prefix,
                                           reason, django_capture_on_commit_callbacks):
    job = make()
    before = VideoJob.objects.filter(pk=job.pk).values().get()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(superuser_client, action, job)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "skipped 1 job" in text and reason in text, text
    assert queued.calls == []
    after = VideoJob.objects.filter(pk=job.pk).values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == \
        {k: v for k, v in before.items() if k != "updated_at"}
    assert VideoJob.objects.count() == 1


def test_report_lists_each_job(superuser_client, queued, django_capture_on_commit_callbacks):
    draft, done = make_job(prompt="first draft"), make_job(Status.COMPLETED, prompt="old one")
    data = {"action": "submit_jobs", "_selected_action": [str(draft.pk), str(done.pk)],
            "index": "0"}
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(CHANGELIST, data, follow=True)
    messages = {m.level_tag: str(m) for m in response.context["messages"]}
    assert "first draft" in messages["success"] and "queued for sending" in messages["success"]
    assert "old one" in messages["warning"] and "it is completed" in messages["warning"]
    assert queued.calls == [("submit_job", str(draft.pk), superuser_client.user.pk)]


def test_submit_refuses_an_invalid_request_up_front(superuser_client, queued):
    job = make_job(model="minimax/hailuo-02", width=1280, height=720)
    response = post_action(superuser_client, "submit_jobs", job)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "failed for 1 job" in text
    assert "MiniMax Hailuo 02 supports 1366x768 or 1920x1080, got 1280x720" in text
    assert queued.calls == []
    assert VideoJob.objects.get(pk=job.pk).status == Status.DRAFT


def test_submit_refuses_over_budget(superuser_client, queued, settings):
    settings.VIDEOGEN = {**settings.VIDEOGEN, "BUDGET": {"DAILY": "0.10"}}
    make_job(Status.COMPLETED, cost="0.50")
    job = make_job()
    response = post_action(superuser_client, "submit_jobs", job)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "daily budget" in text and "nothing was sent" in text
    assert queued.calls == []


def test_cancel_asks_for_confirmation_first(superuser_client, queued):
    queued_job, finished = make_job(Status.QUEUED, prompt="to cancel"), make_job(
        Status.COMPLETED, prompt="already done")
    data = {"action": "cancel_jobs", "_selected_action": [str(queued_job.pk), str(finished.pk)],
            "index": "0"}
    page = superuser_client.post(CHANGELIST, data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Are you sure?" in html and "may still finish and be billed" in html
    assert "will be skipped: it is completed" in html
    assert 'name="post" value="yes"' in html and 'value="cancel_jobs"' in html
    assert VideoJob.objects.get(pk=queued_job.pk).status == Status.QUEUED  # nothing yet
    data.pop("index")
    response = superuser_client.post(CHANGELIST, {**data, "post": "yes"}, follow=True)
    assert VideoJob.objects.get(pk=queued_job.pk).status == Status.CANCELLED
    text = " ".join(str(m) for m in response.context["messages"])
    assert "the provider may still finish and bill it" in text
    assert "skipped 1 job" in text


def test_cancel_from_the_change_page_confirms_then_returns_there(superuser_client):
    job = make_job(Status.IN_PROGRESS)
    url = reverse("admin:videogen_videojob_do", args=[job.pk, "cancel"])
    page = superuser_client.post(url)
    assert b"Are you sure?" in page.content
    response = superuser_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:videogen_videojob_change", args=[job.pk])
    assert VideoJob.objects.get(pk=job.pk).status == Status.CANCELLED


def test_retry_links_the_new_draft(superuser_client):
    job = make_job(Status.FAILED, prompt="try again")
    response = post_action(superuser_client, "retry_jobs", job)
    new = VideoJob.objects.get(retry_of=job)
    text = " ".join(str(m) for m in response.context["messages"])
    assert reverse("admin:videogen_videojob_change", args=[new.pk]) in text
    assert new.created_by == superuser_client.user


def test_tampered_selection_is_ignored(superuser_client, queued,
                                       django_capture_on_commit_callbacks):
    job = make_job()
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(CHANGELIST, {
            "action": "submit_jobs", "_selected_action": ["not-a-uuid", str(job.pk)],
            "index": "0"}, follow=True)
    assert response.status_code == 200
    assert queued.names() == ["submit_job"]


def test_an_uncertain_submission_can_be_sent_again_after_confirming(
        superuser_client, queued, django_capture_on_commit_callbacks):
    job = make_job(Status.SUBMITTING, error_code="outcome_unknown", remote_id=None)
    response = post_action(superuser_client, "resubmit_jobs", job, confirm=False)
    assert b"second video and a second" in response.content  # the warning, before anything
    job.refresh_from_db()
    assert job.status == Status.SUBMITTING
    with django_capture_on_commit_callbacks(execute=True):
        post_action(superuser_client, "resubmit_jobs", job)
    job.refresh_from_db()
    assert job.status == Status.DRAFT and job.submit_requested_at is not None
    assert queued.names() == ["submit_job"]
    assert job.events.filter(detail__contains="send this job again").exists()



def test_an_action_on_a_job_deleted_meanwhile_says_so(superuser_client, queued,
                                                     django_capture_on_commit_callbacks):
    """Another tab deleted one of the selected jobs: the action runs on the rest and says
    what it left out (before, the deleted job was skipped without a word)."""
    kept, gone = make_job(Status.IN_PROGRESS, prompt="kept"), make_job(Status.IN_PROGRESS)
    gone_id = str(gone.pk)
    gone.delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(CHANGELIST, {
            "action": "repoll_jobs", "_selected_action": [str(kept.pk), gone_id],
            "index": "0"}, follow=True)
    messages = {m.level_tag: str(m) for m in response.context["messages"]}
    assert "1 selected item is no longer in this list" in messages["warning"]
    assert "kept" in messages["success"]
    assert queued.calls == [("repoll_job", str(kept.pk))]


def test_an_action_whose_every_job_was_deleted_says_so_and_does_nothing(superuser_client,
                                                                        queued):
    gone = make_job(Status.QUEUED)
    gone_id = str(gone.pk)
    gone.delete()
    # cancel confirms first: with nothing left there is nothing to confirm.
    response = superuser_client.post(CHANGELIST, {
        "action": "cancel_jobs", "_selected_action": [gone_id], "index": "0"}, follow=True)
    assert b"Are you sure?" not in response.content
    text = " ".join(str(m) for m in response.context["messages"])
    assert "1 selected item is no longer in this list" in text
    assert queued.calls == []


@pytest.mark.parametrize("selected", ["abc", "1\x00", "9" * 30, "-"])
def test_webhook_actions_with_a_tampered_or_deleted_selection(superuser_client, queued,
                                                              selected):
    """The delivery log's ids are integers: "abc" made its pk__in filter raise (a 500)."""
    url = reverse("admin:videogen_webhookdelivery_changelist")
    response = superuser_client.post(url, {"action": "resend", "_selected_action": [selected],
                                           "index": "0"}, follow=True)
    assert response.status_code == 200
    assert queued.calls == []
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/in")
    endpoint_id = endpoint.pk
    endpoint.delete()
    url = reverse("admin:videogen_webhookendpoint_changelist")
    response = superuser_client.post(url, {"action": "enable_endpoints",
                                           "_selected_action": [str(endpoint_id)],
                                           "index": "0"}, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "1 selected item is no longer in this list" in text
    assert "resumed" not in text
