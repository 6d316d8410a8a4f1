"""Durable records of video generation jobs and their history.

Fields hold state; transitions live in :mod:`videogen.lifecycle`, which is the only code that
changes ``status`` or ``archive_status``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from videogen.storage import (
    ArchiveFileField,
    archive_storage,
    current_alias,
    upload_poster_to,
    upload_video_to,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    # django-stubs' stand-in for ``settings.AUTH_USER_MODEL``: its mypy plugin reads it as the
    # configured user model (auth.User in the demo, a host site's own model in the host's).
    from django.contrib.auth.models import _User as User

    #: Who did something, as the state machine records it: a user, or nobody (a task, the
    #: poller). An AnonymousUser (``request.user``) is accepted and recorded as nobody.
    Actor: TypeAlias = User | AnonymousUser | None


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTING = "submitting", _("Submitting")
    QUEUED = "queued", _("Queued")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
IN_FLIGHT_STATUSES = frozenset({Status.QUEUED, Status.IN_PROGRESS})


class ArchiveStatus(models.TextChoices):
    NONE = "", _("Not applicable")
    PENDING = "pending", _("Pending")
    ARCHIVING = "archiving", _("Archiving")
    ARCHIVED = "archived", _("Archived")
    FAILED = "failed", _("Failed")


class ErrorCode(models.TextChoices):
    """The ``error_code`` values videogen writes itself. A provider's refusal or failure
    stores the provider's own code instead (any string), so the field has no choices."""

    INVALID_REQUEST = "invalid_request", _("Invalid request")
    UNUSABLE_REMOTE_ID = "unusable_remote_id", _("Unusable remote id")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")
    MARKED_FAILED = "marked_failed", _("Marked failed")
    UNSTORABLE_ANSWER = "unstorable_answer", _("Unstorable answer")
    NOT_FOUND = "not_found", _("Not found at the provider")
    TIMEOUT = "timeout", _("Timed out")
    FAILED = "failed", _("Failed without a code")
    # Written by the client (videogen.client.core.UNREACHABLE), which imports no models.
    PROVIDER_UNREACHABLE = "provider_unreachable", _("Provider unreachable")


class ArchiveOutcome(models.TextChoices):
    """What one archive attempt did: the return value of ``archive.archive_job`` (and so of
    the ``archive_job`` task). Not stored; labels are the values."""

    ARCHIVED = "archived"
    FAILED = "failed"
    SKIPPED = "skipped"
    HANDED_BACK = "handed back"
    INTERRUPTED = "interrupted"
    SUPERSEDED = "superseded"
    DELETED = "deleted"


#: A submission sending for longer than this has lost its worker (the sweeper reports it,
#: and staff may mark it failed).
SUBMITTING_STUCK = timedelta(minutes=10)


class OutputFormat(models.TextChoices):
    MP4 = "MP4", "MP4"
    WEBM = "WEBM", "WEBM"


class VideoJobQuerySet(models.QuerySet["VideoJob"]):
    def for_object(self, obj: models.Model) -> VideoJobQuerySet:
        """Jobs attached to ``obj`` through the generic link."""
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )

    def in_flight(self) -> VideoJobQuerySet:
        return self.filter(status__in=IN_FLIGHT_STATUSES)

    def settled(self) -> VideoJobQuerySet:
        """The query form of :attr:`VideoJob.is_settled`."""
        return self.filter(
            models.Q(status=Status.COMPLETED,
                     archive_status__in=(ArchiveStatus.ARCHIVED, ArchiveStatus.FAILED))
            | models.Q(status__in=(Status.FAILED, Status.CANCELLED, Status.DRAFT)))

    def stuck_submitting(self, now: datetime | None = None) -> VideoJobQuerySet:
        """Jobs sending since before :data:`SUBMITTING_STUCK` ago: their worker has died."""
        now = now or timezone.now()
        return self.filter(status=Status.SUBMITTING, submitted_at__lt=now - SUBMITTING_STUCK)


