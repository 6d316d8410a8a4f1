"""Both documented job shapes parse into one RemoteJob; the request body goes out as the API
wants it."""

from decimal import Decimal

from videogen.client import CreateVideoRequest, RemoteJob


def test_the_docs_example_payload_parses():
    docs = {"id": "019a0068-794a-7213-90f6-cc4eb62e3da7", "model": "minimax/video-01-director",
            "status": "completed", "info": {"user_id": "66f0", "errors": None},
            "inputs": {"height": 768, "width": 1366, "prompt": "x", "seconds": None},
            "outputs": {"cost": 0.28, "video_url": "https://api.together.ai/shrt/Dwla"},
            "created_at": "2025-10-20T06:57:18.154804Z", "claimed_at": "0001-01-01T00:00:00Z",
            "done_at": "2025-10-20T07:00:12.234472Z", "brand_new_field": 1}
    job = RemoteJob.from_payload(docs)
    assert (job.width, job.height, job.cost) == (1366, 768, Decimal("0.28"))
    assert job.started_at is None and job.completed_at.minute == 0
    assert job.video_url.endswith("/shrt/Dwla") and job.raw["brand_new_field"] == 1


def test_the_sdk_payload_parses():
    sdk = {"id": "j", "object": "video", "model": "m", "status": "failed", "created_at": 1.76e9,
           "completed_at": None, "seconds": "5", "size": "1280x720",
           "error": {"message": "NSFW", "code": "content_policy"}, "outputs": None}
    job = RemoteJob.from_payload(sdk)
    assert (job.width, job.height, job.seconds) == (1280, 720, "5")
    assert job.error.code == "content_policy" and job.created_at.year == 2025
    assert job.is_terminal and job.video_url is None


def test_the_wire_body_has_no_nulls_and_seconds_as_a_string():
    request = CreateVideoRequest(model="m", prompt="p", seconds=5,
                                 reference_images=["https://example.com/a.png"])
    assert request.to_wire() == {"model": "m", "prompt": "p", "seconds": "5",
                                 "media": {"reference_images": ["https://example.com/a.png"]}}
