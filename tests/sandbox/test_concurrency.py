"""Many keep-alive connections at once, slow answers, and the public fixtures."""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings

from .helpers import create


def test_hundreds_of_keep_alive_connections_with_latency(api, sb):
    job_id = create(api)["id"]
    sb.faults.add("latency", ms=100, route="retrieve")
    address = urlsplit(sb.url)
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(200)

    def poll_three_times() -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        # Connect before the barrier: on a loaded machine, threads that only connected after
        # it could start after others had already finished, and the peak would measure the
        # scheduler rather than the server.
        connection.connect()
        start.wait()
        for _ in range(3):
            connection.request("GET", f"/v2/videos/{job_id}",
                               headers={"Authorization": "Bearer k"})
            response = connection.getresponse()
            json.loads(response.read())
            with lock:
                statuses.append(response.status)
        connection.close()

    threads = [threading.Thread(target=poll_three_times) for _ in range(200)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    assert statuses == [200] * 600
    # 600 answers of 100 ms each over 200 connections: ~0.3 s if nothing is serialised.
    assert elapsed < 3.0
    stats = sb.stats()
    assert stats["connections_peak"] >= 150
    assert stats["connections_total"] == 201  # one per thread, plus the api client


def test_settings_fixture_points_videogen_at_the_sandbox(videogen_sandbox_settings):
    assert settings.VIDEOGEN["BASE_URL"] == videogen_sandbox_settings.url
    assert settings.VIDEOGEN["API_KEY"] == videogen_sandbox_settings.api_key
    assert videogen_sandbox_settings.stats()["jobs_created"] == 0


def test_a_reset_keeps_count_of_connections_still_open(sb):
    # A keep-alive connection from before a reset (an earlier test's client) that closes after
    # it must not drive the open count below zero, nor the next peak under the truth.
    address = urlsplit(sb.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("GET", "/_sandbox/stats")
    connection.getresponse().read()
    before = sb.stats()["connections_open"]
    assert before >= 1
    sb.reset()
    assert sb.stats()["connections_open"] == sb.stats()["connections_peak"] == before
    connection.close()
    deadline = time.monotonic() + 5
    while sb.stats()["connections_open"] == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sb.stats()["connections_open"] == before - 1
