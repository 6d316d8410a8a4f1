"""What staff can do to jobs from the admin, one job at a time, with an outcome for each.

Every operation checks the job's state up front (a *skip* with the reason: "it is completed"),
then either changes it through :mod:`videogen.lifecycle` when that is local (cancel, mark failed,
retry) or enqueues a django-q2 task when it needs the provider (submit, re-poll, archive,
webhooks): an admin request never waits on the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from videogen import budget, lifecycle, schedules, submission
from videogen.models import TERMINAL_STATUSES, ArchiveStatus, Status, VideoJob

if TYPE_CHECKING:
    from videogen.models import Actor

logger = logging.getLogger("videogen.admin")

Kind = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class Outcome:
    job: VideoJob
    kind: Kind
    message: str
    #: A job the operation made (retry's new draft), for a link in the report.
    created: VideoJob | None = None


@dataclass(frozen=True)
class Operation:
    """One staff operation: ``guard`` says why a job is skipped (None: go ahead), ``run``
    does it and returns what happened (raising ``LifecycleError`` when refused).

    The admin makes its changelist action (named ``action``) and its ``has_<permission>_
    permission`` method from this; ``codename`` is the permission that method asks for
    (empty for Django's own ``add``/``change``/``delete``/``view``)."""

    name: str
    label: Any
    permission: str
    guard: Callable[[VideoJob], str | None]
    run: Callable[[VideoJob, Any], tuple[str, VideoJob | None]]
    action: str = ""
    codename: str = ""
    #: Needs a confirmation page before it runs.
    confirm: bool = False
    #: Shown on the confirmation page, and its button.
    warning: Any = ""
    confirm_label: Any = ""

    def apply(self, job: VideoJob, user: Actor) -> Outcome:
        reason = self.guard(job)
        if reason:
            return Outcome(job, "skipped", reason)
        try:
            message, created = self.run(job, user)
        except lifecycle.LifecycleError as error:
            return Outcome(job, "failed", str(error))
        except Exception as error:
            # One job's surprise must not hide what happened to the others, nor show staff
            # a stack trace: they get the reason, the log gets the details.
            logger.exception("%s of job %s failed", self.name, job.pk)
            return Outcome(job, "failed", _("unexpected error: %(error)s") % {
                "error": error.__class__.__name__})
        return Outcome(job, "done", message, created)


@dataclass
class Report:
    """The outcomes of one operation over a selection of jobs."""

    operation: Operation
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, kind: Kind) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.kind == kind]


def run(operation: Operation, jobs: Iterable[VideoJob], user: Actor) -> Report:
    report = Report(operation)
    for job in jobs:
        report.outcomes.append(operation.apply(job, user))
    return report


def _it_is(job: VideoJob) -> str:
    return _("it is %(status)s") % {"status": job.get_status_display().lower()}


def _after_commit(task: str, *args: Any) -> None:
    # The task must see what this request committed (and nothing if it rolls back).
    transaction.on_commit(lambda: schedules.enqueue(task, *args))


# --- Submit -------------------------------------------------------------------------------------


def _submit_guard(job: VideoJob) -> str | None:
    if job.status == Status.DRAFT and job.submit_requested_at:
        # A worker picks it up (the sweeper queues it again if the broker lost it).
        return _("it is queued for sending already")
    return None if job.status in lifecycle.SUBMITTABLE else _it_is(job)


def _submit(job: VideoJob, user: Actor) -> tuple[str, None]:
    errors = [p for p in submission.check_request(job) if p.is_error]
    if errors:
        raise lifecycle.LifecycleError(
            _("the request has errors: %(errors)s") % {"errors": "; ".join(map(str, errors))})
    budget.check_budget(job)
    lifecycle.request_submit(job, actor=user)
    return _("queued for sending"), None


# --- Re-poll ------------------------------------------------------------------------------------


def _repoll_guard(job: VideoJob) -> str | None:
    if job.remote_id:
        return None
    return _("%(it_is)s and has no provider id yet") % {"it_is": _it_is(job)}


def _repoll(job: VideoJob, user: Actor) -> tuple[str, None]:
    _after_commit("repoll_job", str(job.pk))
    return _("re-poll queued"), None


# --- Cancel -------------------------------------------------------------------------------------


def _cancel_guard(job: VideoJob) -> str | None:
    return None if job.status in lifecycle.CANCELLABLE else _it_is(job)


def _cancel(job: VideoJob, user: Actor) -> tuple[str, None]:
    # Local for this provider (it has no cancel call), so it runs here, not in a task.
    lifecycle.cancel(job, actor=user)
    if job.remote_may_finish:
        return _("cancelled here; the provider may still finish and bill it"), None
    return _("cancelled"), None


# --- Retry as a new draft -----------------------------------------------------------------------


