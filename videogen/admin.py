"""The staff interface: create and submit jobs, watch them progress, play the result, act on
many jobs at once, and a dashboard.

- Drafts are edited with :class:`videogen.forms.JobForm`; a job that has been sent is shown
  read-only (its request is history), with its video, timeline and webhook deliveries.
- Actions (:mod:`videogen.actions`) each need their own permission and report per job what
  happened; the ones that need the provider enqueue a task instead of waiting on it.
- Pages poll a small JSON endpoint while jobs are in flight (``<id>/progress/``).
- Extra pages live under this admin's URLs (``get_urls``), so any ``AdminSite`` works.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from videogen import actions, catalog, dashboard, lifecycle
from videogen.actions import OPERATIONS, Operation, Report
from videogen.admin_selection import CheckedSelectionMixin, pk_value, pk_values
from videogen.forms import (
    ADVANCED_FIELDS,
    IMAGE_FIELDS,
    MAIN_FIELDS,
    JobForm,
    describe_image,
    is_url,
    stored_keyframes,
    thumbnail_src,
)
from videogen.models import REQUEST_FIELDS, JobEvent, Status, VideoJob
from videogen.progress import is_moving, progress, status_json
from videogen.webhooks import admin as webhooks_admin  # registers the webhook pages too

#: An action over "all N jobs" handles at most this many per click (a web request is no batch
#: job); the report says so, and staff run it again for the rest.
MAX_JOBS_PER_ACTION = 500
#: Jobs listed in a report message or a confirmation page.
LISTED = 20
#: The changelist never loads these large columns (base64 keyframes, raw responses).
HEAVY_FIELDS = ("media", "last_response", "metadata")
MIME_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}
#: Operation → the admin action that runs it on the changelist.
ACTION_NAMES = {"submit": "submit_jobs", "repoll": "repoll_jobs", "cancel": "cancel_jobs",
                "retry": "retry_jobs", "archive": "archive_jobs",
                "resend_webhooks": "resend_webhooks", "mark_failed": "mark_failed",
                "resubmit": "resubmit_jobs"}


# --- Filters ------------------------------------------------------------------------------------


class ModelFilter(admin.SimpleListFilter):
    """Models from the catalog: no ``SELECT DISTINCT`` over every job."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        specs = sorted(catalog.site_catalog().values(), key=lambda s: s.display_name or s.id)
        return [(spec.id, spec.display_name or spec.id) for spec in specs]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(model=self.value()) if self.value() else queryset


class OwnerFilter(admin.SimpleListFilter):
    """Me, nobody (made from code), or one of the staff (one query, however many jobs)."""

    title = _("owner")
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        users = get_user_model()
        staff = users.objects.all()
        if any(f.name == "is_staff" for f in users._meta.get_fields()):
            staff = staff.filter(is_staff=True)
        choices: list[tuple[str, Any]] = [("me", _("me")), ("none", _("nobody (from code)"))]
        choices += [(str(user.pk), str(user)) for user in staff.order_by("pk")[:50]]
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "me":
            return queryset.filter(created_by=request.user)
        if value == "none":
            return queryset.filter(created_by__isnull=True)
        if value:
            # Read by the user model's own pk field: custom user models may use UUIDs.
            pk = pk_value(get_user_model()._meta.pk, value)
            return queryset.filter(created_by_id=pk) if pk is not None else queryset.none()
        return queryset


class JobChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return super().get_queryset(request, exclude_parameters).defer(*HEAVY_FIELDS)


# --- Video jobs ---------------------------------------------------------------------------------


