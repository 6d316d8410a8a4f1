"""What the soak test asks the running demo's database, from a process of its own with the
demo's environment (the test process itself stays off that database).

    python -m tests.soak.probe facts          # JSON: schedules, jobs, deliveries, files
    python -m tests.soak.probe create N TAG   # N jobs through the Python API
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()


def _when(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def create(count: int, tag: str) -> list[str]:
    """Jobs as a host site's code makes them: ``api.generate`` on catalog models."""
    from videogen import api

    models = ["pixverse/pixverse-v5", "vidu/vidu-2.0", "minimax/hailuo-02"]
    sizes = {"pixverse/pixverse-v5": (360, 360), "vidu/vidu-2.0": (360, 360),
             "minimax/hailuo-02": (1366, 768)}
    made = []
    for index in range(count):
        model = models[index % len(models)]
        width, height = sizes[model]
        job = api.generate(model=model, prompt=f"{tag} {index}: a paper boat on a pond",
                           width=width, height=height, metadata={"soak": tag})
        made.append(str(job.pk))
    return made


def facts() -> dict[str, Any]:
    from django.conf import settings
    from django_q.models import Schedule

    from videogen.models import JobEvent, VideoJob
    from videogen.webhooks.models import WebhookAttempt, WebhookDelivery

    schedules = {s.name: {"next_run": _when(s.next_run), "minutes": s.minutes}
                 for s in Schedule.objects.filter(name__startswith="videogen")}
    jobs = [{
        "id": str(job.pk), "model": job.model, "status": job.status,
        "archive_status": job.archive_status, "error": job.error_code,
        "archived_at": _when(job.archived_at), "workers_lost": job.archive_workers_lost,
        "video": job.video.name or "", "poster": job.poster.name or "",
        "metadata": job.metadata,
    } for job in VideoJob.objects.all()]
    released = list(JobEvent.objects.filter(kind=JobEvent.Kind.ARCHIVE,
                                            detail__startswith="Archive worker lost")
                    .values_list("job_id", flat=True))
    deliveries = [{
        "id": d.pk, "event": str(d.event_id), "endpoint": d.endpoint_id, "status": d.status,
        "attempts": [_when(a.created_at) for a in
                     WebhookAttempt.objects.filter(delivery=d).order_by("created_at")],
        "codes": list(WebhookAttempt.objects.filter(delivery=d).order_by("created_at")
                      .values_list("status_code", flat=True)),
    } for d in WebhookDelivery.objects.all()]
    media = Path(settings.MEDIA_ROOT)
    files = sorted(str(path.relative_to(media)) for path in media.rglob("*") if path.is_file())
    return {"schedules": schedules, "jobs": jobs, "released": [str(pk) for pk in released],
            "deliveries": deliveries, "files": files}


def main(argv: list[str]) -> None:
    _setup()
    if argv[0] == "facts":
        print(json.dumps(facts()))
    elif argv[0] == "create":
        print(json.dumps(create(int(argv[1]), argv[2])))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
