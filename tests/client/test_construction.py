"""Building clients: base URLs, settings, injected httpx pieces, closing; no Django needed."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.client.scripted import JOB, KEY, client_for
from videogen.client import AsyncVideoClient, VideoClient
from videogen.provider import async_video_client, video_client


@pytest.mark.parametrize(("base_url", "videos_url"), [
    ("https://api.together.ai", "https://api.together.ai/v2/videos"),
    ("https://api.together.ai/", "https://api.together.ai/v2/videos"),
    ("https://api.together.ai/v2", "https://api.together.ai/v2/videos"),
    ("https://api.together.ai/v2/", "https://api.together.ai/v2/videos"),
    ("https://proxy.example/together", "https://proxy.example/together/v2/videos"),
    ("https://proxy.example/together/v2", "https://proxy.example/together/v2/videos"),
    ("https://proxy.example/api/v20", "https://proxy.example/api/v20/v2/videos"),
])
def test_base_url_with_or_without_v2(base_url, videos_url):
    assert VideoClient(api_key=KEY, base_url=base_url).videos_url == videos_url


@pytest.mark.parametrize("suffix", ["", "/v2"])
def test_both_base_url_forms_reach_the_same_paths(scripted, suffix):
    scripted.script = [(200, {}, JOB), (200, {}, JOB)]
    client, _ = client_for(scripted.url + suffix)
    client.create({"model": "google/veo-2.0", "prompt": "a fox"})
    client.retrieve("job-1")
    assert scripted.paths() == ["/v2/videos", "/v2/videos/job-1"]


def test_defaults():
    client = VideoClient(api_key=KEY)
    assert client.base_url == "https://api.together.ai" and client.max_retries == 2
    assert (client.timeout.read, client.timeout.connect) == (60.0, 5.0)
    assert VideoClient(api_key=KEY, user_agent="site/1").user_agent == "site/1"


def test_the_provider_factory_reads_videogen(settings):
    settings.VIDEOGEN = {"API_KEY": KEY, "BASE_URL": "http://127.0.0.1:9/v2", "TIMEOUT": 12,
                         "CONNECT_TIMEOUT": 2, "MAX_RETRIES": 4}
    client = video_client(max_retries=1)
    assert client.videos_url == "http://127.0.0.1:9/v2/videos"
    assert (client.timeout.read, client.timeout.connect, client.max_retries) == (12, 2, 1)
    assert client.headers()["Authorization"] == f"Bearer {KEY}"
    assert async_video_client().max_retries == 4


def test_the_client_works_without_django(scripted):
    scripted.script = [(200, {}, JOB)]
    code = ("import sys; from videogen.client import VideoClient\n"
            f"with VideoClient(api_key='k', base_url={scripted.url!r}) as c:\n"
            "    assert c.retrieve('job-1').id == 'job-1'\n"
            "assert 'django.conf' not in sys.modules, 'Django was imported'\n")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_an_injected_transport_is_used(scripted):
    class Counting(httpx.HTTPTransport):
        calls = 0

        def handle_request(self, request):
            Counting.calls += 1
            return super().handle_request(request)

    scripted.script = [(200, {}, JOB)]
    with VideoClient(api_key=KEY, base_url=scripted.url, transport=Counting()) as client:
        client.retrieve("job-1")
    assert Counting.calls == 1


def test_an_injected_http_client_is_used_and_left_open(scripted):
    scripted.script = [(200, {}, JOB), (200, {}, JOB)]
    with httpx.Client(headers={"x-site": "mine"}) as http:
        with VideoClient(api_key=KEY, base_url=scripted.url, http_client=http) as client:
            client.retrieve("job-1")
        assert not http.is_closed
        http.get(scripted.url + "/still-open")
    assert scripted.requests[0][2]["x-site"] == "mine"


def test_closing_closes_the_own_pools(scripted):
    client = VideoClient(api_key=KEY, base_url=scripted.url)
    client.close()
    assert client._http.is_closed

    async def scenario():
        async with AsyncVideoClient(api_key=KEY, base_url=scripted.url,
                                    max_connections=40) as pooled:
            pools = list(pooled._pools)
        other = AsyncVideoClient(api_key=KEY, base_url=scripted.url)
        await other.close()
        return pools, other._pools

    pools, other = asyncio.run(scenario())
    assert len(pools) == 5 and all(pool.is_closed for pool in pools + other)  # 40 / 8
