"""The same life with a real `manage.py qcluster` process doing the work."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from videogen.models import ArchiveStatus, Status, VideoJob
from videogen.schedules import enqueue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/" \
           f"{db['NAME']}"


@pytest.fixture
def qcluster(videogen_sandbox_settings, settings, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "TOGETHER_BASE_URL": videogen_sandbox_settings.url,
        "TOGETHER_API_KEY": videogen_sandbox_settings.api_key,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "Q_WORKERS": "2",
    }
    if "redis" in django_settings.Q_CLUSTER:
        env["REDIS_URL"] = django_settings.Q_CLUSTER["redis"]
    log = open(tmp_path / "qcluster.log", "w+")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.seek(0)
    print(log.read()[-5000:])
    log.close()


def wait_for(condition, timeout=90.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_real_cluster_submits_polls_and_archives(qcluster, videogen_sandbox_settings):
    jobs = [VideoJob.objects.create(model="google/veo-2.0", prompt=f"cluster job {i}",
                                    seconds="1", width=1280, height=720, fps=8)
            for i in range(3)]
    for job in jobs:
        enqueue("submit_job", str(job.pk))
    ids = [job.pk for job in jobs]
    wait_for(lambda: VideoJob.objects.filter(pk__in=ids, status=Status.QUEUED).count() == 3,
             what="submission by the cluster")
    VideoJob.objects.filter(pk__in=ids).update(next_poll_at=timezone.now())
    enqueue("poll_due")
    wait_for(lambda: VideoJob.objects.filter(
        pk__in=ids, archive_status=ArchiveStatus.ARCHIVED).count() == 3,
        what="archiving by the cluster")
    for job in VideoJob.objects.filter(pk__in=ids):
        assert job.status == Status.COMPLETED and job.video_bytes > 0
        assert job.video.storage.exists(job.video.name)
    assert videogen_sandbox_settings.stats()["jobs_created"] == 3
