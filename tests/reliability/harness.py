"""The pieces the reliability runs are built from: the sandbox and Redis in processes of their
own, a live webhook receiver, a mix of jobs across models, submission from many threads, the
qcluster nodes, and the end-state audit that turns a run into the figures of
docs/reliability.md."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.processes import ROOT, QCluster, cluster_env, signal_group
from tests.servers import LocalServer, QuietHandler, Stops, free_port, wait_for

HEAVY = os.environ.get("VIDEOGEN_RELIABILITY", "") not in ("", "0")

# Small clips across models: each (model, size, fps, prompt) renders once at the sandbox and is
# served from its cache; a per-job negative_prompt makes every create body (and so its
# fingerprint at the sandbox) unique without another render.
JOB_MIX: list[dict[str, Any]] = [
    {"model": "pixverse/pixverse-v5", "width": 360, "height": 360, "fps": 16},
    {"model": "ByteDance/Seedance-1.0-lite", "width": 640, "height": 640, "fps": 24},
    {"model": "google/veo-3.0-fast", "width": 1280, "height": 720, "fps": 24},
    {"model": "vidu/vidu-2.0", "width": 360, "height": 360, "fps": 24},
    {"model": "kwaivgI/kling-2.0-master", "width": 720, "height": 720, "fps": 24},
    {"model": "minimax/video-01-director", "width": 1366, "height": 768, "fps": 25},
]


# --- Servers in processes of their own ----------------------------------------------------------


class SandboxProcess:
    """``python -m videogen.sandbox`` on a free port: its request threads and rendering do not
    take the GIL from the test process (a real provider is on another machine)."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "videogen.sandbox", "--port", "0", *options], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if " on http" not in line:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.split(" on ", 1)[1].split()[0]
        self.api_key = "reliability-key"
        from videogen.sandbox.remote import RemoteSandbox

        self.control = RemoteSandbox(self.url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RedisServer:
    """A private ``redis-server`` on a free port (no persistence, like the machine's own), so a
    run can restart it without disturbing anyone else's."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self._answers, 10, "redis-server to start", every=0.05)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, down_seconds: float = 1.0) -> None:
        """Kill it (its queue is gone: no persistence) and start it again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1


# --- The webhook receiver ----------------------------------------------------------------------


@dataclass
class Receipt:
    webhook_id: str
    type: str
    job: str
    status: str
    previous: str
    signed: bool
    at: float


class Receiver(Stops):
    """A live receiver on 127.0.0.1: verifies each signature, records every delivery (retries
    included) and answers 204, or 503 while ``up`` is False."""

    def __init__(self) -> None:
        self.receipts: list[Receipt] = []
        self.secret: str | None = None
        self.up = True
        self.lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver.take(body, dict(self.headers.items()))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.http = LocalServer(Handler, path="/hooks")
        self.url = self.http.url

    def take(self, body: bytes, headers: dict[str, str]) -> int:
        if not self.up:
            return 503
        from videogen.webhooks import WebhookVerificationError, verify

        try:
            verify(body, headers, [self.secret or ""])
            signed = True
        except WebhookVerificationError:
            signed = False
        event = json.loads(body)
        data = event.get("data", {})
        receipt = Receipt(webhook_id={k.lower(): v for k, v in headers.items()}["webhook-id"],
                          type=event["type"], job=str(data.get("id")),
                          status=str(data.get("status")),
                          previous=str(data.get("previous_status", "")), signed=signed,
                          at=time.monotonic())
        with self.lock:
            self.receipts.append(receipt)
        return 204

    def stop(self) -> None:
        self.http.stop()


# --- Jobs ---------------------------------------------------------------------------------------


def make_jobs(count: int, tag: str) -> list[Any]:
    """``count`` drafts spread over ``JOB_MIX``, each with a body of its own."""
    from videogen.models import VideoJob

    jobs = [VideoJob(prompt=f"reliability clip {spec['model']}", seconds="1", seed=7,
                     negative_prompt=f"{tag}-{index}", **spec)
            for index, spec in ((i, JOB_MIX[i % len(JOB_MIX)]) for i in range(count))]
    return VideoJob.objects.bulk_create(jobs)


def submit_all(jobs: list[Any], threads: int = 8) -> dict[str, int]:
    """Submit every job (the public API, as a host site's code would) from a thread pool."""
    from django.db import connection

    from videogen import api

    outcomes: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def one(job: Any) -> None:
        try:
            status = api.submit(job).status
        except Exception as error:  # a refusal is an outcome to count, not a crash
            status = f"error: {type(error).__name__}"
        finally:
            connection.close()
        with lock:
            outcomes[status] += 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, jobs))
    return dict(outcomes)


