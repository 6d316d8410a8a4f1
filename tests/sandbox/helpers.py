"""Small helpers shared by the sandbox tests: requests, downloads, frames, images."""

from __future__ import annotations

import io
from typing import Any

import av
import httpx

from videogen.sandbox import SandboxServer

# An unknown model id: accepted with a warning, any size, so test clips stay tiny.
TINY = {"model": "sandbox/tiny", "prompt": "a red fox running through snow", "width": 64,
        "height": 48, "seconds": "1", "fps": 8}


def create(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/v2/videos", json={**TINY, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def finished(api: httpx.Client, sb: SandboxServer, job_id: str) -> dict[str, Any]:
    sb.advance(job_id)
    return api.get(f"/v2/videos/{job_id}").json()


def download(api: httpx.Client, sb: SandboxServer, **fields: Any) -> bytes:
    job = finished(api, sb, create(api, **fields)["id"])
    response = httpx.get(job["outputs"]["video_url"], timeout=60)
    assert response.status_code == 200
    return response.content


def solid_png(rgb: tuple[int, int, int], width: int = 32, height: int = 24) -> bytes:
    """A one-colour PNG made with PyAV (no Pillow here)."""
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "rgb24"
    frame = av.VideoFrame(width, height, "rgb24")
    row = bytes(rgb) * width + bytes(frame.planes[0].line_size - 3 * width)
    frame.planes[0].update(row * height)
    return b"".join(bytes(packet) for packet in codec.encode(frame))


def mean_rgb(frame: av.VideoFrame) -> tuple[float, float, float]:
    rgb = frame.reformat(format="rgb24")
    plane, width = rgb.planes[0], rgb.width
    data = bytes(plane)
    totals = [0, 0, 0]
    for row in range(rgb.height):
        line = data[row * plane.line_size: row * plane.line_size + 3 * width]
        for channel in range(3):
            totals[channel] += sum(line[channel::3])
    count = width * rgb.height
    return totals[0] / count, totals[1] / count, totals[2] / count


def frames(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data)) as container:
        return list(container.decode(video=0))
