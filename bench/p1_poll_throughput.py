"""P1: jobs polled per second by the poll loop vs. a sequential retrieve-and-save loop.

2,000 jobs in progress at the sandbox, 100 ms latency on every request. The poll loop
(`polling.run_loop(wait=False)`: claim, concurrent GETs with one AsyncClient, bulk write-back) runs
at several concurrencies; the baseline (the seeds' pattern: `retrieve` then `save` per job) runs
on 100 of the jobs. Targets: >= 40x the baseline, >= 80% of concurrency / latency.

    .venv/bin/python bench/p1_poll_throughput.py [--jobs 2000] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import time

from common import SandboxProcess, save, setup_django


def make_jobs(count: int) -> None:
    from django.utils import timezone

    from videogen.client import VideoClient
    from videogen.models import Status, VideoJob

    request = {"model": "google/veo-2.0", "prompt": "a bench harbour", "seed": 1}
    with VideoClient.from_settings() as client:
        ids = [client.create(request).id for _ in range(count)]
    VideoJob.objects.bulk_create([
        VideoJob(model=request["model"], prompt=request["prompt"], remote_id=remote_id,
                 status=Status.IN_PROGRESS, submitted_at=timezone.now())
        for remote_id in ids], batch_size=500)


def loop_rate(concurrency: int) -> dict[str, float]:
    from django.test import override_settings
    from django.utils import timezone

    from videogen import polling
    from videogen.models import VideoJob

    VideoJob.objects.update(next_poll_at=timezone.now())
    # A long typical duration: once polled, no job is due again during the measurement.
    conf = {"POLL": {"CONCURRENCY": concurrency, "BATCH_SIZE": 500},
            "MODELS": {"google/veo-2.0": {"typical_generation_seconds": 3600}}}
    with override_settings(VIDEOGEN=conf):
        started = time.perf_counter()
        report = polling.run_loop(seconds=600, wait=False)
        elapsed = time.perf_counter() - started
    return {"concurrency": concurrency, "polled": report.polled, "errors": report.errors,
            "seconds": round(elapsed, 2), "jobs_per_s": round(report.polled / elapsed, 1)}


def baseline_rate(count: int) -> float:
    from django.utils import timezone

    from videogen.client import VideoClient
    from videogen.models import VideoJob

    jobs = list(VideoJob.objects.all()[:count])
    started = time.perf_counter()
    with VideoClient.from_settings() as client:
        for job in jobs:
            remote = client.retrieve(job.remote_id)
            job.last_response, job.last_polled_at = remote.raw, timezone.now()
            job.save()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 32, 48, 64])
    args = parser.parse_args()
    # time_scale 100: jobs stay in progress for the whole run.
    with SandboxProcess("--time-scale", "100") as sandbox:
        setup_django(sandbox.url)
        make_jobs(args.jobs)
        sandbox.control("POST", "faults", json={"spec": f"latency={args.latency_ms}"})
        baseline = baseline_rate(100)
        runs = [loop_rate(c) for c in args.concurrency]
    latency = args.latency_ms / 1000
    for run in runs:
        run["vs_baseline"] = round(run["jobs_per_s"] / baseline, 1)
        run["efficiency"] = round(run["jobs_per_s"] / (run["concurrency"] / latency), 2)
    save("p1", {"jobs": args.jobs, "latency_ms": args.latency_ms,
                "baseline_jobs_per_s": round(baseline, 2), "loop": runs,
                "targets": ">= 40x baseline, >= 0.8 efficiency"})


if __name__ == "__main__":
    main()
