"""The two ways to run it from a shell, and the curl walk-through from docs/sandbox.md."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def started(*command: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, line
    return process, match.group(0)


def stopped(process: subprocess.Popen) -> str:
    process.terminate()
    out, _ = process.communicate(timeout=10)
    return out


@pytest.fixture
def module_server() -> Iterator[str]:
    process, url = started(sys.executable, "-m", "videogen.sandbox", "--port", "0",
                           "--time-scale", "0.5")
    yield url
    assert "sandbox stopped" in stopped(process)


def docs_curl_block() -> str:
    text = (ROOT / "docs" / "sandbox.md").read_text()
    section = text.split("## Try it with curl", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl, jq")
def test_docs_curl_walkthrough(module_server, tmp_path):
    script = docs_curl_block().replace("http://127.0.0.1:8765", module_server)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ('"queued"', '"in_progress"')
    with av.open(str(tmp_path / "cat.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height, stream.codec_context.name) == (360, 360, "h264")


def test_management_command(tmp_path):
    process, url = started(sys.executable, "manage.py", "videogen_sandbox", "--port", "0",
                           "--shape", "docs", "--api-key", "k-1", "--time-scale", "0",
                           "--fault", "latency=1")
    try:
        body = {"model": "sandbox/tiny", "prompt": "hi", "width": 32, "height": 32,
                "seconds": "1", "fps": 4}
        headers = {"Authorization": "Bearer k-1"}
        job = httpx.post(f"{url}/v2/videos", json=body, headers=headers).json()
        assert job["claimed_at"] == "0001-01-01T00:00:00Z"  # the docs shape
        done = httpx.get(f"{url}/v2/videos/{job['id']}", headers=headers).json()
        clip = httpx.get(done["outputs"]["video_url"]).content
        with av.open(io.BytesIO(clip)) as container:
            assert container.streams.video[0].width == 32
        assert httpx.post(f"{url}/v2/videos", json=body,
                          headers={"Authorization": "Bearer other"}).status_code == 401
        assert httpx.get(f"{url}/_sandbox/stats").json()["faults"]["latency"] == 4  # 401s wait too
    finally:
        stopped(process)


def test_the_banner_shows_no_key_and_no_settings_to_copy():
    process, url = started(sys.executable, "-m", "videogen.sandbox", "--port", "0",
                           "--api-key", "sk-banner-secret-123")
    out = process.stdout.readline() + stopped(process)
    assert "sk-banner-secret" not in out and "VIDEOGEN" not in out and "API_KEY" not in out
    assert "accepts the key given with --api-key" in out
