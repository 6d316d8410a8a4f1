"""Downloads that arrive damaged or encoded: retried or read right, and never a leftover file."""

import gzip

import pytest

from tests.client.scripted import Scripted
from videogen import archive, polling, submission
from videogen.conf import get_settings
from videogen.models import ArchiveStatus, VideoJob
from videogen.provider import video_client

pytestmark = pytest.mark.django_db(transaction=True)


def archived_job():
    job = VideoJob.objects.create(model="google/veo-2.0", prompt="a lighthouse", seconds="1",
                                  width=1280, height=720, fps=8)
    submission.submit(job)
    polling.poll_jobs([VideoJob.objects.get(pk=job.pk)])
    job.refresh_from_db()
    return job


def test_a_download_that_is_not_a_video_is_fetched_again_and_leaves_no_partial_file(
        sandbox, tmp_path, monkeypatch):
    """The bytes arrive in full but PyAV cannot read them: a retryable download. The failed
    copy's file is removed at once (it was left for the sweeper, 15 minutes later)."""
    sandbox.faults.add("corrupt", count=1)
    partial = tmp_path / "media" / archive.PARTIAL_FOLDER
    seen = []
    real_stream_to_file = archive.stream_to_file

    def stream_to_file(*args):
        seen.append(sorted(p.name for p in partial.iterdir()) if partial.exists() else [])
        return real_stream_to_file(*args)

    monkeypatch.setattr(archive, "stream_to_file", stream_to_file)
    job = archived_job()
    assert job.archive_status == ArchiveStatus.ARCHIVED and archive.verify_stored(job)
    assert sandbox.stats()["faults"] == {"corrupt": 1}
    assert seen == [[], []]  # the second download started with the first one's file gone
    assert list(partial.iterdir()) == []


@pytest.fixture
def gzip_server(settings):
    """A server that compresses the video on the wire (``Content-Encoding: gzip``), as some CDNs
    do: ``Content-Length`` counts the compressed bytes."""
    server = Scripted()
    settings.VIDEOGEN = {**settings.VIDEOGEN, "BASE_URL": server.url, "API_KEY": "k"}
    yield server
    server.stop()


def test_a_gzip_encoded_download_is_checked_against_the_bytes_on_the_wire(gzip_server):
    """Content-Length was compared with the decoded size: every gzip-encoded download looked
    truncated and the archive failed after its retries."""
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 400
    packed = gzip.compress(video)
    gzip_server.script = [(200, {"content-encoding": "gzip", "content-type": "video/mp4"},
                           packed)]
    with video_client() as client:
        download = archive.stream_to_file(client, f"{gzip_server.url}/v.mp4",
                                          get_settings().archive)
    try:
        assert download.size == len(video)
        assert download.file.read() == video
    finally:
        archive.discard(download.file, download.path)


def test_a_gzip_download_cut_short_is_still_truncated(gzip_server):
    packed = gzip.compress(bytes(range(256)) * 400)
    gzip_server.script = [("partial", 200, packed[: len(packed) // 2])]
    with video_client() as client, pytest.raises(archive.RetryableDownload):
        archive.stream_to_file(client, f"{gzip_server.url}/v.mp4", get_settings().archive)
