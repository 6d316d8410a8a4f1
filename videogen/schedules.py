"""How work reaches django-q2: one-off tasks enqueued after commit, and the periodic schedules.

Schedules are upserted by name (``post_migrate`` and ``manage.py videogen_setup``), so repeated
start-ups never duplicate them. Tasks get primary keys only, never pickled objects.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

logger = logging.getLogger("videogen.tasks")

GROUP = "videogen"
POLL_SCHEDULE = "videogen: poll due jobs"
SWEEP_SCHEDULE = "videogen: sweep stranded work"
WEBHOOK_SCHEDULE = "videogen: deliver due webhooks"

#: name → (task function, minutes between runs)
SCHEDULES: dict[str, tuple[str, int]] = {
    POLL_SCHEDULE: ("videogen.tasks.poll_due", 1),
    # Every minute too: a killed worker's archive is taken over a minute after its lease ends.
    SWEEP_SCHEDULE: ("videogen.tasks.sweep", 1),
    WEBHOOK_SCHEDULE: ("videogen.tasks.deliver_due_webhooks", 1),
}


def enqueue(task: str, *args: Any) -> str | None:
    """Queue ``videogen.tasks.<task>(*args)``. A broker outage is logged, not raised: the
    sweeper finds the work again from the database.

    The one way work reaches the broker: callers say ``schedules.enqueue(...)`` (never import
    the name), so a test replaces it in one place."""
    from django_q.tasks import async_task

    try:
        return async_task(f"videogen.tasks.{task}", *args, group=GROUP)
    except Exception:
        logger.exception("could not enqueue %s%r; the sweeper will retry", task, args)
        return None


def cover_polls(until: datetime) -> None:
    """A poll loop keeps looking for due jobs until ``until``: record it, unless another
    loop already looks for longer."""
    from videogen.models import PollCoverage

    if not PollCoverage.objects.filter(pk=1, until__lt=until).update(until=until):
        PollCoverage.objects.get_or_create(pk=1, defaults={"until": until})


def uncover_polls(until: datetime) -> None:
    """The loop that looked until ``until`` stops now (unless a later loop took over)."""
    from videogen.models import PollCoverage

    PollCoverage.objects.filter(pk=1, until=until).update(until=timezone.now())


def poll_soon(due: datetime) -> bool:
    """A job was just sent and is first due at ``due``: start a poll loop now unless a running
    loop will look then, or the job is due so late that the scheduled loops (every minute)
    will. Returns whether it started one. One submit in a burst wins the conditional UPDATE;
    the others see the loop it started."""
    from django_q.conf import Conf

    from videogen.conf import get_settings
    from videogen.models import PollCoverage

    now = timezone.now()
    loop = timedelta(seconds=get_settings().poll.loop_seconds)
    # In sync mode (tests) there is no cluster to wake, and a loop would run inline, in the
    # middle of the caller's submit.
    if due > now + loop or Conf.SYNC:
        return False
    _, created = PollCoverage.objects.get_or_create(pk=1, defaults={"until": now + loop})
    if created or PollCoverage.objects.filter(pk=1, until__lt=due).update(until=now + loop):
        enqueue("poll_due")
        return True
    return False


def task_timeout() -> float | None:
    """Seconds django-q2 lets a task run before killing its worker (``Q_CLUSTER['timeout']``),
    or None when unset."""
    from django.conf import settings

    timeout = (getattr(settings, "Q_CLUSTER", None) or {}).get("timeout")
    return timeout if isinstance(timeout, int | float) else None


def ensure_schedules(**kwargs: Any) -> list[str]:
    """Create or update the periodic schedules; returns their names."""
    from django_q.models import Schedule

    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes,
                      "repeats": -1},
        )
    return list(SCHEDULES)


def on_post_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Upsert schedules once the django_q tables exist (after ``migrate``). With several
    databases, only after migrating the one each model is written to: a site's second
    database (the task queue's, say) may hold the same tables, unused."""
    from django.db import connections, router
    from django_q.models import Schedule

    from videogen.webhooks.endpoints import sync_settings_endpoints
    from videogen.webhooks.models import WebhookEndpoint

    tables = connections[using].introspection.table_names()
    if "django_q_schedule" in tables and router.db_for_write(Schedule) == using:
        ensure_schedules()
    if "videogen_webhookendpoint" in tables and router.db_for_write(WebhookEndpoint) == using:
        sync_settings_endpoints()
