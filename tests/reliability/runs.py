"""The scale-out run and its chaos variant: PostgreSQL, a Redis broker of the run's own, two
qcluster nodes, the sandbox in its own process with latency, a live receiver, N jobs across
models. ``Disturbance`` objects are called while the run goes on (the chaos driver)."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.reliability import harness
from tests.reliability.cluster_settings import POLL, Q_CLUSTER

# Sandbox generation at a fifth of real time: the catalog's 60-240 s jobs take 12-60 s, so most
# jobs are polled several times (first poll at 5 % of the typical time, then every T/12).
TIME_SCALE = "0.2"
# Every provider request waits this long (a provider on another continent).
LATENCY_MS = 20
# Share of jobs the sandbox makes fail, and of jobs cancelled here after submission.
FAIL_RATE = 0.05
CANCEL_FRACTION = 0.02


@dataclass
class Run:
    tmp: Path
    jobs: list[Any] = field(default_factory=list)
    cancelled: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)
    sandbox: harness.SandboxProcess | None = None
    redis: harness.RedisServer | None = None
    receiver: harness.Receiver | None = None
    nodes: harness.Nodes | None = None

    @property
    def ids(self) -> list[Any]:
        return [job.pk for job in self.jobs]


@contextlib.contextmanager
def environment(tmp: Path, settings: Any, monkeypatch: Any, *, seed: int) -> Iterator[Run]:
    """Start everything; stop everything (kill process groups) whatever happens."""
    from videogen.schedules import ensure_schedules
    from videogen.webhooks.endpoints import create_endpoint

    run = Run(tmp=tmp)
    try:
        run.redis = harness.RedisServer(tmp).start()
        run.sandbox = harness.SandboxProcess(
            "--time-scale", TIME_SCALE, "--seed", str(seed),
            "--fault", f"latency={LATENCY_MS}",
            "--fault", f"fail_job route=create rate={FAIL_RATE}")
        run.receiver = harness.Receiver()
        settings.VIDEOGEN = {**settings.VIDEOGEN, "BASE_URL": run.sandbox.url,
                             "API_KEY": run.sandbox.api_key, "POLL": POLL, "TIMEOUT": 10}
        # This process sweeps the nodes' archives: it must know their leases (task timeout).
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": Q_CLUSTER["timeout"]}
        harness.use_redis_broker(monkeypatch, run.redis.url)
        ensure_schedules()
        _, run.receiver.secret = create_endpoint(run.receiver.url,
                                                 description="reliability receiver")
        env = harness.node_env(run.sandbox, tmp / "media", run.redis.url)
        run.nodes = harness.Nodes(2, env, tmp).start()
        yield run
    finally:
        _stop(run)


def _stop(run: Run) -> None:
    if run.nodes is not None:
        run.nodes.stop()
    if run.receiver is not None:
        run.receiver.stop()
    if run.sandbox is not None:
        run.sandbox.stop()
    if run.redis is not None:
        run.redis.stop()


def submit(run: Run, count: int, rng: random.Random) -> dict[str, int]:
    started = time.monotonic()
    run.jobs = harness.make_jobs(count, tag=f"run{rng.randrange(1 << 30)}")
    outcomes = harness.submit_all(run.jobs)
    run.timings["submit_s"] = round(time.monotonic() - started, 1)
    run.cancelled = harness.cancel_some(run.jobs, CANCEL_FRACTION, rng)
    return outcomes


class Disturbance:
    """Something the chaos driver does now and then; ``tick`` is called about once a second."""

    def tick(self, run: Run, elapsed: float) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def drive(run: Run, *, timeout: float, disturbances: list[Disturbance] = (),
          disturb_for: float = 0.0, poll_every: float = 10.0) -> float:
    """Keep poll loops queued (and disturb, for ``disturb_for`` seconds) until every job and
    every delivery has settled; returns the seconds it took."""
    started = last_kick = time.monotonic()
    harness.kick_polls()
    while time.monotonic() - started < timeout:
        elapsed = time.monotonic() - started
        if elapsed < disturb_for:
            for disturbance in disturbances:
                disturbance.tick(run, elapsed)
        elif harness.settled(run.ids) and harness.webhooks_settled():
            return round(elapsed, 1)
        if time.monotonic() - last_kick > poll_every:
            run.nodes.ensure_alive()
            harness.kick_polls(1)
            last_kick = time.monotonic()
        time.sleep(1.0)
    raise AssertionError(f"not settled after {timeout:.0f} s: {progress(run)}\n"
                         f"{run.nodes.logs()}")


def progress(run: Run) -> dict[str, Any]:
    from django.db.models import Count

    from videogen.models import VideoJob
    from videogen.webhooks.models import WebhookDelivery

    rows = (VideoJob.objects.filter(pk__in=run.ids).values("status", "archive_status")
            .annotate(n=Count("pk")))
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count()
    return {"jobs": [(r["status"], r["archive_status"], r["n"]) for r in rows],
            "deliveries_pending": pending}


@contextlib.contextmanager
def clock_ahead(monkeypatch: Any, seconds: float) -> Iterator[None]:
    """This process's ``timezone.now()`` runs ``seconds`` ahead: leases and grace periods of
    the sweeper and of webhook claims are over, without waiting for them."""
    from django.utils import timezone

    real = timezone.now
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: real() + timedelta(seconds=seconds))
        yield


def sweep_now(monkeypatch: Any, *, lost_by: float) -> dict[str, Any]:
    """What the next scheduled sweep and webhook retries would do once the leases of every
    worker lost by ``lost_by`` (a ``time.time()``: the end of the disturbances) have run out,
    run here with the clock moved just past them. Not further: an archive a live worker took
    later must keep its lease, or each forced sweep counts it as a lost worker and the third
    fails it. Deliveries are retried with the clock 16 minutes ahead (their lease is 2 minutes;
    a live one taken over is delivered twice, which receivers must bear anyway)."""
    from dataclasses import asdict

    from videogen import archive, sweeper
    from videogen.webhooks import delivery

    expired = lost_by + archive.lease_seconds(in_worker=True)
    with clock_ahead(monkeypatch, max(0.0, expired - time.time())):
        report = asdict(sweeper.sweep())
    with clock_ahead(monkeypatch, 16 * 60):
        report["deliveries"] = delivery.deliver_due(seconds=60)
    return report


def figures(run: Run, settle_s: float) -> dict[str, Any]:
    audit = harness.audit(run.ids, run.sandbox.control.jobs(), run.sandbox.control.stats(),
                          run.receiver, run.cancelled)
    result = audit.figures()
    # The counts go to the docs; a failed run also needs to say which jobs and why.
    result["not_as_expected"] = (audit.lost + audit.wrong_state)[:10]
    result.update(run.timings, settle_s=settle_s, cancelled_here=len(run.cancelled),
                  requests_per_job=round(result["provider_requests"] / max(1, len(run.ids)),
                                         2))
    return result
