"""Every injectable fault, how rules are counted, and the control API."""

from __future__ import annotations

import time

import httpx
import pytest

from videogen.sandbox import Fault, FaultError, SandboxServer, fingerprint
from videogen.sandbox.remote import RemoteSandbox

from .helpers import TINY, create, finished


def test_latency(api, sb):
    sb.faults.add("latency", ms=150)
    started = time.monotonic()
    create(api)
    assert time.monotonic() - started >= 0.15
    assert sb.stats()["faults"] == {"latency": 1}


def test_rate_limit_sends_retry_after(api, sb):
    sb.faults.add("rate_limit", retry_after=1.5, count=1)
    response = api.post("/v2/videos", json=TINY)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert sb.stats()["jobs_created"] == 0
    assert api.post("/v2/videos", json=TINY).status_code == 200  # count=1: used up


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(api, sb, status):
    sb.faults.add("error", status=status, count=1)
    response = api.post("/v2/videos", json=TINY)
    assert response.status_code == status
    if status == 502:
        assert response.headers["content-type"] == "text/html"  # a proxy's page, not JSON
    else:
        assert response.json()["error"]["type"] == "server_error"
    assert sb.stats()["faults"] == {"error": 1}
    assert sb.stats()["jobs_created"] == 0


def test_drop_closes_without_an_answer_and_does_nothing(api, sb):
    sb.faults.add("drop", route="create", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v2/videos", json=TINY)
    assert sb.stats()["jobs_created"] == 0
    assert sb.stats()["faults"] == {"drop": 1}
    assert sb.stats()["responses"] == {"dropped": 1}


def test_lost_response_leaves_the_job_created_once(api, sb):
    sb.faults.add("lost_response", route="create", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v2/videos", json=TINY)
    stats = sb.stats()
    assert stats["jobs_created"] == 1
    assert stats["creates_by_fingerprint"] == {fingerprint(TINY): 1}
    assert sb.creates_for(TINY) == 1 and stats["duplicate_creates"] == 0
    assert stats["faults"] == {"lost_response": 1}
    (job,) = sb.jobs()
    assert api.get(f"/v2/videos/{job.id}").status_code == 200


def test_next_n_creates_lose_their_response(api, sb):
    sb.faults.add_spec("lost_response route=create count=2")
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            api.post("/v2/videos", json=TINY)
    create(api)
    assert sb.creates_for(TINY) == 3
    assert sb.stats()["duplicate_creates"] == 2
    assert sb.faults.rules == []


def test_malformed_body_after_the_job_was_created(api, sb):
    sb.faults.add("malformed", route="create", count=1)
    response = api.post("/v2/videos", json=TINY)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert sb.stats()["jobs_created"] == 1


def test_malformed_poll(api, sb):
    job_id = create(api)["id"]
    sb.faults.add("malformed", route="retrieve", count=1)
    with pytest.raises(ValueError):
        api.get(f"/v2/videos/{job_id}").json()
    assert api.get(f"/v2/videos/{job_id}").json()["id"] == job_id


def test_failed_job_sdk_shape(api, sb):
    sb.faults.add("fail_job", message="content policy", count=1)
    job = finished(api, sb, create(api)["id"])
    assert job["status"] == "failed" and job["outputs"] is None
    assert job["error"] == {"message": "content policy", "code": "generation_failed"}
    assert job["completed_at"] is not None
    assert sb.stats()["faults"] == {"fail_job": 1}


def test_failed_job_docs_shape(api, sb):
    sb.configure(shape="docs")
    sb.faults.add("fail_job")
    job = finished(api, sb, create(api)["id"])
    assert job["status"] == "failed" and job["outputs"] is None
    assert job["info"]["errors"][0]["code"] == "generation_failed"


def test_truncated_download(api, sb):
    url = finished(api, sb, create(api)["id"])["outputs"]["video_url"]
    full = len(httpx.get(url).content)
    sb.faults.add("truncate", bytes=100, count=1)
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", url) as response:
        assert int(response.headers["content-length"]) == full
        response.read()
    assert sb.stats()["faults"] == {"truncate": 1}
    assert len(httpx.get(url).content) == full  # used up


def test_corrupt_download(api, sb):
    url = finished(api, sb, create(api)["id"])["outputs"]["video_url"]
    full = httpx.get(url).content
    sb.faults.add("corrupt", count=1)
    damaged = httpx.get(url)
    assert damaged.status_code == 200 and damaged.content == bytes(len(full))
    assert sb.stats()["faults"] == {"corrupt": 1}
    assert httpx.get(url).content == full  # used up


def test_trickled_download(api, sb):
    """One byte every ``ms``: the right bytes, far too slowly (archive deadlines)."""
    url = finished(api, sb, create(api)["id"])["outputs"]["video_url"]
    full = httpx.get(url).content
    sb.faults.add_spec("trickle=100 count=1")
    started = time.monotonic()
    with httpx.stream("GET", url) as response:
        head = b""
        for chunk in response.iter_raw():
            head += chunk
            if len(head) >= 4:
                break
    assert head == full[:len(head)] and len(head) < 8
    assert time.monotonic() - started >= 0.3
    assert sb.stats()["faults"] == {"trickle": 1}
    assert httpx.get(url).content == full  # used up


def test_expired_url_fault(api, sb):
    url = finished(api, sb, create(api)["id"])["outputs"]["video_url"]
    sb.faults.add("expire", count=1)
    assert httpx.get(url).status_code == 403
    assert httpx.get(url).status_code == 200


def test_header_fault_applies_to_one_request(api, sb):
    response = api.post("/v2/videos", json=TINY, headers={"X-Sandbox-Fault": "503"})
    assert response.status_code == 503
    assert api.post("/v2/videos", json=TINY).status_code == 200
    started = time.monotonic()
    response = api.post("/v2/videos", json=TINY,
                        headers={"X-Sandbox-Fault": "latency=100, rate_limit=3"})
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert time.monotonic() - started >= 0.1
    assert sb.stats()["faults"] == {"error": 1, "latency": 1, "rate_limit": 1}


def test_header_lost_response(api, sb):
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v2/videos", json=TINY, headers={"X-Sandbox-Fault": "lost_response"})
    assert sb.creates_for(TINY) == 1


def test_bad_header_fault_is_a_400(api):
    response = api.post("/v2/videos", json=TINY, headers={"X-Sandbox-Fault": "explode"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_fault"


def test_rate_applies_to_a_share_of_requests_on_one_route(api, sb):
    job_id = create(api)["id"]
    sb.faults.add("error", status=503, route="retrieve", rate=0.3)
    codes = [api.get(f"/v2/videos/{job_id}").status_code for _ in range(200)]
    failures = codes.count(503)
    assert 35 <= failures <= 85
    assert sb.stats()["faults"]["error"] == failures
    assert create(api)["status"] == "queued"  # creates are untouched


def test_route_filter(api, sb):
    sb.faults.add("error", status=500, route="download")
    job = finished(api, sb, create(api)["id"])
    assert job["status"] == "completed"
    assert httpx.get(job["outputs"]["video_url"]).status_code == 500


def test_fault_rules_validate():
    with pytest.raises(FaultError):
        Fault(kind="meteor")
    with pytest.raises(FaultError):
        Fault(kind="error", route="everywhere")
    with pytest.raises(FaultError):
        Fault.parse("latency ms=fast")
    assert Fault.parse("503 route=retrieve rate=0.3") == Fault(
        kind="error", status=503, route="retrieve", rate=0.3)
    assert Fault.parse("truncate=10").bytes == 10


def test_faults_from_settings_come_back_after_reset():
    with SandboxServer(time_scale=0, faults=["latency=40", Fault("error", count=1)]) as sb, \
            httpx.Client(base_url=sb.url, headers={"Authorization": "Bearer k"}) as client:
        assert client.post("/v2/videos", json=TINY).status_code == 503
        assert client.post("/v2/videos", json=TINY).status_code == 200
        sb.reset()
        assert client.post("/v2/videos", json=TINY).status_code == 503
        assert sb.stats()["faults"] == {"latency": 1, "error": 1}


def test_stats_count_requests_per_route(api, sb):
    job = finished(api, sb, create(api)["id"])
    httpx.get(job["outputs"]["video_url"])
    api.get("/nowhere")
    requests = sb.stats()["requests"]
    assert requests == {"create": 1, "retrieve": 1, "download": 1, "not_found": 1}
    assert sb.stats()["bytes_sent"] > 0


def test_control_api_from_another_process(api, sb):
    remote = RemoteSandbox(sb.url)
    rules = remote.add_fault("lost_response route=create count=1")
    assert rules[0]["kind"] == "lost_response" and rules[0]["count"] == 1
    remote.add_fault(kind="error", status=503, route="retrieve", rate=0.3)
    assert len(remote.faults()) == 2
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v2/videos", json=TINY)
    (job,) = remote.jobs()
    assert job["fingerprint"] == fingerprint(TINY)
    remote.clear_faults()
    assert remote.faults() == []
    remote.configure(time_scale=1.0, shape="docs")
    job_id = create(api)["id"]
    assert api.get(f"/v2/videos/{job_id}").json()["status"] == "queued"
    assert remote.advance(job_id) == 1
    assert api.get(f"/v2/videos/{job_id}").json()["status"] == "completed"
    stats = remote.stats()
    assert stats["jobs_created"] == 2 and stats["requests"]["control"] >= 7
    remote.reset()
    assert remote.jobs() == [] and remote.stats()["jobs_created"] == 0
    remote.close()


def test_control_api_errors(sb):
    url = f"{sb.url}/_sandbox"
    assert httpx.post(f"{url}/faults", json={"kind": "meteor"}).status_code == 400
    assert httpx.post(f"{url}/config", json={"shape": "xml"}).status_code == 400
    assert httpx.post(f"{url}/config", json={"colour": 1}).status_code == 400
    assert httpx.post(f"{url}/advance", json={"job_id": "nope"}).status_code == 400
    assert httpx.get(f"{url}/nothing").status_code == 404
    assert httpx.post(f"{url}/faults", content=b"{",
                      headers={"content-type": "application/json"}).status_code == 400
    response = httpx.post(f"{url}/faults", json={"rules": ["drop count=1"], "replace": True})
    assert [r["kind"] for r in response.json()["rules"]] == ["drop"]
