"""The client against the sandbox provider: real routes, job shapes, videos and faults."""

import asyncio
import base64
from decimal import Decimal

import av
import pytest

from tests.client.scripted import KEY, client_for
from videogen.client import (
    APIConnectionError,
    AsyncVideoClient,
    AuthenticationError,
    BadRequest,
    CreateVideoRequest,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    SubmissionOutcomeUnknown,
)


def png_base64(size: int = 32) -> str:
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = size, size, "rgb24"
    frame = av.VideoFrame(size, size, "rgb24")
    return base64.b64encode(b"".join(bytes(p) for p in encoder.encode(frame))).decode()


def download_and_probe(client, url, tmp_path):
    """Stream the video to a file in 4 KiB chunks; return (format, width, height, seconds,
    chunk count) as PyAV reads it."""
    path = tmp_path / "clip.bin"
    with client.download(url) as stream, open(path, "wb") as out:
        assert stream.status_code == 200 and int(stream.headers["content-length"]) > 0
        chunks = [out.write(chunk) for chunk in stream.iter_bytes(4096)]
    assert max(chunks) <= 4096
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return (container.format.name, video.codec_context.width, video.codec_context.height,
                container.duration / 1e6, len(chunks))


@pytest.fixture(params=["sdk", "docs"])
def shaped(request, videogen_sandbox):
    """The sandbox answering in each documented job shape."""
    videogen_sandbox.configure(shape=request.param)
    return videogen_sandbox


def test_t2v_create_retrieve_download(shaped, tmp_path):
    client, _ = client_for(shaped.url)
    created = client.create(CreateVideoRequest(
        model="google/veo-2.0", prompt="a red fox in snow", width=720, height=1280,
        seconds="2", fps=12))
    assert created.status == "queued" and created.id
    job = client.retrieve(created.id)
    assert job.status == "completed" and job.is_terminal and job.model == "google/veo-2.0"
    assert isinstance(job.cost, Decimal) and job.cost > 0
    assert job.error is None and job.created_at is not None and job.completed_at is not None
    assert (job.width, job.height, job.seconds) == (720, 1280, "2")
    fmt, width, height, duration, chunks = download_and_probe(client, job.video_url, tmp_path)
    assert "mp4" in fmt and (width, height) == (720, 1280) and abs(duration - 2) < 0.2
    assert chunks > 1


def test_i2v_with_a_base64_first_frame(shaped, tmp_path):
    client, _ = client_for(shaped.url)
    created = client.create({"model": "minimax/video-01-director", "prompt": "the image moves",
                             "width": 1366, "height": 768, "seconds": "1", "fps": 8,
                             "media": {"frame_images": [{"input_image": png_base64(),
                                                         "frame": "first"}]}})
    job = client.retrieve(created.id)
    assert job.status == "completed"
    _, width, height, _, _ = download_and_probe(client, job.video_url, tmp_path)
    assert (width, height) == (1366, 768)


def test_legacy_top_level_frame_images_are_sent_in_media(videogen_sandbox):
    client, _ = client_for(videogen_sandbox.url)
    body = {"model": "minimax/video-01-director", "prompt": "old style", "seconds": "1",
            "frame_images": [{"input_image": png_base64(), "frame": 0}]}
    client.create(body)
    wire = CreateVideoRequest.model_validate(body).to_wire()
    assert "frame_images" not in wire and videogen_sandbox.creates_for(wire) == 1


def test_wan27_resolution_ratio_and_media(videogen_sandbox, tmp_path):
    client, _ = client_for(videogen_sandbox.url)
    created = client.create({"model": "Wan-AI/wan2.7-r2v", "prompt": "the same cat, dancing",
                             "resolution": "720P", "ratio": "9:16", "seconds": "2",
                             "output_format": "WEBM",
                             "media": {"reference_images": ["https://example.com/cat.png"]}})
    job = client.retrieve(created.id)
    fmt, width, height, _, _ = download_and_probe(client, job.video_url, tmp_path)
    assert "webm" in fmt and (width, height) == (720, 1280)


def test_a_failed_job_carries_its_error(shaped):
    shaped.faults.add("fail_job", route="create", count=1, message="content policy")
    client, _ = client_for(shaped.url)
    job = client.retrieve(client.create({"model": "google/veo-2.0", "prompt": "x y"}).id)
    assert job.status == "failed" and job.video_url is None
    assert job.error.code == "generation_failed" and "content policy" in job.error.message


