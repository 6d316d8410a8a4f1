"""On SQLite the ORM broker's queue has a file of its own (videogen.routers, docs/embedding.md):
the router, migrating both files, and tasks landing in the queue's file."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections
from django_q.models import OrmQ, Schedule

from videogen.models import VideoJob
from videogen.routers import TaskQueueRouter
from videogen.schedules import enqueue

ROOT = Path(__file__).resolve().parents[2]


def test_the_router_sends_only_the_queue_to_the_broker_database(settings):
    settings.Q_CLUSTER = {"name": "t", "orm": "queue"}
    router = TaskQueueRouter()
    assert router.db_for_read(OrmQ) == router.db_for_write(OrmQ) == "queue"
    assert router.db_for_write(Schedule) is None and router.db_for_read(VideoJob) is None
    assert router.allow_migrate("queue", "django_q", "ormq") is True
    assert router.allow_migrate("queue", "videogen", "videojob") is False
    assert router.allow_migrate("queue", "auth") is False
    assert router.allow_migrate("default", "django_q", "ormq") is None


def test_the_router_stands_aside_when_the_broker_uses_the_default_database(settings):
    router = TaskQueueRouter()
    for q_cluster in ({"orm": "default"}, {"redis": "redis://127.0.0.1:6379/0"}, {}):
        settings.Q_CLUSTER = q_cluster
        assert router.db_for_write(OrmQ) is None
        assert router.allow_migrate("queue", "videogen") is None


def test_a_new_site_migrates_the_queue_file_first_without_error(tmp_path):
    # The queue's file first, the order that crashed: post_migrate fires there too, and must
    # not write the schedules into a site database that has no tables yet.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("REDIS_URL", None)
    for alias in ("queue", "default"):
        subprocess.run([sys.executable, "manage.py", "migrate", "--database", alias, "-v0"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
    queue = sqlite3.connect(tmp_path / "db-queue.sqlite3")
    site = sqlite3.connect(tmp_path / "db.sqlite3")
    tables = {row[0] for row in queue.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"django_q_ormq", "django_q_schedule"} <= tables
    assert not {t for t in tables if t.startswith(("videogen_", "auth_", "django_admin"))}
    assert queue.execute("SELECT count(*) FROM django_q_schedule").fetchone() == (0,)
    assert site.execute("SELECT count(*) FROM django_q_schedule").fetchone() == (3,)


@pytest.mark.django_db(transaction=True)  # conftest adds the queue database on SQLite
def test_tasks_are_queued_in_the_queue_file_not_the_site_database(settings):
    if "queue" not in settings.DATABASES:
        pytest.skip("the queue has a file of its own on SQLite with the ORM broker")
    assert settings.Q_CLUSTER["orm"] == "queue"
    enqueue("poll_due")
    assert OrmQ.objects.using("queue").count() == 1
    assert OrmQ.objects.count() == 1  # routed: no using() needed
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_q_ormq")
        assert cursor.fetchone() == (0,)
