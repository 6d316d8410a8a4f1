"""The video_url: expiry, byte ranges, HEAD, and padded large downloads."""

from __future__ import annotations

import io
import time

import av
import httpx
import pytest

from .helpers import create, finished


def video_url(api, sb, **fields) -> str:
    return finished(api, sb, create(api, **fields)["id"])["outputs"]["video_url"]


def test_download_needs_no_api_key_and_has_a_length(api, sb):
    response = httpx.get(video_url(api, sb))
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content) > 0
    assert response.headers["accept-ranges"] == "bytes"


def test_unknown_token_is_404(sb):
    response = httpx.get(f"{sb.url}/shrt/AAAAAAAAAAAAAAAA")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_url_expires_after_the_ttl(api, sb):
    # Seconds, not tenths: on a loaded machine the poll and the first GET can be 0.3 s apart.
    sb.configure(url_ttl=2.0)
    url = video_url(api, sb)
    assert httpx.get(url).status_code == 200
    time.sleep(2.1)
    response = httpx.get(url)
    assert response.status_code == 403
    assert response.json()["error"] == {"message": "This video URL has expired.",
                                        "type": "invalid_request_error", "param": None,
                                        "code": "url_expired"}


def test_polling_again_refreshes_an_expired_url(api, sb):
    sb.configure(url_ttl=1.0)
    job = finished(api, sb, create(api)["id"])
    time.sleep(1.1)
    assert httpx.get(job["outputs"]["video_url"]).status_code == 403
    again = api.get(f"/v2/videos/{job['id']}").json()["outputs"]["video_url"]
    assert again == job["outputs"]["video_url"]  # same link, signed anew
    assert httpx.get(again).status_code == 200


@pytest.mark.parametrize("header, start, stop", [
    ("bytes=0-99", 0, 100), ("bytes=100-", 100, None), ("bytes=-50", -50, None),
])
def test_range_requests(api, sb, header, start, stop):
    url = video_url(api, sb)
    whole = httpx.get(url).content
    part = httpx.get(url, headers={"Range": header})
    assert part.status_code == 206
    assert part.content == whole[start:stop]
    first = start if start >= 0 else len(whole) + start
    assert part.headers["content-range"] == f"bytes {first}-{first + len(part.content) - 1}/" \
                                            f"{len(whole)}"


def test_unsatisfiable_range_is_416(api, sb):
    url = video_url(api, sb)
    size = len(httpx.get(url).content)
    response = httpx.get(url, headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_head(api, sb):
    url = video_url(api, sb)
    response = httpx.head(url)
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(httpx.get(url).content)


def test_padded_download_streams_a_large_valid_file(api, sb):
    size = 64 * 1024 * 1024
    sb.configure(pad_to_bytes=size)
    url = video_url(api, sb)
    received, head = 0, b""
    with httpx.stream("GET", url) as response:
        assert int(response.headers["content-length"]) == size
        for chunk in response.iter_bytes():
            if len(head) < 512 * 1024:
                head += chunk
            received += len(chunk)
    assert received == size
    tail = httpx.get(url, headers={"Range": "bytes=-16"}).content
    assert tail == bytes(16)  # the padding is a 'free' box of zeros
    # The real clip is still there and playable.
    clip = httpx.get(url, headers={"Range": f"bytes=0-{len(head) - 1}"}).content
    assert clip == head[: len(clip)]


def test_pad_header_on_create_pads_that_job_only(api, sb):
    size = 2 * 1024 * 1024
    padded = api.post("/v2/videos", json={"model": "sandbox/tiny", "prompt": "pad me",
                                          "width": 64, "height": 48, "seconds": "1", "fps": 8},
                      headers={"X-Sandbox-Pad-To-Bytes": str(size)}).json()
    url = finished(api, sb, padded["id"])["outputs"]["video_url"]
    data = httpx.get(url).content
    assert len(data) == size
    with av.open(io.BytesIO(data)) as container:
        assert len(list(container.decode(video=0))) == 8
    assert len(httpx.get(video_url(api, sb)).content) < size


def test_padded_webm_still_decodes(api, sb):
    sb.configure(pad_to_bytes=1024 * 1024)
    data = httpx.get(video_url(api, sb, output_format="WEBM")).content
    assert len(data) == 1024 * 1024
    with av.open(io.BytesIO(data)) as container:
        assert len(list(container.decode(video=0))) == 8
