"""Retry policy: reads retry what is worth retrying; a create is never sent twice unless the
first attempt provably did not reach the server or was refused."""

import time
from email.utils import formatdate

import pytest

from tests.client.scripted import CREATE, JOB, client_for
from tests.servers import free_port
from videogen.client import (
    APIConnectionError,
    APITimeout,
    BadRequest,
    InvalidResponse,
    RateLimited,
    ServerError,
    SubmissionOutcomeUnknown,
    VideoAPIError,
)
from videogen.client.core import backoff

# --- retrieve (GET) ----------------------------------------------------------------------------


def test_get_retries_503_429_drop_and_reset_then_succeeds(scripted):
    scripted.script = [(503, {}, b""), (429, {"retry-after-ms": "1500"}, b""), "drop", "reset",
                       (200, {}, JOB)]
    client, delays = client_for(scripted.url, max_retries=4)
    assert client.retrieve("job-1").id == "job-1"
    assert len(scripted.requests) == 5 and len(delays) == 4
    assert delays[1] == pytest.approx(1.5)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_get_retries_each_retryable_status(scripted, status):
    scripted.script = [(status, {}, b""), (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    assert client.retrieve("job-1").status == "queued" and len(delays) == 1


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_get_does_not_retry_client_errors(scripted, status):
    scripted.script = [(status, {}, b""), (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    with pytest.raises(VideoAPIError):
        client.retrieve("job-1")
    assert delays == [] and len(scripted.requests) == 1


def test_retry_after_seconds_and_http_date(scripted):
    scripted.script = [(503, {"retry-after": "2"}, b""),
                       (429, {"retry-after": formatdate(time.time() + 3, usegmt=True)}, b""),
                       (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    client.retrieve("job-1")
    assert delays[0] == 2 and 1 < delays[1] <= 3.5


@pytest.mark.parametrize("header", [{"retry-after": "0"}, {"retry-after": "soon"},
                                    {"retry-after-ms": "-5"}, {}])
def test_unusable_or_zero_retry_after_falls_back_to_backoff(scripted, header):
    scripted.script = [(503, header, b""), (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    client.retrieve("job-1")
    assert 0.375 <= delays[0] <= 0.5  # the first backoff step


def test_retry_after_ms_wins_over_retry_after(scripted):
    scripted.script = [(429, {"retry-after-ms": "250", "retry-after": "9"}, b""),
                       (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    client.retrieve("job-1")
    assert delays == [0.25]


def test_a_wait_over_60_seconds_is_left_to_the_caller(scripted):
    scripted.script = [(429, {"retry-after": "120"}, b""), (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    with pytest.raises(RateLimited) as caught:
        client.retrieve("job-1")
    assert caught.value.retry_after == 120 and delays == [] and len(scripted.requests) == 1


def test_x_should_retry_overrides_the_status_table(scripted):
    scripted.script = [(503, {"x-should-retry": "false"}, b"")]
    client, delays = client_for(scripted.url)
    with pytest.raises(ServerError):
        client.retrieve("job-1")
    assert delays == []
    scripted.script = [(400, {"x-should-retry": "true"}, b""), (200, {}, JOB)]
    assert client.retrieve("job-1").id == "job-1" and len(delays) == 1


def test_max_retries_bounds_the_attempts(scripted):
    scripted.script = [(500, {}, b"")] * 5
    client, delays = client_for(scripted.url, max_retries=2)
    with pytest.raises(ServerError):
        client.retrieve("job-1")
    assert len(scripted.requests) == 3 and len(delays) == 2  # one try + max_retries
    scripted.requests.clear()
    none, _ = client_for(scripted.url, max_retries=0)
    with pytest.raises(ServerError):
        none.retrieve("job-1")
    assert len(scripted.requests) == 1


def test_get_read_timeout_is_retried_then_api_timeout(scripted):
    scripted.script = [("stall", 0.6), ("stall", 0.6)]
    client, delays = client_for(scripted.url, timeout=0.15, max_retries=1)
    with pytest.raises(APITimeout):
        client.retrieve("job-1")
    assert len(scripted.requests) == 2 and len(delays) == 1


def test_get_connection_refused_is_retried_then_connection_error():
    client, delays = client_for(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(APIConnectionError) as caught:
        client.retrieve("job-1")
    assert caught.value.request_sent is False and len(delays) == 2


def test_backoff_grows_with_jitter_and_is_capped():
    for attempt, (low, high) in enumerate([(0.375, 0.5), (0.75, 1), (1.5, 2), (3, 4), (6, 8)],
                                          start=1):
        assert all(low <= backoff(attempt) <= high for _ in range(50))
    assert max(backoff(20) for _ in range(50)) <= 8


# --- create (POST) -----------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    (429, {"retry-after": "1"}, b""), (503, {}, b""), (503, {"retry-after-ms": "10"}, b""),
])
def test_create_is_retried_after_an_explicit_refusal(scripted, answer):
    scripted.script = [answer, (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    assert client.create(CREATE).id == "job-1"
    assert len(scripted.requests) == 2 and len(delays) == 1
    assert scripted.requests[0][3] == scripted.requests[1][3]  # the same body both times


def test_create_is_retried_after_connection_refused():
    client, delays = client_for(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(APIConnectionError) as caught:
        client.create(CREATE)
    assert caught.value.request_sent is False and len(delays) == 2


@pytest.mark.parametrize("status", [408, 409, 500, 502, 504])
def test_create_is_not_retried_after_other_failures(scripted, status):
    scripted.script = [(status, {"x-should-retry": "true"}, b""), (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    with pytest.raises(VideoAPIError) as caught:
        client.create(CREATE)
    assert caught.value.status_code == status
    assert len(scripted.requests) == 1 and delays == []


@pytest.mark.parametrize("step", [
    "drop", "reset", ("stall", 0.6), ("partial", 200, b'{"id": "job-1", "sta'),
])
def test_create_with_a_lost_answer_is_outcome_unknown_and_not_retried(scripted, step):
    scripted.script = [step, (200, {}, JOB)]
    client, delays = client_for(scripted.url, timeout=0.15)
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        client.create(CREATE)
    assert caught.value.request_body == CREATE
    assert len(scripted.requests) == 1 and delays == []


def test_create_refused_after_every_retry_keeps_the_last_answer(scripted):
    scripted.script = [(503, {}, b"")] * 3 + [(200, {}, JOB)]
    client, delays = client_for(scripted.url)
    with pytest.raises(ServerError) as caught:
        client.create(CREATE)
    assert caught.value.status_code == 503 and len(scripted.requests) == 3


def test_create_with_an_unreadable_success_is_invalid_response(scripted):
    # A 200 means the job exists: the caller must not resubmit blindly either.
    scripted.script = [(200, {}, b"<html>"), (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    with pytest.raises(InvalidResponse):
        client.create(CREATE)
    assert len(scripted.requests) == 1


def test_download_retries_like_a_get(scripted):
    scripted.script = [(502, {}, b"<html>bad gateway</html>"), "drop", (200, {}, b"abc" * 1000)]
    client, delays = client_for(scripted.url)
    with client.download(scripted.url + "/shrt/token") as stream:
        assert stream.status_code == 200
        assert b"".join(stream.iter_bytes(100)) == b"abc" * 1000
    assert len(delays) == 2


def test_download_cut_mid_body_is_a_connection_error(scripted):
    scripted.script = [("partial", 200, b"x" * 5000)]
    client, _ = client_for(scripted.url)
    with pytest.raises(APIConnectionError) as caught, \
            client.download(scripted.url + "/shrt/token") as stream:
        b"".join(stream.iter_bytes(1024))
    assert caught.value.request_sent is True


def test_iter_chunks_passes_plain_bodies_through_and_decodes_encoded_ones(scripted):
    import gzip

    body = bytes(range(256)) * 4000
    scripted.script = [(200, {}, body), (200, {"Content-Encoding": "gzip"}, gzip.compress(body))]
    client, _ = client_for(scripted.url)
    for _ in range(2):
        with client.download(scripted.url + "/shrt/token") as stream:
            assert b"".join(stream.iter_chunks()) == body


def test_iter_chunks_cut_mid_body_is_a_connection_error(scripted):
    scripted.script = [("partial", 200, b"x" * 5000)]
    client, _ = client_for(scripted.url)
    with pytest.raises(APIConnectionError), \
            client.download(scripted.url + "/shrt/token") as stream:
        b"".join(stream.iter_chunks())


def test_a_bad_request_is_never_retried(scripted):
    scripted.script = [(400, {}, b'{"error": {"message": "width", "param": "width"}}')]
    client, delays = client_for(scripted.url)
    with pytest.raises(BadRequest):
        client.create(CREATE)
    assert delays == []
