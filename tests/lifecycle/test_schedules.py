"""Schedules are created idempotently: by migrate (post_migrate) and by videogen_setup."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from videogen.schedules import POLL_SCHEDULE, SCHEDULES, SWEEP_SCHEDULE

pytestmark = pytest.mark.django_db


def test_migrate_created_the_schedules():
    # pytest-django ran migrate for the test database, which fired post_migrate.
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {POLL_SCHEDULE, SWEEP_SCHEDULE} <= names


def test_setup_command_is_idempotent(capsys):
    Schedule.objects.all().delete()
    for _ in range(3):
        call_command("videogen_setup")
    assert Schedule.objects.count() == len(SCHEDULES)
    poll = Schedule.objects.get(name=POLL_SCHEDULE)
    assert (poll.func, poll.schedule_type, poll.minutes, poll.repeats) == (
        "videogen.tasks.poll_due", Schedule.MINUTES, 1, -1)
    assert "Schedule ready: videogen: poll due jobs" in capsys.readouterr().out


def test_setup_repairs_an_edited_schedule():
    Schedule.objects.filter(name=POLL_SCHEDULE).update(minutes=60, func="x.y")
    call_command("videogen_setup")
    poll = Schedule.objects.get(name=POLL_SCHEDULE)
    assert (poll.func, poll.minutes) == ("videogen.tasks.poll_due", 1)


FIRST_TASK_PROBE = """
import json, sys, django
django.setup()
from django_q.signals import post_spawn
if sys.argv[1] == "spawned":
    post_spawn.send(sender="django_q", proc_name="Process-1:1")
before = set(sys.modules)
from videogen.client.core import tls_context
built = tls_context.cache_info().currsize
# What a worker's first archive, poll or webhook task does before its first byte goes out:
# load the code it runs and the TLS set-up of its HTTP client.
import contextlib, importlib
for name in ("videogen.archive", "videogen.polling", "videogen.webhooks.delivery", "av"):
    with contextlib.suppress(ImportError):  # PyAV is an optional extra
        importlib.import_module(name)
import httpx
httpx.AsyncClient(verify=tls_context())
print(json.dumps({"loaded": sorted(set(sys.modules) - before), "tls_ready": bool(built)}))
"""


def first_task(spawned: bool) -> dict[str, Any]:
    """What a fresh worker's first task loads itself (in an interpreter of its own: in this
    one everything is long imported), and whether its TLS context was ready."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", FIRST_TASK_PROBE,
                          "spawned" if spawned else "cold"], cwd=root, text=True,
                         capture_output=True, timeout=60, check=True,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"})
    return json.loads(out.stdout)


def test_a_new_worker_pays_its_one_time_costs_before_its_first_task():
    cold, warm = first_task(spawned=False), first_task(spawned=True)
    # Cold, the first task loads its code and PyAV and builds the TLS context (tens of ms,
    # bench P4); once the worker's post_spawn has run, it waits on nothing of the kind.
    assert "videogen.archive" in cold["loaded"] and not cold["tls_ready"]
    assert warm == {"loaded": [], "tls_ready": True}


@pytest.fixture
def kicks(monkeypatch):
    """Tasks poll_soon enqueued (no cluster runs here)."""
    from videogen import schedules

    started: list[str] = []
    monkeypatch.setattr(schedules, "enqueue", lambda task, *args: started.append(task))
    return started


def test_a_job_due_soon_starts_one_poll_loop_for_a_whole_burst(kicks):
    from datetime import timedelta

    from django.utils import timezone

    from videogen.schedules import poll_soon

    soon = timezone.now() + timedelta(seconds=2)
    assert poll_soon(soon) is True
    assert [poll_soon(soon) for _ in range(5)] == [False] * 5  # the loop started will look
    assert kicks == ["poll_due"]
    # Due later than one loop's time: the scheduled loops (every minute) are in time.
    assert poll_soon(timezone.now() + timedelta(minutes=5)) is False
    assert kicks == ["poll_due"]


def test_a_loop_that_stops_early_lets_the_next_submit_start_another(kicks, settings):
    from datetime import timedelta

    from django.utils import timezone

    from videogen import polling
    from videogen.models import PollCoverage
    from videogen.schedules import poll_soon

    polling.run_loop(seconds=5)  # nothing due: says it stops, then stops
    assert PollCoverage.objects.get().until <= timezone.now()
    assert poll_soon(timezone.now() + timedelta(seconds=1)) is True
    assert kicks == ["poll_due"]


def test_a_submit_never_starts_a_loop_in_sync_mode(kicks, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone
    from django_q.conf import Conf

    from videogen.schedules import poll_soon

    monkeypatch.setattr(Conf, "SYNC", True)  # it would run inline, inside the submit
    assert poll_soon(timezone.now() + timedelta(seconds=1)) is False
    assert kicks == []


def test_a_job_committed_while_the_loop_decides_to_stop_is_still_polled(monkeypatch):
    # The submit saw the loop covering (so started none); the loop's second look, after it
    # said it stops, finds the job and keeps going.
    from datetime import timedelta

    from django.utils import timezone

    from videogen import polling
    from videogen.models import PollCoverage
    from videogen.schedules import cover_polls

    until = timezone.now() + timedelta(seconds=30)
    cover_polls(until)
    looks = iter([None, 0.0])
    monkeypatch.setattr(polling, "seconds_until_next_due", lambda: next(looks))
    assert polling._wait_for_due(30.0, True, until) is True
    assert PollCoverage.objects.get().until == until


def test_an_archive_in_a_worker_is_leased_for_the_task_timeout_plus_a_minute(settings):
    # django-q2 kills a worker at its timeout: an older claim is a dead worker's, and the
    # sweeper (every minute) takes it over minutes later, not after a quarter of an hour.
    from videogen import archive

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 90}
    assert archive.lease_seconds(in_worker=True) == 150
    assert archive.lease_seconds() == 15 * 60  # wait() or the CLI: nothing bounds the run
    assert SCHEDULES[SWEEP_SCHEDULE][1] == 1
