"""Streaming a finished video into the configured storage, verified, with a poster.

The provider's ``video_url`` expires, so a completed job is archived at once by a task of its own:
the download streams into a spooled temporary file (constant memory) while sha256 and size are
computed; ``Content-Length`` is checked; PyAV probes container, codec, duration, size, fps and
the audio track (differences from the request are recorded as warnings); a poster JPEG is cut
from the first second; both files are saved through the storage alias in ``VIDEOGEN["STORAGE"]``,
which the job records (``storage_alias``): its files are read, replaced and deleted there,
whatever the setting says later.

A truncated or unreadable download is fetched again; an expired URL (403/404) is refreshed once
by re-polling the job. Archiving again saves the new files, then deletes the old ones.

No file is left that no job names: the names an attempt is about to save (with their storage
alias) go into the job's ``archive_unrecorded`` first, so files saved by a worker killed (or
failed by the database) before its commit are found and deleted, by the job's next attempt or by
the sweeper.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import IO, Any
from uuid import UUID

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q

from videogen import lifecycle, polling
from videogen.client import VideoClient
from videogen.client import errors as api_errors
from videogen.client.core import Guard, same_origin
from videogen.conf import ArchiveSettings, get_settings
from videogen.exceptions import (  # defined there; still importable from here
    ArchiveError,
    CallerGaveUp,
    ExpiredURL,
    RetryableDownload,
)
from videogen.fastpath.pipeline import HashingWriter
from videogen.models import ArchiveOutcome, ArchiveStatus, VideoJob
from videogen.provider import video_client
from videogen.schedules import task_timeout
from videogen.storage import archive_name, current_alias, storage_for
from videogen.webhooks.safety import Pinned, UnsafeURL, pinned

logger = logging.getLogger("videogen.archive")

# Longest an archive may take before the sweeper assumes its worker died, unless the task
# queue lets a task run longer (see lease_seconds).
LEASE_SECONDS = 15 * 60
#: The database failing under an attempt (a restart, a cut connection, a lock that timed out):
#: nothing is wrong with the video, so the archive is tried again rather than failed.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Downloads in progress, inside local storage so that finished ones move into place. A worker
# killed mid-download leaves a file here; the sweeper removes those older than lease_seconds().
PARTIAL_FOLDER = "videogen-partial"
PARTIAL_SUFFIX = ".part"


@dataclass
class Download:
    file: IO[bytes]
    size: int
    sha256: str
    path: str | None = None  # a local file that storage may move into place


@dataclass
class Probe:
    container: str
    codec: str
    width: int
    height: int
    fps: float | None
    duration: float | None
    poster: bytes | None
    warnings: list[str] = field(default_factory=list)
    audio_codec: str = ""
    audio_channels: int | None = None
    audio_sample_rate: int | None = None


def archive_job(job_id: UUID | str, *, in_worker: bool = False, deadline: float | None = None
                ) -> str:
    """The task body (``in_worker``: run by django-q2): claim, download, verify, store.
    ``deadline`` (``time.monotonic()``) is when a caller archiving inline stops waiting: the
    download stops then and the archive goes back to the task queue. Returns what happened,
    an :class:`~videogen.models.ArchiveOutcome`."""
    # Only what the claim needs: the claim itself reads the whole row, under its lock.
    job = VideoJob.objects.only("pk", "status", "archive_status", "archive_attempts"
                                ).filter(pk=job_id).first()
    if job is None or job.archive_status != ArchiveStatus.PENDING:
        return ArchiveOutcome.SKIPPED
    if not lifecycle.claim_archive(job, lease_seconds=lease_seconds(in_worker=in_worker)):
        return ArchiveOutcome.SKIPPED
    old_files = files_of(job)
    try:
        fields, warnings = fetch_and_store(job, deadline)
    except CallerGaveUp:
        lifecycle.hand_back_archive(job)
        return ArchiveOutcome.HANDED_BACK
    except ArchiveError as error:
        return _failed(job, str(error))
    except DATABASE_ERRORS as error:
        return _interrupted(job, error)
    except Exception as error:
        logger.exception("archiving job %s failed unexpectedly", job.pk)
        return _failed(job, f"unexpected error: {type(error).__name__}: {error}")
    new_files = {(fields["storage_alias"], name) for name in (fields["video"], fields["poster"])
                 if name}
    try:
        lifecycle.archive_succeeded(job, fields, warnings)
    except lifecycle.ArchiveSuperseded as error:
        # Its files are not deleted now (the newer attempt may have saved under the same
        # names), but noted: the sweeper deletes them once the newer attempt is over, unless
        # a job names them.
        note_unrecorded(job.pk, new_files)
        logger.warning("%s Files it saved: %s", error,
                       ", ".join(f"{alias}:{name}" for alias, name in sorted(new_files)))
        return ArchiveOutcome.SUPERSEDED
    except DATABASE_ERRORS as error:
        # The files are noted as unrecorded: the next attempt (or the sweeper) removes them.
        return _interrupted(job, error)
    except VideoJob.DoesNotExist:
        logger.info("job %s was deleted while it was archived; its new files go too", job.pk)
        for alias, name in new_files:
            delete_quietly(alias, name)
        return ArchiveOutcome.DELETED
    # Only now: until the commit, the row named them. A file of the same name in another
    # storage (the setting changed since the last archive) is another file, and goes.
    for alias, name in old_files - new_files:
        delete_quietly(alias, name)
    forget_unrecorded(job.pk, new_files)  # named by the row now (the sweeper would see it too)
    return ArchiveOutcome.ARCHIVED


#: A file in a storage: (STORAGES alias, name).
StoredFile = tuple[str, str]


def files_of(job: VideoJob) -> set[StoredFile]:
    """The files the row names, each with the alias of the storage it is in."""
    alias = job.storage_alias or current_alias()
    return {(alias, name) for name in (job.video.name, job.poster.name) if name}


def _failed(job: VideoJob, reason: str) -> str:
    try:
        recorded = lifecycle.archive_failed(job, reason)
    except VideoJob.DoesNotExist:
        return ArchiveOutcome.DELETED
    if recorded:
        return ArchiveOutcome.FAILED
    logger.warning("archive attempt %d of job %s failed after it was taken over: %s",
                   job.archive_attempts, job.pk, reason)
    return ArchiveOutcome.SUPERSEDED


def _interrupted(job: VideoJob, error: Exception) -> str:
    """The database failed under this attempt: handed back for another, counted like a lost
    worker so that a database that keeps failing ends the archive instead of looping it. When
    even that cannot be written, the lease runs out and the sweeper does the same."""
    reason = f"database error: {type(error).__name__}: {error}"
    logger.warning("archive attempt %d of job %s interrupted (%s)", job.archive_attempts,
                   job.pk, reason)
    try:
        released = lifecycle.release_archive(job, reason=reason)
    except VideoJob.DoesNotExist:
        return ArchiveOutcome.DELETED
    except DATABASE_ERRORS:
        logger.warning("job %s: the database is still failing; the sweeper retries the archive "
                       "once its lease runs out", job.pk)
        return ArchiveOutcome.INTERRUPTED
    if not released:
        return ArchiveOutcome.SUPERSEDED
    if job.archive_status == ArchiveStatus.FAILED:
        return ArchiveOutcome.FAILED
    return ArchiveOutcome.INTERRUPTED


def lease_seconds(*, in_worker: bool = False) -> float:
    """How long an archive claim holds. In a django-q2 worker: its task timeout plus a minute,
    since the cluster kills the worker by then, so the sweeper takes over a killed worker's
    archive within minutes. Elsewhere (``wait()``, the CLI) nothing bounds the run:
    LEASE_SECONDS, or that timeout plus a minute when longer."""
    timeout = task_timeout()
    if timeout is None:
        return LEASE_SECONDS
    return timeout + 60 if in_worker else max(LEASE_SECONDS, timeout + 60)


def fetch_and_store(job: VideoJob, caller_deadline: float | None = None
                    ) -> tuple[dict[str, Any], list[str]]:
    conf = get_settings().archive
    with video_client() as client:
        download, probe = _verified_download(job, client, conf, caller_deadline)
    try:
        return _store(job, download, probe), probe.warnings
    finally:
        discard(download.file, download.path)


def _verified_download(job: VideoJob, client: VideoClient, conf: ArchiveSettings,
                       caller_deadline: float | None = None) -> tuple[Download, Probe]:
    url, refreshed, last_error = job.provider_video_url, False, None
    if not url:
        # Completed without a URL in that answer: ask the provider once more.
        url, refreshed = _fresh_url(job), True
    attempts, deadline = 0, time.monotonic() + conf.download_timeout
    if caller_deadline is not None and caller_deadline < deadline:
        deadline = caller_deadline
    while attempts <= conf.download_retries:
        _check_deadline(deadline, conf, caller_deadline)
        try:
            download = stream_to_file(client, url, conf, deadline, caller_deadline)
            return download, _probed(download, job)
        except ExpiredURL as error:
            if refreshed:
                raise ArchiveError(f"{error}; a fresh URL from the provider expired too") from None
            url, refreshed = _fresh_url(job), True
        except RetryableDownload as error:
            last_error, attempts = error, attempts + 1
            logger.info("download of job %s failed (%s), attempt %d", job.pk, error, attempts)
    raise ArchiveError(f"download failed {attempts} times: {last_error}")


def _probed(download: Download, job: VideoJob) -> Probe:
    try:
        return probe_file(download.file, job)
    except BaseException:
        discard(download.file, download.path)  # now, not when the sweeper finds it
        raise


def _fresh_url(job: VideoJob) -> str:
    job = polling.repoll(job)
    if not job.provider_video_url:
        raise ArchiveError("the video URL expired and the provider gave no new one")
    return job.provider_video_url


def stream_to_file(client: VideoClient, url: str, conf: ArchiveSettings,
                   deadline: float | None = None, caller_deadline: float | None = None
                   ) -> Download:
    """Download ``url`` into a temporary file (see :func:`new_spool`), hashing as it goes,
    by ``deadline`` (``time.monotonic()``; default ``ARCHIVE.DOWNLOAD_TIMEOUT`` from now).
    When ``deadline`` is the ``caller_deadline``, running out of it raises
    :class:`CallerGaveUp` instead of failing the archive."""
    if deadline is None:
        deadline = time.monotonic() + conf.download_timeout
    spool, path = new_spool(conf)
    try:
        return _receive(client, url, conf, spool, path, deadline, caller_deadline)
    except BaseException:
        discard(spool, path)
        raise


def _receive(client: VideoClient, url: str, conf: ArchiveSettings, spool: IO[bytes],
             path: str | None, deadline: float, caller_deadline: float | None) -> Download:
    writer = HashingWriter(spool)  # hashes and writes on threads of its own (bench P3)
    try:
        with client.download(url, guard=download_guard()) as response:
            expected = _content_length(response.headers)
            if expected is not None and expected > conf.max_bytes:
                raise ArchiveError(f"the video is {expected} bytes, over ARCHIVE.MAX_BYTES")
            for chunk in response.iter_chunks(conf.chunk_size):
                writer.put(chunk)
                if writer.size > conf.max_bytes:
                    raise ArchiveError("the video is over ARCHIVE.MAX_BYTES")
                # Each read has the client's read timeout; a body that trickles in (a byte
                # now and then) passes it for ever, so the whole download has a deadline.
                _check_deadline(deadline, conf, caller_deadline)
    except (api_errors.PermissionDenied, api_errors.NotFound) as error:
        raise ExpiredURL(f"the video URL was refused ({error.status_code})") from None
    except (api_errors.APIConnectionError, api_errors.APITimeout, api_errors.ServerError,
            api_errors.RateLimited) as error:
        raise RetryableDownload(str(error)) from None
    finally:
        writer.stop()
    sha256, size = writer.result(), writer.size
    # Content-Length counts the bytes on the wire: compressed ones for a gzip-encoded body.
    if expected is not None and response.bytes_received != expected:
        raise RetryableDownload(f"truncated: got {response.bytes_received} of {expected} bytes")
    if size == 0:
        raise RetryableDownload("the download was empty")
    spool.seek(0)
    return Download(file=spool, size=size, sha256=sha256, path=path)


def _check_deadline(deadline: float, conf: ArchiveSettings,
                    caller_deadline: float | None = None) -> None:
    if time.monotonic() <= deadline:
        return
    if deadline == caller_deadline:
        raise CallerGaveUp("the caller stopped waiting")
    raise ArchiveError(f"the download took longer than ARCHIVE.DOWNLOAD_TIMEOUT "
                           f"({conf.download_timeout:g} s)")


def new_spool(conf: ArchiveSettings) -> tuple[IO[bytes], str | None]:
    """Where a download lands. For storage with local paths (FileSystemStorage) a named file
    inside the storage's own tree, which ``storage.save`` then moves into place instead of
    copying (bench P3); otherwise a spooled temporary file (RAM up to
    ``ARCHIVE.SPOOL_MAX_MEMORY``, then disk)."""
    directory = partial_directory()
    if directory is None:
        return tempfile.SpooledTemporaryFile(max_size=conf.spool_max_memory), None
    os.makedirs(directory, exist_ok=True)
    named = tempfile.NamedTemporaryFile(  # noqa: SIM115
        dir=directory, prefix="download-", suffix=PARTIAL_SUFFIX, delete=False)
    return named, named.name


def partial_directory(alias: str = "") -> str | None:
    """The local folder for downloads in progress in the storage of ``alias`` (default: the
    one new archives go to), or None when that storage has no paths."""
    try:
        return storage_for(alias).path(PARTIAL_FOLDER)
    except NotImplementedError:
        return None


def discard(file: IO[bytes], path: str | None) -> None:
    """Close a download's file and remove it unless storage already moved it away."""
    file.close()
    if path and os.path.exists(path):
        os.unlink(path)


