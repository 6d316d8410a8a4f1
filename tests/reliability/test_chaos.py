"""Chaos: the scale-out run while a driver SIGKILLs a random qcluster node every few seconds
(and restarts it), cuts every PostgreSQL connection once and restarts Redis once. Then the
sweeper and the next cycles must bring everything to the same end state as an undisturbed run.
Figures: docs/reliability.md."""

import os
import random
import time

import pytest

from tests.reliability import runs
from tests.reliability.chaos import KillNodes, RestartRedis, TerminatePostgres
from tests.reliability.harness import settled, webhooks_settled, write_figures
from tests.reliability.test_scale_out import assert_end_state

pytestmark = [pytest.mark.reliability(heavy=True), pytest.mark.postgres,
              pytest.mark.usefixtures("postgres_only"),
              pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]
JOBS = int(os.environ.get("VIDEOGEN_CHAOS_JOBS", "1000"))
CHAOS_SECONDS = 120


def test_chaos_converges(tmp_path, settings, monkeypatch):
    rng = random.Random(9)
    kills = KillNodes(rng)
    postgres, redis = TerminatePostgres(at=40), RestartRedis(at=80)
    with runs.environment(tmp_path, settings, monkeypatch, seed=9) as run:
        outcomes = runs.submit(run, JOBS, rng)
        disturbed_until = chaos(run, [kills, postgres, redis])
        converge_s, sweeps = converge(run, monkeypatch, disturbed_until)
        result = runs.figures(run, settle_s=CHAOS_SECONDS + converge_s)
        result.update(kills=run.nodes.kills, node_starts=sum(n.starts for n in run.nodes.nodes),
                      pg_backends_terminated=postgres.result, redis_restarts=redis.result,
                      converge_s=converge_s, forced_sweeps=sweeps, submit_outcomes=outcomes)
    write_figures("chaos", result)
    assert_end_state(result, JOBS)


def chaos(run, disturbances):
    """Disturb for CHAOS_SECONDS; returns when that ended (``time.time()``)."""
    started = last_kick = time.monotonic()
    runs.harness.kick_polls()
    while (elapsed := time.monotonic() - started) < CHAOS_SECONDS:
        for disturbance in disturbances:
            disturbance.tick(run, elapsed)
        if time.monotonic() - last_kick > 10:
            runs.harness.kick_polls(1)
            last_kick = time.monotonic()
        time.sleep(0.5)
    return time.time()


def converge(run, monkeypatch, disturbed_until, timeout=420):
    """Left alone, the scheduled cycles finish what the kills interrupted; what waits on the
    lease of a worker killed before ``disturbed_until`` is swept with the clock moved past
    it (:func:`runs.sweep_now`)."""
    started, sweeps = time.monotonic(), 0
    natural_until = started + 60
    while time.monotonic() - started < timeout:
        run.nodes.ensure_alive()
        if settled(run.ids) and webhooks_settled():
            return round(time.monotonic() - started, 1), sweeps
        runs.harness.kick_polls(1)
        if time.monotonic() > natural_until:
            print("forced sweep:", runs.sweep_now(monkeypatch, lost_by=disturbed_until))
            sweeps += 1
        time.sleep(10)
    raise AssertionError(f"no convergence after {timeout} s: {runs.progress(run)}\n"
                         f"{run.nodes.logs()}")
