"""The async client shares the sync client's core: the same errors, retries and key rules."""

import asyncio
import logging

import pytest

from tests.client.scripted import CREATE, JOB, KEY
from tests.servers import free_port
from videogen.client import (
    APIConnectionError,
    AsyncVideoClient,
    NotFound,
    RateLimited,
    SubmissionOutcomeUnknown,
)


def run(scenario, url, **kwargs):
    """Run ``scenario(client)`` on an async client whose sleeps are recorded; return
    (result or raised error, delays)."""
    delays = []

    async def sleep(seconds):
        delays.append(seconds)

    async def main():
        async with AsyncVideoClient(api_key=KEY, base_url=url, sleep=sleep, **kwargs) as client:
            try:
                return await scenario(client)
            except Exception as error:  # returned, so that each test asserts on it
                return error

    return asyncio.run(main()), delays


def test_errors_map_like_the_sync_client(scripted):
    scripted.script = [(404, {}, b'{"error": {"message": "no such job", "code": "nf"}}')]
    error, delays = run(lambda c: c.retrieve("job-1"), scripted.url)
    assert isinstance(error, NotFound) and error.code == "nf" and delays == []


def test_retrieve_retries_with_retry_after_ms_and_drops(scripted):
    scripted.script = [(429, {"retry-after-ms": "300"}, b""), "drop", (200, {}, JOB)]
    job, delays = run(lambda c: c.retrieve("job-1"), scripted.url)
    assert job.id == "job-1" and delays[0] == 0.3 and len(delays) == 2


def test_a_long_retry_after_is_raised(scripted):
    scripted.script = [(429, {"retry-after": "90"}, b"")]
    error, delays = run(lambda c: c.retrieve("job-1"), scripted.url)
    assert isinstance(error, RateLimited) and error.retry_after == 90 and delays == []


@pytest.mark.parametrize("step", ["drop", ("stall", 0.6)])
def test_create_with_a_lost_answer_is_not_retried(scripted, step):
    scripted.script = [step, (200, {}, JOB)]
    error, delays = run(lambda c: c.create(CREATE), scripted.url, timeout=0.15)
    assert isinstance(error, SubmissionOutcomeUnknown) and error.request_body == CREATE
    assert len(scripted.requests) == 1 and delays == []


def test_create_is_retried_after_503_and_connection_refused(scripted):
    scripted.script = [(503, {}, b""), (200, {}, JOB)]
    job, delays = run(lambda c: c.create(CREATE), scripted.url)
    assert job.id == "job-1" and len(delays) == 1 and len(scripted.requests) == 2
    error, delays = run(lambda c: c.create(CREATE), f"http://127.0.0.1:{free_port()}")
    assert isinstance(error, APIConnectionError) and error.request_sent is False
    assert len(delays) == 2


def test_download_streams_without_the_key_to_another_origin(scripted, elsewhere, caplog):
    caplog.set_level(logging.DEBUG)
    elsewhere.script = [(500, {}, b""), (200, {}, b"0123456789" * 100)]

    async def download(client):
        async with client.download(elsewhere.url + "/clip.mp4") as stream:
            return [chunk async for chunk in stream.aiter_bytes(256)]

    chunks, delays = run(download, scripted.url)
    assert b"".join(chunks) == b"0123456789" * 100 and max(map(len, chunks)) <= 256
    assert len(delays) == 1 and "download from 127.0.0.1" in caplog.text
    assert all("authorization" not in headers for _, _, headers, _ in elsewhere.requests)
    assert KEY not in caplog.text
