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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from videogen import actions, catalog, dashboard, submission
from videogen.actions import OPERATIONS, Operation, Outcome, Report
from videogen.admin_selection import CheckedSelectionMixin, ReadOnlyAdmin, pk_value, pk_values
from videogen.forms import ADVANCED_FIELDS, IMAGE_FIELDS, MAIN_FIELDS, JobForm
from videogen.media import other_media_urls, stored_keyframes, summarize_frames
from videogen.models import REQUEST_FIELDS, JobEvent, Status, VideoJob
from videogen.progress import cost_text, progress, status_json
from videogen.storage import file_url, storage_problem
from videogen.webhooks import admin as webhooks_admin  # registers the webhook pages too
from videogen.widgets import describe_image, in_words, is_own, thumbnail_src

if TYPE_CHECKING:
    from django.db.models import Field

    from videogen.models import User

#: An action over "all N jobs" handles at most this many per click (a web request is no batch
#: job); the report says so, and staff run it again for the rest.
MAX_JOBS_PER_ACTION = 500
#: Jobs listed in a report message or a confirmation page.
LISTED = 20
#: The changelist never loads these large columns (base64 keyframes, raw responses).
HEAVY_FIELDS = ("media", "last_response", "metadata")
MIME_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}


def staff_user(request: HttpRequest) -> User:
    """``request.user`` on an admin page: the admin lets in logged-in staff only, never an
    AnonymousUser (which django-stubs must allow for ``request.user`` in general)."""
    return cast("User", request.user)


# --- Filters ------------------------------------------------------------------------------------


class ModelFilter(admin.SimpleListFilter):
    """Models from the catalog: no ``SELECT DISTINCT`` over every job."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
                ) -> list[tuple[str, str]]:
        specs = sorted(catalog.site_catalog().values(), key=lambda s: s.display_name or s.id)
        return [(spec.id, spec.display_name or spec.id) for spec in specs]

    def queryset(self, request: HttpRequest, queryset: QuerySet[VideoJob]) -> QuerySet[VideoJob]:
        return queryset.filter(model=self.value()) if self.value() else queryset


class OwnerFilter(admin.SimpleListFilter):
    """Me, nobody (made from code), or one of the staff (one query, however many jobs)."""

    title = _("owner")
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
                ) -> list[tuple[str, Any]]:
        users = get_user_model()
        staff = users.objects.all()
        if any(f.name == "is_staff" for f in users._meta.get_fields()):
            staff = staff.filter(is_staff=True)
        choices: list[tuple[str, Any]] = [("me", _("me")), ("none", _("nobody (from code)"))]
        choices += [(str(user.pk), str(user)) for user in staff.order_by("pk")[:50]]
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[VideoJob]) -> QuerySet[VideoJob]:
        value = self.value()
        if value == "me":
            return queryset.filter(created_by=staff_user(request))
        if value == "none":
            return queryset.filter(created_by__isnull=True)
        if value:
            # Read by the user model's own pk field: custom user models may use UUIDs.
            pk = pk_value(get_user_model()._meta.pk, value)
            return queryset.filter(created_by_id=pk) if pk is not None else queryset.none()
        return queryset


class SendingFilter(admin.SimpleListFilter):
    """Drafts nobody has sent yet: what someone with the submit permission looks for."""

    title = _("sending")
    parameter_name = "sending"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
                ) -> list[tuple[str, Any]]:
        return [("waiting", _("Drafts waiting to be sent")),
                ("queued", _("Queued for sending"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[VideoJob]) -> QuerySet[VideoJob]:
        if self.value() == "waiting":
            return queryset.filter(status=Status.DRAFT, submit_requested_at__isnull=True)
        if self.value() == "queued":
            return queryset.filter(status=Status.DRAFT, submit_requested_at__isnull=False)
        return queryset


class JobChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None
                     ) -> QuerySet[VideoJob]:
        return super().get_queryset(request, exclude_parameters).defer(*HEAVY_FIELDS)


# --- Video jobs ---------------------------------------------------------------------------------


class _SentMeanwhile(Exception):
    """A draft's save found it sent (or queued for sending) since its form was loaded."""


