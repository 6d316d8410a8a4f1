"""``RemoteSandbox``: drive a sandbox running in another process through ``/_sandbox/``."""

from __future__ import annotations

from typing import Any

import httpx


class RemoteSandbox:
    """``RemoteSandbox("http://127.0.0.1:8765").add_fault("503 route=retrieve rate=0.3")``."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(timeout=30)

    def _call(self, method: str, name: str, body: Any = None) -> Any:
        response = self.client.request(method, f"{self.url}/_sandbox/{name}", json=body)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def add_fault(self, spec: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """A rule in text form (``"lost_response route=create count=2"``) or as fields
        (``kind="error", status=503, route="retrieve", rate=0.3``); returns all rules."""
        body = {"spec": spec} if spec else fields
        return self._call("POST", "faults", body)["rules"]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "faults")["rules"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def reset(self) -> None:
        self._call("POST", "reset")

    def advance(self, job_id: str | None = None, to: str = "completed") -> int:
        return self._call("POST", "advance", {"job_id": job_id, "to": to})["advanced"]

    def jobs(self) -> list[dict[str, Any]]:
        return self._call("GET", "jobs")["jobs"]

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self._call("POST", "config", changes)

    def close(self) -> None:
        self.client.close()
