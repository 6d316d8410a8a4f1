"""The provider client over real HTTP: the sandbox for normal paths, a scripted server for
exact statuses, headers, stalls and dropped connections."""

import asyncio
import base64
import json
import logging
from decimal import Decimal

import av
import pytest

from videogen.client import (
    APIConnectionError,
    AsyncVideoClient,
    AuthenticationError,
    BadRequest,
    CancelNotSupported,
    Conflict,
    InvalidResponse,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    RemoteJob,
    ServerError,
    SubmissionOutcomeUnknown,
    VideoClient,
)

KEY = "tgp_v1_very_secret_key_0123456789"
JOB = json.dumps({"id": "job-1", "status": "queued"}).encode()


def client_for(url, **kwargs):
    delays = []
    kwargs.setdefault("max_retries", 2)
    return VideoClient(api_key=KEY, base_url=url, sleep=delays.append, **kwargs), delays


def png_base64(size=32):
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = size, size, "rgb24"
    data = b"".join(bytes(p) for p in encoder.encode(av.VideoFrame(size, size, "rgb24")))
    return base64.b64encode(data).decode()


def download_and_probe(client, url, tmp_path, name="clip.bin"):
    path = tmp_path / name
    with client.download(url) as stream, open(path, "wb") as out:
        chunks = [out.write(chunk) for chunk in stream.iter_bytes(4096)]
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return (container.format.name, video.codec_context.width, video.codec_context.height,
                container.duration / 1e6, len(chunks))


# --- against the sandbox ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["sdk", "docs"])
def test_t2v_create_retrieve_download(videogen_sandbox, shape, tmp_path):
    videogen_sandbox.configure(shape=shape)
    client, _ = client_for(videogen_sandbox.url)
    created = client.create({"model": "google/veo-2.0", "prompt": "a red fox in snow",
                             "width": 720, "height": 1280, "seconds": "2", "fps": 12})
    assert created.status == "queued" and created.id
    job = client.retrieve(created.id)
    assert job.status == "completed" and isinstance(job.cost, Decimal)
    assert job.video_url and job.error is None and job.created_at is not None
    fmt, width, height, duration, chunks = download_and_probe(client, job.video_url, tmp_path)
    assert "mp4" in fmt and (width, height) == (720, 1280) and abs(duration - 2) < 0.2
    assert chunks > 1


def test_i2v_with_a_base64_first_frame(videogen_sandbox, tmp_path):
    client, _ = client_for(videogen_sandbox.url)
    created = client.create({"model": "minimax/video-01-director", "prompt": "the image moves",
                             "width": 1366, "height": 768, "seconds": "1", "fps": 8,
                             "media": {"frame_images": [{"input_image": png_base64(),
                                                         "frame": "first"}]}})
    job = client.retrieve(created.id)
    _, width, height, _, _ = download_and_probe(client, job.video_url, tmp_path)
    assert (width, height) == (1366, 768)


def test_wan27_resolution_ratio_and_media(videogen_sandbox, tmp_path):
    client, _ = client_for(videogen_sandbox.url)
    created = client.create({"model": "Wan-AI/wan2.7-r2v", "prompt": "the same cat, dancing",
                             "resolution": "720P", "ratio": "9:16", "seconds": "2",
                             "output_format": "WEBM",
                             "media": {"reference_images": ["https://example.com/cat.png"]}})
    job = client.retrieve(created.id)
    fmt, width, height, _, _ = download_and_probe(client, job.video_url, tmp_path)
    assert "webm" in fmt and (width, height) == (720, 1280)


def test_lost_create_response_is_not_retried_and_creates_one_job(videogen_sandbox):
    videogen_sandbox.faults.add("lost_response", route="create", count=1)
    client, delays = client_for(videogen_sandbox.url)
    body = {"model": "google/veo-2.0", "prompt": "only once please"}
    with pytest.raises(SubmissionOutcomeUnknown) as error:
        client.create(body)
    assert error.value.request_body == body and delays == []
    assert videogen_sandbox.stats()["jobs_created"] == 1
    assert videogen_sandbox.creates_for(body) == 1


def test_rate_limited_create_is_retried_after_retry_after(videogen_sandbox):
    videogen_sandbox.faults.add("rate_limit", route="create", count=1, retry_after=2)
    client, delays = client_for(videogen_sandbox.url)
    assert client.create({"model": "google/veo-2.0", "prompt": "patience"}).status == "queued"
    assert delays[0] == pytest.approx(2, abs=0.01)
    assert videogen_sandbox.stats()["jobs_created"] == 1


