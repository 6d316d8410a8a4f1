"""The two documented job response shapes.

``sdk``: SDK 3.1.1's ``VideoJob`` — ``id, object, model, status, created_at`` (unix float),
``completed_at, seconds, size, error, outputs``.
``docs``: the docs' 2025-10 example — ``id, model, status, info{user_id, errors}, inputs,
outputs, created_at`` (ISO), ``claimed_at`` (Go zero time until started), ``done_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .jobs import Job, inputs_echo

SHAPES = ("sdk", "docs")
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
USER_ID = "66f0bd504fb9511df3489b9a"


def job_payload(job: Job, shape: str, base_url: str, status: str | None = None) -> dict[str, Any]:
    """The job as the provider shows it now (or as if in ``status``, for the create reply)."""
    status = status or job.status()
    if shape == "docs":
        return _docs(job, status, base_url)
    return _sdk(job, status, base_url)


def _outputs(job: Job, status: str, base_url: str) -> dict[str, Any] | None:
    if status != "completed":
        return None
    return {"cost": job.cost, "video_url": f"{base_url}/shrt/{job.token}"}


def _sdk(job: Job, status: str, base_url: str) -> dict[str, Any]:
    finished = status in ("completed", "failed")
    render = job.render
    return {
        "id": job.id,
        "object": "video",
        "model": job.model,
        "status": status,
        "created_at": round(job.created_at, 3),
        "completed_at": round(job.done_at, 3) if finished else None,
        "seconds": str(render.seconds),
        "size": f"{render.width}x{render.height}",
        "error": dict(job.failure) if status == "failed" and job.failure else None,
        "outputs": _outputs(job, status, base_url),
    }


def _docs(job: Job, status: str, base_url: str) -> dict[str, Any]:
    started = status != "queued"
    finished = status in ("completed", "failed")
    errors = [dict(job.failure)] if status == "failed" and job.failure else None
    return {
        "id": job.id,
        "model": job.model,
        "status": status,
        "info": {"user_id": USER_ID, "errors": errors},
        "inputs": dict(inputs_echo(job.request)),
        "outputs": _outputs(job, status, base_url),
        "created_at": iso(job.created_at),
        "claimed_at": iso(job.started_at) if started else GO_ZERO_TIME,
        "done_at": iso(job.done_at) if finished else GO_ZERO_TIME,
    }


def iso(timestamp: float) -> str:
    """Go's RFC 3339 with microseconds: ``2025-10-20T06:57:18.154804Z``."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