class VideoJob(models.Model):
    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    remote_id = models.CharField(
        _("remote id"), max_length=128, unique=True, null=True, blank=True, editable=False
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False
    )

    # The create request, field for field (see docs/api.md and together-api.md).
    model = models.CharField(_("model"), max_length=200)
    prompt = models.TextField(_("prompt"), blank=True)
    negative_prompt = models.TextField(_("negative prompt"), blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    seconds = models.CharField(_("seconds"), max_length=8, blank=True)
    fps = models.PositiveSmallIntegerField(_("fps"), null=True, blank=True)
    steps = models.PositiveSmallIntegerField(_("steps"), null=True, blank=True)
    guidance_scale = models.FloatField(_("guidance scale"), null=True, blank=True)
    seed = models.BigIntegerField(_("seed"), null=True, blank=True)
    output_format = models.CharField(
        _("output format"), max_length=8, choices=OutputFormat.choices, blank=True
    )
    output_quality = models.PositiveSmallIntegerField(_("output quality"), null=True, blank=True)
    generate_audio = models.BooleanField(_("generate audio"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=16, blank=True)
    ratio = models.CharField(_("ratio"), max_length=8, blank=True)
    media = models.JSONField(
        _("media inputs"),
        default=dict,
        blank=True,
        help_text=_("frame_images, frame_videos, reference_images, reference_videos, "
                    "source_video and audio_inputs as the API takes them."),
    )

    # What the provider said.
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=6, null=True, blank=True)
    # Text, not a 2,000-character column: a signed URL cut short downloads the wrong thing.
    provider_video_url = models.TextField(_("provider video URL"), blank=True)
    last_response = models.JSONField(_("last provider response"), null=True, blank=True)
    remote_may_finish = models.BooleanField(
        _("provider may still finish"),
        default=False,
        help_text=_("Cancelled here while the provider had no cancel call: it may still bill."),
    )

    # The archived copy.
    archive_status = models.CharField(
        _("archive status"), max_length=16, choices=ArchiveStatus.choices, blank=True, default=""
    )
    archive_error = models.TextField(_("archive error"), blank=True)
    archive_attempts = models.PositiveIntegerField(_("archive attempts"), default=0)
    # db_default too: rows written by SQL, or by the previous release during a rolling deploy,
    # get 0 rather than a NOT NULL error.
    archive_workers_lost = models.PositiveIntegerField(
        _("archive workers lost"), default=0, db_default=0,
        help_text=_("Archive attempts in a row whose worker stopped without finishing, since "
                    "the archive was last requested."))
    archive_lease_until = models.DateTimeField(
        _("archive lease until"), null=True, blank=True,
        help_text=_("A worker is archiving until then; after it, the sweeper tries again."),
    )
    # Null when empty, so that the sweeper's query is a plain IS NOT NULL (and rows written by
    # the previous release during a rolling deploy need no default).
    archive_unrecorded = models.JSONField(
        _("archive files not yet recorded"), null=True, blank=True, editable=False,
        help_text=_("Files an archive attempt is saving, or saved without recording them (its "
                    "worker was killed, or the database failed); the sweeper deletes those no "
                    "job names."))
    # One alias for both files: they are saved together, and moved together (the row switches
    # once both copies are verified), so they never live apart.
    storage_alias = models.CharField(
        _("storage"), max_length=100, blank=True, default="", db_default="", editable=False,
        help_text=_("The STORAGES alias the video and poster are saved in (empty: none saved "
                    "yet). New archives go to VIDEOGEN['STORAGE']; manage.py videogen "
                    "move-archives moves old ones."))
    video = ArchiveFileField(
        _("video"), storage=archive_storage, upload_to=upload_video_to, max_length=500, blank=True
    )
    poster = ArchiveFileField(
        _("poster"), storage=archive_storage, upload_to=upload_poster_to, max_length=500,
        blank=True,
    )
    video_duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    video_width = models.PositiveIntegerField(_("video width"), null=True, blank=True)
    video_height = models.PositiveIntegerField(_("video height"), null=True, blank=True)
    video_fps = models.FloatField(_("video fps"), null=True, blank=True)
    video_codec = models.CharField(_("codec"), max_length=32, blank=True)
    video_container = models.CharField(_("container"), max_length=32, blank=True)
    video_bytes = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    video_sha256 = models.CharField(_("sha256"), max_length=64, blank=True)
    # The first audio track, if the file has one (blank codec: silent, or not probed).
    audio_codec = models.CharField(_("audio codec"), max_length=32, blank=True, default="",
                                   db_default="")
    audio_channels = models.PositiveSmallIntegerField(_("audio channels"), null=True, blank=True)
    audio_sample_rate = models.PositiveIntegerField(_("audio sample rate (Hz)"), null=True,
                                                    blank=True)

    # Timing and the poller's bookkeeping.
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submit_requested_at = models.DateTimeField(
        _("sending requested"), null=True, blank=True, editable=False,
        help_text=_("Staff queued this draft for sending; the sweeper queues it again if the "
                    "task was lost."),
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    next_poll_at = models.DateTimeField(_("next poll"), null=True, blank=True)
    poll_attempts = models.PositiveIntegerField(_("poll attempts"), default=0)
    poll_failures = models.PositiveIntegerField(
        _("consecutive poll failures"), default=0, help_text=_("Reset by a successful poll.")
    )
    poll_not_found = models.PositiveIntegerField(
        _("404 answers"), default=0, db_default=0,
        help_text=_("Polls answered 404 since the last successful one; a few in a row mean the "
                    "provider no longer knows the job."))
    poll_unstorable = models.PositiveIntegerField(
        _("unstorable answers"), default=0, db_default=0,
        help_text=_("Poll answers in a row that the database refused even made storable; a "
                    "few in a row fail the job."))

    # Links: free metadata, the host object, the person, and the job this one retries.
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True,
        verbose_name=_("linked object type"),
    )
    object_id = models.CharField(_("linked object id"), max_length=64, blank=True, default="")
    content_object = GenericForeignKey("content_type", "object_id")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="videogen_jobs", verbose_name=_("created by"),
    )
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries",
        verbose_name=_("retry of"),
    )

    objects = VideoJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("video job")
        verbose_name_plural = _("video jobs")
        ordering = ["-created_at"]
        permissions = [
            ("submit_videojob", _("Can submit video jobs to the provider")),
            ("cancel_videojob", _("Can cancel video jobs")),
            ("repoll_videojob", _("Can re-poll video jobs now")),
            ("archive_videojob", _("Can archive video jobs again")),
            ("mark_failed_videojob", _("Can mark uncertain submissions as failed")),
        ]
        indexes = [
            models.Index(fields=["status", "next_poll_at"], name="videogen_job_due"),
            models.Index(fields=["archive_status", "status"], name="videogen_job_archive"),
            models.Index(fields=["model", "status"], name="videogen_job_model"),
            models.Index(fields=["content_type", "object_id"], name="videogen_job_object"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="videogen_job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(archive_status__in=ArchiveStatus.values),
                name="videogen_job_archive_status_valid",
            ),
        ]

    def __str__(self) -> str:
        prompt = (self.prompt or "").strip().replace("\n", " ")
        short = prompt[:50] + ("…" if len(prompt) > 50 else "")
        return f"{self.model}: {short}" if short else f"{self.model} ({self.pk})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Files named without an alias (code writing the names itself) are in the storage new
        # archives go to: recorded now, so that a later switch of the setting does not move them.
        if not self.storage_alias and (self.video or self.poster):
            self.storage_alias = current_alias()
            fields = kwargs.get("update_fields")
            if fields is not None and {"video", "poster"} & set(fields):
                kwargs["update_fields"] = {*fields, "storage_alias"}
        super().save(*args, **kwargs)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT_STATUSES

    @property
    def is_settled(self) -> bool:
        """Nothing more will happen by itself: failed, cancelled, a draft, or completed and
        archived (or its archive failed)."""
        if self.status == Status.COMPLETED:
            return self.archive_status in (ArchiveStatus.ARCHIVED, ArchiveStatus.FAILED)
        return self.status in (Status.FAILED, Status.CANCELLED, Status.DRAFT)

    @property
    def is_outcome_unknown(self) -> bool:
        """Still ``submitting`` because the connection broke after the create was sent."""
        return self.status == Status.SUBMITTING and self.error_code == ErrorCode.OUTCOME_UNKNOWN

    @property
    def is_moving(self) -> bool:
        """True while something will still happen by itself (pages keep refreshing): sending,
        generating, or archiving. An uncertain submission waits for a person, so it is not."""
        if self.status == Status.SUBMITTING:
            return self.error_code != ErrorCode.OUTCOME_UNKNOWN
        if self.status == Status.DRAFT and self.submit_requested_at:
            return True  # queued for sending: a worker picks it up
        if self.status in IN_FLIGHT_STATUSES:
            return True
        return self.archive_status in (ArchiveStatus.PENDING, ArchiveStatus.ARCHIVING)

    @property
    def is_editable(self) -> bool:
        """Only a draft nobody has asked to send yet can be edited: once "Save and submit" has
        queued it, what goes to the provider is settled."""
        return self.status == Status.DRAFT and self.submit_requested_at is None

    @property
    def is_uncertain(self) -> bool:
        """A ``submitting`` job whose outcome is unknown, or that has been sending for so long
        that its worker must have died (:data:`SUBMITTING_STUCK`, the sweeper's threshold)."""
        if self.status != Status.SUBMITTING:
            return False
        if self.error_code == ErrorCode.OUTCOME_UNKNOWN:
            return True
        return self.submitted_at is None or self.submitted_at < timezone.now() - SUBMITTING_STUCK

    def request_fields(self) -> dict[str, Any]:
        """The create request's fields as stored, without empty values."""
        values = {name: getattr(self, name) for name in REQUEST_FIELDS}
        return {k: v for k, v in values.items() if v not in (None, "", {}, [])}


