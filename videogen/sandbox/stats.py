"""Counters the tests read back: requests per route, responses per status, faults per kind,
and jobs created per request fingerprint (so a test can prove a retry made no duplicate job)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any


def fingerprint(body: Mapping[str, Any]) -> str:
    """A stable hash of a create body: the same JSON object gives the same fingerprint,
    whatever its key order or spacing."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


class Stats:
    """Thread-safe counters; ``snapshot()`` is what ``GET /_sandbox/stats`` returns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.responses: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.create_requests: Counter[str] = Counter()
            self.creates: Counter[str] = Counter()
            self.bytes_sent = 0
            self.connections_total = 0
            # Connections still open are a state, not a count: keep them, or their closing
            # after a reset would drive the open count below zero and the peak under the truth.
            self.connections_peak = self._open

    def request(self, route: str) -> None:
        with self._lock:
            self.requests[route] += 1

    def response(self, status: int | str) -> None:
        with self._lock:
            self.responses[str(status)] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def create_request(self, print_: str) -> None:
        with self._lock:
            self.create_requests[print_] += 1

    def created(self, print_: str) -> None:
        with self._lock:
            self.creates[print_] += 1

    def sent(self, count: int) -> None:
        with self._lock:
            self.bytes_sent += count

    def connection(self, opened: bool) -> None:
        with self._lock:
            self._open += 1 if opened else -1
            if opened:
                self.connections_total += 1
                self.connections_peak = max(self.connections_peak, self._open)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "responses": dict(self.responses),
                "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()),
                "jobs_created": sum(self.creates.values()),
                "creates_by_fingerprint": dict(self.creates),
                "create_requests_by_fingerprint": dict(self.create_requests),
                "duplicate_creates": sum(n - 1 for n in self.creates.values() if n > 1),
                "bytes_sent": self.bytes_sent,
                "connections_open": self._open,
                "connections_peak": self.connections_peak,
                "connections_total": self.connections_total,
            }