def _action(operation: Operation) -> Callable[..., HttpResponse | None]:
    """The changelist action that runs ``operation`` (named and labelled as the table says)."""
    def action(self: VideoJobAdmin, request: HttpRequest, queryset: QuerySet[VideoJob]
               ) -> HttpResponse | None:
        return self.run_operation(request, queryset, operation.name)

    action.__name__ = action.__qualname__ = operation.action
    return admin.action(description=operation.label, permissions=[operation.permission])(action)


def _permission_check(codename: str) -> Callable[[Any, HttpRequest], bool]:
    """A ``has_<permission>_permission`` method: whether the user holds ``codename``."""
    def has_permission(self: Any, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(codename))

    return has_permission


#: The actions and ``has_<permission>_permission`` methods of :data:`OPERATIONS`, made from
#: the table (an operation under one of Django's own permissions, like retry's ``add``,
#: uses Django's method).
if TYPE_CHECKING:
    class OperationActions:
        """Built from the table at run time: methods the type checker cannot see."""
else:
    OperationActions = type("OperationActions", (), {
        **{op.action: _action(op) for op in OPERATIONS.values()},
        **{f"has_{op.permission}_permission": _permission_check(op.codename)
           for op in OPERATIONS.values() if op.codename},
    })


@admin.register(VideoJob)
class VideoJobAdmin(OperationActions, CheckedSelectionMixin, admin.ModelAdmin):
    form = JobForm
    list_display = ("thumbnail", "short_prompt", "model_label", "status_badge", "progress_bar",
                    "cost_display", "owner", "created")
    list_display_links = ("thumbnail", "short_prompt")
    list_filter = ("status", SendingFilter, ModelFilter, "archive_status", "created_at",
                   OwnerFilter)
    search_fields = ("prompt", "remote_id", "metadata")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    list_per_page = 50
    # One COUNT(*) per page instead of two on a large table.
    show_full_result_count = False
    actions = [op.action for op in OPERATIONS.values()]
    #: What a job that has been sent shows (request fields without a value are left out).
    view_request_fields = ("model_label", "prompt", "negative_prompt", "size_label",
                           "resolution", "ratio", "seconds",
                           "fps", "steps", "guidance_scale", "seed", "output_format",
                           "output_quality", "generate_audio", "images", "other_media")
    view_detail_fields = ("id", "remote_id", "owner", "retry_of", "linked_object",
                          "metadata_json", "created_at", "submitted_at", "started_at",
                          "finished_at", "archived_at", "poll_attempts", "last_polled_at",
                          "next_poll_at")

    class Media:
        css = {"all": ["videogen/admin/videogen.css"]}
        js = ["videogen/admin/progress.js", "videogen/admin/preview.js"]

    # --- Permissions ----------------------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: VideoJob | None = None) -> bool:
        # A job that has been sent (or queued for sending) is history: viewed, not edited.
        return super().has_change_permission(request, obj) and self.editable(obj)

    def may(self, request: HttpRequest, operation: Operation) -> bool:
        return bool(getattr(self, f"has_{operation.permission}_permission")(request))

    # --- Changelist -----------------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return JobChangeList

    @admin.display(description=_("poster"))
    def thumbnail(self, job: VideoJob) -> SafeString:
        if url := file_url(job.poster):
            return format_html('<img class="vg-poster" src="{}" alt="" loading="lazy">', url)
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
            job.status, job.pk, " data-vg-moving" if job.is_moving else "",
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
    def cost_display(self, job: VideoJob) -> SafeString:
        # Marked so that the list's refresh fills it in when the provider reports the cost.
        return format_html('<span data-vg-cost="{}">{}</span>', job.pk, cost_text(job))

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, job: VideoJob) -> str:
        # Short ("12/04/2026 23:14"), so the column fits beside the sidebar.
        created = job.created_at
        if timezone.is_aware(created):
            created = timezone.localtime(created)
        return formats.date_format(created, "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("owner"), ordering="created_by")
    def owner(self, job: VideoJob) -> str:
        return str(job.created_by) if job.created_by_id else "—"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[VideoJob],
                           search_term: str) -> tuple[QuerySet[VideoJob], bool]:
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

    def run_operation(self, request: HttpRequest, queryset: QuerySet[VideoJob], name: str
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

    def confirmation(self, request: HttpRequest, queryset: QuerySet[VideoJob], operation: Operation
                     ) -> TemplateResponse:
        listed = list(queryset[:LISTED])
        count = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Are you sure?"), "opts": self.opts, "operation": operation,
            "action_name": operation.action,
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
        # "Cancel…" is a button that asks first; the report of what it did does not.
        label = str(report.operation.label).rstrip("…")
        levels = {"done": messages.SUCCESS, "skipped": messages.WARNING,
                  "failed": messages.ERROR}
        for kind, level in levels.items():
            outcomes = report.of(kind)  # type: ignore[arg-type]
            if outcomes:
                title = report_title(kind, len(outcomes)) % {"label": label,
                                                             "n": len(outcomes)}
                self.message_user(request, format_html(
                    '{}<ul class="vg-report">{}</ul>', title, self._outcome_items(outcomes)),
                    level)

    def _outcome_items(self, outcomes: list[Outcome]) -> SafeString:
        items = format_html_join("", "<li>{}: {}</li>", (
            (self._job_link(o.job), self._outcome_text(o)) for o in outcomes[:LISTED]))
        if len(outcomes) > LISTED:
            items += format_html("<li>{}</li>", _("… and %(n)d more") % {
                "n": len(outcomes) - LISTED})
        return items

    def _outcome_text(self, outcome: Outcome) -> SafeString:
        # The catalog's words name the model by its id; staff know it by its label.
        message = in_words(str(outcome.message), catalog.get_model(outcome.job.model))
        if outcome.created is None:
            return format_html("{}", message)
        # The new job's text would repeat the old one's (same prompt): say what it is instead.
        return format_html("{} ({})", message,
                           self._job_link(outcome.created, _("open the new draft")))

    def _job_link(self, job: VideoJob, text: Any = None) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse(self._url("change"), args=[job.pk]),
                           text or Truncator(str(job)).chars(60))

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
            path("<path:object_id>/download/", view(self.download_view),
                 name=f"{info}_download"),
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
            # Django's own answer (private, absent from django-stubs).
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.opts, object_id)
        if not self.may(request, operation):
            raise PermissionDenied
        if name == "retry":
            return self._retry_one(request, job)
        response = self.run_operation(request, self.get_queryset(request).filter(pk=job.pk),
                                      name)
        return response or redirect(reverse(self._url("change"), args=[job.pk]))

    def download_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        """The archived video as a download with a readable name: streamed from storage, or a
        redirect to a signed S3 URL that tells S3 to send it as an attachment."""
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job) or not job.video:
            raise Http404(_("This job has no video."))
        if problem := storage_problem(job):  # its storage alias was taken out of STORAGES
            raise Http404(problem)
        name = download_name(job)
        signed = signed_download_url(job.video, name)
        if signed:
            return redirect(signed)
        try:
            file = job.video.storage.open(job.video.name, "rb")
        except (OSError, ValueError):  # deleted by hand, or a name storage refuses
            raise Http404(_("The video file is missing from storage.")) from None
        return FileResponse(file, as_attachment=True, filename=name,
                            content_type=MIME_TYPES.get(job.video_container, "video/mp4"))

    def history_view(self, request: HttpRequest, object_id: str,
                     extra_context: dict | None = None) -> HttpResponse:
        """One history: the job's own timeline (every status change, who, to the second),
        not Django's object log, which only knows "Added"."""
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            return super().history_view(request, object_id, extra_context)  # Django's refusal
        return redirect(reverse(self._url("change"), args=[job.pk]) + "#vg-history")

    def _retry_one(self, request: HttpRequest, job: VideoJob) -> HttpResponse:
        """The page's *Retry as a new draft*: open the new draft, ready to edit (its page
        links back to this job)."""
        operation = OPERATIONS["retry"]
        outcome = operation.apply(job, request.user)
        if outcome.created is None:
            self.show_report(request, Report(operation, [outcome]))
            return redirect(reverse(self._url("change"), args=[job.pk]))
        self.message_user(request, _("This is a new draft with the request of the job you "
                                     "retried. Change what you need, then save it."),
                          messages.SUCCESS)
        return redirect(reverse(self._url("change"), args=[outcome.created.pk]))

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

    def get_fieldsets(self, request: HttpRequest, obj: VideoJob | None = None) -> Any:
        if obj is not None and not self.editable(obj):
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

    def get_readonly_fields(self, request: HttpRequest, obj: VideoJob | None = None) -> Any:
        if self.editable(obj):
            return ()
        return [name for _title, options in self.get_fieldsets(request, obj)
                for name in options["fields"]]

    def get_form(self, request: HttpRequest, obj: VideoJob | None = None, change: bool = False,
                 **kwargs: Any) -> Any:
        if not self.editable(obj):
            kwargs["form"] = forms.ModelForm
        form = super().get_form(request, obj, change, **kwargs)
        if issubclass(form, JobForm):
            form.base_url = request.build_absolute_uri("/")
        return form

    @staticmethod
    def editable(obj: VideoJob | None) -> bool:
        return obj is None or obj.is_editable

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        except _SentMeanwhile:
            # The draft was sent between loading and saving it (the save's transaction has
            # rolled back): the same page as a late save.
            current = self.get_object(request, unquote(object_id))
            if current is None:  # deleted meanwhile
                return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                    request, self.opts, object_id)
            return self.sent_meanwhile(request, current)
        except PermissionDenied:
            # A save from a tab opened before the job was sent: a normal page, not a 403.
            job = self.get_object(request, unquote(object_id))
            if (request.method == "POST" and job is not None and not self.editable(job)
                    and self.has_change_permission(request)):
                return self.sent_meanwhile(request, job)
            raise

    def sent_meanwhile(self, request: HttpRequest, job: VideoJob) -> HttpResponse:
        """The read-only page of a job that was sent while someone edited it, saying so, with
        what they typed shown back: the edit is refused but never lost."""
        sent = job.submitted_at or job.submit_requested_at
        if sent:
            text = _("This job was sent at %(time)s; it can no longer be edited, so your "
                     "changes were not saved. Retry as a new draft to change it.") % {
                "time": _when(sent)}
        else:
            text = _("This job is %(status)s; it can no longer be edited, so your changes "
                     "were not saved.") % {"status": job.get_status_display().lower()}
        self.message_user(request, text, messages.ERROR)
        typed = [(cast("Field[Any, Any]", VideoJob._meta.get_field(name)).verbose_name,
                  request.POST.get(name, "")) for name in TYPED_FIELDS]
        typed = [(label, value) for label, value in typed if value.strip()]
        # Shown as a GET: the form is not bound to the refused data, the page is read-only.
        request.method = "GET"
        return super().change_view(request, str(job.pk), extra_context={"typed": typed})

    def save_model(self, request: HttpRequest, obj: VideoJob, form: Any, change: bool) -> None:
        for text in form.warning_texts() if isinstance(form, JobForm) else ():
            messages.warning(request, text)
        if not change:
            obj.created_by = staff_user(request)
            obj.save()
            return
        # Only a draft is edited, and never its status: a submit may have won the race.
        fields = {name: getattr(obj, name) for name in (*REQUEST_FIELDS, "metadata")}
        fields["updated_at"] = timezone.now()
        saved = VideoJob.objects.filter(pk=obj.pk, status=Status.DRAFT,
                                        submit_requested_at__isnull=True).update(**fields)
        if not saved:
            raise _SentMeanwhile  # change_view answers; the change is not logged as made

    def response_add(self, request: HttpRequest, obj: VideoJob,
                     post_url_continue: str | None = None) -> HttpResponse:
        if self._draft_button(request):
            return self._saved_and_submit(request, obj)
        response = super().response_add(request, obj, post_url_continue)
        self._who_sends_it(request)
        return response

    def response_change(self, request: HttpRequest, obj: VideoJob) -> HttpResponse:
        if self._draft_button(request):
            return self._saved_and_submit(request, obj)
        response = super().response_change(request, obj)
        self._who_sends_it(request)
        return response

    def _who_sends_it(self, request: HttpRequest) -> None:
        if not self.may(request, OPERATIONS["submit"]):
            self.message_user(request, _(
                "Saved as a draft. Someone who may submit will send it: they find it under "
                "“Drafts waiting to be sent”."), messages.INFO)

    @staticmethod
    def _draft_button(request: HttpRequest) -> bool:
        """*Save draft* or *Save and submit* (not a popup, which answers Django's way)."""
        return ("_submit" in request.POST or "_continue" in request.POST) and \
            IS_POPUP_VAR not in request.POST

    def _saved_and_submit(self, request: HttpRequest, obj: VideoJob) -> HttpResponse:
        """Both buttons answer alike ("The draft was saved."); *Save and submit* then says
        what the submit did. Someone who may not submit is told who sends it instead (a
        *Save and submit* from them is a stale page or a crafted POST: not sent)."""
        if not self.may(request, OPERATIONS["submit"]):
            self._who_sends_it(request)
        else:
            self.message_user(request, _("The draft was saved."), messages.SUCCESS)
            if "_submit" in request.POST:
                self.show_report(request, actions.run(OPERATIONS["submit"], [obj],
                                                      request.user))
        return redirect(reverse(self._url("change"), args=[obj.pk]))

    def render_change_form(self, request: HttpRequest, context: dict, add: bool = False,
                           change: bool = False, form_url: str = "", obj: VideoJob | None = None
                           ) -> HttpResponse:
        context["can_submit"] = self.may(request, OPERATIONS["submit"])
        context["job_editable"] = self.has_add_permission(request) if obj is None else (
            self.editable(obj) and self.has_change_permission(request, obj))
        if obj is not None:
            context.update(self.job_context(request, obj))
        if obj is not None and obj.retry_of_id and context["job_editable"]:
            context["retry_of_link"] = self._job_link(cast(VideoJob, obj.retry_of))  # has an id
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
            "uncertain": job.is_uncertain,
        }

    def buttons(self, request: HttpRequest, job: VideoJob) -> list[dict[str, Any]]:
        """The operations this person may apply to this job now."""
        return [{"name": op.name, "label": op.label, "confirm": op.confirm,
                 "url": reverse(self._url("do"), args=[job.pk, op.name])}
                for op in OPERATIONS.values()
                if self.may(request, op) and op.guard(job) is None]

    def video(self, job: VideoJob) -> dict[str, Any] | None:
        if not job.video:
            return None
        if problem := storage_problem(job):
            return {"error": problem}
        return {"url": job.video.url, "poster": file_url(job.poster),
                "mime": MIME_TYPES.get(job.video_container, "video/mp4"),
                "name": download_name(job),
                "download_url": reverse(self._url("download"), args=[job.pk])}

    # Read-only fields of a job that has been sent.

    @admin.display(description=_("size"))
    def size_label(self, job: VideoJob) -> str:
        # Wan 2.7's resolution and ratio are fields of their own, under their own names.
        return f"{job.width} × {job.height}" if job.width and job.height else "—"

    @admin.display(description=_("images"))
    def images(self, job: VideoJob) -> SafeString:
        media = job.media or {}
        items = [(position, value) for position, value in stored_keyframes(media).items()]
        items += [("reference", url) for url in media.get("reference_images") or []]
        if not items:
            return format_html("{}", "—")
        # Images on other hosts load only when staff press "Show preview".
        shown = [{"src": thumbnail_src(value), "own": is_own(thumbnail_src(value)),
                  "label": f"{position}: {describe_image(value)}"}
                 for position, value in items if thumbnail_src(value)]
        return format_html('<div class="vg-images">{}</div>', render_to_string(
            "admin/videogen/widgets/previews.html", {
                "previews": shown, "show_button": True,
                "foreign": any(not item["own"] for item in shown)}))

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
class JobEventAdmin(ReadOnlyAdmin):
    """Read-only: events are written by the lifecycle, never by hand."""

    list_display = ("job", "when", "kind", "old_status", "new_status", "detail", "actor")
    list_filter = ("kind", "new_status")
    list_select_related = ("job", "actor")
    date_hierarchy = "created_at"
    search_fields = ("detail", "=job__id")

    @admin.display(description=_("time"), ordering="created_at")
    def when(self, event: JobEvent) -> SafeString:
        # To the second, as on the job's page: events of one job are often seconds apart.
        local = timezone.localtime(event.created_at)
        return format_html('<time datetime="{}">{} {}</time>', event.created_at.isoformat(),
                           formats.date_format(local, "SHORT_DATE_FORMAT"),
                           formats.time_format(local, "H:i:s"))


