"""Events and the outbox: what a transition announces, the payload, and the rows written in
the transition's own transaction (one event, one delivery per matching enabled endpoint)."""

from __future__ import annotations

import contextlib
import contextvars
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from django.db import transaction
from django.utils import timezone

from videogen import schedules
from videogen.conf import get_settings
from videogen.media import summarize_frames
from videogen.storage import file_url
from videogen.webhooks.models import (
    LEASE,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

if TYPE_CHECKING:
    from videogen.models import VideoJob


def for_transition(old: str, new: str) -> list[str]:
    """Event types a status change announces (``video.completed`` waits for the archive)."""
    types: list[str] = []
    if old == "submitting" and new in ("queued", "in_progress"):
        types.append(EventType.SUBMITTED)
    types.append(EventType.STATUS_CHANGED)
    if new == "failed":
        types.append(EventType.FAILED)
    elif new == "cancelled":
        types.append(EventType.CANCELLED)
    return types


def new_event_id() -> str:
    """``msg_`` + a time-ordered hex id (so ids sort by creation)."""
    return f"msg_{int(time.time() * 1000):012x}{secrets.token_hex(8)}"


def record(job: VideoJob, event_type: str, *, old: str = "", new: str = "") -> WebhookEvent:
    """Write the event and its deliveries; call inside the transition's transaction.
    Delivery tasks are enqueued after commit (the periodic task finds any that get lost).
    Under ``delivery.deliver_inline()`` the deliveries are written already claimed by this process
    and sent right after commit with the event and endpoint in hand: no claim to take, no row
    to read back. If the process dies first, the claim expires and the periodic task sends
    them."""
    now = timezone.now()
    event = WebhookEvent.objects.create(
        id=new_event_id(), type=event_type, job=job, created_at=now,
        payload=build_payload(job, event_type, now, old=old, new=new))
    endpoints = [e for e in WebhookEndpoint.objects.filter(enabled=True) if e.wants(event_type)]
    claimed_until = now + LEASE if _inline.get() is not None else None
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now,
                        claimed_until=claimed_until)
        for endpoint in endpoints
    ])
    if any(d.pk is None for d in deliveries):  # a database that returns no ids from bulk inserts
        ids = dict(WebhookDelivery.objects.filter(event=event)
                   .values_list("endpoint_id", "pk"))
        for delivery in deliveries:
            delivery.pk = ids[delivery.endpoint_id]
    for delivery in deliveries:
        _dispatch(delivery)
    return event


#: Set by :func:`videogen.webhooks.delivery.deliver_inline`: what sends a claimed delivery.
#: Passed in rather than imported, so that events (what to announce) never import delivery
#: (how to send it); the arrow points one way.
_inline: contextvars.ContextVar[Callable[[WebhookDelivery], None] | None] = \
    contextvars.ContextVar("videogen_inline_delivery", default=None)


@contextlib.contextmanager
def inline_deliveries(send: Callable[[WebhookDelivery], None]) -> Iterator[None]:
    """Within this block, deliveries are written already claimed and ``send`` is called with
    each right after commit (use :func:`videogen.webhooks.delivery.deliver_inline`)."""
    token = _inline.set(send)
    try:
        yield
    finally:
        _inline.reset(token)


def _dispatch(delivery: WebhookDelivery) -> None:
    """Have the delivery sent once the transaction commits: by a task, or by this process
    when it holds the claim."""
    send = _inline.get()
    if delivery.claimed_until is None or send is None:
        transaction.on_commit(lambda: schedules.enqueue("deliver_webhook", delivery.pk))
    else:
        transaction.on_commit(lambda: send(delivery))


def build_payload(job: VideoJob, event_type: str, when: datetime, *, old: str = "", new: str = ""
                  ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(job.pk),
        "remote_id": job.remote_id,
        "status": job.status,
        "model": job.model,
        "prompt": job.prompt,
        "request": _request(job),
        "cost": str(job.cost) if job.cost is not None else None,
        "timings": {name: _iso(getattr(job, f"{name}_at")) for name in (
            "created", "submitted", "started", "finished", "archived")},
        "error": {"code": job.error_code, "message": job.error_message}
        if job.error_code or job.error_message else None,
        "metadata": job.metadata,
        "object": _object_ref(job),
    }
    if event_type == EventType.STATUS_CHANGED:
        data["previous_status"] = old
    if event_type == EventType.CANCELLED:
        data["remote_may_finish"] = job.remote_may_finish
    if event_type == EventType.COMPLETED:
        data["video"] = _video(job)
    return {"type": event_type, "timestamp": _iso(when), "data": data}


def build_test_payload(endpoint: Any) -> dict[str, Any]:
    """The body of *Send a test event*: the same envelope and timestamp form as the others."""
    return {"type": "webhook.test", "timestamp": _iso(timezone.now()),
            "data": {"endpoint": endpoint.pk}}


def _request(job: VideoJob) -> dict[str, Any]:
    fields = job.request_fields()
    fields.pop("model", None)
    fields.pop("prompt", None)
    if "media" in fields:
        fields["media"] = _without_inline_images(fields["media"])
    return fields


def _without_inline_images(media: dict[str, Any]) -> dict[str, Any]:
    """Base64 keyframes can be megabytes: replace them with their size."""
    frames = summarize_frames(media.get("frame_images") or [])
    return {**media, "frame_images": frames} if frames else media


def _object_ref(job: VideoJob) -> dict[str, str] | None:
    if not job.content_type_id:
        return None
    content_type = job.content_type
    if content_type is None:  # (not with an id: for the type checker)
        return None
    return {"type": f"{content_type.app_label}.{content_type.model}", "id": job.object_id}


def _video(job: VideoJob) -> dict[str, Any] | None:
    if not job.video:
        return None
    return {
        # None rather than a failed event when the files' storage alias is gone (logged).
        "url": absolute_url(file_url(job.video)) or None,
        "poster_url": absolute_url(file_url(job.poster)) or None,
        "name": job.video.name, "size": job.video_bytes,
        "sha256": job.video_sha256, "duration": job.video_duration,
        "width": job.video_width, "height": job.video_height, "fps": job.video_fps,
        "codec": job.video_codec, "container": job.video_container,
    }


def absolute_url(url: str) -> str:
    """Storage URLs like ``/media/…`` made absolute with ``WEBHOOKS["SITE_URL"]``."""
    site = get_settings().webhooks.site_url
    return urljoin(site, url) if site and url.startswith("/") else url


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
