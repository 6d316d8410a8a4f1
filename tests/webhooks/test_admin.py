"""The webhook pages: SSRF refused at save time, the secret shown once, actions guarded."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from videogen.models import WebhookEndpoint

pytestmark = pytest.mark.django_db
# The secrets inline's management form, as the browser sends it.
INLINE = {"secrets-TOTAL_FORMS": "0", "secrets-INITIAL_FORMS": "0"}


@pytest.fixture
def staff(client):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["add_webhookendpoint", "change_webhookendpoint", "view_webhookendpoint"]))
    client.force_login(user)
    return user


def test_internal_url_is_refused_at_save_time(client, staff):
    response = client.post(reverse("admin:videogen_webhookendpoint_add"), {
        "url": "http://169.254.169.254/latest", "description": "metadata", "enabled": "on",
        "headers": "{}", **INLINE})
    assert response.status_code == 200
    assert "an internal address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_secret_is_shown_once_on_creation(client, staff):
    response = client.post(reverse("admin:videogen_webhookendpoint_add"), {
        "url": "http://127.0.0.1:9/hook", "description": "crm", "enabled": "on",
        "event_types": ["video.completed"], "headers": "{}", **INLINE}, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    secret = endpoint.active_secrets()[0]
    assert secret in response.content.decode()
    change = client.get(reverse("admin:videogen_webhookendpoint_change", args=[endpoint.pk]))
    assert secret not in change.content.decode()
    assert f"whsec_…{secret[-4:]}" in change.content.decode()


def test_reserved_headers_refused(client, staff):
    response = client.post(reverse("admin:videogen_webhookendpoint_add"), {
        "url": "http://127.0.0.1:9/hook", "enabled": "on",
        "headers": '{"webhook-id": "forged"}', **INLINE})
    assert "set by the signature" in response.content.decode()


def test_test_event_action_needs_its_permission(client, staff, receiver):
    from videogen.webhooks.endpoints import create_endpoint

    endpoint, _ = create_endpoint(receiver.url)
    url = reverse("admin:videogen_webhookendpoint_changelist")
    data = {"action": "send_test_event", "_selected_action": [endpoint.pk]}
    client.post(url, data, follow=True)
    assert receiver.received == []  # refused: no send_test permission
    staff.user_permissions.add(Permission.objects.get(codename="send_test_webhookendpoint"))
    response = client.post(url, data, follow=True)
    assert len(receiver.received) == 1
    assert "answered 200" in response.content.decode()
