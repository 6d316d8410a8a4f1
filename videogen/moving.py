"""Moving archives from one storage alias to another (``manage.py videogen move-archives``).

Per job: copy the video and the poster to the target (streamed), check the copy's sha256 (the
video against the one recorded at archive time, the poster against its source), switch the row
to the target in one transaction, and only then delete the old copies. Safe to interrupt at any
point: the row names the old files until both copies are verified, so it never names a missing
file, and the old copies go only once the row names the new ones. The switch notes the old
copies in the job's ``archive_unrecorded`` journal, so that if the run stops before deleting
them, the sweeper does. A run that stopped after copying reuses the copies that verify.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.translation import gettext as _

from videogen import archive
from videogen.exceptions import (  # defined there; still importable from here
    MoveError,
)
from videogen.models import ArchiveStatus, JobEvent, VideoJob
from videogen.storage import UnknownStorage, current_alias, storage_for, unknown_alias_message

logger = logging.getLogger("videogen.moving")

CHUNK = 1024 * 1024


@dataclass
class Planned:
    job: VideoJob
    source: str
    names: list[str]


def check_alias(alias: str) -> None:
    """Raise :class:`UnknownStorage` naming the allowed aliases unless STORAGES has ``alias``."""
    if alias not in getattr(settings, "STORAGES", {}):
        raise UnknownStorage(unknown_alias_message(alias))


def to_move(target: str) -> Iterator[Planned]:
    """The jobs with files in another storage than ``target``, oldest first, each read when
    its turn comes (a run takes long; archives may be redone meanwhile)."""
    jobs = VideoJob.objects.exclude(video="", poster="").order_by("created_at", "pk")
    for pk in list(jobs.values_list("pk", flat=True)):
        job = VideoJob.objects.filter(pk=pk).first()
        if job is None or not (job.video or job.poster):
            continue
        source = job.storage_alias or current_alias()
        if source != target:
            yield Planned(job, source, [n for n in (job.video.name, job.poster.name) if n])


def count_to_move(target: str) -> int:
    jobs = VideoJob.objects.exclude(video="", poster="")
    if target == current_alias():
        return jobs.exclude(storage_alias__in=[target, ""]).count()
    return jobs.exclude(storage_alias=target).count()


def move_job(plan: Planned, target: str) -> None:
    """Move one job's files to ``target`` (see the module's docstring), or :class:`MoveError`."""
    job = plan.job
    if job.archive_status == ArchiveStatus.ARCHIVING:
        raise MoveError(_("it is being archived right now; run the command again later"))
    try:
        source, destination = storage_for(plan.source), storage_for(target)
    except UnknownStorage as error:
        raise MoveError(str(error)) from None
    copies: dict[str, str] = {}
    try:
        for name in plan.names:
            expected = job.video_sha256 if name == job.video.name else ""
            copies[name] = copy_verified(source, destination, name, expected)
    except Exception as error:
        # The copies made are nobody's: removed, unless a row names them. (An interrupted
        # run keeps them instead: the next one finds them verified and reuses them.)
        _discard(job, target, set(copies.values()))
        if isinstance(error, MoveError):
            raise
        # A file missing from the old storage, a storage that refused: this job only.
        logger.warning("moving job %s failed", job.pk, exc_info=True)
        raise MoveError(f"{type(error).__name__}: {error}") from None
    if not switch(job, plan.source, target, copies):
        _discard(job, target, set(copies.values()))
        raise MoveError(_("the job's archive changed while it was copied; run the command "
                          "again"))
    for name in plan.names:
        archive.delete_quietly(plan.source, name)
    archive.forget_unrecorded(job.pk, {(plan.source, name) for name in plan.names})


def copy_verified(source: Storage, destination: Storage, name: str, expected: str) -> str:
    """Copy ``name`` to ``destination`` (under the same name when free) and return the copy's
    name, once its sha256 is ``expected`` (empty: the source's). A copy already there that
    verifies (a run stopped before switching the row) is kept; one that does not (a copy cut
    short) is replaced."""
    if not expected:
        expected = sha256_of(source, name)
    if destination.exists(name):
        if sha256_of(destination, name) == expected:
            return name
        destination.delete(name)
    with open_stream(source, name) as stream:
        saved = destination.save(name, File(stream, name=name))
    found = sha256_of(destination, saved)
    if found != expected:
        destination.delete(saved)
        raise MoveError(_("the copy of %(name)s has sha256 %(found)s, not %(expected)s: the "
                          "job still points to the old file, which may be damaged") % {
            "name": name, "found": found, "expected": expected})
    return saved


def switch(job: VideoJob, source: str, target: str, copies: dict[str, str]) -> bool:
    """Point the row at the copies, under its lock, if it still names what was copied (False
    if not); note the old files in its journal (the sweeper deletes them should this run stop
    now)."""
    with transaction.atomic():
        row = VideoJob.objects.select_for_update().get(pk=job.pk)
        if (row.archive_status == ArchiveStatus.ARCHIVING
                or (row.storage_alias or current_alias()) != source
                or (row.video.name, row.poster.name) != (job.video.name, job.poster.name)):
            return False
        row.storage_alias = target
        row.video = copies.get(job.video.name or "", "")
        row.poster = copies.get(job.poster.name or "", "")
        row.save(update_fields=["storage_alias", "video", "poster", "updated_at"])
        archive.note_unrecorded(job.pk, {(source, name) for name in copies})
        JobEvent.objects.create(job=row, kind=JobEvent.Kind.NOTE, detail=_(
            "Archive moved from storage %(source)s to %(target)s.") % {
                "source": source, "target": target})
    job.storage_alias, job.video, job.poster = row.storage_alias, row.video, row.poster
    return True


def _discard(job: VideoJob, target: str, names: set[str]) -> None:
    named = archive.files_of(VideoJob.objects.filter(pk=job.pk).first() or VideoJob())
    for name in names:
        if (target, name) not in named:
            archive.delete_quietly(target, name)


def sha256_of(storage: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with open_stream(storage, name) as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_stream(storage: Storage, name: str) -> IO[bytes]:
    """``name`` read forward in pieces. django-storages' S3 ``open`` fetches the whole object
    into a temporary file (in memory unless AWS_S3_MAX_MEMORY_SIZE is set): a video of
    gigabytes must not, so S3 objects are read from boto3's streaming body."""
    bucket, normalize = getattr(storage, "bucket", None), getattr(storage, "_normalize_name", None)
    if bucket is None or normalize is None:
        return storage.open(name, "rb")
    from storages.utils import clean_name

    body = bucket.Object(normalize(clean_name(name))).get()["Body"]
    return io.BufferedReader(_Forward(body.read), buffer_size=CHUNK)


class _Forward(io.RawIOBase):
    """A read-only, forward-only file over a ``read(n)`` function (not seekable, so storage
    backends read it through instead of rewinding it)."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        super().__init__()
        self._read = read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