def download_guard() -> Guard:
    """Refuse a video URL, or a redirect, that points inside the network (SSRF: the URL comes
    from the provider's answer), and send the request to the very address that was checked,
    as webhook sends do (a name that resolves elsewhere the second time cannot redirect it).
    The provider's own origin, ``BASE_URL``, is trusted: it is where the API key goes already
    (and where the sandbox serves its files)."""
    provider = get_settings().base_url

    def guard(url: str) -> Pinned | None:
        if same_origin(url, provider):
            return None
        try:
            return pinned(url, hint="only the provider's own origin (VIDEOGEN['BASE_URL']) may be")
        except UnsafeURL as error:
            raise ArchiveError(f"refused to download the video: {error}") from None

    return guard


def _content_length(headers: Any) -> int | None:
    value = headers.get("content-length")
    return int(value) if value and value.isdigit() else None


# --- Probing --------------------------------------------------------------------------------


def probe_file(file: IO[bytes], job: VideoJob) -> Probe:
    """Read the video with PyAV; unreadable bytes are a retryable download problem.
    Without PyAV (the ``media`` extra) the file is stored unprobed, with a warning."""
    try:
        import av
    except ImportError:
        return _unprobed(file)
    file.seek(0)
    try:
        with av.open(file, mode="r") as container:
            probe = _describe(container)
            probe.poster = _poster(container)
    except (av.FFmpegError, ValueError, IndexError, StopIteration) as error:
        raise RetryableDownload(f"the file is not a readable video ({error})") from None
    finally:
        file.seek(0)
    probe.warnings = _mismatches(probe, job)
    return probe