def cancel_some(jobs: list[Any], fraction: float, rng: random.Random) -> set[str]:
    """Cancel a share of the jobs here (the provider has no cancel call); returns the ids of
    those whose cancel was accepted (the others had already finished)."""
    from videogen import lifecycle

    cancelled = set()
    for job in rng.sample(jobs, int(len(jobs) * fraction)):
        job.refresh_from_db()
        try:
            lifecycle.cancel(job)
            cancelled.add(str(job.pk))
        except lifecycle.LifecycleError:
            pass
    return cancelled


def job_fingerprint(job: Any) -> str:
    """The sandbox's fingerprint of the body the client sends for this job."""
    from videogen import submission
    from videogen.client import VideoClient
    from videogen.sandbox import fingerprint

    with VideoClient(api_key="x", base_url="http://127.0.0.1:9") as client:
        return fingerprint(client.create_body(submission.build_request(job)))


# --- The cluster ----------------------------------------------------------------------------


class Nodes:
    """Several qcluster nodes on the same database and broker."""

    def __init__(self, count: int, env: dict[str, str], logs: Path) -> None:
        self.nodes = [QCluster(env, logs / f"qcluster-{i}.log") for i in range(count)]
        self.kills = 0

    def start(self) -> Nodes:
        for node in self.nodes:
            node.start()
        return self

    def kill_random(self, rng: random.Random) -> None:
        node = rng.choice(self.nodes)
        node.kill()
        self.kills += 1
        node.start()

    def ensure_alive(self) -> None:
        for node in self.nodes:
            if not node.alive():
                node.start()

    def stop(self) -> None:
        # Both asked at once, so a slow wind-down is paid once.
        for node in self.nodes:
            if node.alive():
                signal_group(node.pid, signal.SIGTERM)
        for node in self.nodes:
            node.stop(grace=10)

    def logs(self) -> str:
        return "\n".join(f"--- {node.log_path.name}\n{node.log_tail(3000)}"
                         for node in self.nodes)


def node_env(sandbox: SandboxProcess, media_root: Path, redis_url: str) -> dict[str, str]:
    return cluster_env(sandbox_url=sandbox.url, api_key=sandbox.api_key,
                       media_root=media_root, redis_url=redis_url,
                       DJANGO_SETTINGS_MODULE="tests.reliability.cluster_settings")


