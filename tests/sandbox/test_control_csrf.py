"""Issue 18 item 13: the control API is for programs on this machine, not for whatever page a
browser has open. A cross-site request (a foreign Origin, or a body that is not JSON, which a
page can send without a CORS preflight) changes nothing."""

from __future__ import annotations

import httpx
import pytest

from videogen.sandbox import SandboxServer
from videogen.sandbox.remote import RemoteSandbox


def post(sb: SandboxServer, name: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{sb.url}/_sandbox/{name}", content=content, headers=headers)


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
def test_a_foreign_origin_changes_nothing(sb: SandboxServer, origin: str) -> None:
    scale = sb.config_dict()["time_scale"]
    response = post(sb, "config", b'{"time_scale": 5}', origin=origin,
                    **{"content-type": "application/json"})
    assert response.status_code == 403 and "Origin" in response.text
    assert post(sb, "faults", b'{"spec": "500"}', origin=origin,
                **{"content-type": "application/json"}).status_code == 403
    assert sb.config_dict()["time_scale"] == scale and not sb.faults.rules


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None])
def test_a_body_that_is_not_declared_json_changes_nothing(sb: SandboxServer,
                                                          content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = post(sb, "faults", b'{"spec": "500"}', **headers)
    assert response.status_code == 415 and "application/json" in response.text
    assert not sb.faults.rules


def test_the_remote_client_and_same_origin_pages_still_work(sb: SandboxServer) -> None:
    remote = RemoteSandbox(sb.url)
    try:
        assert remote.add_fault("500 route=retrieve count=1")
        remote.clear_faults()
        remote.reset()
        assert remote.configure(time_scale=0.5)["time_scale"] == 0.5
    finally:
        remote.close()
    same = post(sb, "faults", b'{"spec": "500 route=retrieve"}', origin=sb.url,
                **{"content-type": "application/json; charset=utf-8"})
    assert same.status_code == 200
    assert httpx.get(f"{sb.url}/_sandbox/stats", headers={"origin": "https://a.example"}
                     ).status_code == 403
