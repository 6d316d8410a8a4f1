"""P1: jobs polled per second by the real poll loop vs. the seeds' sequential pattern.

2,000 jobs in progress at the sandbox (real creates; time_scale 100 keeps them running), every
request delayed 100 ms. Measured side by side in one run:

- baseline: the seeds' pattern, ``VideoClient.retrieve`` then ``job.save()`` per job, on 100 jobs;
- ``polling.run_loop(wait=False)`` as shipped (claims, GETs in flight on the fetch thread while
  the caller writes answers back) at POLL CONCURRENCY 16/32/48/64/96, every job due once, with
  the caller's time in claiming and in writing back (both overlap the requests);
- the client alone (``fetch_all`` below: ``asyncio.gather``, 640 GETs at 64 in flight, no
  fetch thread): one httpx pool of 64 connections vs. the shipped pools of 8
  (``videogen.client.pools``), to keep the reason for the pools visible.

Targets: loop >= 40x the baseline; efficiency = rate / (concurrency / latency) >= 80%.

    .venv/bin/python bench/p1_poll_throughput.py [--jobs 2000] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from common import Sandbox, database_vendor, save, setup_django, table, timed

MODEL = "google/veo-2.0"
REQUEST = {"model": MODEL, "prompt": "a harbour at dawn, benchmark", "seed": 1}


def create_remote_jobs(count: int) -> list[str]:
    """Real creates against the sandbox, 16 at a time (before the latency fault is on)."""
    from videogen.provider import async_video_client

    async def create_all() -> list[str]:
        limit = asyncio.Semaphore(16)
        async with async_video_client() as client:
            async def one() -> str:
                async with limit:
                    return (await client.create(REQUEST)).id
            return await asyncio.gather(*(one() for _ in range(count)))

    return asyncio.run(create_all())


def store_jobs(remote_ids: list[str]) -> None:
    from django.utils import timezone

    from videogen.models import Status, VideoJob

    now = timezone.now()
    VideoJob.objects.bulk_create([
        VideoJob(model=MODEL, prompt=REQUEST["prompt"], seed=1, remote_id=remote_id,
                 status=Status.IN_PROGRESS, submitted_at=now, started_at=now, next_poll_at=now)
        for remote_id in remote_ids], batch_size=500)


def baseline(count: int) -> dict[str, Any]:
    """The seeds' loop: one GET, then a full save, job after job."""
    from django.utils import timezone

    from videogen.models import VideoJob
    from videogen.provider import video_client

    jobs = list(VideoJob.objects.order_by("pk")[:count])
    started = time.perf_counter()
    with video_client() as client:
        for job in jobs:
            remote = client.retrieve(job.remote_id)
            job.last_response, job.last_polled_at = remote.raw, timezone.now()
            job.poll_attempts += 1
            job.save()
    seconds = time.perf_counter() - started
    return {"jobs": count, "seconds": round(seconds, 2), "jobs_per_s": round(count / seconds, 2)}


