"""The job's state machine: every change of ``status`` and ``archive_status`` happens here.

Only that: how long a model takes is :mod:`videogen.timing`'s, spend and caps are
:mod:`videogen.budget`'s, and the SQL of the poller's bulk write of routine answers (which
change no status) is :mod:`videogen.fastpath.bulk_update`'s.

Each change is one transaction that locks the row (``select_for_update``), checks the current
state, saves, writes a :class:`~videogen.models.JobEvent`, and schedules signals and follow-up
tasks with ``transaction.on_commit``. A crash at any instant therefore leaves either the old state
or the new one with its history; never half of each, and nothing sent twice.

Submitting is split around the network call (:mod:`videogen.submission` sends it):
``draft → submitting`` is committed *before* the POST, and the answer's transition after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from videogen import catalog, schedules, signals, timing
from videogen.client import errors as api_errors
from videogen.client.schemas import RemoteJob
from videogen.conf import require_api_key
from videogen.exceptions import (  # defined there; still importable from here
    ArchiveSuperseded,
    BudgetExceeded,  # noqa: F401 (docs/api.md names lifecycle.BudgetExceeded)
    InvalidTransition,
    LifecycleError,
    NotConfigured,  # noqa: F401 (the old name: lifecycle.NotConfigured)
    UnstorableAnswer,
)
from videogen.fastpath import snapshot
from videogen.jsondata import (  # WRITE_ERRORS: defined there; still importable from here
    WRITE_ERRORS,
    storable_decimal,
    storable_json,
    storable_text,
)
from videogen.models import (
    IN_FLIGHT_STATUSES,
    REQUEST_FIELDS,
    TERMINAL_STATUSES,
    ArchiveStatus,
    ErrorCode,
    JobEvent,
    Status,
    VideoJob,
)
from videogen.schedules import poll_soon, task_timeout
from videogen.webhooks import events as webhook_events

if TYPE_CHECKING:
    from django.db.models import DecimalField
    from django.dispatch import Signal

    from videogen.models import Actor, User

logger = logging.getLogger("videogen.lifecycle")

# Remote statuses only move forward; a lower rank than the job's is a stale answer.
_RANK: dict[str, int] = {Status.QUEUED: 1, Status.IN_PROGRESS: 2, Status.COMPLETED: 3,
                         Status.FAILED: 3, Status.CANCELLED: 3}
SUBMITTABLE = frozenset({Status.DRAFT})
CANCELLABLE = frozenset({Status.DRAFT, Status.SUBMITTING, Status.QUEUED, Status.IN_PROGRESS})
#: Poll answers in a row that cannot be stored, even made storable, before the job fails.
UNSTORABLE_LIMIT = 3


@dataclass
class Change:
    """What one transition writes: new status (or None), fields, and its history line."""

    status: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    kind: str = JobEvent.Kind.STATUS
    #: Follow-ups run once committed, on the job as committed; what they return is ignored.
    after_commit: list[Callable[[VideoJob], object]] = field(default_factory=list)
    #: Webhook events to write besides those the status change implies.
    events: list[str] = field(default_factory=list)


def transition(job: VideoJob, allowed: Iterable[str], change: Change, *,
               actor: Actor = None, archive_allowed: Iterable[str] | None = None,
               archive_attempt: int | None = None, refuse: str | None = None
               ) -> VideoJob | None:
    """Apply ``change`` if the job's current status is in ``allowed`` (and its archive status
    in ``archive_allowed``, and its archive attempt is ``archive_attempt``, when given).
    Returns the saved job, or None when refused; with ``refuse`` (the action, as
    :func:`refused` words it), a refusal raises InvalidTransition instead."""
    saved = _apply_change(job, allowed, change, actor=actor,
                          archive_allowed=archive_allowed, archive_attempt=archive_attempt)
    if saved is None and refuse is not None:
        raise refused(job, refuse)
    return saved


def _apply_change(job: VideoJob, allowed: Iterable[str], change: Change, *, actor: Actor,
                  archive_allowed: Iterable[str] | None, archive_attempt: int | None
                  ) -> VideoJob | None:
    """:func:`transition`'s work: one transaction, the row locked; None when refused."""
    fields, notes = _storable(change.fields)
    detail = storable_text(" ".join([change.detail, *notes]).strip())
    with transaction.atomic():
        current = VideoJob.objects.select_for_update().get(pk=job.pk)
        if current.status not in allowed:
            return None
        if archive_allowed is not None and current.archive_status not in archive_allowed:
            return None
        if archive_attempt is not None and current.archive_attempts != archive_attempt:
            return None
        old = current.status
        for name, value in fields.items():
            setattr(current, name, value)
        if change.status is not None:
            current.status = change.status
        # Only what changed: a full-row save costs more and would rewrite columns that a
        # concurrent routine poll may have just updated.
        current.save(update_fields={*fields, "status", "updated_at"})
        JobEvent.objects.create(
            job=current, kind=change.kind, old_status=old if change.status else "",
            new_status=change.status or "", detail=detail[:10_000],
            data=storable_json(change.data),
            actor=_saved_user(actor),
        )
        _write_outbox(current, old, change)
        _after_commit(current, old, change)
    _copy_into(job, current)
    return current