def _stored_fields(probe: Probe) -> dict[str, Any]:
    """Probe results as model fields (None where nothing was measured)."""
    return {"video_container": probe.container, "video_codec": probe.codec,
            "video_width": probe.width or None, "video_height": probe.height or None,
            "video_fps": probe.fps, "video_duration": probe.duration,
            "audio_codec": probe.audio_codec, "audio_channels": probe.audio_channels,
            "audio_sample_rate": probe.audio_sample_rate}


def _unprobed(file: IO[bytes]) -> Probe:
    file.seek(0)
    head = file.read(64)
    file.seek(0)
    container = "webm" if head.startswith(b"\x1a\x45\xdf\xa3") else "mp4"
    return Probe(container=container, codec="", width=0, height=0, fps=None, duration=None,
                 poster=None, warnings=["PyAV is not installed (pip install "
                                        "'django-videogen[media]'): not probed, no poster"])


def _describe(container: Any) -> Probe:
    stream = container.streams.video[0]
    if stream.codec_context is None:
        # FFmpeg named the stream but has no decoder for it (an SVG image, say).
        raise ValueError(f"no decoder for its {container.format.name} stream")
    duration = None
    if container.duration:
        duration = container.duration / 1_000_000
    elif stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    rate = stream.average_rate or stream.guessed_rate
    return Probe(
        container=_container_name(container.format.name), codec=stream.codec_context.name,
        width=stream.codec_context.width, height=stream.codec_context.height,
        fps=round(float(rate), 3) if rate else None,
        duration=round(duration, 3) if duration else None, poster=None,
        **_audio(container),
    )


