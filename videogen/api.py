"""The public Python API for host sites: create, submit, generate, refresh, cancel, wait.

Keyword arguments mirror the provider's field names (``prompt``, ``width``, ``seconds``...).
Images for keyframes may be file paths, file objects, Django ``File``s, bytes or URLs; they are
encoded as the API requires (raw base64, no data-URI prefix).

Async variants (``acreate``, ``asubmit``, ``agenerate``, ``arefresh``, ``acancel``,
``await_job``) run the same code in Django's sync thread: the state machine needs transactions
and row locks, which Django's async ORM does not offer.
"""

from __future__ import annotations

import base64
import os
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeGuard

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _

from videogen import catalog, lifecycle, submission, timing
from videogen.exceptions import (  # defined there; still importable from here
    ImageError,
    InvalidRequest,
    RequestWarning,
    VideogenError,
    WaitTimeout,
)
from videogen.jsondata import json_problem
from videogen.media import is_http_url
from videogen.models import REQUEST_FIELDS, ArchiveStatus, Status, VideoJob

if TYPE_CHECKING:
    from videogen.models import Actor, User

#: The public API; ``videogen/__init__.py`` re-exports exactly these names (a test keeps them
#: equal). The other functions here serve the admin and the command line.
__all__ = [
    "InvalidRequest", "RequestWarning", "VideogenError", "WaitTimeout", "acancel", "acreate",
    "agenerate", "arefresh", "asubmit", "await_job", "cancel", "create", "generate", "refresh",
    "submit", "wait",
]

ImageInput = str | bytes | os.PathLike | IO[bytes]
ProgressCallback = Callable[[VideoJob, float], None]


def create(*, model: str, images: Mapping[str, ImageInput] | None = None,
           for_object: models.Model | None = None, created_by: Actor = None,
           metadata: dict[str, Any] | None = None, **fields: Any) -> VideoJob:
    """Validate and save a draft job. ``images`` maps "first"/"last" to an image.
    The catalog's warnings are emitted as :class:`RequestWarning` and kept in the returned
    job's ``request_warnings`` (a list of strings, not saved).
    Raises :class:`InvalidRequest` (nothing saved) when the catalog refuses the request, or
    when an argument has the wrong shape; each problem names its field."""
    unknown = sorted(set(fields) - set(REQUEST_FIELDS))
    if unknown:
        raise InvalidRequest([catalog.Problem(name, _("unknown field")) for name in unknown])
    problems = _argument_problems(images, for_object, created_by, metadata)
    if problems:
        raise InvalidRequest(problems)
    values = {"model": model, **fields}
    if images:
        values["media"] = _with_frames(values.get("media"), images)
    request, problems = catalog.parse({k: v for k, v in values.items() if v is not None})
    errors = [p for p in problems if p.is_error]
    if errors or request is None:
        raise InvalidRequest(errors or problems)
    # The validated values, not the raw ones: b"text", "mp4" or "yes" must not reach a column.
    job = VideoJob(**request.model_dump(include=set(REQUEST_FIELDS), exclude_none=True),
                   metadata=metadata or {}, created_by=created_by if _is_user(created_by) else None)
    if for_object is not None:
        job.content_object = for_object
    job.save()
    _warn([p for p in problems if not p.is_error], job)
    return job


def _warn(reservations: list[catalog.Problem], job: VideoJob) -> None:
    """The catalog's warnings, as Python warnings and on the job (``job.request_warnings``)."""
    job.request_warnings = [str(p) for p in reservations]  # type: ignore[attr-defined]
    for message in job.request_warnings:  # type: ignore[attr-defined]
        # stacklevel 3: the line that called create().
        warnings.warn(message, RequestWarning, stacklevel=3)


def _argument_problems(images: Any, for_object: Any, created_by: Any, metadata: Any
                       ) -> list[catalog.Problem]:
    """The non-request arguments, checked before anything is read or saved."""
    problems = []
    if images is not None and not isinstance(images, Mapping):
        problems.append(catalog.Problem("images", _('must map "first"/"last" to an image')))
    if for_object is not None and not (isinstance(for_object, models.Model)
                                       and for_object.pk is not None):
        problems.append(catalog.Problem("for_object", _("must be a saved model instance")))
    if created_by is not None and not _is_user(created_by) and \
            not getattr(created_by, "is_anonymous", False):
        problems.append(catalog.Problem("created_by", _("must be a saved user")))
    if metadata is not None:
        why = _("must be a dict") if not isinstance(metadata, dict) else json_problem(metadata)
        if why:
            problems.append(catalog.Problem("metadata", why))
    return problems


def _is_user(value: object) -> TypeGuard[User]:
    return isinstance(value, get_user_model()) and value.pk is not None


def _with_frames(media: Any, images: Mapping[str, ImageInput]) -> Any:
    frames = []
    for position, image in images.items():
        try:
            frames.append({"input_image": encode_image(image), "frame": position})
        except ImageError as error:
            raise InvalidRequest([catalog.Problem(f"images.{position}", str(error))]) from None
    if media is None:
        media = {}
    if not isinstance(media, dict):
        return media  # The catalog names the field.
    return {**media, "frame_images": [*(media.get("frame_images") or []), *frames]}


