"""Staff pages for webhooks: endpoints (create, test, rotate, re-enable), the delivery log
(with resend) and events (with replay). Secrets are shown once, when made."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from videogen.admin_selection import CheckedSelectionMixin, ReadOnlyAdmin
from videogen.conf import get_settings
from videogen.jsondata import JSONFormField
from videogen.webhooks import delivery as sending
from videogen.webhooks.endpoints import rotate_secret, save_new_endpoint
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

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from django_stubs_ext import StrOrPromise

    from videogen.models import VideoJob


class ShownOnce(str):
    """A secret on the page that shows it. Its repr is masked: Django logs the whole template
    context when a variable lookup fails (DEBUG), and error pages show it."""

    def __repr__(self) -> str:
        return f"'whsec_…{self[-4:]}'"


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https",
                         widget=forms.URLInput(attrs={"class": "vLargeTextField vg-wide"}))
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
    classes = ["vg-rows"]  # each row's columns say it all: no caption above it
    verbose_name_plural = _("secrets (shown in full only when created)")

    @admin.display(description=_("secret"))
    def masked(self, obj: WebhookSecret) -> str:
        return str(obj)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Whoever may see the endpoint sees its (masked) secrets.
        return request.user.has_perm("videogen.view_webhookendpoint") or \
            request.user.has_perm("videogen.change_webhookendpoint")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    form = EndpointForm

    class Media:
        css = {"all": ["videogen/admin/videogen.css"]}
    list_display = ("url", "description", "enabled", "events", "consecutive_failures",
                    "disabled_reason")
    list_filter = ("enabled",)
    search_fields = ("url", "description")
    readonly_fields = ("settings_key", "consecutive_failures", "disabled_reason", "disabled_at",
                       "created_at")
    inlines = [SecretInline]
    actions = ["send_test_event", "rotate_secrets", "enable_endpoints"]

    @admin.display(description=_("events"))
    def events(self, obj: WebhookEndpoint) -> StrOrPromise:
        return ", ".join(obj.event_types) if obj.event_types else _("all")

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm,
                   change: bool) -> None:
        if not change:
            save_new_endpoint(obj)  # with its secret, which response_add shows once
            return
        super().save_model(request, obj, form, change)
        if change and "enabled" in form.changed_data:
            # The checkbox does what the actions do: unticking pauses like an auto-disable
            # (recorded, so re-enabling catches up), ticking resumes the paused deliveries
            # and clears the failure count. A bare save left them paused for good.
            if obj.enabled:
                sending.enable(obj)
            else:
                sending.disable(obj, str(_("Disabled by %(user)s.") % {"user": request.user}))

    @method_decorator(sensitive_variables("secret"))
    def response_add(self, request: HttpRequest, obj: WebhookEndpoint,
                     post_url_continue: str | None = None) -> HttpResponse:
        """The new endpoint's secret (made with it, in the add's transaction) shown in this
        answer only, with a link on to where the add would have gone."""
        secret = obj.active_secrets()[0]
        onward = super().response_add(request, obj, post_url_continue)
        return self.show_secrets(request, [(obj, secret)], onward["Location"], _(
            "Signing secret of the new endpoint. Copy it now: it will not be shown again."))

    def show_secrets(self, request: HttpRequest,
                     secrets: list[tuple[WebhookEndpoint, str]], onward: str,
                     title: StrOrPromise) -> HttpResponse:
        """A page with the secrets in full. Not a message: messages travel in a cookie that
        is signed, not encrypted; and not kept by any cache or the browser's history."""
        response = TemplateResponse(request, "admin/videogen/webhookendpoint/secrets.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": title,
            "subtitle": None, "onward": onward,
            "secrets": [(endpoint, ShownOnce(secret)) for endpoint, secret in secrets]})
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True, private=True)
        return response

    @admin.action(description=_("Send a test event"), permissions=["send_test"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
                        ) -> None:
        for endpoint in queryset:
            result = sending.send_test(endpoint)
            if result.ok:
                self.message_user(request, _("%(e)s answered %(s)s.") % {
                    "e": endpoint, "s": result.status_code}, messages.SUCCESS)
            else:
                self.message_user(request, _("%(e)s failed: %(why)s") % {
                    "e": endpoint, "why": result.error or f"HTTP {result.status_code}"},
                    messages.ERROR)

    def has_send_test_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.send_test_webhookendpoint")

    @admin.action(description=_("Rotate signing secret"), permissions=["rotate_secret"])
    @method_decorator(sensitive_variables("secret"))
    def rotate_secrets(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
                       ) -> HttpResponse:
        secrets = [(endpoint, rotate_secret(endpoint)) for endpoint in queryset]
        return self.show_secrets(request, secrets, request.get_full_path(), _(
            "New signing secrets. Copy them now: they will not be shown again; the old ones "
            "keep signing for 24 more hours."))

    def has_rotate_secret_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.rotate_secret_webhookendpoint")

    @admin.action(description=_("Re-enable and resume deliveries"), permissions=["change"])
    def enable_endpoints(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
                         ) -> None:
        resumed = sum(sending.enable(endpoint) for endpoint in queryset)
        self.message_user(request, ngettext("%(n)d delivery resumed.", "%(n)d deliveries resumed.",
                                            resumed) % {"n": resumed}, messages.SUCCESS)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("created_at", "status_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields
    classes = ["vg-rows"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "event_type", "job", "endpoint", "status", "attempts",
                    "last_status_code", "next_attempt_at", "delivered_at")
    list_filter = ("status", "endpoint", "event__type")
    list_select_related = ("event", "event__job", "endpoint")
    search_fields = ("event__id", "event__job__id")
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description=_("job"))
    def job(self, obj: WebhookDelivery) -> str:
        job = obj.event.job
        if job is None:
            return "—"
        url = reverse(f"{self.admin_site.name}:videogen_videojob_change", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, Truncator(str(job)).chars(60))

    @admin.action(description=_("Resend (same webhook-id)"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for item in queryset:
            sending.resend(item)
        count = queryset.count()
        self.message_user(request, ngettext("%(n)d delivery queued.", "%(n)d deliveries queued.",
                                            count) % {"n": count}, messages.SUCCESS)

    def has_resend_permission(self, request: HttpRequest) -> bool:
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
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        count = sum(sending.resend_event(event) for event in queryset)
        self.message_user(request, ngettext("%(n)d delivery queued.", "%(n)d deliveries queued.",
                                            count) % {"n": count}, messages.SUCCESS)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.resend_webhookevent")


def job_deliveries(request: HttpRequest, job: VideoJob, site: admin.AdminSite
                   ) -> dict[str, Any]:
    """The job page's webhook section. Whoever may see the job sees where its events went,
    by host only, and how they fared; the endpoint's name and URL (which may carry a token)
    need "view webhook endpoint", the last error (which may name internal addresses) and the
    link to the delivery log need "view webhook delivery", as on the webhook pages."""
    may_see_endpoints = request.user.has_perm("videogen.view_webhookendpoint")
    deliveries = list(WebhookDelivery.objects.filter(event__job=job)
                      .select_related("event", "endpoint")
                      .order_by("event__created_at", "pk")[:100])
    for delivery in deliveries:
        # For the template only (not a field of the model).
        delivery.endpoint_label = (  # type: ignore[attr-defined]
            str(delivery.endpoint) if may_see_endpoints else _host(delivery.endpoint.url))
    return {"deliveries": deliveries,
            "can_view_deliveries": site.is_registered(WebhookDelivery)
            and request.user.has_perm("videogen.view_webhookdelivery"),
            "delivery_url_name": f"{site.name}:videogen_webhookdelivery_change"}


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "—"
    except ValueError:
        return "—"
