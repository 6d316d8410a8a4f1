"""CSRF: every URL of every videogen admin page, found from the admin's own URL patterns (so a
new view is covered without editing this file), refuses a POST without a token with 403 and
changes nothing — even from a logged-in superuser, even with a payload that would act. The
only CSRF-exempt view, the demo's webhook receiver, acts on nothing without a valid signature."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from tests.reliability.test_security_permissions import (  # noqa: F401
    outside,
    snapshot,
    world,
)
from videogen.models import Status, VideoJob

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

VIDEOGEN_ADMINS = [(model, model_admin) for model, model_admin in admin.site._registry.items()
                   if model._meta.app_label == "videogen"]


def patterns(urls, prefix=""):
    for entry in urls:
        if isinstance(entry, URLResolver):
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


ROUTES = [(model, route, name) for model, model_admin in VIDEOGEN_ADMINS
          for route, name in patterns(model_admin.get_urls())]


def fill(route, obj):
    """A concrete path for a route: the object's pk and an operation name."""
    path = re.sub(r"<path:object_id>", str(obj.pk) if obj else "0", route)
    return re.sub(r"<str:name>", "cancel", path)


def url_for(model, route):
    opts = model._meta
    base = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    obj = model.objects.filter(status=Status.QUEUED).first() if model is VideoJob else \
        model.objects.order_by("pk").first()
    return base + fill(route, obj).lstrip("^").rstrip("$")


def acting_payload(model):
    """What would change things, were the token there: an action over everything, confirmed,
    and form fields for the add and change pages."""
    return {"action": next(iter(admin.site._registry[model].actions or []), "delete_selected"),
            "_selected_action": [str(pk) for pk in model.objects.values_list("pk", flat=True)],
            "index": "0", "post": "yes", "model": "google/veo-2.0", "prompt": "forged",
            "size": "1280x720", "url": "https://hooks.example.com/forged", "enabled": "on",
            "_submit": "1"}


@pytest.fixture
def strict_superuser(django_user_model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


def test_the_enumeration_found_the_custom_views():
    names = {name for _model, _route, name in ROUTES}
    assert {"videogen_videojob_do", "videogen_videojob_progress",
            "videogen_videojob_progress_one", "videogen_videojob_dashboard",
            "videogen_videojob_add", "videogen_videojob_change", "videogen_videojob_delete",
            "videogen_videojob_changelist", "videogen_webhookendpoint_change"} <= names


@pytest.mark.parametrize(("model", "route", "name"), ROUTES,
                         ids=[f"{m._meta.model_name}:{r}" for m, r, _n in ROUTES])
def test_a_post_without_a_token_is_refused_and_changes_nothing(
        strict_superuser, world, outside, django_capture_on_commit_callbacks,
        model, route, name):
    url = url_for(model, route)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = strict_superuser.post(url, acting_payload(model))
    assert response.status_code == 403, (url, response.status_code)
    assert b"CSRF" in response.content
    assert snapshot() == before
    assert outside.calls == []


def test_the_same_post_with_a_token_does_act(strict_superuser, world, outside,
                                             django_capture_on_commit_callbacks):
    """The control: the refusal above is the token's doing, not a payload that does nothing."""
    job = VideoJob.objects.filter(status=Status.QUEUED).first()
    url = reverse("admin:videogen_videojob_do", args=[job.pk, "cancel"])
    page = strict_superuser.get(reverse("admin:videogen_videojob_change", args=[job.pk]))
    token = page.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        response = strict_superuser.post(url, {"post": "yes", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_the_demo_receiver_is_csrf_exempt_but_needs_a_signature(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("demo-webhook-receiver"),
                           data=b'{"type": "video.completed"}',
                           content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(("model", "route", "name"), ROUTES,
                         ids=[f"{m._meta.model_name}:{r}" for m, r, _n in ROUTES])
def test_every_admin_url_sends_strangers_to_the_login_page(client, django_user_model, world,
                                                          model, route, name):
    """Anonymous visitors and logged-in users who are not staff get the login page, and no
    byte of job data (the JSON progress views included)."""
    url = url_for(model, route)
    for who in ("anonymous", "customer"):
        if who == "customer":
            client.force_login(django_user_model.objects.create_user("customer"))
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], (who, url)
