"""A hostile provider, at the client: echoed keys, signed links in messages (issue 18)."""

import json
import logging

import pytest

from tests.client.scripted import CREATE, JOB, KEY, back_after, client_for
from tests.servers import free_port
from videogen.client import (
    APIConnectionError,
    BadRequest,
    InvalidResponse,
    ServerError,
    SubmissionOutcomeUnknown,
    VideoClient,
)
from videogen.client.redact import Redactor


def leaks(text: str) -> bool:
    """True when ``text`` holds a run of 8 or more of the key's characters, in any case."""
    lowered, key = text.lower(), KEY.lower()
    return any(key[i:i + 8] in lowered for i in range(len(key) - 7))


def everything_about(error: BaseException) -> str:
    return " ".join([str(error), repr(error), repr(error.args), repr(vars(error))])


# The key as providers echo it: whole, cut short, lower- or upper-cased, a middle piece.
ECHOES = [KEY, KEY[:12], KEY.lower(), KEY.upper(), KEY[9:19], f"Bearer {KEY}"]


@pytest.mark.parametrize("echo", ECHOES)
def test_a_key_echoed_in_any_error_field_is_removed_from_the_error(scripted, echo):
    body = json.dumps({"error": {"message": f"invalid key {echo}!", "param": echo,
                                 "code": echo, "type": f"auth:{echo}"}}).encode()
    scripted.script = [(400, {"x-request-id": echo, "x-ratelimit-remaining": echo}, body)]
    client, _ = client_for(scripted.url)
    with pytest.raises(BadRequest) as caught:
        client.create(CREATE)
    assert not leaks(everything_about(caught.value))
    assert caught.value.param.endswith("[redacted]") and caught.value.code.endswith("[redacted]")
    assert "invalid key" in caught.value.message


@pytest.mark.parametrize("echo", ECHOES)
def test_a_key_echoed_anywhere_in_a_job_answer_never_reaches_the_job(scripted, echo):
    answer = {"id": "job-1", "status": "failed", "model": echo,
              "error": {"code": echo, "message": f"denied for {echo}"},
              "inputs": {"prompt": echo, echo: [echo]}, "extra": {"nested": [echo]}}
    scripted.script = [(200, {}, json.dumps(answer).encode())]
    client, _ = client_for(scripted.url)
    job = client.retrieve("job-1")
    assert not leaks(repr(job.model_dump()) + repr(job.raw))
    assert job.error.code.endswith("[redacted]")
    assert job.error.message.startswith("denied for ") and job.error.message.endswith("[redacted]")
    assert job.id == "job-1"


def test_text_without_the_key_is_left_alone():
    redactor = Redactor(KEY)
    text = "tgp_v1_ is how keys start; very secret things; 0123456"
    assert redactor.text(text) == text
    assert redactor.data({"a": [text, 1, None]}) == {"a": [text, 1, None]}
    assert Redactor(None).text(KEY) == KEY


def test_overlapping_and_repeated_echoes_are_removed_end_to_end():
    redactor = Redactor(KEY)
    assert redactor.text(f"{KEY}{KEY.upper()} and {KEY[3:15]}.") == \
        "[redacted] and [redacted]."
    # A character that lower-cases to two shifts positions: still found.
    assert redactor.text(f"İ{KEY.lower()}!") == "İ[redacted]!"


def test_an_unusable_answer_is_reported_without_the_signed_links_query(scripted, caplog):
    caplog.set_level(logging.DEBUG)
    url = "https://cdn.example/v/clip.mp4?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIA"
    scripted.script = [(200, {}, json.dumps({"outputs": {"video_url": url}}).encode()),
                       (502, {}, f"upstream {url} failed".encode()), (500, {}, b"{}")]
    client, _ = client_for(scripted.url, max_retries=0)
    with pytest.raises(InvalidResponse) as invalid:
        client.retrieve("job-1")
    with pytest.raises(ServerError) as failed:
        client.retrieve("job-1")
    text = everything_about(invalid.value) + everything_about(failed.value) + caplog.text
    assert "Signature" not in text and "AKIA" not in text
    assert "https://cdn.example/v/clip.mp4?[…]" in str(invalid.value)