def _retry_guard(job: VideoJob) -> str | None:
    if job.status in TERMINAL_STATUSES:
        return None
    if job.status == Status.DRAFT:
        return _("it is a draft; edit it instead")
    return _("%(it_is)s; retry it once it has finished") % {"it_is": _it_is(job)}


def _retry(job: VideoJob, user: Actor) -> tuple[str, VideoJob]:
    new = lifecycle.retry(job, actor=user)
    return _("new draft created"), new


# --- Archive again ------------------------------------------------------------------------------


def _archive_guard(job: VideoJob) -> str | None:
    if job.archive_status in (ArchiveStatus.PENDING, ArchiveStatus.ARCHIVING):
        return _("it is being archived already")
    if job.status == Status.COMPLETED:
        return None
    if job.status == Status.CANCELLED and job.provider_video_url:
        return None  # The provider finished it after the cancel; staff may keep the video.
    return _("%(it_is)s; only finished videos can be archived") % {"it_is": _it_is(job)}


def _archive(job: VideoJob, user: Actor) -> tuple[str, None]:
    lifecycle.request_archive(job, actor=user)
    return _("archive queued"), None


# --- Resend webhooks ----------------------------------------------------------------------------


def _webhooks_guard(job: VideoJob) -> str | None:
    return None if job.webhook_events.exists() else _("it has no webhook events")


def _resend_webhooks(job: VideoJob, user: Actor) -> tuple[str, None]:
    from videogen.webhooks import delivery

    count = sum(delivery.resend_event(event) for event in job.webhook_events.order_by(
        "created_at"))
    if not count:
        raise lifecycle.LifecycleError(_("no enabled endpoint wants its events"))
    return ngettext("%(count)d delivery queued", "%(count)d deliveries queued", count) % {
        "count": count}, None


# --- Mark an uncertain submission failed --------------------------------------------------------


def _uncertain_guard(job: VideoJob) -> str | None:
    if job.status != Status.SUBMITTING:
        return _("%(it_is)s; only uncertain submissions qualify") % {"it_is": _it_is(job)}
    if not job.is_uncertain:
        return _("it is being sent right now; wait for the provider's answer")
    return None


def _mark_failed(job: VideoJob, user: Actor) -> tuple[str, None]:
    lifecycle.mark_failed(job, actor=user)
    return _("marked failed"), None


def _resubmit(job: VideoJob, user: Actor) -> tuple[str, None]:
    budget.check_budget(job)
    lifecycle.request_resubmit(job, actor=user)
    return _("queued for sending again"), None


OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("submit", gettext_lazy("Submit to the provider"), "submit", _submit_guard,
              _submit, action="submit_jobs", codename="videogen.submit_videojob"),
    Operation("repoll", gettext_lazy("Re-poll now"), "repoll", _repoll_guard, _repoll,
              action="repoll_jobs", codename="videogen.repoll_videojob"),
    Operation("cancel", gettext_lazy("Cancel…"), "cancel", _cancel_guard, _cancel,
              action="cancel_jobs", codename="videogen.cancel_videojob", confirm=True,
              confirm_label=gettext_lazy("Yes, cancel"), warning=gettext_lazy(
                  "The provider has no cancel call for videos: a job it has already received "
                  "may still finish and be billed. Polling stops and the job is marked "
                  "cancelled here.")),
    Operation("retry", gettext_lazy("Retry as a new draft"), "add", _retry_guard, _retry,
              action="retry_jobs"),
    Operation("archive", gettext_lazy("Archive again"), "archive", _archive_guard, _archive,
              action="archive_jobs", codename="videogen.archive_videojob"),
    Operation("resend_webhooks", gettext_lazy("Resend webhooks"), "resend_webhooks",
              _webhooks_guard, _resend_webhooks, action="resend_webhooks",
              codename="videogen.resend_webhookevent"),
    Operation("mark_failed", gettext_lazy("Mark uncertain submission failed…"), "mark_failed",
              _uncertain_guard, _mark_failed, action="mark_failed",
              codename="videogen.mark_failed_videojob", confirm=True,
              confirm_label=gettext_lazy("Yes, mark failed"), warning=gettext_lazy(
                  "Only do this after checking the provider's dashboard: if the provider did "
                  "receive the job it may still finish and bill it, and it will not be "
                  "tracked here.")),
    Operation("resubmit", gettext_lazy("Send uncertain submission again…"), "submit",
              _uncertain_guard, _resubmit, action="resubmit_jobs",
              codename="videogen.submit_videojob", confirm=True,
              confirm_label=gettext_lazy("Yes, send again"), warning=gettext_lazy(
                  "Only do this after checking the provider's dashboard: if the provider did "
                  "receive the first request, sending again makes a second video and a second "
                  "bill.")),
)}