# --- Helpers for the pages ------------------------------------------------------------------------


def report_title(kind: str, n: int) -> str:
    """The first line of an action's report: "Re-poll now — done for 3 jobs:"."""
    if kind == "done":
        return ngettext("%(label)s — done for %(n)d job:", "%(label)s — done for %(n)d jobs:", n)
    if kind == "skipped":
        return ngettext("%(label)s — skipped %(n)d job:", "%(label)s — skipped %(n)d jobs:", n)
    return ngettext("%(label)s — failed for %(n)d job:", "%(label)s — failed for %(n)d jobs:", n)


def download_name(job: VideoJob) -> str:
    """``veo-2-0-a-paper-boat-drifting-on-a-calm-lake.mp4``: the model and the prompt's first
    words, ASCII only (safe in a header and on any file system)."""
    model = slugify(str(job.model).rsplit("/", 1)[-1].replace(".", "-"))
    words = slugify(" ".join((job.prompt or "").split()[:8]))[:40].rstrip("-")
    stored = job.video.name or ""
    extension = slugify(stored.rsplit(".", 1)[-1]) if "." in stored else ""
    stem = "-".join(part for part in (model, words) if part) or "video"
    return f"{stem}.{extension or job.video_container or 'mp4'}"


def signed_download_url(video: Any, name: str) -> str | None:
    """A signed S3 URL (django-storages) whose response is an attachment named ``name``;
    None for storage that cannot sign one (the file is streamed instead). S3 honours
    ``response-content-disposition`` only on signed requests, hence no custom domain."""
    storage = video.storage
    if not getattr(storage, "querystring_auth", False) or getattr(storage, "custom_domain", None):
        return None
    disposition = content_disposition_header(True, name)
    return str(storage.url(video.name, parameters={"ResponseContentDisposition": disposition}))


#: What a refused late edit shows back to its author (the text they typed).
TYPED_FIELDS = ("prompt", "negative_prompt")


def _when(moment: Any) -> str:
    """A time of today as ``18:47``, an older one with its date."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return formats.time_format(local, "TIME_FORMAT")
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")



def _shown(job: VideoJob, name: str) -> bool:
    """Whether a read-only request field has something to show."""
    media = job.media or {}
    if name == "model_label":
        return True
    if name == "size_label":
        return bool(job.width)
    if name == "images":
        return bool(stored_keyframes(media) or media.get("reference_images"))
    if name == "other_media":
        return bool(other_media_urls(media))
    return getattr(job, name) not in (None, "")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def sent_request(job: VideoJob) -> dict[str, Any]:
    """The request body (as sent, or as it will be), with base64 images summarized."""
    try:
        body = submission.build_request(job).to_wire()
    except Exception:
        body = job.request_fields()  # Stored data the schema refuses: show it as it is.
    media = body.get("media")
    if isinstance(media, dict) and media.get("frame_images"):
        media["frame_images"] = summarize_frames(media["frame_images"], _summary)
    return body


def _summary(image: str) -> str:
    return f"<{describe_image(image)}, base64 not shown>"