def _audio(container: Any) -> dict[str, Any]:
    """The first audio track's codec, channels and sample rate (nothing for a silent file)."""
    if not container.streams.audio:
        return {}
    context = container.streams.audio[0].codec_context
    if context is None:  # an audio codec FFmpeg cannot decode: say what it is called
        return {"audio_codec": "unknown"}
    return {"audio_codec": (context.name or "")[:32],
            "audio_channels": context.channels or None,
            "audio_sample_rate": context.sample_rate or None}


def _container_name(ffmpeg_names: str) -> str:
    names = ffmpeg_names.split(",")
    if "mp4" in names or "mov" in names:
        return "mp4"
    if "webm" in names or "matroska" in names:
        return "webm"
    return names[0]


def _poster(container: Any) -> bytes | None:
    """A JPEG of the frame nearest half a second in (or the first frame of a shorter clip)."""
    import av

    container.seek(0)
    stream = container.streams.video[0]
    # One thread each for the decoder and the encoder: a handful of frames does not repay
    # FFmpeg starting a pool of threads per file (bench P4, many archives at once).
    stream.codec_context.thread_count = 1
    chosen = None
    for frame in container.decode(stream):
        chosen = frame
        if frame.time is not None and frame.time >= 0.5:
            break
    if chosen is None:
        return None
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.thread_count = 1
    encoder.width, encoder.height = chosen.width, chosen.height
    encoder.pix_fmt = "yuvj420p"
    # A decoded frame has its own time base; one JPEG needs any valid one (FFmpeg's 1/AV_TIME_BASE).
    encoder.time_base = chosen.time_base or Fraction(1, av.time_base)
    packets = encoder.encode(chosen.reformat(format="yuvj420p"))
    packets += encoder.encode(None)
    return b"".join(bytes(packet) for packet in packets) or None


