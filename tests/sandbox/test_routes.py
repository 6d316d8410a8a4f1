"""Routes, auth, both response shapes and the job's life over real HTTP."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from videogen.client.schemas import RemoteJob
from videogen.sandbox import SandboxServer

from .helpers import TINY, create, finished

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_create_returns_a_queued_job_with_a_together_like_id(api, sb):
    sb.configure(time_scale=1.0)
    job = create(api)
    assert UUID7.match(job["id"])
    assert job["status"] == "queued"
    assert job["object"] == "video" and job["model"] == "sandbox/tiny"


@pytest.mark.parametrize("create_path, get_prefix", [
    ("/v2/videos", "/v2/videos/"),
    ("/videos", "/videos/"),
])
def test_v2_paths_and_v2_style_base(api, create_path, get_prefix):
    job_id = api.post(create_path, json=TINY).json()["id"]
    response = api.get(get_prefix + job_id)
    assert response.status_code == 200
    assert response.json()["id"] == job_id


def test_client_with_v2_base_url_calls_videos(sb):
    with httpx.Client(base_url=sb.v2_url, headers={"Authorization": "Bearer k"}) as client:
        job_id = client.post("/videos", json=TINY).json()["id"]
        assert client.get(f"/videos/{job_id}").json()["id"] == job_id


def test_older_status_route(api):
    job_id = create(api)["id"]
    assert api.get("/v2/videos/status", params={"id": job_id}).json()["id"] == job_id
    missing = api.get("/v2/videos/status")
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "id"


def test_unknown_job_is_a_404_in_together_format(api):
    response = api.get("/v2/videos/019a0068-794a-7213-90f6-cc4eb62e3da7")
    assert response.status_code == 404
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "not_found"


def test_unknown_path_and_wrong_method(api):
    assert api.get("/v1/nothing").status_code == 404
    assert api.get("/v2/videos").status_code == 405
    assert api.delete("/v2/videos/abc").status_code == 405


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "k"}])
def test_missing_or_malformed_key_is_401(sb, headers):
    response = httpx.post(f"{sb.url}/v2/videos", json=TINY, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": {
        "message": "Invalid API key provided. You can find your API key at "
                   "https://api.together.xyz/settings/api-keys.",
        "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}


def test_configured_key_is_the_only_one_accepted(sb):
    sb.configure(api_key="secret-1")
    url = f"{sb.url}/v2/videos"
    assert httpx.post(url, json=TINY, headers={"Authorization": "Bearer other"}).status_code == 401
    assert httpx.post(url, json=TINY,
                      headers={"Authorization": "Bearer secret-1"}).status_code == 200
    assert sb.api_key == "secret-1"


def test_sdk_shape(api, sb):
    job = finished(api, sb, create(api)["id"])
    assert set(job) == {"id", "object", "model", "status", "created_at", "completed_at",
                        "seconds", "size", "error", "outputs"}
    assert job["status"] == "completed"
    assert isinstance(job["created_at"], float) and job["completed_at"] >= job["created_at"]
    assert job["seconds"] == "1" and job["size"] == "64x48" and job["error"] is None
    assert job["outputs"]["cost"] == 0.25
    assert re.fullmatch(rf"{sb.url}/shrt/[A-Za-z]{{16}}", job["outputs"]["video_url"])


def test_docs_shape(api, sb):
    sb.configure(shape="docs", time_scale=1.0)
    queued = create(api, model="minimax/video-01-director", width=1366, height=768,
                    seconds=None, fps=None)
    assert queued["claimed_at"] == "0001-01-01T00:00:00Z"
    assert queued["inputs"]["fps"] is None and queued["inputs"]["width"] == 1366
    assert queued["inputs"]["metadata"] == {}
    job = finished(api, sb, queued["id"])
    assert set(job) >= {"id", "model", "status", "info", "inputs", "outputs", "created_at",
                        "claimed_at", "done_at"}
    assert job["info"]["errors"] is None and job["info"]["user_id"]
    assert job["outputs"]["cost"] == 0.28
    assert job["created_at"].endswith("Z") and job["done_at"] >= job["created_at"]
    assert job["claimed_at"] != "0001-01-01T00:00:00Z"


@pytest.mark.parametrize("shape", ["sdk", "docs"])
def test_both_shapes_parse_with_the_client_schema(api, sb, shape):
    sb.configure(shape=shape)
    remote = RemoteJob.from_payload(finished(api, sb, create(api)["id"]))
    assert remote.status == "completed" and remote.video_url and remote.cost is not None
    assert (remote.width, remote.height) == (64, 48)


def test_status_progresses_with_time_scale(api, sb):
    sb.configure(time_scale=0.005)  # unknown model: ~120 s typical → well under a second
    job_id = create(api)["id"]
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = api.get(f"/v2/videos/{job_id}").json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == "completed":
            break
        time.sleep(0.01)
    assert seen == ["queued", "in_progress", "completed"]


def test_time_scale_zero_completes_at_once_but_create_still_says_queued(api):
    job = create(api)
    assert job["status"] == "queued"
    assert api.get(f"/v2/videos/{job['id']}").json()["status"] == "completed"


def test_advance_to_in_progress_then_completed(api, sb):
    sb.configure(time_scale=1.0)
    job_id = create(api)["id"]
    sb.advance(job_id, to="in_progress")
    assert api.get(f"/v2/videos/{job_id}").json()["status"] == "in_progress"
    assert sb.advance() == 1
    assert api.get(f"/v2/videos/{job_id}").json()["status"] == "completed"


def test_duration_follows_the_catalog(sb: SandboxServer):
    sb.configure(time_scale=1.0)
    with httpx.Client(base_url=sb.url, headers={"Authorization": "Bearer k"}) as client:
        job_id = client.post("/v2/videos", json={
            "model": "minimax/hailuo-02", "prompt": "a boat"}).json()["id"]
    job = sb.job(job_id)
    # hailuo-02 is typically 240 s: queued 5-15 %, running 75-125 % of that.
    assert 0.75 * 240 <= job.done_after - job.started_after <= 1.25 * 240
    assert job.render.seconds == 10 and (job.render.width, job.render.height) == (1366, 768)
    assert job.render.fps == 25


def test_wan_resolution_and_ratio_give_the_size(api, sb):
    job = create(api, model="Wan-AI/wan2.7-t2v", width=None, height=None, fps=None,
                 seconds="2", resolution="720P", ratio="16:9")
    assert job["size"] == "1280x720"
    assert sb.job(job["id"]).render.fps == 30
    portrait = create(api, model="Wan-AI/wan2.7-t2v", width=None, height=None, seconds="2",
                      resolution="1080P", ratio="9:16")
    assert portrait["size"] == "1080x1920"


def test_keep_alive_connection_is_reused(api, sb):
    for _ in range(5):
        create(api)
    assert sb.stats()["connections_total"] == 1
