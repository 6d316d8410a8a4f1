"""Outbound webhooks: endpoints, their secrets, events (the outbox) and deliveries."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: A claimed delivery is invisible to other workers for this long (then retried). Here, beside
#: the row it guards, so that events (which write claimed rows) and delivery (which takes and
#: renews claims) both read it without importing each other.
LEASE = timedelta(minutes=2)


class EventType(models.TextChoices):
    SUBMITTED = "video.submitted", _("video submitted")
    STATUS_CHANGED = "video.status_changed", _("video status changed")
    COMPLETED = "video.completed", _("video completed (archived)")
    FAILED = "video.failed", _("video failed")
    CANCELLED = "video.cancelled", _("video cancelled")


class DeliveryOutcome(models.TextChoices):
    """What one delivery attempt (or the decision not to make it) came to: the return value
    of ``delivery.deliver`` and the keys of ``deliver_due``'s counts. Not stored; labels are
    the values."""

    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    GONE = "gone"
    SKIPPED = "skipped"
    PAUSED = "paused"
    WAITING = "waiting"
    SUPERSEDED = "superseded"
    PROBE_FAILED = "probe failed"
    ERROR = "error"


class WebhookEndpoint(models.Model):
    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True,
        help_text=_("Events to send; empty means all."),
    )
    headers = models.JSONField(_("extra headers"), default=dict, blank=True)
    settings_key = models.CharField(
        _("declared in settings as"), max_length=100, blank=True, default="", editable=False,
        help_text=_("Set for endpoints declared in VIDEOGEN['WEBHOOKS']['ENDPOINTS']."),
    )
    consecutive_failures = models.PositiveIntegerField(_("consecutive failed events"),
                                                       default=0)
    disabled_reason = models.TextField(_("why disabled"), blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["url"]
        permissions = [("send_test_webhookendpoint", _("Can send test webhook events")),
                       ("rotate_secret_webhookendpoint", _("Can rotate webhook secrets"))]
        constraints = [models.UniqueConstraint(
            fields=["settings_key"], condition=~models.Q(settings_key=""),
            name="videogen_endpoint_settings_key")]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def active_secrets(self) -> list[str]:
        now = timezone.now()
        return [s.secret for s in self.secrets.all()
                if s.expires_at is None or s.expires_at > now]


class WebhookSecret(models.Model):
    """A signing secret; during rotation the old one has ``expires_at`` and both sign."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="secrets")
    secret = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook secret")
        verbose_name_plural = _("webhook secrets")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"whsec_…{self.secret[-4:]}" if self.secret else "—"

    def __repr__(self) -> str:
        return f"<WebhookSecret {self.pk} of endpoint {self.endpoint_id}>"


class WebhookEvent(models.Model):
    """One event, written in the transaction of the change it announces (the outbox)."""

    id = models.CharField(_("id"), max_length=40, primary_key=True, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices,
                            db_index=True)
    job = models.ForeignKey("videogen.VideoJob", on_delete=models.SET_NULL, null=True,
                            blank=True, related_name="webhook_events", verbose_name=_("job"))
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at"]
        permissions = [("resend_webhookevent", _("Can resend webhook events"))]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries",
                              verbose_name=_("event"))
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries", verbose_name=_("endpoint"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # Set while a worker sends it (see delivery._claim); a killed worker's claim runs out.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True,
                                         editable=False)
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"],
                                               name="videogen_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"],
                                name="videogen_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: what the receiver said and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    created_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]}"