def _saved_user(actor: Actor) -> User | None:
    """Who to record as having done it: ``actor`` when it is a saved user, else nobody (an
    AnonymousUser, an unsaved user, a task)."""
    # Only a saved user has a pk (AnonymousUser's is None); mypy cannot narrow on getattr.
    return cast("User | None", actor if getattr(actor, "pk", None) else None)


def _storable(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``fields`` as every supported database stores them (:mod:`videogen.jsondata`): text and
    JSON with NULs and lone surrogates escaped, a number too large for its column unknown
    (None), with a note saying so."""
    storable, notes = {}, []
    for name, value in fields.items():
        if isinstance(value, str):
            value = storable_text(value)
        elif isinstance(value, dict | list):
            value = storable_json(value)
        elif isinstance(value, Decimal):
            # A Decimal value is only ever set on a DecimalField (cost, say).
            column = cast("DecimalField", VideoJob._meta.get_field(name))
            fitted = storable_decimal(value, column.max_digits, column.decimal_places)
            if fitted is None:
                notes.append(_("The provider reported a %(field)s of %(value)s, which cannot be "
                               "stored (it must stay below 10^%(digits)d); recorded as unknown.")
                             % {"field": column.verbose_name, "value": value,
                                "digits": column.max_digits - column.decimal_places})
            value = fitted
        storable[name] = value
    return storable, notes


def _write_outbox(job: VideoJob, old: str, change: Change) -> None:
    """Webhook events in the same transaction as the change they announce."""
    types = list(change.events)
    if change.status and change.status != old:
        types = [*webhook_events.for_transition(old, change.status), *types]
    for event_type in types:
        webhook_events.record(job, event_type, old=old, new=job.status)


def _copy_into(job: VideoJob, saved: VideoJob) -> None:
    """Keep the caller's instance in step with what was committed."""
    for model_field in VideoJob._meta.concrete_fields:
        setattr(job, model_field.attname, getattr(saved, model_field.attname))


def _after_commit(job: VideoJob, old: str, change: Change) -> None:
    callbacks = list(change.after_commit)
    if change.status and change.status != old:
        callbacks.insert(0, _status_signals(old, change.status))
    if callbacks:
        committed = snapshot.committed_copy(job)
        pk = job.pk
        transaction.on_commit(lambda: _run_callbacks(callbacks, pk, committed))


def _run_callbacks(callbacks: list[Callable[[VideoJob], object]], pk: UUID,
                   committed: VideoJob | None) -> None:
    """The transition's follow-ups, in order, on the job as committed: the saved job's copy
    when there is one (:func:`videogen.fastpath.snapshot.committed_copy`), else read once."""
    job = committed or VideoJob.objects.filter(pk=pk).first()
    if job is None:
        return
    for callback in callbacks:
        try:
            callback(job)
        except Exception:
            # A receiver's bug must not undo or hide a committed transition, nor skip the
            # follow-ups after it.
            logger.exception("after-commit step for job %s failed", pk)


def _send(signal: Signal, job: VideoJob, **kwargs: Any) -> None:
    for receiver, result in signal.send_robust(sender=VideoJob, job=job, **kwargs):
        if isinstance(result, Exception):
            logger.error("signal receiver %r failed for job %s: %r", receiver, job.pk, result)


def _status_signals(old: str, new: str) -> Callable[[VideoJob], None]:
    def send(job: VideoJob) -> None:
        _send(signals.job_status_changed, job, old=old, new=new)
        if new in (Status.QUEUED, Status.IN_PROGRESS) and old == Status.SUBMITTING:
            _send(signals.job_submitted, job, remote_id=job.remote_id)
        elif new == Status.FAILED:
            _send(signals.job_failed, job, error_code=job.error_code,
                  error_message=job.error_message)
        elif new == Status.CANCELLED:
            _send(signals.job_cancelled, job, remote_may_finish=job.remote_may_finish)

    return send


def refused(job: VideoJob, action: str) -> InvalidTransition:
    """The error for ``action`` on a job whose status does not allow it."""
    return InvalidTransition(
        _("Cannot %(action)s job %(job)s: it is %(status)s.")
        % {"action": action, "job": job.pk, "status": job.get_status_display().lower()}
    )


# --- Creating and submitting --------------------------------------------------------------------


def start_sending(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    """draft → submitting, committed before the POST (:mod:`videogen.submission` sends it)."""
    transition(job, SUBMITTABLE, Change(
        status=Status.SUBMITTING, fields={"submitted_at": timezone.now(), "error_code": "",
                                          "error_message": "", "submit_requested_at": None},
        detail=_("Sending to the provider."),
    ), actor=actor, refuse=_("submit"))
    return job


def request_submit(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    """Queue a draft for sending (the admin: no API call inside a web request). The request is
    recorded, so the sweeper can queue it again if the broker loses the task."""
    require_api_key()
    transition(job, SUBMITTABLE, Change(
        fields={"submit_requested_at": timezone.now()}, kind=JobEvent.Kind.NOTE,
        detail=_("Queued for sending."),
        after_commit=[lambda j: schedules.enqueue("submit_job", str(j.pk),
                                                  getattr(actor, "pk", None))],
    ), actor=actor, refuse=_("submit"))
    return job


def submit_refused(job: VideoJob, reason: str, *, actor: Actor = None) -> None:
    """A queued submit was refused (over budget, say): the draft stays a draft, the request
    is withdrawn so the sweeper does not send it on its own once the budget allows, and its
    history says why. Staff submit it again when they choose."""
    transition(job, SUBMITTABLE, Change(
        fields={"submit_requested_at": None}, kind=JobEvent.Kind.NOTE,
        detail=_("Not sent: %(reason)s") % {"reason": reason},
    ), actor=actor)


def invalid_request(job: VideoJob, problems: list[catalog.Problem], *, actor: Actor = None
                    ) -> VideoJob:
    """draft → failed: the request was refused before sending."""
    message = "; ".join(str(p) for p in problems)
    transition(job, SUBMITTABLE, Change(
        status=Status.FAILED,
        fields={"error_code": ErrorCode.INVALID_REQUEST, "error_message": message,
                "finished_at": timezone.now()},
        detail=_("Refused before sending: %(problems)s") % {"problems": message},
        data={"problems": [{"field": p.field, "message": p.message} for p in problems]},
    ), actor=actor, refuse=_("submit"))
    return job


def accepted(job: VideoJob, remote: RemoteJob, *, actor: Actor = None) -> VideoJob:
    """submitting → queued/in_progress with the provider's id."""
    status = remote.status if remote.status in (Status.QUEUED, Status.IN_PROGRESS) \
        else Status.QUEUED
    problem = _remote_id_problem(job, remote.id)
    if problem:
        return _unusable_remote_id(job, remote.id, problem, actor)
    try:
        transition(job, {Status.SUBMITTING}, Change(
            status=status,
            fields={"remote_id": remote.id, "last_response": remote.raw or None,
                    "next_poll_at": timing.first_poll_at(job.model), "poll_failures": 0},
            detail=_("Accepted by the provider as %(id)s.") % {"id": remote.id},
            # Set just above (fields), so never None here.
            after_commit=[lambda j: poll_soon(cast(datetime, j.next_poll_at))],
        ), actor=actor, refuse=_("record the submission of"))
    except WRITE_ERRORS as error:  # another job recorded the same id a moment ago, say
        problem = _("another job already has it") if isinstance(error, IntegrityError) \
            else _("the database refused it (%(error)s)") % {"error": type(error).__name__}
        return _unusable_remote_id(job, remote.id, problem, actor)
    if remote.is_terminal:
        apply_remote(job, remote)
    return job


def _remote_id_problem(job: VideoJob, remote_id: str) -> str | None:
    """Why the provider's id for ``job`` cannot be stored and polled, or None."""
    if storable_text(remote_id) != remote_id:
        return _("it holds characters no database stores (NUL or a lone surrogate)")
    limit = VideoJob._meta.get_field("remote_id").max_length
    if limit is not None and len(remote_id) > limit:
        return _("it is %(length)d characters long, more than the %(limit)d stored") % {
            "length": len(remote_id), "limit": limit}
    other = VideoJob.objects.filter(remote_id=remote_id).exclude(pk=job.pk).first()
    if other is not None:
        return _("job %(other)s already has it") % {"other": other.pk}
    return None


def _unusable_remote_id(job: VideoJob, remote_id: str, problem: str, actor: Actor
                        ) -> VideoJob:
    """The provider accepted (and may bill) a job whose id this site cannot follow: failed
    here, with the id kept in the history for the provider's dashboard."""
    kept = storable_text(remote_id)
    message = _(
        "The provider accepted this job as %(id)s, but that id cannot be used here: "
        "%(problem)s. It cannot be followed; the provider may still make it and bill: check "
        "the provider's dashboard.") % {"id": kept[:200], "problem": problem}
    logger.error("job %s: provider id %r refused: %s", job.pk, kept[:200], problem)
    transition(job, {Status.SUBMITTING}, Change(
        status=Status.FAILED,
        fields={"error_code": ErrorCode.UNUSABLE_REMOTE_ID, "error_message": message,
                "remote_may_finish": True, "finished_at": timezone.now()},
        detail=message, data={"remote_id": kept},
    ), actor=actor)
    return job


def outcome_unknown(job: VideoJob, reason: str, *, actor: Actor = None) -> VideoJob:
    """The POST may or may not have arrived: the job stays ``submitting``, for staff to decide."""
    message = _(
        "The provider may or may not have received this job (%(reason)s). It was not sent "
        "again automatically, to avoid paying twice. Check the provider's dashboard, then "
        "mark it failed or resubmit it."
    ) % {"reason": reason}
    transition(job, {Status.SUBMITTING}, Change(
        fields={"error_code": ErrorCode.OUTCOME_UNKNOWN, "error_message": message},
        detail=message, kind=JobEvent.Kind.NOTE,
    ), actor=actor)
    return job


def refused_by_provider(job: VideoJob, error: Exception, *, actor: Actor = None) -> VideoJob:
    """submitting → failed: the provider refused the create, so nothing was started."""
    code = getattr(error, "code", None) or type(error).__name__
    transition(job, {Status.SUBMITTING}, Change(
        status=Status.FAILED,
        fields={"error_code": storable_text(str(code))[:100], "error_message": str(error),
                "finished_at": timezone.now()},
        detail=_("Refused by the provider: %(error)s") % {"error": error},
        data={"param": getattr(error, "param", None)},
    ), actor=actor)
    return job


def mark_failed(job: VideoJob, *, actor: Actor = None, reason: str = "") -> VideoJob:
    """Staff decide that an uncertain ``submitting`` job did not reach the provider."""
    reason = reason or _("Marked failed by staff after an uncertain submission.")
    transition(job, {Status.SUBMITTING}, Change(
        status=Status.FAILED,
        fields={"error_code": ErrorCode.MARKED_FAILED, "error_message": reason,
                "finished_at": timezone.now()},
        detail=reason,
    ), actor=actor, refuse=_("mark as failed"))
    return job


def request_resubmit(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    """As :func:`videogen.submission.resubmit`, with the sending queued (the admin)."""
    back_to_draft(job, actor=actor)
    return request_submit(job, actor=actor)


def back_to_draft(job: VideoJob, *, actor: Actor = None) -> None:
    """An uncertain ``submitting`` job goes back to draft, for staff to send it again."""
    transition(job, {Status.SUBMITTING}, Change(
        status=Status.DRAFT, fields={"remote_id": None},
        detail=_("Staff chose to send this job again."),
    ), actor=actor, refuse=_("resubmit"))


def retry(job: VideoJob, *, actor: Actor = None, **changes: Any) -> VideoJob:
    """A new draft with the same request (and ``changes``), linked to ``job``."""
    unknown = set(changes) - set(REQUEST_FIELDS) - {"metadata"}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise LifecycleError(_("Unknown fields: %(fields)s") % {"fields": names})
    values = {name: getattr(job, name) for name in REQUEST_FIELDS}
    values.update(metadata=job.metadata, content_type_id=job.content_type_id,
                  object_id=job.object_id)
    values.update(changes)
    person = _saved_user(actor)
    with transaction.atomic():
        new = VideoJob.objects.create(retry_of=job, created_by=person or job.created_by,
                                      **values)
        JobEvent.objects.create(job=new, kind=JobEvent.Kind.NOTE, new_status=Status.DRAFT,
                                detail=_("Retry of %(job)s.") % {"job": job.pk},
                                data={"retry_of": str(job.pk)}, actor=person)
        # The old job's history points at its retry (no status change: it stays as it was).
        JobEvent.objects.create(job=job, kind=JobEvent.Kind.NOTE,
                                detail=_("Retried as %(job)s.") % {"job": new.pk},
                                data={"retried_as": str(new.pk)}, actor=person)
    return new


# --- What the provider says --------------------------------------------------------------------


def apply_remote(job: VideoJob, remote: RemoteJob, *, next_poll_at: datetime | None = None
                 ) -> VideoJob:
    """Record a poll result: status, error, cost, video URL, timings. Stale and out-of-order
    answers are ignored; terminal states are final (a late completion after a local cancel is
    recorded in the history, not applied)."""
    now = timezone.now()
    fields = _remote_fields(job, remote, now)
    new = _mapped_status(remote.status)
    if job.status in TERMINAL_STATUSES:
        _late_answer(job, remote, fields)
        return job
    if new is None or is_routine(job, remote):  # (a status it does not know is routine)
        fields["next_poll_at"] = next_poll_at
        _save_poll(job, fields)
        return job
    if next_poll_at is not None:
        fields["next_poll_at"] = next_poll_at  # the poller's schedule, not "poll again now"
    return _advance(job, new, remote, fields, now)


def is_routine(job: VideoJob, remote: RemoteJob) -> bool:
    """True when a poll result changes no status: same, unknown or stale (out of order)."""
    new = _mapped_status(remote.status)
    if job.status in TERMINAL_STATUSES:
        return False
    return new is None or new == job.status or _RANK.get(new, 0) < _RANK.get(job.status, 0)


def routine_fields(job: VideoJob, remote: RemoteJob, next_poll_at: datetime | None
                   ) -> dict[str, Any]:
    """The bookkeeping a routine poll writes (for the poller's bulk update)."""
    return {**_remote_fields(job, remote, timezone.now()), "next_poll_at": next_poll_at}


def _save_poll(job: VideoJob, fields: dict[str, Any]) -> None:
    """No status change: a plain conditional UPDATE (no history line for routine polls)."""
    fields = storable_poll(job, fields)
    with transaction.atomic():  # a savepoint when nested: a refused value undoes only this
        VideoJob.objects.filter(pk=job.pk, status=job.status).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def storable_poll(job: VideoJob, fields: dict[str, Any]) -> dict[str, Any]:
    """A poll's fields made storable; what could not be is logged (there is no history line
    to note it in)."""
    fields, notes = _storable(fields)
    for note in notes:
        logger.warning("job %s: %s", job.pk, note)
    return fields


def _advance(job: VideoJob, new: str, remote: RemoteJob, fields: dict[str, Any],
             now: datetime) -> VideoJob:
    change = Change(status=new, fields=fields)
    if new == Status.IN_PROGRESS:
        fields.setdefault("started_at", _storable_time(remote.started_at) or now)
        fields["next_poll_at"] = fields.get("next_poll_at") or now
    else:
        fields.update(finished_at=_storable_time(remote.completed_at) or now, next_poll_at=None)
    if new == Status.COMPLETED:
        fields.update(archive_status=ArchiveStatus.PENDING, archive_error="")
        change.after_commit.append(lambda j: schedules.enqueue("archive_job", str(j.pk)))
        change.detail = _("Completed at the provider; archiving.")
    elif new == Status.FAILED:
        error = remote.error
        # Escaped before it is cut: the escapes of a NUL are longer than the NUL.
        fields.update(error_code=storable_text(error.code or ErrorCode.FAILED)[:100] if error
                      else ErrorCode.FAILED,
                      error_message=error.message if error else _("The provider reported a "
                                                                  "failure without a reason."))
        change.detail = fields["error_message"]
    elif new == Status.CANCELLED:
        change.detail = _("Cancelled at the provider.")
    transition(job, IN_FLIGHT_STATUSES, change)
    return job


def _mapped_status(remote_status: str) -> str | None:
    return remote_status if remote_status in _RANK else None


def _remote_fields(job: VideoJob, remote: RemoteJob, now: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {"last_response": remote.raw or None, "last_polled_at": now,
                              "poll_attempts": job.poll_attempts + 1, "poll_failures": 0}
    if job.poll_not_found:  # only then: routine write-backs stay one column narrower
        fields["poll_not_found"] = 0
    if job.poll_unstorable:
        fields["poll_unstorable"] = 0
    if remote.cost is not None:
        fields["cost"] = remote.cost
    if remote.video_url:
        fields["provider_video_url"] = remote.video_url
    if _storable_time(remote.started_at) and not job.started_at:
        fields["started_at"] = _storable_time(remote.started_at)
    return fields


def _storable_time(value: datetime | None) -> datetime | None:
    """A provider's time in UTC, or None when it has no UTC form a database stores (year 9999
    at -01:00 is past year 9999 in UTC; PostgreSQL refuses offsets beyond ±16 hours)."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


def _late_answer(job: VideoJob, remote: RemoteJob, fields: dict[str, Any]) -> None:
    """A poll of a finished job (staff re-poll, a URL refresh for the archive, or a stale
    answer): record what is useful, never change the status."""
    fields.pop("poll_attempts", None)
    late_completion = job.status == Status.CANCELLED and remote.status == Status.COMPLETED \
        and not job.provider_video_url and remote.video_url
    if not late_completion:
        # A video the provider made (completed here, or finished after a cancel): its answer
        # carries a freshly signed URL, the one an archive needs once the old one expired.
        has_video = job.status == Status.COMPLETED or bool(job.provider_video_url)
        keep = ("last_polled_at", "last_response", "provider_video_url", "cost") \
            if has_video and remote.status == Status.COMPLETED else ("last_polled_at",)
        _save_poll(job, {k: v for k, v in fields.items() if k in keep})
        return
    transition(job, {Status.CANCELLED}, Change(
        fields=fields, kind=JobEvent.Kind.NOTE,
        detail=_("The provider finished this job after it was cancelled here (cost "
                 "%(cost)s). It is not archived unless staff ask.") % {"cost": remote.cost},
    ))


def poll_failed(job: VideoJob, error: Exception, *, next_poll_at: datetime,
                **counts: int) -> None:
    """A poll that got no usable answer: count it, back off, keep the job. ``counts`` are
    further counters to write (``poll_unstorable``)."""
    fields = {"last_polled_at": timezone.now(), "poll_attempts": job.poll_attempts + 1,
              "poll_failures": job.poll_failures + 1, "next_poll_at": next_poll_at, **counts}
    if isinstance(error, api_errors.NotFound):
        fields["poll_not_found"] = job.poll_not_found + 1
    if job.poll_failures == 0 or isinstance(error, api_errors.NotFound | UnstorableAnswer):
        # One history line per run of failures, not one per attempt.
        transition(job, IN_FLIGHT_STATUSES, Change(
            fields=fields, kind=JobEvent.Kind.POLL_ERROR, detail=str(error)[:2000]))
        return
    _save_poll(job, fields)


def answer_unstorable(job: VideoJob, error: Exception, *, next_poll_at: datetime) -> None:
    """The database refused to store a poll's answer even made storable (``error`` says why,
    for the log only: a database's message may quote the bad value). A failed poll; after
    ``UNSTORABLE_LIMIT`` in a row the job fails, since the provider keeps sending it."""
    count = job.poll_unstorable + 1
    logger.warning("job %s: the provider's answer could not be stored (%s: %s), %d in a row",
                   job.pk, type(error).__name__, error, count)
    if count < UNSTORABLE_LIMIT:
        poll_failed(job, UnstorableAnswer(_(
            "The provider's answer could not be stored (%(error)s); polling again.")
            % {"error": type(error).__name__}), next_poll_at=next_poll_at,
            poll_unstorable=count)
        return
    message = _("The provider's answer could not be stored %(count)d times in a row "
                "(%(error)s); gave up polling. See the log for the value refused.") % {
        "count": count, "error": type(error).__name__}
    transition(job, IN_FLIGHT_STATUSES, Change(
        status=Status.FAILED,
        fields={"error_code": ErrorCode.UNSTORABLE_ANSWER, "error_message": message,
                "poll_unstorable": count, "finished_at": timezone.now(), "next_poll_at": None},
        detail=message,
    ))


def lost_remotely(job: VideoJob, reason: str) -> VideoJob:
    """The provider keeps answering 404 for this job's id."""
    transition(job, IN_FLIGHT_STATUSES, Change(
        status=Status.FAILED,
        fields={"error_code": ErrorCode.NOT_FOUND, "error_message": _(
            "The provider no longer knows this job: %(reason)s") % {"reason": reason},
            "finished_at": timezone.now(), "next_poll_at": None},
        detail=reason,
    ))
    return job


def time_out(job: VideoJob, *, max_age: float) -> VideoJob:
    transition(job, IN_FLIGHT_STATUSES, Change(
        status=Status.FAILED,
        fields={"error_code": ErrorCode.TIMEOUT, "error_message": _(
            "Timed out: no result from the provider within %(minutes)d minutes.")
            % {"minutes": max_age // 60}, "finished_at": timezone.now(), "next_poll_at": None},
        detail=_("Gave up polling (VIDEOGEN['POLL']['MAX_AGE'])."),
    ))
    return job


# --- Cancel ---------------------------------------------------------------------


def cancel(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    """Stop polling and mark cancelled here. The provider has no cancel call for videos, so a
    job it has seen may still finish (and bill): that is remembered."""
    if job.status not in CANCELLABLE:
        raise refused(job, _("cancel"))
    may_finish = job.status != Status.DRAFT
    detail = (_("Cancelled here; the provider has no cancel call for videos, so it may still "
                "finish and bill.") if may_finish else _("Cancelled before it was sent."))
    transition(job, CANCELLABLE, Change(
        status=Status.CANCELLED,
        fields={"remote_may_finish": may_finish, "next_poll_at": None,
                "finished_at": timezone.now()},
        detail=detail,
    ), actor=actor, refuse=_("cancel"))
    return job


# --- Archiving (the second axis of a completed job) ---------------------------------------------

ARCHIVABLE = frozenset({ArchiveStatus.PENDING})


def claim_archive(job: VideoJob, *, lease_seconds: float) -> bool:
    """pending → archiving, with a lease the sweeper honours if this worker dies."""
    now = timezone.now()
    return transition(job, {Status.COMPLETED, Status.CANCELLED}, Change(
        fields={"archive_status": ArchiveStatus.ARCHIVING,
                "archive_attempts": job.archive_attempts + 1,
                "archive_lease_until": now + timedelta(seconds=lease_seconds)},
        kind=JobEvent.Kind.ARCHIVE, detail=_("Archiving started."),
    ), archive_allowed=ARCHIVABLE) is not None


def request_archive(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    """Staff ask for (another) archive: failed/archived → pending, or a late-finished cancelled
    job → pending. The archive task replaces the old files."""
    allowed = {Status.COMPLETED} | ({Status.CANCELLED} if job.provider_video_url else set())
    transition(job, allowed, Change(
        fields={"archive_status": ArchiveStatus.PENDING, "archive_error": "",
                "archive_workers_lost": 0},
        kind=JobEvent.Kind.ARCHIVE, detail=_("Archive requested."),
        after_commit=[lambda j: schedules.enqueue("archive_job", str(j.pk))],
    ), actor=actor, archive_allowed={ArchiveStatus.FAILED, ArchiveStatus.ARCHIVED,
                                      ArchiveStatus.NONE}, refuse=_("archive"))
    return job


def archive_succeeded(job: VideoJob, fields: dict[str, Any], warnings: list[str]) -> VideoJob:
    """Record the archive of the worker whose claim ``job`` carries (``archive_attempts``)."""
    fields = {**fields, "archive_status": ArchiveStatus.ARCHIVED, "archive_error": "",
              "archived_at": timezone.now(), "archive_lease_until": None}
    detail = _("Archived as %(name)s.") % {"name": fields.get("video")}
    if warnings:
        detail += " " + _("Warnings: %(w)s") % {"w": "; ".join(warnings)}
    done = transition(job, {Status.COMPLETED, Status.CANCELLED}, Change(
        fields=fields, kind=JobEvent.Kind.ARCHIVE, detail=detail, data={"warnings": warnings},
        after_commit=[_archived_signals],
        # Announced once, when the video first lands in storage (not on a staff re-archive).
        events=[webhook_events.EventType.COMPLETED]
        if job.status == Status.COMPLETED and job.archived_at is None else [],
    ), archive_allowed={ArchiveStatus.ARCHIVING}, archive_attempt=job.archive_attempts)
    if done is None:
        raise ArchiveSuperseded(_("Archive attempt %(n)d of job %(id)s was taken over; its "
                                  "result is dropped.") % {"n": job.archive_attempts,
                                                           "id": job.pk})
    return job


def _archived_signals(job: VideoJob) -> None:
    _send(signals.video_archived, job, name=job.video.name, size=job.video_bytes,
          sha256=job.video_sha256)
    if job.status == Status.COMPLETED:
        _send(signals.job_completed, job)


def archive_failed(job: VideoJob, reason: str, **fields: Any) -> bool:
    """Record the failure of the archive attempt ``job`` carries (with ``fields``); False when
    that attempt was taken over meanwhile (the newer one decides)."""
    return transition(job, {Status.COMPLETED, Status.CANCELLED}, Change(
        fields={"archive_status": ArchiveStatus.FAILED, "archive_error": reason[:10_000],
                "archive_lease_until": None, **fields},
        kind=JobEvent.Kind.ARCHIVE, detail=_("Archive failed: %(reason)s") % {"reason": reason},
    ), archive_allowed={ArchiveStatus.ARCHIVING},
        archive_attempt=job.archive_attempts) is not None


#: Archive attempts in a row that end without an outcome (the worker vanished, or the database
#: failed under it) before the archive fails instead of being retried: a download that
#: outlasts the task queue's timeout would otherwise be killed forever.
ARCHIVE_WORKER_LOSSES = 3


def hand_back_archive(job: VideoJob) -> bool:
    """archiving → pending when the caller that archived inline stopped waiting (``wait()``'s
    timeout): nothing went wrong with the video, so the task queue archives it."""
    return transition(job, {Status.COMPLETED, Status.CANCELLED}, Change(
        fields={"archive_status": ArchiveStatus.PENDING, "archive_lease_until": None},
        kind=JobEvent.Kind.ARCHIVE,
        detail=_("The caller stopped waiting; the task queue archives it."),
        after_commit=[lambda j: schedules.enqueue("archive_job", str(j.pk))],
    ), archive_allowed={ArchiveStatus.ARCHIVING},
        archive_attempt=job.archive_attempts) is not None


def release_archive(job: VideoJob, reason: str = "") -> bool:
    """archiving → pending, for another attempt, when one ended without an outcome: its worker
    died (the sweeper found its lease run out) or, with ``reason``, the database failed under
    it. After ``ARCHIVE_WORKER_LOSSES`` such attempts in a row → failed, saying why."""
    lost = job.archive_workers_lost + 1
    if lost >= ARCHIVE_WORKER_LOSSES:
        return _give_up_archive(job, lost, reason)
    detail = (_("Archive interrupted (%(reason)s); trying again.") % {"reason": reason}
              if reason else _("Archive worker lost; trying again."))
    return transition(job, {Status.COMPLETED, Status.CANCELLED}, Change(
        fields={"archive_status": ArchiveStatus.PENDING, "archive_lease_until": None,
                "archive_workers_lost": lost},
        kind=JobEvent.Kind.ARCHIVE, detail=detail,
        after_commit=[lambda j: schedules.enqueue("archive_job", str(j.pk))],
    ), archive_allowed={ArchiveStatus.ARCHIVING},
        archive_attempt=job.archive_attempts) is not None


def _give_up_archive(job: VideoJob, lost: int, last_reason: str) -> bool:
    if last_reason:
        reason = _("The archive was interrupted %(n)d times in a row; the last time by a "
                   "%(reason)s. Archive again once the database is healthy.") % {
            "n": lost, "reason": last_reason}
    else:
        timeout = task_timeout()
        reason = _("The archive worker stopped %(n)d times without finishing (killed, or "
                   "stopped by the task queue's timeout%(timeout)s before the download ended). "
                   "Raise Q_CLUSTER['timeout'] for large videos, then archive again.") % {
            "n": lost,
            "timeout": f" of {timeout} s" if timeout is not None else ""}
    return archive_failed(job, reason, archive_workers_lost=lost)
