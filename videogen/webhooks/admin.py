"""Staff pages for webhooks: endpoints (create, test, rotate, re-enable), the delivery log
(with resend) and events (with replay). Secrets are shown once, when made."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from videogen.admin_selection import CheckedSelectionMixin
from videogen.conf import get_settings
from videogen.jsondata import JSONFormField
from videogen.webhooks import delivery as sending
from videogen.webhooks.endpoints import rotate_secret
from videogen.webhooks.headers import header_problem
from videogen.webhooks.models import (
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)
from videogen.webhooks.safety import UnsafeURL, check_url
from videogen.webhooks.signing import generate_secret


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Event types"), help_text=_("None checked means all."))

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "enabled", "event_types", "headers"]
        field_classes = {"headers": JSONFormField}

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url, get_settings().webhooks.allowed_hosts)
        except UnsafeURL as error:
            raise forms.ValidationError(str(error)) from None
        return url

    def clean_headers(self) -> dict:
        headers = self.cleaned_data.get("headers") or {}
        if not isinstance(headers, dict):
            raise forms.ValidationError(_('Give a JSON object of strings, e.g. {"X-Team": "a"}.'))
        why = header_problem(headers)
        if why:  # é, a line break, Host, Transfer-Encoding…: refused now, not at send time
            raise forms.ValidationError(_("These headers cannot be sent: %(why)s")
                                        % {"why": why})
        return headers


class SecretInline(admin.TabularInline):
    model = WebhookSecret
    extra = 0
    can_delete = False
    fields = ("masked", "created_at", "expires_at")
    readonly_fields = fields
    verbose_name_plural = _("secrets (shown in full only when created)")

    @admin.display(description=_("secret"))
    def masked(self, obj: WebhookSecret) -> str:
        return str(obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Whoever may see the endpoint sees its (masked) secrets.
        return request.user.has_perm("videogen.view_webhookendpoint") or \
            request.user.has_perm("videogen.change_webhookendpoint")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    form = EndpointForm
    list_display = ("url", "description", "enabled", "events", "consecutive_failures",
                    "disabled_reason")
    list_filter = ("enabled",)
    search_fields = ("url", "description")
    readonly_fields = ("settings_key", "consecutive_failures", "disabled_reason", "disabled_at",
                       "created_at")
    inlines = [SecretInline]
    actions = ["send_test_event", "rotate_secrets", "enable_endpoints"]

    @admin.display(description=_("events"))
    def events(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types) if obj.event_types else _("all")

    @method_decorator(sensitive_variables("secret"))
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "enabled" in form.changed_data:
            # The checkbox does what the actions do: unticking pauses like an auto-disable
            # (recorded, so re-enabling catches up), ticking resumes the paused deliveries
            # and clears the failure count. A bare save left them paused for good.
            if obj.enabled:
                sending.enable(obj)
            else:
                sending.disable(obj, str(_("Disabled by %(user)s.") % {"user": request.user}))
        if not change:
            secret = generate_secret()
            WebhookSecret.objects.create(endpoint=obj, secret=secret)
            messages.warning(request, format_html(
                _("Signing secret (copy it now, it will not be shown again): <code>{}</code>"),
                secret))

    @admin.action(description=_("Send a test event"), permissions=["send_test"])
    def send_test_event(self, request, queryset) -> None:
        for endpoint in queryset:
            result = sending.send_test(endpoint)
            if result.ok:
                self.message_user(request, _("%(e)s answered %(s)s.") % {
                    "e": endpoint, "s": result.status_code}, messages.SUCCESS)
            else:
                self.message_user(request, _("%(e)s failed: %(why)s") % {
                    "e": endpoint, "why": result.error or f"HTTP {result.status_code}"},
                    messages.ERROR)

    def has_send_test_permission(self, request) -> bool:
        return request.user.has_perm("videogen.send_test_webhookendpoint")

    @admin.action(description=_("Rotate signing secret"), permissions=["rotate_secret"])
    @method_decorator(sensitive_variables("secret"))
    def rotate_secrets(self, request, queryset) -> None:
        for endpoint in queryset:
            secret = rotate_secret(endpoint)
            messages.warning(request, format_html(
                _("New secret for {} (copy it now; the old one signs for 24 more hours): "
                  "<code>{}</code>"), endpoint, secret))

    def has_rotate_secret_permission(self, request) -> bool:
        return request.user.has_perm("videogen.rotate_secret_webhookendpoint")

    @admin.action(description=_("Re-enable and resume deliveries"), permissions=["change"])
    def enable_endpoints(self, request, queryset) -> None:
        resumed = sum(sending.enable(endpoint) for endpoint in queryset)
        self.message_user(request, ngettext("%(n)d delivery resumed.", "%(n)d deliveries resumed.",
                                            resumed) % {"n": resumed}, messages.SUCCESS)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("created_at", "status_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    """Machine-written rows: staff look and act, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "event_type", "endpoint", "status", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at")
    list_filter = ("status", "endpoint", "event__type")
    list_select_related = ("event", "endpoint")
    search_fields = ("event__id", "event__job__id")
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.action(description=_("Resend (same webhook-id)"), permissions=["resend"])
    def resend(self, request, queryset) -> None:
        for item in queryset:
            sending.resend(item)
        self.message_user(request, _("%(n)d delivery(ies) queued.") % {"n": queryset.count()},
                          messages.SUCCESS)

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("videogen.resend_webhookevent")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "job", "created_at")
    list_filter = ("type",)
    list_select_related = ("job",)
    search_fields = ("id", "job__id")
    readonly_fields = ("id", "type", "job", "created_at", "pretty_payload")
    exclude = ("payload",)
    actions = ["replay"]

    @admin.display(description=_("payload"))
    def pretty_payload(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2))

    @admin.action(description=_("Replay to all endpoints that want it"), permissions=["resend"])
    def replay(self, request, queryset) -> None:
        count = sum(sending.resend_event(event) for event in queryset)
        self.message_user(request, _("%(n)d delivery(ies) queued.") % {"n": count},
                          messages.SUCCESS)

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("videogen.resend_webhookevent")