def encode_image(image: ImageInput, max_bytes: int = catalog.MAX_IMAGE_BYTES) -> str:
    """A URL as is; anything else read and encoded as raw base64. Raises :class:`ImageError`
    for what cannot be read, and for images over ``max_bytes`` — checked before reading
    where the size is known, and never reading more than ``max_bytes`` + 1 bytes."""
    if isinstance(image, str) and is_http_url(image):
        return image
    if isinstance(image, str) and image.startswith("data:"):
        raise ImageError(_("give bytes, a file, a path or an http(s) URL, not a data: URI"))
    data = _read_image(image, max_bytes)
    if len(data) > max_bytes:
        raise ImageError(_("the image is larger than %(max)d bytes") % {"max": max_bytes})
    return base64.b64encode(data).decode("ascii")


def _read_image(image: Any, max_bytes: int) -> bytes:
    if isinstance(image, bytes | bytearray | memoryview):
        return bytes(image)
    if isinstance(image, str | os.PathLike):
        return _read_path(Path(image), max_bytes)
    if not callable(getattr(image, "read", None)):
        raise ImageError(_("must be bytes, a file, a path or an http(s) URL, not %(type)s")
                         % {"type": type(image).__name__})
    size = getattr(image, "size", None)  # Django's File and UploadedFile know it.
    if isinstance(size, int) and size > max_bytes:
        raise ImageError(_("the image is larger than %(max)d bytes") % {"max": max_bytes})
    if callable(getattr(image, "seek", None)):
        image.seek(0)
    data = image.read(max_bytes + 1)
    if not isinstance(data, bytes | bytearray):
        raise ImageError(_("the file must be opened in binary mode"))
    return bytes(data)


def _read_path(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size if path.is_file() else None
    except (OSError, ValueError):  # a name too long, a NUL in it...
        size = None
    if size is None:
        raise ImageError(_("no such file"))
    if size > max_bytes:
        raise ImageError(_("the image is larger than %(max)d bytes") % {"max": max_bytes})
    try:
        with path.open("rb") as file:
            return file.read(max_bytes + 1)
    except OSError as error:
        raise ImageError(_("the file cannot be read (%(why)s)") % {
            "why": error.strerror or type(error).__name__}) from None


def submit(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    return submission.submit(job, actor=actor)


def generate(**kwargs: Any) -> VideoJob:
    """create() + submit(): returns the job, submitted (or failed, with the reason)."""
    return submit(create(**kwargs), actor=kwargs.get("created_by"))


def refresh(job: VideoJob) -> VideoJob:
    """Poll the provider now."""
    from videogen import polling

    return polling.repoll(job)


def cancel(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    return lifecycle.cancel(job, actor=actor)


def wait(job: VideoJob, timeout: float = 900.0, on_progress: ProgressCallback | None = None,
         *, interval: float = 1.0) -> VideoJob:
    """Block until the job settles (:attr:`VideoJob.is_settled
    <videogen.models.VideoJob.is_settled>`), polling it when due and archiving it here if no
    worker has, so scripts and tests work without a running cluster.
    Raises :class:`WaitTimeout`; the job itself keeps going."""
    started = time.monotonic()
    while True:
        job.refresh_from_db()
        if _done(job, time.monotonic() - started, timeout, on_progress):
            return job
        # An archive done here stops at the deadline too (and goes back to the task queue).
        _step(job, deadline=started + timeout)
        time.sleep(max(0.0, min(interval, started + timeout - time.monotonic() + 0.01)))


def _done(job: VideoJob, elapsed: float, timeout: float,
          on_progress: ProgressCallback | None) -> bool:
    """Report progress; True when waiting is over (settled, or an uncertain submission that
    needs a person); WaitTimeout when time is up."""
    if on_progress is not None:
        on_progress(job, elapsed)
    if job.is_settled or (job.status == Status.SUBMITTING and job.error_code):
        return True
    if elapsed > timeout:
        raise WaitTimeout(job, timeout)
    return False


def _step(job: VideoJob, *, deadline: float | None = None) -> None:
    from django.utils import timezone

    from videogen import archive, polling

    if job.is_in_flight and (job.next_poll_at is None or job.next_poll_at <= timezone.now()):
        polling.poll_jobs([job])
    elif job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.PENDING:
        archive.archive_job(job.pk, deadline=deadline)


def expected_seconds(job: VideoJob) -> float:
    """The model's typical generation time, for progress displays."""
    return timing.typical_seconds(job.model)


# --- Async variants -----------------------------------------------------------------------------

acreate = sync_to_async(create, thread_sensitive=True)
asubmit = sync_to_async(submit, thread_sensitive=True)
agenerate = sync_to_async(generate, thread_sensitive=True)
arefresh = sync_to_async(refresh, thread_sensitive=True)
acancel = sync_to_async(cancel, thread_sensitive=True)


async def await_job(job: VideoJob, timeout: float = 900.0,
                    on_progress: ProgressCallback | None = None, *, interval: float = 1.0
                    ) -> VideoJob:
    """``wait`` for async code: the same steps, sleeping without blocking the event loop."""
    import asyncio

    started = time.monotonic()
    while True:
        await job.arefresh_from_db()
        if _done(job, time.monotonic() - started, timeout, on_progress):
            return job
        await sync_to_async(_step, thread_sensitive=True)(job, deadline=started + timeout)
        await asyncio.sleep(max(0.0, min(interval, started + timeout - time.monotonic() + 0.01)))
