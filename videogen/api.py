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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.db import models

from videogen import catalog, lifecycle
from videogen.models import REQUEST_FIELDS, ArchiveStatus, Status, VideoJob

ImageInput = str | bytes | os.PathLike | IO[bytes]
ProgressCallback = Callable[[VideoJob, float], None]


class InvalidRequest(ValueError):
    """The request was refused before anything was saved or sent; ``problems`` name fields."""

    def __init__(self, problems: list[catalog.Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class WaitTimeout(TimeoutError):
    def __init__(self, job: VideoJob, timeout: float) -> None:
        self.job = job
        super().__init__(f"job {job.pk} is still {job.status} after {timeout:.0f} s")


def create(*, model: str, images: Mapping[str, ImageInput] | None = None,
           for_object: models.Model | None = None, created_by: Any = None,
           metadata: dict[str, Any] | None = None, **fields: Any) -> VideoJob:
    """Validate and save a draft job. ``images`` maps "first"/"last" to an image.
    Raises :class:`InvalidRequest` (nothing saved) when the catalog refuses the request."""
    unknown = sorted(set(fields) - set(REQUEST_FIELDS))
    if unknown:
        raise InvalidRequest([catalog.Problem(name, "unknown field") for name in unknown])
    values = {"model": model, **fields}
    if images:
        values["media"] = _with_frames(values.get("media") or {}, images)
    if isinstance(values.get("seconds"), int):
        values["seconds"] = str(values["seconds"])
    request, problems = catalog.parse({k: v for k, v in values.items() if v is not None})
    errors = [p for p in problems if p.is_error]
    if errors or request is None:
        raise InvalidRequest(errors or problems)
    job = VideoJob(**_model_values(values), metadata=metadata or {},
                   created_by=created_by if getattr(created_by, "pk", None) else None)
    if for_object is not None:
        job.content_object = for_object
    job.save()
    return job


def _model_values(values: dict[str, Any]) -> dict[str, Any]:
    empty = {"prompt": "", "negative_prompt": "", "seconds": "", "output_format": "",
             "resolution": "", "ratio": "", "media": {}}
    return {name: (empty[name] if value is None and name in empty else value)
            for name, value in values.items()}


def _with_frames(media: dict[str, Any], images: Mapping[str, ImageInput]) -> dict[str, Any]:
    frames = [{"input_image": encode_image(image), "frame": position}
              for position, image in images.items()]
    return {**media, "frame_images": [*media.get("frame_images", []), *frames]}


def encode_image(image: ImageInput) -> str:
    """A URL as is; anything else read and encoded as raw base64."""
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        return image
    if isinstance(image, str | os.PathLike):
        data = Path(image).read_bytes()
    elif isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
    else:
        if hasattr(image, "seek"):
            image.seek(0)
        data = image.read()
    return base64.b64encode(data).decode("ascii")


def submit(job: VideoJob, *, actor: Any = None) -> VideoJob:
    return lifecycle.submit(job, actor=actor)


def generate(**kwargs: Any) -> VideoJob:
    """create() + submit(): returns the job, submitted (or failed, with the reason)."""
    return submit(create(**kwargs), actor=kwargs.get("created_by"))


def refresh(job: VideoJob) -> VideoJob:
    """Poll the provider now."""
    return lifecycle.repoll(job)


def cancel(job: VideoJob, *, actor: Any = None) -> VideoJob:
    return lifecycle.cancel(job, actor=actor)


def is_settled(job: VideoJob) -> bool:
    """Nothing more will happen by itself: failed, cancelled, or completed and archived
    (or its archive failed)."""
    if job.status == Status.COMPLETED:
        return job.archive_status in (ArchiveStatus.ARCHIVED, ArchiveStatus.FAILED)
    return job.status in (Status.FAILED, Status.CANCELLED, Status.DRAFT)


def wait(job: VideoJob, timeout: float = 900.0, on_progress: ProgressCallback | None = None,
         *, interval: float = 1.0) -> VideoJob:
    """Block until the job settles (see :func:`is_settled`), polling it when due and archiving
    it here if no worker has, so scripts and tests work without a running cluster.
    Raises :class:`WaitTimeout`; the job itself keeps going."""
    started = time.monotonic()
    while True:
        job.refresh_from_db()
        if _done(job, time.monotonic() - started, timeout, on_progress):
            return job
        _step(job)
        time.sleep(interval)


def _done(job: VideoJob, elapsed: float, timeout: float,
          on_progress: ProgressCallback | None) -> bool:
    """Report progress; True when waiting is over (settled, or an uncertain submission that
    needs a person); WaitTimeout when time is up."""
    if on_progress is not None:
        on_progress(job, elapsed)
    if is_settled(job) or (job.status == Status.SUBMITTING and job.error_code):
        return True
    if elapsed > timeout:
        raise WaitTimeout(job, timeout)
    return False


def _step(job: VideoJob) -> None:
    from django.utils import timezone

    from videogen import archive, polling

    if job.is_in_flight and (job.next_poll_at is None or job.next_poll_at <= timezone.now()):
        polling.poll_jobs([job])
    elif job.status == Status.COMPLETED and job.archive_status == ArchiveStatus.PENDING:
        archive.archive_job(job.pk)


def expected_seconds(job: VideoJob) -> float:
    """The model's typical generation time, for progress displays."""
    return lifecycle.typical_seconds(job.model)


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
        await sync_to_async(_step, thread_sensitive=True)(job)
        await asyncio.sleep(interval)
