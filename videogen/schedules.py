"""How work reaches django-q2: one-off tasks enqueued after commit, and the periodic schedules.

Schedules are upserted by name (``post_migrate`` and ``manage.py videogen_setup``), so repeated
start-ups never duplicate them. Tasks get primary keys only, never pickled objects.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("videogen.tasks")

GROUP = "videogen"
POLL_SCHEDULE = "videogen: poll due jobs"
SWEEP_SCHEDULE = "videogen: sweep stranded work"
WEBHOOK_SCHEDULE = "videogen: deliver due webhooks"

#: name → (task function, minutes between runs)
SCHEDULES: dict[str, tuple[str, int]] = {
    POLL_SCHEDULE: ("videogen.tasks.poll_due", 1),
    SWEEP_SCHEDULE: ("videogen.tasks.sweep", 5),
    WEBHOOK_SCHEDULE: ("videogen.tasks.deliver_due_webhooks", 1),
}


def enqueue(task: str, *args: Any) -> str | None:
    """Queue ``videogen.tasks.<task>(*args)``. A broker outage is logged, not raised: the
    sweeper finds the work again from the database."""
    from django_q.tasks import async_task

    try:
        return async_task(f"videogen.tasks.{task}", *args, group=GROUP)
    except Exception:
        logger.exception("could not enqueue %s%r; the sweeper will retry", task, args)
        return None


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
