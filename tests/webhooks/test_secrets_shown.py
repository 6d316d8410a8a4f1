"""Issue 18 item 12: endpoint URLs, errors and signing secrets reach only who may see them.
A job page seen with "view video job" only shows each endpoint's host; a new or rotated
signing secret is in the page that shows it, never in a cookie."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.urls import reverse

from tests.webhooks.test_delivery_edges import INLINE, record_event
from videogen.models import WebhookDelivery, WebhookEndpoint
from videogen.webhooks.endpoints import create_endpoint

pytestmark = pytest.mark.django_db


def login(client, *codenames):
    user = User.objects.create_user("someone", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


def job_page_with_a_failed_delivery():
    endpoint, _ = create_endpoint("http://127.0.0.1:9/hooks?token=s3cr3t-t0ken",
                                  description="crm ?token=s3cr3t-t0ken")
    event = record_event()
    WebhookDelivery.objects.filter(event=event).update(
        last_status_code=None, last_error="refused: crm.internal resolves to 10.1.2.3")
    return reverse("admin:videogen_videojob_change", args=[event.job_id])


def test_a_job_viewer_sees_the_endpoint_host_only(client):
    url = job_page_with_a_failed_delivery()
    login(client, "view_videojob")
    page = client.get(url).content.decode()
    assert "Webhook deliveries" in page and "127.0.0.1" in page
    assert "s3cr3t-t0ken" not in page and "10.1.2.3" not in page


def test_who_may_see_endpoints_and_deliveries_sees_them_on_the_job_page(client):
    url = job_page_with_a_failed_delivery()
    login(client, "view_videojob", "view_webhookendpoint", "view_webhookdelivery")
    page = client.get(url).content.decode()
    assert "crm ?token=s3cr3t-t0ken" in page and "10.1.2.3" in page


def cookie_messages(client):
    cookie = client.cookies.get("messages")
    if cookie is None or not cookie.value:
        return []
    return [str(m) for m in CookieStorage(HttpRequest())._decode(cookie.value) or []]


def test_a_new_secret_is_in_the_page_not_in_a_cookie(client):
    login(client, "add_webhookendpoint", "change_webhookendpoint", "view_webhookendpoint")
    response = client.post(reverse("admin:videogen_webhookendpoint_add"), {
        "url": "http://127.0.0.1:9/hook", "enabled": "on", "headers": "{}", **INLINE})
    secret = WebhookEndpoint.objects.get().active_secrets()[0]
    assert response.status_code == 200 and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert not any(secret in text for text in cookie_messages(client))
    assert all(secret not in morsel.value for morsel in client.cookies.values())
    after = client.get(reverse("admin:videogen_webhookendpoint_changelist"))
    assert secret not in after.content.decode()


def test_a_rotated_secret_is_in_the_page_not_in_a_cookie(client):
    login(client, "change_webhookendpoint", "view_webhookendpoint",
          "rotate_secret_webhookendpoint")
    endpoint, old = create_endpoint("http://127.0.0.1:9/hook")
    response = client.post(reverse("admin:videogen_webhookendpoint_changelist"),
                           {"action": "rotate_secrets", "_selected_action": [endpoint.pk]})
    new = next(s for s in endpoint.active_secrets() if s != old)
    assert response.status_code == 200 and new in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert not any(new in text for text in cookie_messages(client))
