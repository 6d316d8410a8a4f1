"""P2: provider calls per job and detection delay, adaptive schedule vs. a fixed 5 s loop.

1. Simulation on a simulated clock (no waiting): 200 jobs per catalog model, durations drawn
   from the model's ``typical_generation_seconds`` ±40 % (uniform, fixed seed). The adaptive
   schedule is ``polling.next_poll_delay`` with default ``PollSettings``; the baseline polls
   every 5 s. Calls = GETs until the first one that sees the job finished; delay = that GET's
   time minus the real finish. Also shown with django-q2's cadence (the poll task runs 45 s of
   every minute; a job due in the gap waits for the next run), for both schedules.
2. One real run: jobs of six models submitted to the sandbox at ``--time-scale`` (0.05: a 90 s
   job takes ~4.5 s), polled by ``polling.run_loop`` with every schedule setting scaled by the
   same factor; calls counted by the sandbox, delays from its ``completed_at``. The simulation
   is run again on the same jobs' real durations to compare.

Targets: <= 1/3 of the fixed loop's calls; median detection delay <= 10 % of the job's duration.

    .venv/bin/python bench/p2_poll_calls.py [--time-scale 0.05] [--jobs-per-model 6]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Callable
from typing import Any

from common import Sandbox, database_vendor, save, setup_django, table

FIXED_INTERVAL = 5.0
LOOP_SECONDS, LOOP_EVERY = 45.0, 60.0
E2E_MODELS = ("pixverse/pixverse-v5", "google/veo-2.0", "google/veo-3.0",
              "kwaivgI/kling-2.1-pro", "minimax/hailuo-02", "openai/sora-2-pro")


# --- Simulation -----------------------------------------------------------------------------------


def follow(duration: float, delay_after: Callable[[float], float],
           phase: float | None = None) -> tuple[int, float]:
    """(calls, detection delay) for one job; ``phase`` = where in django-q2's minute the job
    was submitted (None: the loop runs all the time)."""
    age = calls = 0
    while True:
        age = _runs_at(age + delay_after(age), phase)
        calls += 1
        if age >= duration:
            return calls, age - duration


def _runs_at(due: float, phase: float | None) -> float:
    """When a poll due at ``due`` happens, given the loop runs 45 s of each minute."""
    if phase is None:
        return due
    into_minute = (phase + due) % LOOP_EVERY
    return due if into_minute < LOOP_SECONDS else due + LOOP_EVERY - into_minute


def schedules(typical: float) -> dict[str, Callable[[float], float]]:
    from videogen.conf import PollSettings
    from videogen.polling import next_poll_delay

    conf = PollSettings()
    return {"adaptive": lambda age: next_poll_delay(age, typical, conf),
            "fixed": lambda age: FIXED_INTERVAL}


def simulate(durations: list[float], typical: float, rng: random.Random, cadence: bool
             ) -> dict[str, dict[str, float]]:
    result = {}
    for name, delay_after in schedules(typical).items():
        runs = [follow(d, delay_after, rng.uniform(0, LOOP_EVERY) if cadence else None)
                for d in durations]
        result[name] = summary([c for c, _ in runs], [x for _, x in runs], durations)
    return result


def summary(calls: list[int], delays: list[float], durations: list[float]) -> dict[str, float]:
    shares = [delay / duration for delay, duration in zip(delays, durations, strict=True)]
    return {"calls": statistics.mean(calls), "delay_s": statistics.median(delays),
            "delay_share": statistics.median(shares)}


def simulation(jobs: int, cadence: bool) -> list[dict[str, Any]]:
    from videogen.catalog import BUILTIN

    rng, rows = random.Random(7), []
    for spec in BUILTIN.values():
        typical = spec.typical_generation_seconds
        durations = [typical * rng.uniform(0.6, 1.4) for _ in range(jobs)]
        result = simulate(durations, typical, rng, cadence)
        rows.append(_row(spec.id, typical, result))
    return rows


def _row(model: str, typical: float, result: dict[str, dict[str, float]]) -> dict[str, Any]:
    adaptive, fixed = result["adaptive"], result["fixed"]
    return {"model": model, "typical_s": typical,
            "calls_adaptive": round(adaptive["calls"], 1), "calls_fixed": round(fixed["calls"], 1),
            "calls_ratio": round(adaptive["calls"] / fixed["calls"], 2),
            "delay_adaptive_s": round(adaptive["delay_s"], 1),
            "delay_fixed_s": round(fixed["delay_s"], 1),
            "delay_share_adaptive": round(adaptive["delay_share"], 3),
            "delay_share_fixed": round(fixed["delay_share"], 3)}


# --- What if: the same shape with other first-poll and tight-interval fractions ----------------


def shaped(typical: float, first_fraction: float, tight_divisor: float
           ) -> Callable[[float], float]:
    """``next_poll_delay``'s shape with its two fractions as parameters (defaults 0.5 and 12);
    checked against the real function in :func:`what_if`."""
    from videogen.conf import PollSettings

    conf = PollSettings()

    def clamp(seconds: float) -> float:
        return min(max(seconds, conf.min_interval), conf.max_interval)

    def delay_after(age: float) -> float:
        if age < first_fraction * typical:
            return clamp(first_fraction * typical - age)
        tight = clamp(typical / tight_divisor)
        if age < typical * 1.5:
            return tight
        return clamp(tight + (age - typical * 1.5) * 0.5)

    return delay_after


WHAT_IF = [(0.5, 12), (0.6, 12), (0.6, 8), (0.6, 6)]
TYPICALS = (60.0, 90.0, 120.0, 180.0, 300.0)


def what_if(jobs: int) -> list[dict[str, Any]]:
    rng, rows = random.Random(11), []
    shipped = schedules(90.0)["adaptive"]
    assert all(shaped(90.0, 0.5, 12)(age) == shipped(age) for age in range(0, 400, 3))
    for first_fraction, divisor in WHAT_IF:
        row: dict[str, Any] = {"first_poll": first_fraction, "tight": f"typical/{divisor}"}
        for typical in TYPICALS:
            durations = [typical * rng.uniform(0.6, 1.4) for _ in range(jobs)]
            runs = [follow(d, shaped(typical, first_fraction, divisor)) for d in durations]
            fixed = sum(follow(d, lambda age: FIXED_INTERVAL)[0] for d in durations)
            share = statistics.median(x / d for (_, x), d in zip(runs, durations, strict=True))
            row[f"{typical:.0f}s"] = f"{sum(c for c, _ in runs) / fixed:.2f} / {share:.3f}"
        rows.append(row)
    return rows


def overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """All models weighted alike (same number of jobs each)."""
    ratio = sum(r["calls_adaptive"] for r in rows) / sum(r["calls_fixed"] for r in rows)
    return {"calls_ratio": round(ratio, 3),
            "models_over_one_third": [r["model"] for r in rows if r["calls_ratio"] > 1 / 3],
            "worst_delay_share": max(r["delay_share_adaptive"] for r in rows),
            "median_of_model_delay_shares": round(statistics.median(
                r["delay_share_adaptive"] for r in rows), 3)}


# --- The real run ---------------------------------------------------------------------------------


def scaled_settings(scale: float, fixed: bool) -> dict[str, Any]:
    """Every time in the schedule multiplied by ``scale`` (the schedule is linear in them, so
    the calls per job are the same as at full scale). Fixed: min = max interval = 5 s."""
    from videogen.catalog import BUILTIN
    from videogen.conf import PollSettings

    conf = PollSettings()
    low, high = (FIXED_INTERVAL, FIXED_INTERVAL) if fixed else (conf.min_interval,
                                                                conf.max_interval)
    return {"POLL": {"MIN_INTERVAL": low * scale, "MAX_INTERVAL": high * scale,
                     "FIRST_POLL_FRACTION": conf.first_poll_fraction},
            "MODELS": {model: {"typical_generation_seconds":
                               BUILTIN[model].typical_generation_seconds * scale}
                       for model in E2E_MODELS}}


def real_run(sandbox: Sandbox, scale: float, per_model: int, fixed: bool) -> dict[str, Any]:
    from django.test import override_settings

    from videogen import polling, submission
    from videogen.models import VideoJob

    VideoJob.objects.all().delete()
    gets_before = sandbox.control.stats()["requests"].get("retrieve", 0)
    with override_settings(VIDEOGEN=scaled_settings(scale, fixed)):
        for model in E2E_MODELS:
            for number in range(per_model):
                job = VideoJob.objects.create(model=model, prompt=f"harbour {number}",
                                              seed=number)
                submission.submit(job)
        report = polling.run_loop(seconds=2000 * scale)
    jobs = list(VideoJob.objects.all())
    return {"gets": sandbox.control.stats()["requests"].get("retrieve", 0) - gets_before,
            "jobs": jobs, "statuses": sorted({job.status for job in jobs}),
            "loop_errors": report.errors}


def real_summary(run: dict[str, Any], scale: float, fixed: bool) -> dict[str, Any]:
    """Measured calls and delays, and what the simulation predicts for the same durations."""
    jobs = [job for job in run["jobs"] if job.finished_at and job.last_polled_at]
    durations = [(job.finished_at - job.submitted_at).total_seconds() / scale for job in jobs]
    delays = [(job.last_polled_at - job.finished_at).total_seconds() / scale for job in jobs]
    predicted = [follow(d, schedules(_typical(job))["fixed" if fixed else "adaptive"])[0]
                 for d, job in zip(durations, jobs, strict=True)]
    measured = summary([job.poll_attempts for job in jobs], delays, durations)
    # poll_attempts (the app's count) cross-checks the sandbox's count of GETs.
    return {"schedule": "fixed 5 s" if fixed else "adaptive", "jobs": len(run["jobs"]),
            "completed": len(jobs), "gets_per_job": round(run["gets"] / len(run["jobs"]), 2),
            "poll_attempts_per_job": round(measured["calls"], 2),
            "predicted_calls_per_job": round(statistics.mean(predicted), 2),
            "median_delay_s": round(measured["delay_s"], 1),
            "median_delay_share": round(measured["delay_share"], 3),
            "loop_errors": run["loop_errors"]}


def transition_keeps_schedule() -> bool:
    """Does a queued -> in_progress answer keep the next poll time the loop computed? (When it
    does not, each job pays one extra GET right after its first poll.)"""
    from datetime import timedelta

    from django.utils import timezone

    from videogen import lifecycle
    from videogen.client.schemas import RemoteJob
    from videogen.models import Status, VideoJob

    job = VideoJob.objects.create(model=E2E_MODELS[0], prompt="a check", remote_id="check",
                                  status=Status.QUEUED, submitted_at=timezone.now())
    wanted = timezone.now() + timedelta(seconds=40)
    lifecycle.apply_remote(job, RemoteJob.from_payload(
        {"id": "check", "model": job.model, "status": "in_progress"}), next_poll_at=wanted)
    job.refresh_from_db()
    job.delete()
    return job.next_poll_at == wanted


def _typical(job: Any) -> float:
    from videogen.catalog import BUILTIN

    return BUILTIN[job.model].typical_generation_seconds


# --- Main ---------------------------------------------------------------------------------------


SIM_COLUMNS = ["model", "typical_s", "calls_adaptive", "calls_fixed", "calls_ratio",
               "delay_adaptive_s", "delay_fixed_s", "delay_share_adaptive", "delay_share_fixed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="simulated jobs per model")
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--jobs-per-model", type=int, default=6, help="real run")
    args = parser.parse_args()
    with Sandbox("--time-scale", str(args.time_scale)) as sandbox:
        setup_django(sandbox.url)
        continuous, cadence = simulation(args.jobs, False), simulation(args.jobs, True)
        variants = what_if(args.jobs * 5)
        keeps_schedule = transition_keeps_schedule()
        real = [real_summary(real_run(sandbox, args.time_scale, args.jobs_per_model, fixed),
                             args.time_scale, fixed) for fixed in (False, True)]
    print("Simulation, loop polling whenever a job is due:")
    print(table(continuous, SIM_COLUMNS), "\n", overall(continuous))
    print("\nSimulation with django-q2's cadence (45 s of each minute):")
    print(table(cadence, SIM_COLUMNS), "\n", overall(cadence))
    print("\nWhat if (calls ratio vs. fixed 5 s / median delay share, by typical duration):")
    print(table(variants, list(variants[0])))
    print(f"\nReal run against the sandbox (time_scale {args.time_scale}, unscaled units):")
    print(table(real, list(real[0])))
    real_ratio = round(real[0]["gets_per_job"] / real[1]["gets_per_job"], 3)
    print(f"real calls ratio adaptive / fixed: {real_ratio}")
    print(f"queued -> in_progress keeps the computed next poll: {keeps_schedule}")
    save("p2", {"simulated_jobs_per_model": args.jobs, "duration_spread": "typical x U(0.6, 1.4)",
                "continuous": {"per_model": continuous, "overall": overall(continuous)},
                "django_q_cadence": {"per_model": cadence, "overall": overall(cadence)},
                "what_if": variants,
                "real_run": {"time_scale": args.time_scale, "database": database_vendor(),
                             "models": E2E_MODELS, "results": real,
                             "calls_ratio": real_ratio,
                             "transition_keeps_schedule": keeps_schedule},
                "targets": {"calls_ratio": "<= 0.333", "median_delay_share": "<= 0.10"}})


if __name__ == "__main__":
    main()