def test_statuses_progress(videogen_sandbox):
    videogen_sandbox.configure(time_scale=100)
    client, _ = client_for(videogen_sandbox.url)
    job = client.create({"model": "google/veo-2.0", "prompt": "slowly"})
    videogen_sandbox.advance(job.id, to="in_progress")
    assert client.retrieve(job.id).status == "in_progress"
    videogen_sandbox.advance(job.id)
    assert client.retrieve(job.id).status == "completed"


def test_lost_create_response_is_not_retried_and_creates_one_job(videogen_sandbox):
    videogen_sandbox.faults.add("lost_response", route="create", count=1)
    client, delays = client_for(videogen_sandbox.url)
    body = {"model": "google/veo-2.0", "prompt": "only once please"}
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        client.create(body)
    assert caught.value.request_body == body and delays == []
    assert videogen_sandbox.stats()["jobs_created"] == 1
    assert videogen_sandbox.creates_for(body) == 1
    assert videogen_sandbox.stats()["duplicate_creates"] == 0


def test_malformed_create_answer_is_invalid_response_without_a_retry(videogen_sandbox):
    videogen_sandbox.faults.add("malformed", route="create", count=1)
    client, delays = client_for(videogen_sandbox.url)
    with pytest.raises(InvalidResponse):
        client.create({"model": "google/veo-2.0", "prompt": "half an answer"})
    assert delays == [] and videogen_sandbox.stats()["jobs_created"] == 1


def test_a_dropped_create_is_not_retried_either(videogen_sandbox):
    # "drop" did nothing at the sandbox, but a client cannot tell that from a lost answer.
    videogen_sandbox.faults.add("drop", route="create", count=1)
    client, delays = client_for(videogen_sandbox.url)
    with pytest.raises(SubmissionOutcomeUnknown):
        client.create({"model": "google/veo-2.0", "prompt": "dropped"})
    assert delays == [] and videogen_sandbox.stats()["requests"]["create"] == 1


@pytest.mark.parametrize(("kind", "options"), [("rate_limit", {"retry_after": 2}),
                                               ("error", {"status": 503})])
def test_a_refused_create_is_retried_once_and_makes_one_job(videogen_sandbox, kind, options):
    videogen_sandbox.faults.add(kind, route="create", count=1, **options)
    client, delays = client_for(videogen_sandbox.url)
    body = {"model": "google/veo-2.0", "prompt": "patience"}
    assert client.create(body).status == "queued"
    assert len(delays) == 1 and videogen_sandbox.creates_for(body) == 1
    if kind == "rate_limit":
        assert delays[0] == pytest.approx(2, abs=0.01)


def test_a_create_5xx_other_than_503_is_not_retried(videogen_sandbox):
    videogen_sandbox.faults.add("error", status=502, route="create", count=1)
    client, delays = client_for(videogen_sandbox.url)
    with pytest.raises(ServerError) as caught:
        client.create({"model": "google/veo-2.0", "prompt": "bad gateway"})
    assert caught.value.status_code == 502 and delays == []


def test_retrieve_survives_lost_answers_and_503s(videogen_sandbox):
    client, delays = client_for(videogen_sandbox.url, max_retries=3)
    job = client.create({"model": "google/veo-2.0", "prompt": "keep asking"})
    videogen_sandbox.faults.add("lost_response", route="retrieve", count=1)
    videogen_sandbox.faults.add("error", status=503, route="retrieve", count=1)
    videogen_sandbox.faults.add("drop", route="retrieve", count=1)
    assert client.retrieve(job.id).status == "completed" and len(delays) == 3


def test_rate_limited_retrieve_carries_the_wait_and_headers(videogen_sandbox):
    client, _ = client_for(videogen_sandbox.url, max_retries=0)
    job = client.create({"model": "google/veo-2.0", "prompt": "too often"})
    videogen_sandbox.faults.add("rate_limit", route="retrieve", count=1, retry_after=3)
    with pytest.raises(RateLimited) as caught:
        client.retrieve(job.id)
    assert caught.value.retry_after == 3 and "x-ratelimit-remaining" in caught.value.rate_limit


