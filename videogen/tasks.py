"""django-q2 entry points. Each takes primary keys (never pickled objects) and is idempotent:
a duplicate delivery finds the work done or claimed and does nothing."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videogen.models import User

logger = logging.getLogger("videogen.tasks")

#: What a worker's first archive, poll or webhook would otherwise import or build mid-task.
WARM_MODULES = ("videogen.archive", "videogen.polling", "videogen.webhooks.delivery",
                "httpcore", "av")


def warm_up(**kwargs: Any) -> None:
    """Receiver of django-q2's ``post_spawn``, in each new worker process: import PyAV (~60 ms),
    httpcore and the task modules and load the CA bundle (~20 ms) now, so that a burst of
    completions does not wait behind every worker paying them at once (bench P4)."""
    import contextlib
    import importlib

    from videogen.client.core import tls_context

    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):  # PyAV is an optional extra
            importlib.import_module(name)
    tls_context()


def poll_due() -> dict[str, Any]:
    """Scheduled every minute: poll due jobs for ``POLL["LOOP_SECONDS"]``."""
    from videogen import polling

    return asdict(polling.run_loop())


def archive_job(job_id: str) -> str:
    from videogen import archive
    from videogen.webhooks.delivery import deliver_inline

    # video.completed goes out from here, not behind the other queued archives.
    with deliver_inline():
        # The plain value: django-q2 pickles task results, and the enum need not be importable
        # wherever they are read.
        return str(archive.archive_job(job_id, in_worker=True))


def submit_job(job_id: str, actor_id: Any = None) -> str:
    """Submit a draft (the admin enqueues this rather than calling the API in a request)."""
    from videogen import lifecycle, submission
    from videogen.models import VideoJob

    job = VideoJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    actor = _user(actor_id)
    try:
        submission.submit(job, actor=actor)
    except lifecycle.LifecycleError as error:
        logger.info("submit of job %s refused: %s", job_id, error)
        lifecycle.submit_refused(job, str(error), actor=actor)
        return f"refused: {error}"
    return job.status


def repoll_job(job_id: str) -> str:
    from videogen import polling
    from videogen.models import VideoJob

    job = VideoJob.objects.filter(pk=job_id).first()
    if job is None or not job.remote_id:
        return "skipped"
    return polling.repoll(job).status


def deliver_webhook(delivery_id: int) -> str:
    from videogen.webhooks import delivery

    return str(delivery.deliver(delivery_id))  # the plain value, as archive_job


def retry_webhook(delivery_id: int) -> str:
    """A retry due within half a minute: waits for its time, then delivers."""
    from videogen.webhooks import delivery

    return str(delivery.deliver_when_due(delivery_id))


def deliver_due_webhooks() -> dict[str, int]:
    """Scheduled every minute: retries that are due, and deliveries whose task was lost."""
    from videogen.webhooks import delivery

    return delivery.deliver_due()


def sweep() -> dict[str, Any]:
    from videogen import sweeper

    return asdict(sweeper.sweep())


def _user(actor_id: Any) -> User | None:
    if actor_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=actor_id).first()
