"""Schedules are created idempotently: by migrate (post_migrate) and by videogen_setup."""

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