def test_provider_errors_name_the_param_and_code(videogen_sandbox):
    client, _ = client_for(videogen_sandbox.url)
    with pytest.raises(BadRequest) as caught:
        client.create({"model": "minimax/hailuo-02", "prompt": "a cat", "width": 640,
                       "height": 480})
    assert caught.value.param == "width" and "1366x768" in caught.value.message
    assert caught.value.code == "invalid_parameter" and caught.value.status_code == 400
    with pytest.raises(NotFound):
        client.retrieve("019a0068-0000-7000-8000-000000000000")


def test_a_wrong_key_is_an_authentication_error(videogen_sandbox):
    videogen_sandbox.configure(api_key="the-right-key")
    client, _ = client_for(videogen_sandbox.url)
    with pytest.raises(AuthenticationError) as caught:
        client.retrieve("anything")
    assert caught.value.code == "invalid_api_key" and KEY not in repr(caught.value)


def test_base_url_with_v2_suffix(videogen_sandbox):
    client, _ = client_for(videogen_sandbox.v2_url)
    assert client.videos_url == videogen_sandbox.url + "/v2/videos"
    created = client.create({"model": "google/veo-2.0", "prompt": "base ends in v2"})
    assert client.retrieve(created.id).id == created.id


def test_truncated_expired_and_flaky_downloads(videogen_sandbox):
    client, delays = client_for(videogen_sandbox.url)
    job = client.retrieve(client.create({"model": "google/veo-2.0", "prompt": "cut"}).id)
    videogen_sandbox.faults.add("truncate", count=1, bytes=100)
    with pytest.raises(APIConnectionError), client.download(job.video_url) as stream:
        b"".join(stream.iter_bytes())
    videogen_sandbox.faults.add("expire", count=1)
    with pytest.raises(PermissionDenied) as caught, client.download(job.video_url):
        pass
    assert caught.value.code == "url_expired"
    videogen_sandbox.faults.add("error", status=503, route="download", count=1)
    with client.download(job.video_url) as stream:
        assert len(b"".join(stream.iter_bytes())) > 1000
    assert len(delays) == 1


def test_async_client_main_paths(videogen_sandbox):
    delays = []

    async def sleep(seconds):
        delays.append(seconds)

    async def scenario():
        async with AsyncVideoClient(api_key=KEY, base_url=videogen_sandbox.url,
                                    sleep=sleep) as client:
            created = await client.create({"model": "google/veo-2.0", "prompt": "async fox",
                                           "seconds": "1"})
            videogen_sandbox.faults.add("error", status=503, route="retrieve", count=1)
            job = await client.retrieve(created.id)
            async with client.download(job.video_url) as stream:
                size = sum([len(chunk) async for chunk in stream.aiter_bytes(4096)])
            videogen_sandbox.faults.add("lost_response", route="create", count=1)
            with pytest.raises(SubmissionOutcomeUnknown):
                await client.create({"model": "google/veo-2.0", "prompt": "lost"})
        return job, size

    job, size = asyncio.run(scenario())
    assert job.status == "completed" and size > 1000 and len(delays) == 1
    assert videogen_sandbox.stats()["jobs_created"] == 2


def test_iter_chunks_reads_large_bodies_in_large_pieces_on_that_connection_only(videogen_sandbox):
    """A large download reads up to LARGE_READ_BYTES at a time (half the CPU of httpcore's
    64 KiB reads, bench P3); the connection reads as before once the body is done."""
    from videogen.client.large_reads import LARGE_READ_BYTES

    videogen_sandbox.configure(pad_to_bytes=16 * 1024 * 1024)
    client, _ = client_for(videogen_sandbox.url)
    job = client.retrieve(client.create({"model": "google/veo-2.0", "prompt": "big"}).id)
    with client.download(job.video_url) as stream:
        network = stream.response.extensions["network_stream"]
        sizes = [len(chunk) for chunk in stream.iter_chunks()]
        assert "read" not in vars(network)  # restored: a reused connection reads as before
    assert sum(sizes) == 16 * 1024 * 1024
    assert 64 * 1024 < max(sizes) <= LARGE_READ_BYTES
    assert client.retrieve(job.id).id == job.id  # the connection still serves small answers
