"""P4: 100 jobs complete at once; how long from "completion detected" to "webhook received"?

Runs the demo's setup for real: a throwaway SQLite database with the ORM broker (or
PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set), the sandbox, a local receiver, and a
`manage.py qcluster` process with the demo's cluster settings. 100 jobs are queued at the
sandbox and due at once; one poll task detects them all completed; each is archived and its
`video.completed` event delivered. Latency per job = receiver's arrival time minus the time of
the job's `→ completed` history line.

    .venv/bin/python bench/p4_webhook_latency.py [--jobs 100]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
OUT.mkdir(parents=True, exist_ok=True)
LOG = open(OUT / "p4-qcluster.log", "w")  # noqa: SIM115
sys.path.insert(0, str(ROOT))


class Receiver:
    """Records when each video.completed arrives, by job id."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                arrived = time.time()
                event = json.loads(body)
                receiver.arrivals.setdefault(event["data"]["id"], arrived)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def setup_django(workdir: Path, sandbox_url: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{workdir / 'p4.sqlite3'}"),
        "TOGETHER_BASE_URL": sandbox_url, "TOGETHER_API_KEY": "bench",
        "MEDIA_ROOT": str(workdir / "media"), "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def queue_jobs(count: int, receiver_url: str) -> list[str]:
    from django.utils import timezone

    from videogen.client import VideoClient
    from videogen.models import Status, VideoJob
    from videogen.webhooks.endpoints import create_endpoint

    create_endpoint(receiver_url, event_types=["video.completed"])
    # One seed: the sandbox renders the clip once and serves it from its cache, so its own
    # rendering (which the real provider does elsewhere) does not compete for this machine's CPU.
    request = {"model": "google/veo-2.0", "prompt": "a bench lighthouse", "seconds": "1",
               "width": 1280, "height": 720, "fps": 8, "seed": 7}
    jobs = []
    with VideoClient.from_settings() as client:
        for _ in range(count):
            remote = client.create(request)
            jobs.append(VideoJob(**request, remote_id=remote.id, status=Status.QUEUED,
                                 submitted_at=timezone.now(), next_poll_at=None))
    VideoJob.objects.bulk_create(jobs)
    return [str(job.pk) for job in jobs]


def detected_times(ids: list[str]) -> dict[str, float]:
    from videogen.models import JobEvent

    rows = JobEvent.objects.filter(job_id__in=ids, new_status="completed")
    return {str(job_id): at.timestamp() for job_id, at in rows.values_list("job_id",
                                                                            "created_at")}


def archive_times(ids: list[str]) -> dict[str, list[float]]:
    """Each job's archive history lines (claimed, archived), in order."""
    from videogen.models import JobEvent

    rows = JobEvent.objects.filter(job_id__in=ids, kind=JobEvent.Kind.ARCHIVE).order_by("pk")
    times: dict[str, list[float]] = {}
    for job_id, at in rows.values_list("job_id", "created_at"):
        times.setdefault(str(job_id), []).append(at.timestamp())
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    from videogen.sandbox import SandboxServer

    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(time_scale=0) as sandbox:
        env = setup_django(Path(tmp), sandbox.url)
        ids = queue_jobs(args.jobs, receiver.url)
        cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT,
                                   env={**os.environ, **env}, start_new_session=True,
                                   stdout=LOG, stderr=subprocess.STDOUT)
        try:
            time.sleep(3)  # let the cluster start
            _make_due_and_poll(ids)
            deadline = time.monotonic() + args.timeout
            while len(receiver.arrivals) < len(ids) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop(cluster)
        detected, archived = detected_times(ids), archive_times(ids)
    report(args.jobs, detected, receiver.arrivals, archived)


def stop(cluster: subprocess.Popen) -> None:
    # django-q2 can take long to wind down its ORM-broker pusher: ask, then insist.
    os.killpg(cluster.pid, signal.SIGTERM)
    try:
        cluster.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def _make_due_and_poll(ids: list[str]) -> None:
    from django.utils import timezone

    from videogen.models import VideoJob
    from videogen.schedules import enqueue

    VideoJob.objects.filter(pk__in=ids).update(next_poll_at=timezone.now())
    enqueue("poll_due")


def report(count: int, detected: dict[str, float], arrivals: dict[str, float],
           archived: dict[str, list[float]]) -> None:
    from django.conf import settings

    latencies = [arrivals[i] - detected[i] for i in detected if i in arrivals]
    # Where the time goes: waiting for a worker, archiving, then delivering.
    done = [i for i in detected if i in arrivals and len(archived.get(i, [])) >= 2]
    phases = {
        "median_wait_s": [archived[i][0] - detected[i] for i in done],
        "median_archive_s": [archived[i][-1] - archived[i][0] for i in done],
        "median_deliver_s": [arrivals[i] - archived[i][-1] for i in done],
    }
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "jobs": count, "delivered": len(latencies),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "broker": "redis" if "redis" in settings.Q_CLUSTER else "orm",
        "workers": settings.Q_CLUSTER["workers"],
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        **{name: round(statistics.median(values), 3) for name, values in phases.items()
           if values},
        "span_s": round(max(arrivals.values()) - min(detected.values()), 3)
        if arrivals and detected else None,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "p4-times.json").write_text(json.dumps(
        {i: {"detected": detected[i], "archive": archived.get(i), "arrived": arrivals.get(i)}
         for i in detected}))
    (OUT / "p4.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print("targets: p50 <= 1 s, p99 <= 3 s")


if __name__ == "__main__":
    main()