class PhaseClock:
    """Wraps polling's claim and write-back to time the caller's share of the real loop."""

    PHASES = ("claim_due", "write_back")

    def __init__(self, polling: Any) -> None:
        self.seconds = {"claim": 0.0, "write_back": 0.0}
        self.polling = polling
        self.originals = {name: getattr(polling, name) for name in self.PHASES}

    def __enter__(self) -> PhaseClock:
        claim, write = (self.originals[name] for name in self.PHASES)

        def claim_due(*args: Any, **kwargs: Any) -> Any:
            return self._add("claim", claim, *args, **kwargs)

        def write_back(*args: Any, **kwargs: Any) -> Any:
            return self._add("write_back", write, *args, **kwargs)

        self.polling.claim_due, self.polling.write_back = claim_due, write_back
        return self

    def _add(self, phase: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            self.seconds[phase] += time.perf_counter() - started

    def __exit__(self, *exc: object) -> None:
        for name, original in self.originals.items():
            setattr(self.polling, name, original)


def loop_run(concurrency: int, sandbox: Sandbox, latency: float) -> dict[str, Any]:
    """One pass of the real loop over every job (each due once)."""
    from django.test import override_settings
    from django.utils import timezone

    from videogen import polling
    from videogen.models import VideoJob

    VideoJob.objects.update(next_poll_at=timezone.now())
    # MIN_INTERVAL 600: a polled job is not due again while the pass is running.
    conf = {"POLL": {"CONCURRENCY": concurrency, "BATCH_SIZE": 500, "MIN_INTERVAL": 600}}
    gets_before, cpu_before = retrieves(sandbox), time.process_time()
    with override_settings(VIDEOGEN=conf), PhaseClock(polling) as clock:
        report, seconds = timed(polling.run_loop, seconds=600, wait=False)
    rate = report.polled / seconds
    return {"concurrency": concurrency,
            "polled": report.polled, "errors": report.errors,
            "gets": retrieves(sandbox) - gets_before, "seconds": round(seconds, 2),
            "jobs_per_s": round(rate, 1), "efficiency": round(rate / (concurrency / latency), 2),
            "cpu_s": round(time.process_time() - cpu_before, 2),
            **{f"{phase}_s": round(value, 2) for phase, value in clock.seconds.items()}}


def retrieves(sandbox: Sandbox) -> int:
    return sandbox.control.stats()["requests"].get("retrieve", 0)


async def fetch_all(client: Any, remote_ids: list[str], concurrency: int) -> list[Any]:
    """``retrieve`` every id, at most ``concurrency`` at a time; errors are returned."""
    from videogen.client import errors

    limit = asyncio.Semaphore(concurrency)

    async def one(remote_id: str) -> Any:
        async with limit:
            try:
                return await client.retrieve(remote_id)
            except errors.VideoAPIError as error:
                return error

    return await asyncio.gather(*(one(remote_id) for remote_id in remote_ids))


def client_only(pools: str, concurrency: int, latency: float, count: int) -> dict[str, Any]:
    """The client alone (:func:`fetch_all`) on warm connections: one pool, or the shipped
    pools."""
    import httpx

    from videogen.models import VideoJob
    from videogen.provider import async_video_client

    jobs = list(VideoJob.objects.values_list("remote_id", flat=True)[:count])

    async def run() -> tuple[float, float]:
        single = None
        if pools == "one pool":
            limits = httpx.Limits(max_connections=concurrency,
                                  max_keepalive_connections=concurrency)
            single = httpx.AsyncClient(limits=limits, timeout=30)
        client = async_video_client(max_retries=0, max_connections=concurrency,
                                                http_client=single)
        try:
            await fetch_all(client, jobs[:concurrency], concurrency)  # connect
            started, cpu = time.perf_counter(), time.process_time()
            results = await fetch_all(client, jobs, concurrency)
            assert not any(isinstance(result, Exception) for result in results)
            return time.perf_counter() - started, time.process_time() - cpu
        finally:
            await client.aclose()
            if single is not None:
                await single.aclose()

    seconds, cpu = asyncio.run(run())
    return {"client": pools, "concurrency": concurrency, "gets": count,
            "gets_per_s": round(count / seconds), "efficiency":
            round(count / seconds / (concurrency / latency), 2),
            "cpu_ms_per_get": round(1000 * cpu / count, 2)}


LOOP_COLUMNS = ["concurrency", "jobs_per_s", "vs_baseline", "efficiency", "seconds",
                "claim_s", "write_back_s", "cpu_s", "errors"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--baseline-jobs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 32, 48, 64, 96])
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    with Sandbox("--time-scale", "100") as sandbox:
        setup_django(sandbox.url)
        store_jobs(create_remote_jobs(args.jobs))
        sandbox.control.add_fault(f"latency={args.latency_ms:g}")
        base = baseline(args.baseline_jobs)
        print(f"baseline: {base['jobs_per_s']} jobs/s over {base['jobs']} jobs", flush=True)
        runs = []
        for concurrency in args.concurrency:
            runs.append(loop_run(concurrency, sandbox, latency))
            runs[-1]["vs_baseline"] = round(runs[-1]["jobs_per_s"] / base["jobs_per_s"], 1)
            print(runs[-1], flush=True)
        clients = [client_only(pools, 64, latency, 640) for pools in ("shipped pools", "one pool")]
    print(table(runs, LOOP_COLUMNS))
    print(table(clients, list(clients[0])))
    save("p1", {"jobs": args.jobs, "latency_ms": args.latency_ms, "database": database_vendor(),
                "baseline": base, "loop": runs, "client_only": clients,
                "targets": {"vs_baseline": ">= 40", "efficiency": ">= 0.80"}})


if __name__ == "__main__":
    main()