REQUEST_FIELDS = (
    "model", "prompt", "negative_prompt", "width", "height", "seconds", "fps", "steps",
    "guidance_scale", "seed", "output_format", "output_quality", "generate_audio",
    "resolution", "ratio", "media",
)


class JobEvent(models.Model):
    """One line of a job's history, written in the same transaction as the change it records."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        ARCHIVE = "archive", _("Archive")
        POLL_ERROR = "poll_error", _("Poll error")
        NOTE = "note", _("Note")

    job = models.ForeignKey(
        VideoJob, on_delete=models.CASCADE, related_name="events", verbose_name=_("job")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.STATUS)
    old_status = models.CharField(_("old status"), max_length=16, blank=True,
                                  choices=Status.choices)
    new_status = models.CharField(_("new status"), max_length=16, blank=True,
                                  choices=Status.choices)
    detail = models.TextField(_("detail"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )

    class Meta:
        verbose_name = _("job event")
        verbose_name_plural = _("job events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["job", "created_at"], name="videogen_event_job")]

    def __str__(self) -> str:
        if self.old_status or self.new_status:
            old, new = self.get_old_status_display(), self.get_new_status_display()
            return f"{old or '—'} → {new or '—'}"
        return self.get_kind_display()


class PollCoverage(models.Model):
    """One row: until when a running poll loop keeps looking for due jobs. A job whose first
    poll comes before that is seen by that loop; one due sooner than any loop will look starts
    a loop of its own (:func:`videogen.schedules.poll_soon`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    until = models.DateTimeField(_("covered until"))

    class Meta:
        verbose_name = _("poll coverage")
        verbose_name_plural = _("poll coverage")

    def __str__(self) -> str:
        return f"poll loops cover until {self.until:%Y-%m-%d %H:%M:%S}"


# Webhook models live in videogen.webhooks; importing them here registers them with the app.
from videogen.webhooks.models import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)
