"""Scale-out: PostgreSQL, a Redis broker, two qcluster nodes, the sandbox with latency and a
live receiver; 1,000 jobs across models. Everything must end as the sandbox decided, archived
and verified, with one create per job, no job polled twice in a cycle and one webhook-id per
event. Figures: docs/reliability.md."""

import os
import random

import pytest

from tests.reliability import runs
from tests.reliability.cluster_settings import POLL
from tests.reliability.harness import write_figures

pytestmark = [pytest.mark.reliability(heavy=True), pytest.mark.postgres,
              pytest.mark.usefixtures("postgres_only"),
              pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]
JOBS = int(os.environ.get("VIDEOGEN_RELIABILITY_JOBS", "1000"))


def test_scale_out_two_nodes(tmp_path, settings, monkeypatch):
    rng = random.Random(8)
    with runs.environment(tmp_path, settings, monkeypatch, seed=8) as run:
        outcomes = runs.submit(run, JOBS, rng)
        settle_s = runs.drive(run, timeout=600)
        result = runs.figures(run, settle_s)
    result["submit_outcomes"] = outcomes
    write_figures("scale-out", result)
    assert_end_state(result, JOBS)


def assert_end_state(result, jobs):
    assert result["jobs"] == jobs
    assert result["lost"] == 0 and result["wrong_state"] == 0, result
    assert result["corrupt_archives"] == 0, result
    assert result["duplicate_creates"] == 0 and result["remote_jobs"] == jobs, result
    assert result["events_undelivered"] == 0 and result["unsigned"] == 0, result
    assert result["ids_per_event_max"] == 1, result
    # No job was fetched twice within one poll interval: no two pollers had it in one cycle.
    # (None: no job was fetched twice at all.)
    gap = result["retrieve_min_gap"]
    assert gap is None or gap >= 0.9 * POLL["MIN_INTERVAL"], result