def _mismatches(probe: Probe, job: VideoJob) -> list[str]:
    warnings = []
    if job.width and job.height and (probe.width, probe.height) != (job.width, job.height):
        warnings.append(f"asked for {job.width}x{job.height}, got {probe.width}x{probe.height}")
    if job.seconds and probe.duration and abs(probe.duration - int(job.seconds)) > 0.6:
        warnings.append(f"asked for {job.seconds} s, got {probe.duration:.2f} s")
    wanted = (job.output_format or "").lower()
    if wanted and probe.container != wanted:
        warnings.append(f"asked for {wanted.upper()}, got {probe.container.upper()}")
    return warnings


# --- Storing --------------------------------------------------------------------------------


def _store(job: VideoJob, download: Download, probe: Probe) -> dict[str, Any]:
    """Save the new files beside the old ones (``archive_job`` deletes those once the new ones
    are recorded): a save that fails leaves the previous archive whole. Storage that overwrites
    (S3 with ``file_overwrite``) keeps the same names; storage that does not
    (FileSystemStorage) saves under a suffixed name while the old file is still there."""
    # Resolved once: both files go to the same storage, even if the setting changes meanwhile.
    alias = current_alias()
    storage = storage_for(alias)
    # A killed attempt's files first: then their names are free for this one (it saved beside
    # them, under suffixed names, and left them for ever).
    remove_unrecorded(job.pk, attempt=job.archive_attempts)
    video_name = storage.get_available_name(archive_name(job, probe.container))
    poster_name = storage.get_available_name(archive_name(job, "jpg", suffix="-poster")) \
        if probe.poster else ""
    if not note_unrecorded(job.pk, {(alias, name) for name in (video_name, poster_name) if name},
                           attempt=job.archive_attempts):
        raise ArchiveError("this archive attempt was taken over before it saved its files")
    saved_video = storage.save(video_name, _as_file(download, video_name))
    saved_poster = ""
    try:
        if probe.poster:
            saved_poster = storage.save(poster_name, ContentFile(probe.poster, name=poster_name))
    except BaseException:
        if (alias, saved_video) not in files_of(job):  # an overwritten old file is the row's
            delete_quietly(alias, saved_video)
        raise
    return {"storage_alias": alias, "video": saved_video, "poster": saved_poster,
            "video_bytes": download.size,
            "video_sha256": download.sha256, **_stored_fields(probe)}