def test_validation_error_names_the_param(videogen_sandbox):
    client, _ = client_for(videogen_sandbox.url)
    with pytest.raises(BadRequest) as error:
        client.create({"model": "minimax/hailuo-02", "prompt": "a cat", "width": 640,
                       "height": 480})
    assert error.value.param == "width" and "1366x768" in error.value.message


def test_base_url_with_v2_suffix(videogen_sandbox):
    client, _ = client_for(videogen_sandbox.v2_url)
    assert client.videos_url == videogen_sandbox.url + "/v2/videos"
    created = client.create({"model": "google/veo-2.0", "prompt": "base ends in v2"})
    assert client.retrieve(created.id).id == created.id


# --- exact answers from the scripted server -------------------------------------------------


@pytest.mark.parametrize(("status", "error_class"), [
    (400, BadRequest), (401, AuthenticationError), (402, PaymentRequired),
    (403, PermissionDenied), (404, NotFound), (409, Conflict), (422, BadRequest),
    (429, RateLimited), (500, ServerError), (502, ServerError), (503, ServerError),
    (504, ServerError),
])
def test_each_status_maps_to_its_error(scripted, status, error_class):
    body = json.dumps({"error": {"message": "nope", "type": "invalid_request_error",
                                 "param": "width", "code": "bad"}}).encode()
    scripted.script = [(status, {}, body)] * 3
    client, _ = client_for(scripted.url)
    with pytest.raises(error_class) as error:
        client.retrieve("job-1")
    assert error.value.status_code == status and error.value.message == "nope"
    assert error.value.param == "width" and error.value.code == "bad"


@pytest.mark.parametrize(("body", "message"), [
    (b'{"message": "top level"}', "top level"), (b"<html>Bad Gateway</html>",
                                                 "<html>Bad Gateway</html>"),
    (b"", "HTTP 400"), (b'{"error": "just a string"}', "just a string"),
])
def test_error_bodies_are_parsed_tolerantly(scripted, body, message):
    scripted.script = [(400, {}, body)]
    client, _ = client_for(scripted.url)
    with pytest.raises(BadRequest, match=message):
        client.retrieve("job-1")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"status": "queued"}'])
def test_success_with_an_unusable_body_is_invalid_response(scripted, body):
    scripted.script = [(200, {}, body)]
    client, _ = client_for(scripted.url)
    with pytest.raises(InvalidResponse):
        client.retrieve("job-1")


def test_get_retries_503_429_and_drops_then_succeeds(scripted):
    scripted.script = [(503, {}, b""), (429, {"retry-after-ms": "1500"}, b""), "drop",
                       (200, {}, JOB)]
    client, delays = client_for(scripted.url, max_retries=3)
    assert client.retrieve("job-1").id == "job-1"
    assert len(scripted.requests) == 4 and delays[1] == pytest.approx(1.5)


def test_retry_after_http_date_and_too_long_waits(scripted):
    import time
    from email.utils import formatdate

    scripted.script = [(429, {"retry-after": formatdate(time.time() + 3, usegmt=True)}, b""),
                       (200, {}, JOB)]
    client, delays = client_for(scripted.url)
    client.retrieve("job-1")
    assert 1 < delays[0] <= 3.5
    scripted.script = [(429, {"retry-after": "120"}, b"")]
    with pytest.raises(RateLimited) as error:
        client.retrieve("job-1")
    assert error.value.retry_after == 120


def test_should_retry_false_and_max_retries(scripted):
    scripted.script = [(503, {"x-should-retry": "false"}, b"")]
    client, delays = client_for(scripted.url)
    with pytest.raises(ServerError):
        client.retrieve("job-1")
    assert delays == []
    scripted.script = [(500, {}, b"")] * 5
    scripted.requests.clear()
    with pytest.raises(ServerError):
        client.retrieve("job-1")
    assert len(scripted.requests) == 3  # one try + max_retries


@pytest.mark.parametrize("answer", [(500, {}, b""), (502, {}, b""), (504, {}, b"")])
def test_create_is_not_retried_after_server_errors(scripted, answer):
    scripted.script = [answer, (200, {}, JOB)]
    client, _ = client_for(scripted.url)
    with pytest.raises(ServerError):
        client.create({"model": "google/veo-2.0", "prompt": "once"})
    assert len(scripted.requests) == 1


def test_create_timeout_after_sending_is_outcome_unknown(scripted):
    scripted.script = [("stall", 1.5)]
    client, delays = client_for(scripted.url, timeout=0.5)
    with pytest.raises(SubmissionOutcomeUnknown) as error:
        client.create({"model": "google/veo-2.0", "prompt": "slow"})
    assert error.value.request_body["prompt"] == "slow"
    assert len(scripted.requests) == 1 and delays == []


