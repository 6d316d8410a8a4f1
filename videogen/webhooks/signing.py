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

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    """The body, timestamp or signature does not check out."""


def generate_secret() -> str:
    """A new secret: ``whsec_`` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_)


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
    expected = {sign(secret, msg_id, timestamp, raw) for secret in candidates}
    if not any(hmac.compare_digest(sig, wanted) for sig in signatures for wanted in expected):
        raise WebhookVerificationError("no valid signature")
