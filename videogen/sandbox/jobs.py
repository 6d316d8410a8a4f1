"""Sandbox jobs: what was asked, when each phase ends, what the clip looks like, what it costs.

A job's status is computed from the time since it was created (no background thread): it is
``queued`` for a short while, ``in_progress`` for the model's typical generation time (varied a
little per job, multiplied by ``time_scale``), then ``completed`` (or ``failed`` when a fault
said so). ``advance()`` pulls those moments to *now* so a test needn't wait.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from videogen import catalog
from videogen.client.schemas import CreateVideoRequest
from videogen.media import keyframe_position

from .render import RenderSpec

DEFAULT_SIZE = (1366, 768)  # together-api.md: width/height default
DEFAULT_FPS = 24
DEFAULT_SECONDS = 5
DEFAULT_TYPICAL_SECONDS = 120.0
DEFAULT_QUALITY = 20
# Dollars per video: plausible figures for the demo and the budget code, not Together's prices.
PRICES = {
    "minimax/video-01-director": 0.28,
    "minimax/hailuo-02": 0.49,
    "google/veo-2.0": 2.50,
    "google/veo-3.0": 1.60,
    "google/veo-3.0-audio": 3.20,
    "google/veo-3.0-fast": 0.80,
    "google/veo-3.0-fast-audio": 1.20,
    "ByteDance/Seedance-1.0-lite": 0.14,
    "ByteDance/Seedance-1.0-pro": 0.57,
    "pixverse/pixverse-v5": 0.30,
    "kwaivgI/kling-2.1-master": 0.92,
    "kwaivgI/kling-2.1-standard": 0.18,
    "kwaivgI/kling-2.1-pro": 0.32,
    "kwaivgI/kling-2.0-master": 0.92,
    "kwaivgI/kling-1.6-standard": 0.19,
    "kwaivgI/kling-1.6-pro": 0.32,
    "Wan-AI/Wan2.2-I2V-A14B": 0.31,
    "Wan-AI/Wan2.2-T2V-A14B": 0.66,
    "Wan-AI/wan2.7-t2v": 0.50,
    "Wan-AI/wan2.7-i2v": 0.50,
    "Wan-AI/wan2.7-r2v": 0.50,
    "Wan-AI/wan2.7-videoedit": 0.50,
    "vidu/vidu-2.0": 0.28,
    "vidu/vidu-q1": 0.22,
    "openai/sora-2": 0.80,
    "openai/sora-2-pro": 2.40,
}
DEFAULT_PRICE = 0.25
FAILURE_MESSAGE = "The video could not be generated (sandbox: injected failure)."
FAILURE_CODE = "generation_failed"


@dataclass
class Job:
    id: str
    request: CreateVideoRequest
    fingerprint: str
    render: RenderSpec
    cost: float
    token: str  # the /shrt/<token> download name
    url_ttl: float
    pad_to_bytes: int | None
    created_at: float  # wall clock, for the payload
    started_after: float  # seconds after creation (already scaled)
    done_after: float
    failure: dict[str, Any] | None = None  # {"message", "code"} when the job is to fail
    url_issued_at: float | None = None  # wall clock of the last answer that showed video_url
    created_clock: float = field(default_factory=time.monotonic)
    # Job GETs answered for this job, and the shortest gap between two of them (seconds), so
    # a test can show that no job was polled twice within one poll cycle.
    retrieves: int = 0
    last_retrieve: float | None = None
    min_retrieve_gap: float | None = None

    @property
    def model(self) -> str:
        return self.request.model

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.created_clock

    def status(self, now: float | None = None) -> str:
        elapsed = self.elapsed(now)
        if elapsed < self.started_after:
            return "queued"
        if elapsed < self.done_after:
            return "in_progress"
        return "failed" if self.failure else "completed"

    @property
    def started_at(self) -> float:
        return self.created_at + self.started_after

    @property
    def done_at(self) -> float:
        return self.created_at + self.done_after

    def issue_url(self) -> None:
        """A poll showed the URL: like a freshly signed link, it works ``url_ttl`` from now."""
        self.url_issued_at = time.time()

    def url_expired(self, wall_now: float | None = None) -> bool:
        issued = max(self.done_at, self.url_issued_at or 0.0)
        return (time.time() if wall_now is None else wall_now) > issued + self.url_ttl

    def retrieved(self, now: float | None = None) -> None:
        """Count a job GET (called under the store's lock)."""
        now = time.monotonic() if now is None else now
        if self.last_retrieve is not None:
            gap = now - self.last_retrieve
            self.min_retrieve_gap = gap if self.min_retrieve_gap is None else min(
                self.min_retrieve_gap, gap)
        self.last_retrieve = now
        self.retrieves += 1

    def advance(self, to: str = "completed") -> None:
        """Make the job reach ``to`` ("in_progress" or "completed") now, not later."""
        elapsed = self.elapsed()
        self.started_after = min(self.started_after, elapsed)
        if to != "in_progress":
            self.done_after = min(self.done_after, elapsed)


class JobStore:
    """All jobs of one server, by id and by download token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._tokens: dict[str, str] = {}

    def add(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
            self._tokens[job.token] = job.id

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def retrieve(self, job_id: str) -> Job | None:
        """The job, with this GET counted."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.retrieved()
            return job

    def by_token(self, token: str) -> Job | None:
        with self._lock:
            job_id = self._tokens.get(token)
            return self._jobs.get(job_id) if job_id else None

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._tokens.clear()


def new_job_id() -> str:
    """A UUIDv7 like Together's ids (``019a0068-794a-7213-90f6-cc4eb62e3da7``): time-ordered."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68) << 64 | 0b10 << 62 | (
        rand & (2**62 - 1))
    return str(uuid.UUID(int=value))


def new_token() -> str:
    """16 letters, like ``https://api.together.ai/shrt/DwlaBdSakNRFlBxN``."""
    return "".join(secrets.choice(string.ascii_letters) for _ in range(16))


def build_job(request: CreateVideoRequest, print_: str, *, time_scale: float, url_ttl: float,
              pad_to_bytes: int | None, failure: dict[str, Any] | None = None) -> Job:
    spec = catalog.get_model(request.model, catalog=catalog.BUILTIN)
    job_id = new_job_id()
    queued, running = _timing(job_id, spec)
    return Job(
        id=job_id, request=request, fingerprint=print_, render=render_spec(request, spec, print_),
        cost=PRICES.get(request.model, DEFAULT_PRICE), token=new_token(), url_ttl=url_ttl,
        pad_to_bytes=pad_to_bytes, created_at=time.time(),
        started_after=queued * time_scale, done_after=(queued + running) * time_scale,
        failure=failure,
    )


def _timing(job_id: str, spec: catalog.ModelSpec | None) -> tuple[float, float]:
    """(queued, running) seconds: the model's typical time, varied ±25 % per job."""
    typical = spec.typical_generation_seconds if spec else DEFAULT_TYPICAL_SECONDS
    digest = hashlib.sha256(job_id.encode()).digest()
    a, b = digest[0] / 255, digest[1] / 255
    return typical * (0.05 + 0.10 * a), typical * (0.75 + 0.50 * b)


def render_spec(request: CreateVideoRequest, spec: catalog.ModelSpec | None,
                print_: str) -> RenderSpec:
    """The clip a request asks for, with the documented defaults filled in."""
    width, height = output_size(request, spec)
    first, last = keyframe_images(request)
    return RenderSpec(
        width=width, height=height,
        fps=request.fps or (spec.default_fps if spec else None) or DEFAULT_FPS,
        seconds=output_seconds(request, spec),
        output_format=request.output_format or "MP4",
        # Omitted seed: derived from the body, so the same request renders the same bytes.
        seed=request.seed if request.seed is not None else int(print_[:8], 16),
        prompt=request.prompt or "",
        quality=request.output_quality if request.output_quality is not None else DEFAULT_QUALITY,
        first_image=first, last_image=last,
        # Audio models (Veo 3 "-audio", Sora 2) make sound unless told not to.
        audio=request.generate_audio if request.generate_audio is not None else bool(
            spec and spec.generate_audio),
    )


def output_size(request: CreateVideoRequest, spec: catalog.ModelSpec | None) -> tuple[int, int]:
    if spec and spec.uses_resolution:
        resolution = request.resolution or spec.resolutions[0]
        ratio = request.ratio or spec.ratios[0]
        return catalog.size_for(resolution, ratio)
    if request.width and request.height:
        return request.width, request.height
    if spec and spec.sizes and DEFAULT_SIZE not in spec.sizes:
        return spec.sizes[0]  # the documented default is not offered by this model
    return DEFAULT_SIZE


def output_seconds(request: CreateVideoRequest, spec: catalog.ModelSpec | None) -> int:
    if request.seconds:
        return int(request.seconds)
    return (spec.default_seconds if spec else None) or DEFAULT_SECONDS


def keyframe_images(request: CreateVideoRequest) -> tuple[str | None, str | None]:
    """The first and last keyframe images (one image = first; two = first and last; a frame
    number on the last image makes it the last)."""
    media = request.merged_media()
    frames = (media.frame_images if media else None) or []
    end = frames[-1].frame if frames and isinstance(frames[-1].frame, int | float) else None
    found: dict[str, str] = {}
    for index, frame in enumerate(frames):
        position = keyframe_position(frame.frame, index, len(frames), end)
        if position != "middle":
            found[position] = frame.input_image
    return found.get("first"), found.get("last")


def failure_for(message: str | None) -> dict[str, Any]:
    return {"message": message or FAILURE_MESSAGE, "code": FAILURE_CODE}


def inputs_echo(request: CreateVideoRequest) -> Mapping[str, Any]:
    """The docs shape's ``inputs``: the documented keys (null when not sent), then the rest."""
    sent = request.model_dump(exclude_none=True,
                              exclude={"media", "frame_images", "reference_images"})
    keys = ("fps", "guidance_scale", "height", "model", "output_quality", "prompt", "seconds",
            "seed", "steps", "width")
    echo: dict[str, Any] = {key: sent.pop(key, None) for key in keys}
    echo["metadata"] = {}
    return dict(sorted({**echo, **sent}.items()))