def test_create_retries_503_and_connect_errors(scripted):
    scripted.script = [(503, {}, b""), (200, {}, JOB)]
    client, _ = client_for(scripted.url)
    assert client.create({"model": "google/veo-2.0", "prompt": "again"}).id == "job-1"
    closed, delays = client_for("http://127.0.0.1:9", max_retries=2)  # nothing listens
    with pytest.raises(APIConnectionError) as error:
        closed.create({"model": "google/veo-2.0", "prompt": "nobody home"})
    assert error.value.request_sent is False and len(delays) == 2


def test_the_key_never_leaks(scripted, caplog):
    echo = json.dumps({"error": {"message": f"Invalid API key provided: {KEY}"}}).encode()
    scripted.script = [(500, {}, echo), (401, {}, echo)]
    client, _ = client_for(scripted.url)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as error:
        client.retrieve("job-1")
    text = str(error.value) + repr(error.value) + repr(client) + caplog.text
    assert KEY not in text and "[redacted]" in str(error.value)
    assert scripted.requests[0][2]["authorization"] == f"Bearer {KEY}"
    assert scripted.requests[0][2]["user-agent"].startswith("videogen/")


def test_authorization_only_for_the_providers_origin(scripted):
    from tests.client.conftest import Scripted

    other = Scripted()
    try:
        other.script = [(200, {"content-type": "video/mp4"}, b"\0" * 10)]
        client, _ = client_for(scripted.url)
        with client.download(other.url + "/file.mp4") as stream:
            assert b"".join(stream.iter_bytes()) == b"\0" * 10
        assert "authorization" not in other.requests[0][2]
    finally:
        other.server.shutdown()
        other.server.server_close()


def test_truncated_and_expired_downloads(videogen_sandbox):
    client, _ = client_for(videogen_sandbox.url)
    job = client.retrieve(client.create({"model": "google/veo-2.0", "prompt": "cut"}).id)
    videogen_sandbox.faults.add("truncate", count=1, bytes=100)
    with pytest.raises(APIConnectionError), client.download(job.video_url) as stream:
        b"".join(stream.iter_bytes())
    videogen_sandbox.faults.add("expire", count=1)
    with pytest.raises(PermissionDenied), client.download(job.video_url):
        pass


def test_cancel_is_not_supported():
    client, _ = client_for("https://api.together.ai")
    with pytest.raises(CancelNotSupported, match="no cancel endpoint"):
        client.cancel("job-1")


def test_docs_example_payload_parses():
    docs = {"id": "019a0068-794a-7213-90f6-cc4eb62e3da7", "model": "minimax/video-01-director",
            "status": "completed", "info": {"user_id": "66f0", "errors": None},
            "inputs": {"height": 768, "width": 1366, "prompt": "x", "seconds": None},
            "outputs": {"cost": 0.28, "video_url": "https://api.together.ai/shrt/Dwla"},
            "created_at": "2025-10-20T06:57:18.154804Z", "claimed_at": "0001-01-01T00:00:00Z",
            "done_at": "2025-10-20T07:00:12.234472Z", "brand_new_field": 1}
    job = RemoteJob.from_payload(docs)
    assert (job.width, job.height, job.cost) == (1366, 768, Decimal("0.28"))
    assert job.started_at is None and job.completed_at.minute == 0
    assert job.raw["brand_new_field"] == 1
    sdk = {"id": "j", "object": "video", "model": "m", "status": "failed", "created_at": 1.76e9,
           "completed_at": None, "seconds": "5", "size": "1280x720",
           "error": {"message": "NSFW", "code": "content_policy"}, "outputs": None}
    job = RemoteJob.from_payload(sdk)
    assert (job.width, job.height, job.seconds) == (1280, 720, "5")
    assert job.error.code == "content_policy" and job.created_at.year == 2025


def test_async_client(videogen_sandbox, scripted):
    async def scenario():
        delays = []

        async def sleep(seconds):
            delays.append(seconds)

        async with AsyncVideoClient(api_key=KEY, base_url=videogen_sandbox.url,
                                    sleep=sleep) as client:
            created = await client.create({"model": "google/veo-2.0", "prompt": "async fox"})
            job = await client.retrieve(created.id)
            async with client.download(job.video_url) as stream:
                size = sum([len(c) async for c in stream.aiter_bytes(4096)])
        scripted.script = [(503, {"retry-after": "1"}, b""), (200, {}, JOB)]
        async with AsyncVideoClient(api_key=KEY, base_url=scripted.url, sleep=sleep) as other:
            again = await other.retrieve("job-1")
        return job, size, again, delays

    job, size, again, delays = asyncio.run(scenario())
    assert job.status == "completed" and size > 1000 and again.id == "job-1"
    assert delays == [1.0]
