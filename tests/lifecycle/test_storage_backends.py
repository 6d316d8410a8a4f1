"""Archiving into S3 through django-storages (moto's server on 127.0.0.1) and memory bounds."""

import hashlib
import tracemalloc

import pytest

from videogen import lifecycle, polling, submission
from videogen.models import ArchiveStatus, VideoJob

pytestmark = pytest.mark.django_db(transaction=True)



def test_archive_into_s3(sandbox, s3_archives):
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="an S3 bucket", seconds="1",
                                  width=1280, height=720, fps=8)
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED, job.archive_error
    body = s3_archives.read(job.video.name)
    assert hashlib.sha256(body).hexdigest() == job.video_sha256 and len(body) == job.video_bytes
    assert s3_archives.size(job.poster.name) > 100
    assert "X-Amz-Signature" in job.video.url  # presigned, SigV4
    # Re-archiving keeps one object per name.
    lifecycle.request_archive(job)
    keys = s3_archives.listing()
    assert sorted(keys) == sorted([job.video.name, job.poster.name])


def test_large_archive_keeps_python_memory_bounded(sandbox, settings):
    """300 MB through the archive: Python-level allocations stay a few MB (the spool goes to
    disk past ARCHIVE.SPOOL_MAX_MEMORY). Peak RSS of a 1 GiB run is benchmark P3."""
    size = 300 * 1024 * 1024
    sandbox.configure(pad_to_bytes=size)
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a big one", seconds="1",
                                  width=1280, height=720, fps=8)
    submission.submit(job)
    tracemalloc.start()
    try:
        polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    job.refresh_from_db()
    assert job.archive_status == ArchiveStatus.ARCHIVED, job.archive_error
    assert job.video_bytes == size
    assert peak < 32 * 1024 * 1024, f"peak Python allocations {peak / 2**20:.1f} MiB"
