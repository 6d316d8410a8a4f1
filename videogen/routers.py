"""A database router for sites on SQLite: django-q2's ORM-broker queue in a file of its own.

SQLite has one write lock per database file. The ORM broker takes it to enqueue, hand out and
acknowledge every task, so while the poll task writes back a burst of completions the broker
waits its turn and the archives behind it wait too. Give the queue its own file::

    DATABASES["queue"] = {**DATABASES["default"], "NAME": BASE_DIR / "db-queue.sqlite3"}
    DATABASE_ROUTERS = ["videogen.routers.TaskQueueRouter"]
    Q_CLUSTER = {..., "orm": "queue"}

and migrate it once: ``python manage.py migrate --database queue``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model

QUEUE_MODEL = "django_q.OrmQ"


class TaskQueueRouter:
    """Sends django-q2's queue table to ``Q_CLUSTER["orm"]`` and migrates only django-q2 there.

    django-q2 already queries that alias itself; routing the model too keeps any other code
    that reads the queue (an admin page, a health check) on the same database."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return queue_alias() if model._meta.label == QUEUE_MODEL else None

    db_for_write = db_for_read

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None,
                      **hints: Any) -> bool | None:
        # The site's database keeps every table (so "orm" can go back to it); the queue's
        # file holds django-q2's app alone, whose migrations need its other models.
        if db == queue_alias():
            return app_label == "django_q"
        return None


def queue_alias() -> str | None:
    """The ORM broker's database alias when it is not the default one."""
    alias = (getattr(settings, "Q_CLUSTER", None) or {}).get("orm")
    return alias if alias and alias != DEFAULT_DB_ALIAS else None
