"""P4: 100 jobs complete at once; how long from "completion detected" to "webhook received"?

Runs the demo's setup for real: a throwaway SQLite database with the ORM broker as in the
demo (or a throwaway database on the PostgreSQL server of DATABASE_URL, and Redis when
REDIS_URL is set, on a queue of this run's own), the sandbox in its own process, a local
receiver, and a
`manage.py qcluster` process with the demo's cluster settings. 100 jobs are queued at the
sandbox and due at once; one poll task detects them all completed; each is archived and its
`video.completed` event delivered. Latency per job = receiver's arrival time minus the time of
the job's `→ completed` history line.

    .venv/bin/python bench/p4_webhook_latency.py [--jobs 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import OUT, ROOT, Sandbox, save, setup_django

OUT.mkdir(parents=True, exist_ok=True)
LOG = open(OUT / "p4-qcluster.log", "w")  # noqa: SIM115


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


def queue_jobs(count: int, receiver_url: str) -> list[str]:
    from django.utils import timezone

    from videogen.models import Status, VideoJob
    from videogen.provider import video_client
    from videogen.webhooks.endpoints import create_endpoint

    create_endpoint(receiver_url, event_types=["video.completed"])
    # One seed: the sandbox renders the clip once and serves it from its cache, so its own
    # rendering (which the real provider does elsewhere) does not compete for this machine's CPU.
    request = {"model": "google/veo-2.0", "prompt": "a bench lighthouse", "seconds": "1",
               "width": 1280, "height": 720, "fps": 8, "seed": 7}
    jobs = []
    with video_client() as client:
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
    parser.add_argument("--rounds", type=int, default=5,
                        help="independent runs (fresh database, queue and cluster each)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_round(args.jobs, args.timeout)))
        return
    rounds = []
    for number in range(1, args.rounds + 1):
        # A process per round: Django is set up once per process, on that round's database.
        out = subprocess.run([sys.executable, __file__, "--one", "--jobs", str(args.jobs),
                              "--timeout", str(args.timeout)], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        rounds.append(json.loads(out.strip().splitlines()[-1]))
        print(f"round {number}: " + ", ".join(f"{k} {rounds[-1].get(k)}" for k in SHOWN))
    summarise(rounds)


def one_round(jobs: int, timeout: float) -> dict[str, object]:
    # A cluster name, hence a Redis queue, of this run's own: nothing left by an earlier run.
    os.environ["VIDEOGEN_TEST_DB_SUFFIX"] = f"-p4-{uuid.uuid4().hex[:8]}"
    receiver = Receiver()
    with Sandbox("--time-scale", "0") as sandbox:
        setup_django(sandbox.url)
        ids = queue_jobs(jobs, receiver.url)
        cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT,
                                   env=os.environ, start_new_session=True,
                                   stdout=LOG, stderr=subprocess.STDOUT)
        try:
            time.sleep(3)  # let the cluster start
            roles = {"cluster": cluster.pid, "sandbox": sandbox.process.pid, "bench": os.getpid()}
            before = cpu_seconds(roles)
            _make_due_and_poll(ids)
            deadline = time.monotonic() + timeout
            while len(receiver.arrivals) < len(ids) and time.monotonic() < deadline:
                time.sleep(0.2)
            used = {role: round((cpu_seconds(roles)[role] - before[role]) * 1000 / jobs, 1)
                    for role in roles} if before else {}
        finally:
            stop(cluster)
        detected, archived = detected_times(ids), archive_times(ids)
        return {**measure(jobs, detected, receiver.arrivals, archived),
                **{f"cpu_ms_per_job_{role}": value for role, value in used.items()}}


def cpu_seconds(roles: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) of each process and its descendants, from /proc (Linux only;
    empty elsewhere). Read before and after the burst: where the two cores went."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parent, used = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has just exited
            continue
        pid = int(stat.parent.name)
        parent[pid], used[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
    role_of = {pid: role for role, pid in roles.items()}
    totals = dict.fromkeys(roles, 0.0)
    for pid, seconds in used.items():
        ancestor = pid
        while ancestor > 1 and ancestor not in role_of:
            ancestor = parent.get(ancestor, 0)
        if ancestor in role_of:
            totals[role_of[ancestor]] += seconds
    return totals if used else {}


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


def measure(count: int, detected: dict[str, float], arrivals: dict[str, float],
            archived: dict[str, list[float]]) -> dict[str, object]:
    from django.conf import settings

    latencies = [arrivals[i] - detected[i] for i in detected if i in arrivals]
    first = min(detected.values()) if detected else 0.0
    # Where the time goes: waiting for a worker, archiving, then delivering.
    done = [i for i in detected if i in arrivals and len(archived.get(i, [])) >= 2]
    phases = {
        "median_wait_s": [archived[i][0] - detected[i] for i in done],
        "median_archive_s": [archived[i][-1] - archived[i][0] for i in done],
        "median_deliver_s": [arrivals[i] - archived[i][-1] for i in done],
    }
    result = {
        "jobs": count, "delivered": len(latencies),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "broker": "redis" if "redis" in settings.Q_CLUSTER else "orm",
        "workers": settings.Q_CLUSTER["workers"],
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        **{name: round(statistics.median(values), 3) for name, values in phases.items()
           if values},
        # The same, counted from the first completion seen (as if all finished at that moment):
        # what a consumer waits when its whole batch completes together.
        "p50_from_first_s": round(statistics.median(
            [arrivals[i] - first for i in detected if i in arrivals]), 3)
        if latencies else None,
        "span_s": round(max(arrivals.values()) - first, 3)
        if arrivals and detected else None,
    }
    (OUT / "p4-times.json").write_text(json.dumps(
        {i: {"detected": detected[i], "archive": archived.get(i), "arrived": arrivals.get(i)}
         for i in detected}))
    return result


SHOWN = ("p50_s", "p99_s", "p50_from_first_s", "span_s", "delivered",
         "cpu_ms_per_job_cluster")


def summarise(rounds: list[dict[str, object]]) -> None:
    """The median round's figures (this machine is shared: one round can be twice another)."""
    first = rounds[0]
    summary = {key: first[key] for key in ("jobs", "database", "broker", "workers")}
    for key in ("p50_s", "p99_s", "p50_from_first_s", "span_s", "median_wait_s",
                "median_archive_s", "median_deliver_s", "cpu_ms_per_job_cluster",
                "cpu_ms_per_job_sandbox", "cpu_ms_per_job_bench"):
        values = [r[key] for r in rounds if r.get(key) is not None]
        summary[f"median_{key}" if not key.startswith("median") else key] = (
            round(statistics.median(values), 3) if values else None)
    summary["worst_p99_s"] = max((r["p99_s"] for r in rounds if r.get("p99_s") is not None),
                                 default=None)
    summary["all_delivered"] = all(r["delivered"] == r["jobs"] for r in rounds)
    print(json.dumps(summary, indent=2))
    save("p4", {"summary": summary, "rounds": rounds})
    print("targets: p50 <= 1 s, p99 <= 3 s")


if __name__ == "__main__":
    main()
