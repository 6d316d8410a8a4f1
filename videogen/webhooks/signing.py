"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

``webhook-signature: v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>``, where ``key`` is
the base64 part of a ``whsec_…`` secret; several space-separated signatures while a secret is
being rotated. Consumers can verify with any Standard Webhooks library, or with :func:`verify`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

from django.views.decorators.debug import sensitive_variables

from videogen.exceptions import (  # defined there; still importable from here
    WebhookVerificationError,
)

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


def generate_secret() -> str:
    """A new secret: ``whsec_`` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def check_secret(secret: str) -> None:
    """Raise ``ValueError`` (without the value) unless ``secret`` is ``whsec_`` + base64."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX) or len(secret) > 200:
        raise ValueError("a webhook secret is 'whsec_' followed by base64")
    if len(_key(secret)) < 16:
        raise ValueError("a webhook secret needs at least 16 bytes of key")


# The secrets in these frames' variables are hidden from Django's error reports (a failing
# admin request mails its frames' local variables to ADMINS).
@sensitive_variables("secret")
def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


@sensitive_variables("secret")
def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


@sensitive_variables("secrets_", "secret")
def signature_header(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    # A loop, not a generator: a generator's frame would hold ``secret`` unmarked.
    signatures = []
    for secret in secrets_:
        signatures.append(sign(secret, msg_id, timestamp, body))
    return " ".join(signatures)


@sensitive_variables("secrets_", "candidates", "secret")
def verify(body: bytes | str, headers: Mapping[str, str], secrets_: str | Iterable[str], *,
           tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> None:
    """Check a received webhook; raise :class:`WebhookVerificationError` unless one of the
    ``secrets_`` signed exactly this body recently. ``headers`` may be any mapping (Django's
    ``request.headers`` works); names are matched case-insensitively."""
    lower = {key.lower(): value for key, value in headers.items()}
    msg_id, stamp = lower.get("webhook-id"), lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature", "").split()
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is too old or in the future")
    raw = body.encode() if isinstance(body, str) else body
    candidates = [secrets_] if isinstance(secrets_, str) else list(secrets_)
    expected = set()
    for secret in candidates:
        expected.add(sign(secret, msg_id, timestamp, raw))
    # As bytes: compare_digest raises TypeError for str with non-ASCII (a forged header).
    if not any(hmac.compare_digest(sig.encode(), wanted.encode())
               for sig in signatures for wanted in expected):
        raise WebhookVerificationError("no valid signature")
