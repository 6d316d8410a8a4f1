"""What a lost task leaves behind (a broker outage, a killed node): the periodic tasks must find
the work again from the database. Archives and webhook deliveries are covered by the chaos run;
these are the cases it found uncovered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from videogen import actions, sweeper
from videogen.models import Status, VideoJob

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]


def broker_down(*args, **kwargs):
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_submit_lost_by_the_broker_is_sent_by_the_sweeper(sandbox, monkeypatch):
    job = VideoJob.objects.create(model="pixverse/pixverse-v5", prompt="lost submit",
                                  seconds="1", width=360, height=360, fps=16)
    with monkeypatch.context() as patch:
        patch.setattr("django_q.tasks.async_task", broker_down)
        message, _ = actions._submit(job, None)  # the admin says "queued for sending"
    later = timezone.now() + timedelta(minutes=15)
    monkeypatch.setattr(timezone, "now", lambda: later)
    sweeper.sweep()  # the broker is back (sync tasks): a re-queued submit runs at once
    job.refresh_from_db()
    assert job.status != Status.DRAFT, f"still a draft after '{message}' and a sweep"
