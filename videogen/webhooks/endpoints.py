"""Creating endpoints, rotating their secrets, and endpoints declared in settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from videogen.conf import get_settings
from videogen.webhooks.headers import header_problem
from videogen.webhooks.models import WebhookEndpoint, WebhookSecret
from videogen.webhooks.safety import check_url
from videogen.webhooks.signing import check_secret, generate_secret

# During a rotation the old secret keeps signing for this long.
ROTATION_OVERLAP = timedelta(hours=24)


@sensitive_variables("secret")
def create_endpoint(url: str, *, secret: str | None = None, **fields: Any
                    ) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once, for showing to the person who made it).
    Raises ``UnsafeURL`` for internal addresses that are not allow-listed, ``ValueError``
    for a secret that is not ``whsec_`` + base64 (it could sign nothing) or extra headers
    HTTP cannot carry."""
    check_url(url, get_settings().webhooks.allowed_hosts)
    problem = header_problem(fields.get("headers") or {})
    if problem:
        raise ValueError(f"headers: {problem}")
    if secret is not None:
        check_secret(secret)
    endpoint = WebhookEndpoint(url=url, **fields)
    return endpoint, save_new_endpoint(endpoint, secret)


@sensitive_variables("secret")
def save_new_endpoint(endpoint: WebhookEndpoint, secret: str | None = None) -> str:
    """Save a new endpoint with its first signing secret, in one transaction, and return the
    secret (shown once). The one place endpoints are made: :func:`create_endpoint` after its
    checks, and the admin after its form's (the same checks, with the field's name)."""
    secret = secret or generate_secret()
    with transaction.atomic():
        endpoint.save()
        WebhookSecret.objects.create(endpoint=endpoint, secret=secret)
    return secret


@sensitive_variables("secret")
def rotate_secret(endpoint: WebhookEndpoint, *, overlap: timedelta = ROTATION_OVERLAP) -> str:
    """Add a new secret; current ones keep signing until ``overlap`` has passed."""
    secret = generate_secret()
    expires = timezone.now() + overlap
    with transaction.atomic():
        endpoint.secrets.filter(expires_at__isnull=True).update(expires_at=expires)
        WebhookSecret.objects.create(endpoint=endpoint, secret=secret)
    return secret


@sensitive_variables("wanted")
def sync_settings_endpoints() -> list[WebhookEndpoint]:
    """Upsert the endpoints of ``VIDEOGEN["WEBHOOKS"]["ENDPOINTS"]`` by their ``KEY``."""
    synced = []
    for declared in get_settings().webhooks.endpoints:
        endpoint, _ = WebhookEndpoint.objects.update_or_create(
            settings_key=declared.key,
            defaults={"url": declared.url, "event_types": declared.events,
                      "description": declared.description or declared.key,
                      "headers": declared.headers},
        )
        wanted = declared.secret.get_secret_value() if declared.secret else None
        if wanted and not endpoint.secrets.filter(secret=wanted).exists():
            endpoint.secrets.all().delete()
            WebhookSecret.objects.create(endpoint=endpoint, secret=wanted)
        elif not endpoint.secrets.exists():
            WebhookSecret.objects.create(endpoint=endpoint, secret=generate_secret())
        synced.append(endpoint)
    return synced