def use_redis_broker(monkeypatch: Any, redis_url: str) -> None:
    """Tasks this process enqueues (after a submit's commit) go to the run's own Redis.
    django-q2 froze its settings at import, hence the patch."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", redis_url)
    monkeypatch.setattr(Conf, "SYNC", False)


def kick_polls(times: int = 2) -> None:
    """Queue poll loops now rather than waiting for django-q2's scheduler (every 30 s);
    several loops at once on two nodes is exactly what the claims must make safe."""
    from videogen.schedules import enqueue

    for _ in range(times):
        enqueue("poll_due")


# --- The audit --------------------------------------------------------------------------------


@dataclass
class Audit:
    jobs: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    archived: int = 0
    lost: list[str] = field(default_factory=list)
    wrong_state: list[str] = field(default_factory=list)
    corrupt_archives: list[str] = field(default_factory=list)
    duplicate_creates: int = 0
    remote_jobs: int = 0
    events: int = 0
    events_undelivered: int = 0
    receipts: int = 0
    unsigned: int = 0
    ids_per_event_max: int = 0
    events_with_two_ids: int = 0
    duplicate_deliveries: int = 0
    retrieves: int = 0
    retrieves_max_per_job: int = 0
    jobs_polled_more_than_once: int = 0
    retrieve_min_gap: float | None = None
    provider_requests: int = 0

    def figures(self) -> dict[str, Any]:
        return {k: (len(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}


def settled(job_ids: list[Any]) -> bool:
    from videogen.models import ArchiveStatus, Status, VideoJob

    jobs = VideoJob.objects.filter(pk__in=job_ids)
    unsettled = jobs.exclude(status__in=[Status.FAILED, Status.CANCELLED, Status.COMPLETED])
    unarchived = jobs.filter(status=Status.COMPLETED).exclude(
        archive_status__in=[ArchiveStatus.ARCHIVED, ArchiveStatus.FAILED])
    return not unsettled.exists() and not unarchived.exists()


def webhooks_settled() -> bool:
    from videogen.webhooks.models import WebhookDelivery

    return not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists()


def audit(job_ids: list[Any], remote: list[dict[str, Any]], stats: dict[str, Any],
          receiver: Receiver | None, cancelled: set[str]) -> Audit:
    """Compare the database with what the sandbox decided and what the receiver got."""
    from videogen.models import VideoJob

    result = Audit(jobs=len(job_ids))
    by_remote = {job["id"]: job for job in remote}
    for job in VideoJob.objects.filter(pk__in=job_ids):
        result.by_status[job.status] = result.by_status.get(job.status, 0) + 1
        _check_job(job, by_remote.get(job.remote_id or ""), cancelled, result)
    result.duplicate_creates = stats["duplicate_creates"]
    result.remote_jobs = stats["jobs_created"]
    result.retrieves = stats["requests"].get("retrieve", 0)
    result.retrieve_min_gap = stats.get("retrieve_min_gap")
    result.retrieves_max_per_job = max((job.get("retrieves", 0) for job in remote), default=0)
    result.jobs_polled_more_than_once = sum(1 for job in remote if job.get("retrieves", 0) > 1)
    result.provider_requests = sum(stats["requests"].get(route, 0)
                                   for route in ("create", "retrieve", "download"))
    if receiver is not None:
        _check_webhooks(job_ids, receiver, result)
    return result


def _check_job(job: Any, remote: dict[str, Any] | None, cancelled: set[str],
               result: Audit) -> None:
    from videogen.models import ArchiveStatus, Status

    key = str(job.pk)
    if key in cancelled:
        expected = Status.CANCELLED
    elif remote is None:
        expected = "(no remote job)"
    else:
        expected = Status.FAILED if remote["failing"] else Status.COMPLETED
    if job.status not in (Status.COMPLETED, Status.FAILED, Status.CANCELLED):
        result.lost.append(f"{key} {job.status} {job.error_code}")
        return
    if job.status != expected:
        result.wrong_state.append(f"{key} is {job.status}, expected {expected}")
        return
    if job.status == Status.COMPLETED:
        if job.archive_status != ArchiveStatus.ARCHIVED:
            result.lost.append(f"{key} completed, archive {job.archive_status}: "
                               f"{job.archive_error[:300]}")
        elif not archive_is_sound(job):
            result.corrupt_archives.append(key)
        else:
            result.archived += 1


def archive_is_sound(job: Any) -> bool:
    """The stored file exists, is not empty, and has the recorded size and sha256."""
    if not job.video or not job.video_bytes:
        return False
    digest, size = hashlib.sha256(), 0
    try:
        with job.video.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        return False
    return size == job.video_bytes and digest.hexdigest() == job.video_sha256


def _check_webhooks(job_ids: list[Any], receiver: Receiver, result: Audit) -> None:
    from videogen.webhooks.models import WebhookDelivery, WebhookEvent

    keys = {str(pk) for pk in job_ids}
    events = WebhookEvent.objects.filter(job_id__in=job_ids)
    result.events = events.count()
    result.events_undelivered = (events.exclude(
        deliveries__status=WebhookDelivery.Status.SUCCEEDED).count())
    received = [r for r in receiver.receipts if r.job in keys]
    result.receipts = len(received)
    result.duplicate_deliveries = len(received) - len({r.webhook_id for r in received})
    result.unsigned = sum(1 for r in received if not r.signed)
    ids: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for receipt in received:
        ids[(receipt.job, receipt.type, receipt.previous, receipt.status)].add(
            receipt.webhook_id)
    sizes = [len(value) for value in ids.values()] or [0]
    result.ids_per_event_max = max(sizes)
    result.events_with_two_ids = sum(1 for size in sizes if size > 1)
    missing = set(events.values_list("id", flat=True)) - {r.webhook_id for r in received}
    result.events_undelivered = max(result.events_undelivered, len(missing))


def write_figures(name: str, figures: dict[str, Any]) -> Path:
    """Each run leaves its figures in the system temp dir (and prints them) for the docs."""
    out = Path(os.environ.get("VIDEOGEN_RELIABILITY_OUT", tempfile.gettempdir()))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"videogen-reliability-{name}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    print(f"\n{name}: {json.dumps(figures, default=str)}")
    return path


class Clock:
    """``timezone.now()`` for the whole process, moved by hand. Like a real clock it never
    returns the same instant twice (events of one transition are ordered by ``created_at``)."""

    def __init__(self, monkeypatch):
        from django.utils import timezone

        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", self.tick)

    def tick(self):
        self.now += timedelta(microseconds=1)
        return self.now
