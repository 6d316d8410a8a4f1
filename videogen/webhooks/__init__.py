"""Outbound webhooks in the Standard Webhooks format.

Consumers verify with any Standard Webhooks library, or, in Django, with :func:`verify`::

    from videogen.webhooks import verify, WebhookVerificationError
    verify(request.body, request.headers, ["whsec_…"])
"""

from videogen.webhooks.signing import WebhookVerificationError, generate_secret, verify

__all__ = ["WebhookVerificationError", "generate_secret", "verify"]
