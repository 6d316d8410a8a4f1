"""P2: provider calls per job and detection delay, adaptive schedule vs. a fixed 5 s loop.

A simulated clock (no waiting): each model's jobs take its catalog typical duration ±40 %;
the adaptive schedule (`polling.next_poll_delay` with default settings) and a fixed 5 s loop
poll until they see the job finished. Targets: <= 1/3 the calls, median detection delay
<= 10 % of the job's duration.

    .venv/bin/python bench/p2_poll_calls.py
"""

from __future__ import annotations

import os
import random
import statistics

import django
from common import save

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()  # the schedule lives in videogen.polling, which imports the models

from videogen.catalog import BUILTIN  # noqa: E402
from videogen.conf import PollSettings  # noqa: E402
from videogen.polling import next_poll_delay  # noqa: E402


def polls_until_seen(duration: float, delay_at: object) -> tuple[int, float]:
    age, calls = 0.0, 0
    while age < duration:
        age += delay_at(age)
        calls += 1
    return calls, age - duration


def main() -> None:
    conf, rng = PollSettings(), random.Random(7)
    rows = []
    for spec in BUILTIN.values():
        typical = spec.typical_generation_seconds
        durations = [typical * rng.uniform(0.6, 1.4) for _ in range(200)]
        adaptive = [polls_until_seen(d, lambda age, t=typical: next_poll_delay(age, t, conf))
                    for d in durations]
        fixed = [polls_until_seen(d, lambda age: 5.0) for d in durations]
        rows.append({
            "model": spec.id, "typical_s": typical,
            "calls_adaptive": round(statistics.mean(c for c, _ in adaptive), 1),
            "calls_fixed_5s": round(statistics.mean(c for c, _ in fixed), 1),
            "delay_share_median": round(statistics.median(
                delay / d for (_, delay), d in zip(adaptive, durations, strict=True)), 3),
        })
    total_adaptive = sum(r["calls_adaptive"] for r in rows)
    total_fixed = sum(r["calls_fixed_5s"] for r in rows)
    save("p2", {"per_model": rows, "calls_ratio": round(total_adaptive / total_fixed, 3),
                "worst_delay_share": max(r["delay_share_median"] for r in rows),
                "targets": "calls_ratio <= 0.333, delay share <= 0.10"})


if __name__ == "__main__":
    main()
