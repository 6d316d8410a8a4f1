"""The action × permission matrix, built from the admin itself so that a new action or a new
model admin is covered without editing this file.

For every action of every videogen model admin: the permissions it needs are found by taking
each permission away from a user who has them all; there must be at least one (no action is
open to every staff member); a staff member lacking it is not offered the action, and posting
it anyway changes nothing — no row, no task, no HTTP request; with every permission the same
post does change something. Add and change views are refused (403) to staff without the add or
change permission, and the JSON and dashboard pages need view."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import make_job
from videogen.models import ArchiveStatus, Status, VideoJob
from videogen.webhooks.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)
from videogen.webhooks.signing import generate_secret

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

APP_MODELS = list(apps.get_app_config("videogen").get_models())
ADMINS = [(model, model_admin) for model, model_admin in admin.site._registry.items()
          if model._meta.app_label == "videogen"]
CODENAMES = sorted({f"{action}_{m._meta.model_name}" for m in APP_MODELS
                    for action in m._meta.default_permissions}
                   | {codename for m in APP_MODELS for codename, _ in m._meta.permissions})


class FakeUser:
    """Enough of a user for ``has_*_permission`` (they only ask ``has_perm``)."""

    is_active = is_staff = is_authenticated = True
    is_superuser = False

    def __init__(self, codenames):
        self.codenames = set(codenames)

    def has_perm(self, perm, obj=None):
        return perm.split(".", 1)[1] in self.codenames

    def has_module_perms(self, app_label):
        return True


def request_as(codenames):
    request = RequestFactory().get("/")
    request.user = FakeUser(codenames)
    return request


def actions_of(model_admin):
    return sorted(model_admin.get_actions(request_as(CODENAMES)))


def needed_by(model_admin, action):
    """The codenames without which ``action`` is not offered."""
    return [c for c in CODENAMES
            if action not in model_admin.get_actions(request_as(set(CODENAMES) - {c}))]


MATRIX = [(model, action) for model, model_admin in ADMINS for action in actions_of(model_admin)]
IDS = [f"{model._meta.model_name}.{action}" for model, action in MATRIX]


def test_the_matrix_covers_every_action_we_know():
    """A sanity floor: the enumeration found the actions of the job and webhook admins."""
    found = {f"{model._meta.model_name}.{action}" for model, action in MATRIX}
    assert {"videojob.submit_jobs", "videojob.cancel_jobs", "videojob.mark_failed",
            "videojob.archive_jobs", "videojob.repoll_jobs", "videojob.retry_jobs",
            "videojob.resend_webhooks", "webhookendpoint.send_test_event",
            "webhookendpoint.rotate_secrets", "webhookendpoint.enable_endpoints",
            "webhookdelivery.resend", "webhookevent.replay"} <= found


# --- A world with something for every action to act on -----------------------------------------


@pytest.fixture
def world(db):
    jobs = [make_job(), make_job(Status.QUEUED), make_job(Status.IN_PROGRESS),
            make_job(Status.FAILED), make_job(Status.CANCELLED),
            make_job(Status.SUBMITTING, error_code="outcome_unknown")]
    completed = make_job(Status.COMPLETED, archive_status=ArchiveStatus.ARCHIVED)
    enabled = WebhookEndpoint.objects.create(url="https://hooks.example.com/a")
    disabled = WebhookEndpoint.objects.create(url="https://hooks.example.com/b", enabled=False,
                                              disabled_reason="410")
    for endpoint in (enabled, disabled):
        WebhookSecret.objects.create(endpoint=endpoint, secret=generate_secret())
    event = WebhookEvent.objects.create(id="msg_matrix", type="video.completed", job=completed,
                                        payload={"type": "video.completed", "data": {}})
    WebhookDelivery.objects.create(event=event, endpoint=enabled, status="failed", attempts=6)
    return [*jobs, completed]


@pytest.fixture
def outside(queued, monkeypatch):
    """Every task enqueued and every test webhook sent, recorded instead of done."""
    queue = queued

    def send_test(endpoint):
        queue("send_test", endpoint.pk)
        from videogen.webhooks.delivery import AttemptResult
        return AttemptResult(status_code=204)

    monkeypatch.setattr("videogen.webhooks.delivery.send_test", send_test)
    return queue


def snapshot():
    """Every row of every videogen table."""
    return {model._meta.label: sorted(map(repr, model.objects.values_list()))
            for model in APP_MODELS}


def client_with(client, django_user_model, codenames, name):
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="videogen",
                                                        codename__in=codenames))
    client.force_login(user)
    return client


def post_action(client, model, action):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    selected = [str(pk) for pk in model.objects.values_list("pk", flat=True)]
    return client.post(url, {"action": action, "_selected_action": selected, "index": "0",
                             "post": "yes"}, follow=True)


@pytest.mark.parametrize(("model", "action"), MATRIX, ids=IDS)
def test_without_its_permission_an_action_is_neither_offered_nor_run(
        client, django_user_model, world, outside, django_capture_on_commit_callbacks, model,
        action):
    model_admin = admin.site._registry[model]
    needed = needed_by(model_admin, action)
    assert needed, f"{action} is open to any staff member: give it permissions=[...]"
    opts = model._meta
    for number, codename in enumerate(needed):
        staff = client_with(client, django_user_model, set(CODENAMES) - {codename},
                            f"staff{number}")
        page = staff.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert f'value="{action}"' not in page.content.decode(), codename
        before = snapshot()
        with django_capture_on_commit_callbacks(execute=True):
            response = post_action(staff, model, action)
        assert response.status_code in (200, 403)
        assert snapshot() == before, f"{action} changed rows for a user without {codename}"
        assert outside.calls == [], outside.calls


@pytest.mark.parametrize(("model", "action"), MATRIX, ids=IDS)
def test_with_its_permissions_an_action_runs(client, django_user_model, world, outside,
                                             django_capture_on_commit_callbacks, model, action):
    staff = client_with(client, django_user_model, CODENAMES, "everything")
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(staff, model, action)
    if action == "delete_selected" and response.status_code == 403:
        # Deleting would take read-only rows with it (an endpoint's delivery log): Django
        # refuses that to everyone, which is the point of keeping the log.
        assert model_has_read_only_dependents(model)
        return
    assert response.status_code == 200
    assert snapshot() != before or outside.calls, f"{action} did nothing"


def model_has_read_only_dependents(model):
    request = request_as(CODENAMES)
    return any(related.related_model in admin.site._registry
               and not admin.site._registry[related.related_model].has_delete_permission(request)
               for related in model._meta.related_objects)


# --- Add, change and the JSON pages ---------------------------------------------------------------


def change_url(model, obj):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize(("model", "model_admin"), ADMINS,
                         ids=[m._meta.model_name for m, _ in ADMINS])
def test_add_and_change_need_their_permissions(client, django_user_model, world, model,
                                               model_admin):
    opts = model._meta
    add_codename = get_permission_codename("add", opts)
    change_codename = get_permission_codename("change", opts)
    staff = client_with(client, django_user_model,
                        set(CODENAMES) - {add_codename, change_codename}, "no-add-change")
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    assert staff.get(add).status_code == 403
    before = snapshot()
    assert staff.post(add, {"model": "google/veo-2.0", "prompt": "x" * 5,
                            "url": "https://hooks.example.com/c"}).status_code == 403
    obj = model.objects.order_by("pk").first()
    if obj is not None:
        response = staff.post(change_url(model, obj), {"prompt": "changed", "url":
                                                       "https://hooks.example.com/changed"})
        assert response.status_code == 403
    assert snapshot() == before


def test_a_draft_cannot_be_edited_without_change_permission_even_with_add(
        client, django_user_model, world):
    staff = client_with(client, django_user_model, ["view_videojob", "add_videojob"], "adder")
    draft = VideoJob.objects.get(status=Status.DRAFT)
    before = snapshot()
    response = staff.post(change_url(VideoJob, draft), {"model": "google/veo-2.0",
                                                         "prompt": "changed", "size": "1280x720"})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("name", ["progress", "progress_one", "dashboard"])
def test_progress_and_dashboard_need_view(client, django_user_model, world, name):
    staff = client_with(client, django_user_model,
                        set(CODENAMES) - {"view_videojob", "change_videojob"}, "blind")
    job = VideoJob.objects.first()
    args = [job.pk] if name == "progress_one" else []
    response = staff.get(reverse(f"admin:videogen_videojob_{name}", args=args),
                         {"id": str(job.pk)})
    assert response.status_code in (403, 404)
    assert job.prompt not in response.content.decode()