# --- A provider that cannot be reached for a while --------------------------------------------


def test_a_create_is_sent_again_through_a_short_outage(scripted):
    port = free_port()
    started = back_after(2.0, port, [(200, {}, JOB)])
    client = VideoClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0,
                         connect_retry_seconds=30)
    try:
        assert client.create(CREATE).id == "job-1"
        assert [r[0] for r in started[0].requests] == ["POST"]  # sent once it was up, once
    finally:
        for server in started:
            server.stop()


def test_a_create_that_never_connects_gives_up_after_the_window_saying_why():
    client, delays = client_for(f"http://127.0.0.1:{free_port()}", max_retries=2,
                                connect_retry_seconds=20)
    with pytest.raises(APIConnectionError) as caught:
        client.create(CREATE)
    assert caught.value.code == "provider_unreachable" and not caught.value.request_sent
    assert "nothing was sent" in str(caught.value)
    assert len(delays) > 2 and 10 <= sum(delays) <= 20


def test_a_create_that_may_have_arrived_is_still_never_sent_again(scripted):
    scripted.script = ["drop", (200, {}, JOB)]
    client, _ = client_for(scripted.url, connect_retry_seconds=60)
    with pytest.raises(SubmissionOutcomeUnknown):
        client.create(CREATE)
    assert scripted.paths() == ["/v2/videos"]


# --- Answers too large or too slow -------------------------------------------------------------


def test_an_answer_declaring_150_mb_is_refused_without_reading_it(scripted):
    scripted.script = [(200, {"content-length": str(150 * 1024 * 1024)}, b'{"id": "x"')]
    client, _ = client_for(scripted.url, max_retries=0)
    with pytest.raises(InvalidResponse, match="larger than 1048576 bytes"):
        client.retrieve("job-1")


def test_an_answer_that_grows_past_the_cap_as_it_is_decoded_is_refused(scripted):
    import gzip

    bomb = gzip.compress(b'{"id": "job-1", "status": "queued", "pad": "' + b"a" * 3_000_000
                         + b'"}')
    scripted.script = [(200, {"content-encoding": "gzip"}, bomb)] * 2
    client, _ = client_for(scripted.url, max_retries=0)
    with pytest.raises(InvalidResponse, match="larger than"):
        client.retrieve("job-1")
    big, _ = client_for(scripted.url, max_retries=0, max_response_bytes=4_000_000)
    assert big.retrieve("job-1").id == "job-1"  # the cap is configurable


def test_the_async_client_caps_answers_too(scripted):
    import asyncio

    from videogen.client import AsyncVideoClient

    async def scenario():
        async with AsyncVideoClient(api_key=KEY, base_url=scripted.url,
                                    max_retries=0) as client:
            with pytest.raises(InvalidResponse, match="larger than"):
                await client.retrieve("job-1")
            assert (await client.retrieve("job-1")).id == "job-1"  # a normal one after

    scripted.script = [(200, {"content-length": str(150 * 1024 * 1024)}, b"{"),
                       (200, {}, JOB)]
    asyncio.run(scenario())


def test_an_answer_trickling_in_is_cut_at_the_timeout_in_all(scripted):
    import time

    from videogen.client import APITimeout

    scripted.script = [("trickle", 0.25, JOB)]
    client, _ = client_for(scripted.url, max_retries=0, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(APITimeout):
        client.retrieve("job-1")
    assert time.monotonic() - started < 2.5  # not len(JOB) * 0.25 = 10 s


def test_an_error_body_is_cut_at_the_cap_not_refused(scripted):
    scripted.script = [(400, {}, b"x" * 3_000_000)]
    client, _ = client_for(scripted.url, max_retries=0)
    with pytest.raises(BadRequest):
        client.retrieve("job-1")