@admin.register(VideoJob)
class VideoJobAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    form = JobForm
    list_display = ("thumbnail", "short_prompt", "model_label", "status_badge", "progress_bar",
                    "cost_display", "owner", "created_at")
    list_display_links = ("thumbnail", "short_prompt")
    list_filter = ("status", ModelFilter, "archive_status", "created_at", OwnerFilter)
    search_fields = ("prompt", "remote_id", "metadata")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    list_per_page = 50
    # One COUNT(*) per page instead of two on a large table.
    show_full_result_count = False
    actions = list(ACTION_NAMES.values())
    #: What a job that has been sent shows (request fields without a value are left out).
    view_request_fields = ("model_label", "prompt", "negative_prompt", "size_label", "seconds",
                           "fps", "steps", "guidance_scale", "seed", "output_format",
                           "output_quality", "generate_audio", "images", "other_media")
    view_detail_fields = ("id", "remote_id", "owner", "retry_of", "linked_object",
                          "metadata_json", "created_at", "submitted_at", "started_at",
                          "finished_at", "archived_at", "poll_attempts", "last_polled_at",
                          "next_poll_at")

    class Media:
        css = {"all": ["videogen/admin/videogen.css"]}
        js = ["videogen/admin/progress.js"]

    # --- Permissions ----------------------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A job that has been sent is history: it is viewed, not edited.
        return super().has_change_permission(request, obj) and (
            obj is None or obj.status == Status.DRAFT)

    def has_submit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.submit_videojob")

    def has_repoll_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.repoll_videojob")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.cancel_videojob")

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.archive_videojob")

    def has_mark_failed_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.mark_failed_videojob")

    def has_resend_webhooks_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("videogen.resend_webhookevent")

    def may(self, request: HttpRequest, operation: Operation) -> bool:
        return bool(getattr(self, f"has_{operation.permission}_permission")(request))

    # --- Changelist -----------------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return JobChangeList

    @admin.display(description=_("poster"))
    def thumbnail(self, job: VideoJob) -> SafeString:
        if job.poster:
            return format_html('<img class="vg-poster" src="{}" alt="" loading="lazy">',
                               job.poster.url)
        return format_html('<span class="vg-poster vg-poster--none" aria-hidden="true">{}</span>',
                           "▶")

    @admin.display(description=_("prompt"), ordering="prompt")
    def short_prompt(self, job: VideoJob) -> str:
        prompt = " ".join((job.prompt or "").split())
        return Truncator(prompt).chars(80) if prompt else str(_("(no prompt)"))

    @admin.display(description=_("model"), ordering="model")
    def model_label(self, job: VideoJob) -> str:
        spec = catalog.get_model(job.model)
        return spec.display_name if spec and spec.display_name else job.model

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, job: VideoJob) -> SafeString:
        archive = ""
        if job.archive_status == "failed":
            archive = format_html(' <span class="vg-badge vg-status-failed">{}</span>',
                                  _("archive failed"))
        return format_html(
            '<span class="vg-badge vg-status-{}" data-vg-badge="{}"{}>{}</span>{}',
            job.status, job.pk, " data-vg-moving" if is_moving(job) else "",
            job.get_status_display(), archive)

    @admin.display(description=_("progress"))
    def progress_bar(self, job: VideoJob) -> SafeString:
        current = progress(job)
        return format_html(
            '<div class="vg-progress" data-vg-progress="{}"><span class="vg-bar"{}>'
            '<span style="width:{}%"></span></span> <small>{}</small></div>',
            job.pk, "" if current.percent is not None else " hidden", current.percent or 0,
            current.text)

    @admin.display(description=_("cost"), ordering="cost")
    def cost_display(self, job: VideoJob) -> str:
        return money(job.cost) if job.cost is not None else "—"

    @admin.display(description=_("owner"), ordering="created_by")
    def owner(self, job: VideoJob) -> str:
        return str(job.created_by) if job.created_by_id else "—"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str
                           ) -> tuple[QuerySet, bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset,
                                                                  search_term)
        try:
            job_id = uuid.UUID(search_term.strip())
        except ValueError:
            return results, may_have_duplicates
        # A pasted job id finds the job, whatever the other fields say.
        return queryset.filter(Q(pk=job_id) | Q(pk__in=results.values("pk"))), \
            may_have_duplicates

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None
                        ) -> HttpResponse:
        context = {"videogen_progress_url": reverse(self._url("progress")),
                   "videogen_dashboard_url": reverse(self._url("dashboard")),
                   **(extra_context or {})}
        return super().changelist_view(request, context)

    # --- Actions --------------------------------------------------------------------------

    @admin.action(description=OPERATIONS["submit"].label, permissions=["submit"])
    def submit_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "submit")

    @admin.action(description=OPERATIONS["repoll"].label, permissions=["repoll"])
    def repoll_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "repoll")

    @admin.action(description=OPERATIONS["cancel"].label, permissions=["cancel"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "cancel")

    @admin.action(description=OPERATIONS["retry"].label, permissions=["add"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "retry")

    @admin.action(description=OPERATIONS["archive"].label, permissions=["archive"])
    def archive_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "archive")

    @admin.action(description=OPERATIONS["resend_webhooks"].label,
                  permissions=["resend_webhooks"])
    def resend_webhooks(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "resend_webhooks")

    @admin.action(description=OPERATIONS["mark_failed"].label, permissions=["mark_failed"])
    def mark_failed(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "mark_failed")

    @admin.action(description=OPERATIONS["resubmit"].label, permissions=["submit"])
    def resubmit_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.run_operation(request, queryset, "resubmit")

    def run_operation(self, request: HttpRequest, queryset: QuerySet, name: str
                      ) -> HttpResponse | None:
        """Confirm first when the operation asks for it (re-POSTed with ``post=yes``, as
        Django's ``delete_selected`` does), then run it and report per job."""
        operation = OPERATIONS[name]
        if not self.may(request, operation):
            raise PermissionDenied
        if operation.confirm and request.POST.get("post") != "yes":
            return self.confirmation(request, queryset, operation)
        jobs = list(queryset[:MAX_JOBS_PER_ACTION + 1])
        report = actions.run(operation, jobs[:MAX_JOBS_PER_ACTION], request.user)
        self.show_report(request, report)
        if len(jobs) > MAX_JOBS_PER_ACTION:
            self.message_user(request, _(
                "Only the first %(n)d jobs were handled; run the action again for the rest.")
                % {"n": MAX_JOBS_PER_ACTION}, messages.WARNING)
        return None

    def confirmation(self, request: HttpRequest, queryset: QuerySet, operation: Operation
                     ) -> TemplateResponse:
        listed = list(queryset[:LISTED])
        count = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Are you sure?"), "opts": self.opts, "operation": operation,
            "action_name": ACTION_NAMES[operation.name],
            "rows": [(job, operation.guard(job)) for job in listed],
            "count": count, "more": max(0, count - len(listed)),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across") == "1",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, [
            f"admin/{self.opts.app_label}/{self.opts.model_name}/action_confirmation.html",
            "admin/videogen/action_confirmation.html"], context)

    def show_report(self, request: HttpRequest, report: Report) -> None:
        label = report.operation.label
        levels = {"done": messages.SUCCESS, "skipped": messages.WARNING,
                  "failed": messages.ERROR}
        titles = {"done": _("%(label)s — done for %(n)d job(s):"),
                  "skipped": _("%(label)s — skipped %(n)d job(s):"),
                  "failed": _("%(label)s — failed for %(n)d job(s):")}
        for kind, level in levels.items():
            outcomes = report.of(kind)  # type: ignore[arg-type]
            if outcomes:
                title = titles[kind] % {"label": label, "n": len(outcomes)}
                self.message_user(request, format_html(
                    '{}<ul class="vg-report">{}</ul>', title, self._outcome_items(outcomes)),
                    level)

    def _outcome_items(self, outcomes: list[actions.Outcome]) -> SafeString:
        items = format_html_join("", "<li>{}: {}</li>", (
            (self._job_link(o.job), self._outcome_text(o)) for o in outcomes[:LISTED]))
        if len(outcomes) > LISTED:
            items += format_html("<li>{}</li>", _("… and %(n)d more") % {
                "n": len(outcomes) - LISTED})
        return items

    def _outcome_text(self, outcome: actions.Outcome) -> SafeString:
        if outcome.created is None:
            return format_html("{}", outcome.message)
        return format_html("{} ({})", outcome.message, self._job_link(outcome.created))

    def _job_link(self, job: VideoJob) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse(self._url("change"), args=[job.pk]),
                           Truncator(str(job)).chars(60))

    # --- Extra pages --------------------------------------------------------------------------

    def _url(self, name: str) -> str:
        return f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}"

    def get_urls(self) -> list[Any]:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name=f"{info}_dashboard"),
            path("progress/", view(self.progress_many_view), name=f"{info}_progress"),
            path("<path:object_id>/progress/", view(self.progress_view),
                 name=f"{info}_progress_one"),
            path("<path:object_id>/do/<str:name>/", view(self.object_action_view),
                 name=f"{info}_do"),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            return JsonResponse({"error": str(_("No such job."))}, status=404)
        return JsonResponse(status_json(job))

    def progress_many_view(self, request: HttpRequest) -> JsonResponse:
        """Several jobs in one query: the changelist's in-flight rows."""
        if not self.has_view_permission(request):
            return JsonResponse({"error": str(_("Not allowed."))}, status=403)
        ids = pk_values(VideoJob._meta.pk, request.GET.getlist("id"))[:200]
        jobs = self.get_queryset(request).filter(pk__in=ids).defer(*HEAVY_FIELDS)
        return JsonResponse({"jobs": [status_json(job) for job in jobs]})

    def object_action_view(self, request: HttpRequest, object_id: str, name: str
                           ) -> HttpResponse:
        """The change page's buttons: the same actions, on one job."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = self.get_object(request, unquote(object_id))
        operation = OPERATIONS.get(name)
        if job is None or operation is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.may(request, operation):
            raise PermissionDenied
        response = self.run_operation(request, self.get_queryset(request).filter(pk=job.pk),
                                      name)
        return response or redirect(reverse(self._url("change"), args=[job.pk]))

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Video jobs dashboard"), "opts": self.opts,
            "board": dashboard.build(), "media": self.media,
            "changelist_url": reverse(self._url("changelist")),
        }
        return TemplateResponse(request, [
            f"admin/{self.opts.app_label}/{self.opts.model_name}/dashboard.html",
            "admin/videogen/dashboard.html"], context)

    # --- The add / change page ---------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if not self.editable(obj):
            return (
                (_("Request"), {"fields": [name for name in self.view_request_fields
                                           if _shown(obj, name)]}),
                (_("Details"), {"classes": ["collapse"], "fields": self.view_detail_fields}),
            )
        return (
            (None, {"fields": MAIN_FIELDS}),
            (_("Keyframes and reference images"), {
                "fields": IMAGE_FIELDS,
                "description": _("Optional. Which ones a model takes is shown under the model "
                                 "you pick.")}),
            (_("Advanced"), {"classes": ["collapse"], "fields": ADVANCED_FIELDS}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.editable(obj):
            return ()
        return [name for _title, options in self.get_fieldsets(request, obj)
                for name in options["fields"]]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> Any:
        if not self.editable(obj):
            kwargs["form"] = forms.ModelForm
        form = super().get_form(request, obj, change, **kwargs)
        if issubclass(form, JobForm):
            form.base_url = request.build_absolute_uri("/")
        return form

    @staticmethod
    def editable(obj: Any) -> bool:
        return obj is None or obj.status == Status.DRAFT

    def save_model(self, request: HttpRequest, obj: VideoJob, form: Any, change: bool) -> None:
        for problem in getattr(form, "warnings", []):
            messages.warning(request, _("%(field)s: %(message)s (sent anyway)") % {
                "field": problem.field, "message": problem.message})
        if not change:
            obj.created_by = request.user
            obj.save()
            return
        # Only a draft is edited, and never its status: a submit may have won the race.
        fields = {name: getattr(obj, name) for name in (*REQUEST_FIELDS, "metadata")}
        fields["updated_at"] = timezone.now()
        request._videogen_saved = bool(  # type: ignore[attr-defined]
            VideoJob.objects.filter(pk=obj.pk, status=Status.DRAFT).update(**fields))

    def response_add(self, request: HttpRequest, obj: VideoJob,
                     post_url_continue: str | None = None) -> HttpResponse:
        if "_submit" in request.POST:
            return self._saved_and_submit(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: VideoJob) -> HttpResponse:
        if not getattr(request, "_videogen_saved", True):
            self.message_user(request, _("This job was sent meanwhile, so your changes were "
                                         "not saved."), messages.ERROR)
            return redirect(reverse(self._url("change"), args=[obj.pk]))
        if "_submit" in request.POST:
            return self._saved_and_submit(request, obj)
        return super().response_change(request, obj)

    def _saved_and_submit(self, request: HttpRequest, obj: VideoJob) -> HttpResponse:
        self.message_user(request, _("The draft was saved."), messages.SUCCESS)
        if self.may(request, OPERATIONS["submit"]):
            self.show_report(request, actions.run(OPERATIONS["submit"], [obj], request.user))
        else:
            self.message_user(request, _("You may save drafts but not submit them; ask "
                                         "someone who may."), messages.WARNING)
        return redirect(reverse(self._url("change"), args=[obj.pk]))

    def render_change_form(self, request: HttpRequest, context: dict, add: bool = False,
                           change: bool = False, form_url: str = "", obj: Any = None
                           ) -> HttpResponse:
        context["can_submit"] = self.may(request, OPERATIONS["submit"])
        context["job_editable"] = self.has_add_permission(request) if obj is None else (
            self.editable(obj) and self.has_change_permission(request, obj))
        if obj is not None:
            context.update(self.job_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def job_context(self, request: HttpRequest, job: VideoJob) -> dict[str, Any]:
        """Everything the change page shows besides the form."""
        return {
            "job": job,
            "job_status": status_json(job),
            "progress_url": reverse(self._url("progress_one"), args=[job.pk]),
            "buttons": self.buttons(request, job),
            "video": self.video(job),
            "request_json": pretty_json(sent_request(job)),
            "response_json": pretty_json(job.last_response) if job.last_response else "",
            "events": job.events.select_related("actor"),
            **webhooks_admin.job_deliveries(request, job, self.admin_site),
            "uncertain": actions.is_uncertain(job),
        }

    def buttons(self, request: HttpRequest, job: VideoJob) -> list[dict[str, Any]]:
        """The operations this person may apply to this job now."""
        return [{"name": op.name, "label": op.label, "confirm": op.confirm,
                 "url": reverse(self._url("do"), args=[job.pk, op.name])}
                for op in OPERATIONS.values()
                if self.may(request, op) and op.guard(job) is None]

    @staticmethod
    def video(job: VideoJob) -> dict[str, Any] | None:
        if not job.video:
            return None
        return {"url": job.video.url, "poster": job.poster.url if job.poster else "",
                "mime": MIME_TYPES.get(job.video_container, "video/mp4"),
                "name": job.video.name.rsplit("/", 1)[-1]}

    # Read-only fields of a job that has been sent.

    @admin.display(description=_("size"))
    def size_label(self, job: VideoJob) -> str:
        if job.resolution or job.ratio:
            return f"{job.resolution or '—'} · {job.ratio or '—'}"
        return f"{job.width} × {job.height}" if job.width and job.height else "—"

    @admin.display(description=_("images"))
    def images(self, job: VideoJob) -> SafeString:
        media = job.media or {}
        items = [(position, value) for position, value in stored_keyframes(media).items()]
        items += [("reference", url) for url in media.get("reference_images") or []]
        if not items:
            return format_html("{}", "—")
        return format_html_join("", '<figure class="vg-thumb"><img src="{}" alt="" '
                                'referrerpolicy="no-referrer"><figcaption>{}: {}</figcaption>'
                                "</figure>", ((thumbnail_src(v), position, describe_image(v))
                                              for position, v in items))

    @admin.display(description=_("other media"))
    def other_media(self, job: VideoJob) -> SafeString:
        urls = other_media_urls(job.media or {})
        if not urls:
            return format_html("{}", "—")
        # A constant separator: Django 6 refuses format_html() without arguments.
        separator = mark_safe("<br>")
        return format_html_join(separator, '{}: <a href="{}" rel="noreferrer">{}</a>',
                                ((key, url, Truncator(url).chars(80)) for key, url in urls))

    @admin.display(description=_("linked object"))
    def linked_object(self, job: VideoJob) -> str:
        if not job.content_type_id:
            return "—"
        return f"{job.content_type} #{job.object_id}"

    @admin.display(description=_("metadata"))
    def metadata_json(self, job: VideoJob) -> SafeString:
        return format_html('<pre class="vg-json">{}</pre>', pretty_json(job.metadata or {}))


# --- Job events ---------------------------------------------------------------------------------


@admin.register(JobEvent)
class JobEventAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    """Read-only: events are written by the lifecycle, never by hand."""

    list_display = ("job", "created_at", "kind", "old_status", "new_status", "detail", "actor")
    list_filter = ("kind", "new_status")
    list_select_related = ("job", "actor")
    date_hierarchy = "created_at"
    search_fields = ("detail", "=job__id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Helpers for the pages ------------------------------------------------------------------------


def money(value: Decimal) -> str:
    """``0.28`` → ``$0.28``; sub-cent costs keep their digits (``$0.0045``)."""
    text = f"{value.normalize():f}"
    whole, _sep, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _shown(job: VideoJob, name: str) -> bool:
    """Whether a read-only request field has something to show."""
    media = job.media or {}
    if name == "model_label":
        return True
    if name == "size_label":
        return bool(job.width or job.resolution or job.ratio)
    if name == "images":
        return bool(stored_keyframes(media) or media.get("reference_images"))
    if name == "other_media":
        return bool(other_media_urls(media))
    return getattr(job, name) not in (None, "")


def other_media_urls(media: dict[str, Any]) -> list[tuple[str, str]]:
    """Video and audio inputs (Wan 2.7) as (field, URL) pairs."""
    pairs = []
    for key in ("frame_videos", "reference_videos", "source_video", "audio_inputs"):
        value = media.get(key)
        items = value if isinstance(value, list) else ([value] if value else [])
        for item in items:
            url = item.get("video") or item.get("audio") if isinstance(item, dict) else item
            if url:
                pairs.append((key, str(url)))
    return pairs


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def sent_request(job: VideoJob) -> dict[str, Any]:
    """The request body (as sent, or as it will be), with base64 images summarized."""
    try:
        body = lifecycle.build_request(job).to_wire()
    except Exception:
        body = job.request_fields()  # Stored data the schema refuses: show it as it is.
    media = body.get("media")
    if isinstance(media, dict) and media.get("frame_images"):
        media["frame_images"] = [_summarized(frame) for frame in media["frame_images"]]
    return body


def _summarized(frame: Any) -> Any:
    if not isinstance(frame, dict) or is_url(str(frame.get("input_image", ""))):
        return frame
    return {**frame, "input_image": f"<{describe_image(str(frame.get('input_image', '')))}, "
                                    "base64 not shown>"}