class _MovableFile(File):
    """A download with a local path: FileSystemStorage's ``_save`` renames anything with a
    ``temporary_file_path`` into place instead of copying it."""

    def __init__(self, download: Download, name: str) -> None:
        super().__init__(download.file, name=name)
        self._path = download.path

    def temporary_file_path(self) -> str | None:
        return self._path


def _as_file(download: Download, name: str) -> File:
    return _MovableFile(download, name) if download.path else File(download.file, name=name)


def note_unrecorded(job_id: UUID | str, files: set[StoredFile], *, attempt: int | None = None
                    ) -> bool:
    """Add ``files`` to the job's files not yet recorded. With ``attempt``, only while that
    archive attempt still holds the job (False otherwise: it must not save anything)."""
    with transaction.atomic():
        row = _journal(job_id)
        if row is None or (attempt is not None and not _holds(row, attempt)):
            return False
        noted = _entries(row[2])
        _write_journal(job_id, noted + sorted(set(files) - set(noted)))
    return True


def forget_unrecorded(job_id: UUID | str, files: set[StoredFile]) -> None:
    """Take ``files`` (recorded by the row now) off the job's files not yet recorded."""
    with transaction.atomic():
        row = _journal(job_id)
        if row is not None and row[2]:
            _write_journal(job_id, [entry for entry in _entries(row[2]) if entry not in files])


def remove_unrecorded(job_id: UUID | str, *, attempt: int | None = None) -> int:
    """Delete the job's files that were saved but never recorded, except any a job names.
    With ``attempt``, only while that archive attempt holds the job; without, only while no
    attempt does (one may be saving those names right now). Returns how many went."""
    with transaction.atomic():
        row = _journal(job_id)
        if row is None or not row[2] or not _may_remove(row, attempt):
            return 0
        entries = _entries(row[2])
        named, removed = _named_by_a_job(entries), 0
        for alias, name in entries:
            if (alias, name) not in named and delete_quietly(alias, name):
                removed += 1
        _write_journal(job_id, [])
    if removed:
        logger.info("removed %d file(s) job %s saved but never recorded", removed, job_id)
    return removed


def _entries(journal: list[Any] | None) -> list[StoredFile]:
    """The journal's files. A bare name was written by a release that kept no alias: it is in
    the storage that release saved to, the one ``VIDEOGEN["STORAGE"]`` names."""
    return [(current_alias(), entry) if isinstance(entry, str) else (entry[0], entry[1])
            for entry in journal or []]


def _journal(job_id: UUID | str) -> tuple[str, int, list[Any] | None] | None:
    """(archive status, archive attempts, files not yet recorded), the row locked."""
    return VideoJob.objects.select_for_update().filter(pk=job_id).values_list(
        "archive_status", "archive_attempts", "archive_unrecorded").first()


def _holds(row: tuple[str, int, Any], attempt: int) -> bool:
    return row[0] == ArchiveStatus.ARCHIVING and row[1] == attempt


def _may_remove(row: tuple[str, int, Any], attempt: int | None) -> bool:
    if attempt is not None:
        return _holds(row, attempt)
    return row[0] != ArchiveStatus.ARCHIVING


def _write_journal(job_id: UUID | str, files: list[StoredFile]) -> None:
    VideoJob.objects.filter(pk=job_id).update(
        archive_unrecorded=[list(entry) for entry in files] or None)


def _named_by_a_job(files: list[StoredFile]) -> set[StoredFile]:
    names = [name for _alias, name in files]
    rows = VideoJob.objects.filter(Q(video__in=names) | Q(poster__in=names)).values_list(
        "storage_alias", "video", "poster")
    named = {(alias or current_alias(), name) for alias, *pair in rows for name in pair}
    return named & set(files)


def delete_quietly(alias: str, name: str) -> bool:
    try:
        storage = storage_for(alias)
        if storage.exists(name):
            storage.delete(name)
            return True
    except Exception:
        logger.warning("could not delete archive file %s from storage %r", name, alias,
                       exc_info=True)
    return False


def verify_stored(job: VideoJob) -> bool:
    """Re-read the stored file and compare its sha256 (for audits and tests)."""
    digest = hashlib.sha256()
    with job.video.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest() == job.video_sha256

