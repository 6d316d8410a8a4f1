"""Sending deliveries: signed POSTs, retries with backoff over about a day, the delivery log,
auto-disable of failing endpoints, order per job, resend and replay.

Every attempt of one event carries the same ``webhook-id``, so consumers can deduplicate; the
timestamp and signature are made afresh for each attempt (receivers reject old timestamps).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.db import transaction
from django.db.models import F, Max, Min, Q, QuerySet
from django.utils import timezone

from videogen import schedules
from videogen.client.core import retry_after, tls_context
from videogen.conf import WebhookSettings, get_settings
from videogen.version import __version__
from videogen.webhooks import signing
from videogen.webhooks.events import build_test_payload, inline_deliveries, new_event_id
from videogen.webhooks.headers import reserved
from videogen.webhooks.models import (
    LEASE,
    DeliveryOutcome,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from videogen.webhooks.safety import Pinned, Unresolved, UnsafeURL, pinned

logger = logging.getLogger("videogen.webhooks")

Status = WebhookDelivery.Status
Outcome = DeliveryOutcome
# An endpoint whose whole backlog waits on retries (up to 10 h away) is probed this often.
PROBE_EVERY = timedelta(minutes=5)
# What makes deliver_due skip an endpoint for the rest of its run.
FAILED_OUTCOMES = frozenset({Outcome.RETRYING, Outcome.FAILED, Outcome.GONE,
                             Outcome.PROBE_FAILED, Outcome.ERROR})
# While a delivery of the same job to the same endpoint is pending, later ones wait this long.
ORDER_WAIT = timedelta(seconds=5)
# django-q2's scheduler looks for due schedules only about every 30 s: a retry due sooner is
# sent by a task queued at once that waits for its time (see schedule_retry).
SHORT_WAIT = timedelta(seconds=30)


@dataclass
class AttemptResult:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    duration_ms: int = 0
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body_bytes(event: WebhookEvent) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()


def headers_for(endpoint: WebhookEndpoint, event: WebhookEvent, body: bytes,
                timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = signing.signature_header(endpoint.active_secrets(), event.id, timestamp, body)
    return {**{str(k): str(v) for k, v in (endpoint.headers or {}).items()},
            "content-type": "application/json", "user-agent": f"videogen-webhooks/{__version__}",
            "accept-encoding": "identity",
            "webhook-id": event.id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature}


# --- One delivery -----------------------------------------------------------------------------


def deliver(delivery_id: int) -> str:
    """Attempt one delivery if it is due and not claimed elsewhere; returns what happened."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return Outcome.SKIPPED
    return deliver_claimed(delivery)


def deliver_claimed(delivery: WebhookDelivery) -> str:
    """Attempt a delivery this process holds the claim of, its event and endpoint loaded."""
    if not delivery.endpoint.enabled:
        _unclaim(delivery, next_attempt_at=None)
        return Outcome.PAUSED
    earlier_due = _earlier_pending(delivery)
    if earlier_due is not None:
        # Keep the job's events in order: this one waits for the earlier one.
        _unclaim(delivery, next_attempt_at=max(earlier_due, timezone.now()) + ORDER_WAIT)
        return Outcome.WAITING
    if not _renew_if_running_out(delivery):
        return Outcome.SKIPPED
    result = attempt(delivery)
    return _record(delivery, result)


def _unclaimed(now: Any) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def _due(now: Any) -> Q:
    # NULL: paused while its endpoint was disabled, so due as soon as the endpoint is enabled.
    return Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)


def _claim(delivery_id: int, *, due: bool = True) -> WebhookDelivery | None:
    """Take the delivery for LEASE (a worker killed meanwhile leaves it to be retried then).
    The claim is its own column, not a moved ``next_attempt_at``: releasing a job's next
    event (which sets ``next_attempt_at``) must not hand a claimed delivery to a second
    worker."""
    now = timezone.now()
    rows = WebhookDelivery.objects.filter(_unclaimed(now), pk=delivery_id,
                                          status=Status.PENDING)
    if due:
        rows = rows.filter(_due(now))
    if not rows.update(claimed_until=now + LEASE):
        return None
    return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)


def _unclaim(delivery: WebhookDelivery, **fields: Any) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=None, **fields)


def _held(delivery: WebhookDelivery) -> QuerySet[WebhookDelivery]:
    """The delivery's row while this process's claim is still the one on it: after a lease
    runs out another worker may claim it, and only the newer claim may record an outcome."""
    return WebhookDelivery.objects.filter(pk=delivery.pk, claimed_until=delivery.claimed_until)


def _renew_if_running_out(delivery: WebhookDelivery) -> bool:
    """Extend a claim with less than half its lease left (an inline delivery's lease starts
    when its event is recorded, and a job's endpoints are sent one after another). False
    when the claim was lost meanwhile: another worker has the delivery."""
    now = timezone.now()
    if delivery.claimed_until is None or delivery.claimed_until - now > LEASE / 2:
        return True
    renewed = now + LEASE
    if not _held(delivery).update(claimed_until=renewed):
        return False
    delivery.claimed_until = renewed
    return True


def _earlier_pending(delivery: WebhookDelivery) -> datetime | None:
    """When the oldest earlier pending delivery of the same job to the same endpoint is due
    (``timezone.now()`` if unscheduled), or None when there is none."""
    if delivery.event.job_id is None:
        return None
    row = (_same_job(delivery).filter(event__created_at__lt=delivery.event.created_at)
           .order_by("event__created_at").values_list("next_attempt_at").first())
    return None if row is None else row[0] or timezone.now()


def _same_job(delivery: WebhookDelivery) -> QuerySet[WebhookDelivery]:
    """The pending deliveries of the delivery's job to its endpoint."""
    return WebhookDelivery.objects.filter(endpoint_id=delivery.endpoint_id,
                                          event__job_id=delivery.event.job_id,
                                          status=Status.PENDING)


def attempt(delivery: WebhookDelivery) -> AttemptResult:
    """One signed POST (no redirects followed), after the SSRF check of the resolved host.
    Whatever the receiver or a stored value does, the outcome is an :class:`AttemptResult`:
    one failed attempt of this delivery, never an exception that stops the caller."""
    conf = get_settings().webhooks
    endpoint, event = delivery.endpoint, delivery.event
    try:
        target = pinned(endpoint.url, conf.allowed_hosts)
    except Unresolved as error:
        return AttemptResult(error=str(error))  # retried: DNS outages pass
    except UnsafeURL as error:
        return AttemptResult(error=f"refused: {error}")
    body = body_bytes(event)
    try:
        headers = {**headers_for(endpoint, event, body), **target.headers}
    except ValueError as error:
        # A stored secret that cannot sign: a failed attempt staff can see and fix (the
        # message names no secret), not a task that crashes on every retry.
        return AttemptResult(error=f"cannot sign: {error}")
    clash = next((str(name) for name in endpoint.headers or {} if reserved(str(name))), None)
    if clash:  # an endpoint made in code or a migration, past the checks made when saving
        return AttemptResult(error=f"cannot send: the extra header {clash} {reserved(clash)}")
    started = time.monotonic()
    try:
        result = _run(_post(target, body, headers, conf))
    except TimeoutError:
        result = AttemptResult(error=f"no complete answer within {conf.timeout:g} s "
                                     "(WEBHOOKS['TIMEOUT'], for the whole attempt)")
    except httpx.HTTPError as error:
        result = AttemptResult(error=_storable(f"{type(error).__name__}: {error}"[:2000]))
    except (UnicodeError, ValueError):
        # A header value httpx cannot encode (an endpoint made in code or a migration, past
        # the admin's checks): a failed attempt staff can see, not a task that crashes and
        # stops the periodic run. The message quotes no header value (they may be secrets).
        result = AttemptResult(error="cannot send: an extra header is not printable ASCII")
    except Exception as error:  # whatever else a hostile answer provokes: this attempt fails
        logger.warning("webhook delivery %s: unexpected %s while sending", delivery.pk,
                       type(error).__name__)
        result = AttemptResult(error=f"unexpected error while sending: {type(error).__name__}")
    result.duration_ms = _ms(started)
    return result


async def _post(target: Pinned, body: bytes, headers: dict[str, str],
                conf: WebhookSettings) -> AttemptResult:
    """The POST and the first ``RESPONSE_EXCERPT_BYTES`` of the answer, within ``TIMEOUT``
    seconds in all: a receiver trickling a byte every few seconds never trips a per-read
    timeout, so the whole attempt has a deadline. Straight to the transport: no redirect is
    followed or even parsed (a ``Location: javascript:…`` is the receiver's business), and the
    body is read raw, so a compressed answer is never inflated."""
    timeout = httpx.Timeout(conf.timeout, connect=min(conf.timeout, 5))
    request = httpx.Request("POST", target.url, content=body, headers=headers,
                            extensions={**target.extensions, "timeout": timeout.as_dict()})
    async with asyncio.timeout(conf.timeout), \
            httpx.AsyncHTTPTransport(verify=tls_context()) as transport:
        response = await transport.handle_async_request(request)
        try:
            excerpt = await _read_excerpt(response, conf.response_excerpt_bytes)
        finally:
            await response.aclose()
    return AttemptResult(status_code=response.status_code, excerpt=excerpt,
                         retry_after=retry_after(response.headers))


async def _read_excerpt(response: httpx.Response, limit: int) -> str:
    """At most ``limit`` bytes of the answer (a 2 GiB answer is not read), as storable text."""
    data = bytearray()
    if limit:
        async for chunk in response.aiter_raw():
            data += chunk[:limit - len(data)]
            if len(data) >= limit:
                break
    return _storable(data.decode("utf-8", errors="replace"))


def _storable(text: str) -> str:
    """Text every database can store: no NUL (PostgreSQL refuses it), no lone surrogate."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _run(coroutine: Coroutine[Any, Any, AttemptResult]) -> AttemptResult:
    """Run a send on an event loop of its own; in a thread when the caller's thread already
    runs one (``asyncio.run`` does not nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="videogen-webhook") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _record(delivery: WebhookDelivery, result: AttemptResult) -> str:
    conf = get_settings().webhooks
    now = timezone.now()
    with transaction.atomic():
        _log(delivery, result)
        fields: dict[str, Any] = {"attempts": F("attempts") + 1, "last_attempt_at": now,
                                  "last_status_code": result.status_code,
                                  "last_error": result.error, "claimed_until": None}
        outcome = _outcome(delivery, result, conf, now, fields)
        if not _held(delivery).update(**fields):
            # The lease ran out mid-send and another worker took the delivery over: its
            # outcome stands (a late failure must not undo a success, nor count twice).
            return Outcome.SUPERSEDED
        _endpoint_outcome(delivery.endpoint, outcome, conf)
    if outcome == Outcome.DELIVERED:
        if delivery.attempts:
            _release_backlog(delivery.endpoint, now)
        _release_next(delivery)
    elif outcome == Outcome.RETRYING:
        due = fields["next_attempt_at"]
        transaction.on_commit(lambda: schedule_retry(delivery.pk, due))
    return outcome


def schedule_retry(delivery_id: int, due: datetime) -> None:
    """Have the retry sent at ``due``, the time the retry schedule gives it, rather than
    whenever the minute schedule comes round (which remains the safety net for a lost task).
    A retry due within SHORT_WAIT is queued now and its task waits for it
    (:func:`deliver_when_due`); a later one is a one-off django-q2 schedule. Without a
    cluster (django-q2's sync mode runs a task inside its caller, a web request say) nothing
    waits: the one-off schedule is written instead."""
    from django_q.conf import Conf

    if due - timezone.now() <= SHORT_WAIT and not Conf.SYNC:
        schedules.enqueue("retry_webhook", delivery_id)
        return
    try:
        from django_q.models import Schedule
        from django_q.tasks import schedule

        schedule("videogen.tasks.deliver_webhook", delivery_id, schedule_type=Schedule.ONCE,
                 next_run=due, repeats=-1)
    except Exception as error:  # the database of the queue is down: the minute run sends it
        logger.warning("could not schedule the retry of webhook delivery %s (%s); the "
                       "minute schedule sends it", delivery_id, type(error).__name__)


def deliver_when_due(delivery_id: int) -> str:
    """The task of a retry due soon: wait until the delivery is due (at most SHORT_WAIT; the
    time it spent queued counts), then :func:`deliver` it."""
    due = (WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING)
           .values_list("next_attempt_at", flat=True).first())
    if due is not None:
        wait = min((due - timezone.now()).total_seconds(), SHORT_WAIT.total_seconds())
        if wait > 0:
            sleep(wait + 0.01)
    return deliver(delivery_id)


def sleep(seconds: float) -> None:
    """``time.sleep``; a test's simulated clock moves instead."""
    time.sleep(seconds)


def _release_backlog(endpoint: WebhookEndpoint, now: Any) -> None:
    """A retry got through: the receiver is back, so its deliveries waiting on later retries
    go now instead of hours from now (``deliver_due`` sends them, oldest first)."""
    WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.PENDING, attempts__gt=0,
                                   next_attempt_at__gt=now).update(next_attempt_at=now)


def _log(delivery: WebhookDelivery, result: AttemptResult) -> None:
    WebhookAttempt.objects.create(delivery=delivery, status_code=result.status_code,
                                  response_excerpt=result.excerpt, error=result.error,
                                  duration_ms=result.duration_ms)


def _outcome(delivery: WebhookDelivery, result: AttemptResult, conf: WebhookSettings,
             now: Any, fields: dict[str, Any]) -> str:
    """What the attempt means for the delivery: its outcome, and ``fields`` to write."""
    if result.ok:
        fields.update(status=Status.SUCCEEDED, delivered_at=now, next_attempt_at=None)
        return Outcome.DELIVERED
    if result.status_code == 410:
        fields.update(status=Status.FAILED, next_attempt_at=None)
        return Outcome.GONE
    done = delivery.attempts + 1  # including this one
    if done <= len(conf.retry_schedule) and not result.error.startswith("refused"):
        delay = conf.retry_schedule[done - 1] * random.uniform(0.9, 1.1)
        delay = max(delay, min(result.retry_after or 0, 86_400))
        fields["next_attempt_at"] = now + timedelta(seconds=delay)
        return Outcome.RETRYING
    fields.update(status=Status.FAILED, next_attempt_at=None)
    return Outcome.FAILED


def _endpoint_outcome(endpoint: WebhookEndpoint, outcome: str, conf: WebhookSettings) -> None:
    """The endpoint's side: a success clears its failure count, 410 or too many failed
    events in a row disable it."""
    if outcome == Outcome.DELIVERED:
        # Not guarded by the count loaded with the delivery: another worker may have raised
        # it since (a guarded write of 0 rows costs nothing on the success path).
        WebhookEndpoint.objects.filter(pk=endpoint.pk, consecutive_failures__gt=0).update(
            consecutive_failures=0)
    elif outcome == Outcome.GONE:
        disable(endpoint, "The receiver answered 410 Gone.")
    elif outcome == Outcome.FAILED:
        _count_failure(endpoint, conf)


def _count_failure(endpoint: WebhookEndpoint, conf: WebhookSettings) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1)
    endpoint.refresh_from_db(fields=["consecutive_failures"])
    if endpoint.consecutive_failures >= conf.max_consecutive_failures:
        disable(endpoint, f"{endpoint.consecutive_failures} events in a row could not be "
                          "delivered.")


def disable(endpoint: WebhookEndpoint, reason: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason=reason, disabled_at=timezone.now())
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)


def _release_next(delivery: WebhookDelivery) -> None:
    """The job's next pending event for this endpoint may go now."""
    if delivery.event.job_id is None:
        return
    following = (_same_job(delivery).filter(event__created_at__gte=delivery.event.created_at)
                 .exclude(pk=delivery.pk).order_by("event__created_at")
                 .values_list("pk", flat=True).first())
    if following is not None:
        WebhookDelivery.objects.filter(pk=following).update(next_attempt_at=timezone.now())
        schedules.enqueue("deliver_webhook", following)


# --- Staff actions and the periodic sweep -------------------------------------------------------


def resend(delivery: WebhookDelivery) -> None:
    """Deliver again (same webhook-id), whatever happened before."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    transaction.on_commit(lambda: schedules.enqueue("deliver_webhook", delivery.pk))


def resend_event(event: WebhookEvent) -> int:
    """Deliver an event again to every enabled endpoint that wants it (replay)."""
    count = 0
    for endpoint in WebhookEndpoint.objects.filter(enabled=True):
        if endpoint.wants(event.type):
            delivery, _ = WebhookDelivery.objects.get_or_create(event=event, endpoint=endpoint)
            resend(delivery)
            count += 1
    return count


def enable(endpoint: WebhookEndpoint) -> int:
    """Re-enable after an auto-disable: its paused deliveries resume, and the events recorded
    while it was disabled (those it subscribes to) are queued for it, so re-enabling catches
    up. Returns how many deliveries are due. Deliveries that had failed for good before the
    disable are not resent: replay those."""
    now = timezone.now()
    with transaction.atomic():
        disabled_at = (WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk)
                       .values_list("disabled_at", flat=True).first())
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            enabled=True, disabled_reason="", disabled_at=None, consecutive_failures=0)
        if disabled_at is not None:
            _queue_missed(endpoint, since=disabled_at, now=now)
        return WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.PENDING).update(
            next_attempt_at=now)


def _queue_missed(endpoint: WebhookEndpoint, *, since: Any, now: Any) -> None:
    missed = (WebhookEvent.objects.filter(created_at__gte=since)
              .exclude(deliveries__endpoint=endpoint).order_by("created_at")
              .only("id", "type"))
    WebhookDelivery.objects.bulk_create(
        (WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now)
         for event in missed.iterator() if endpoint.wants(event.type)),
        batch_size=500, ignore_conflicts=True)


def deliver_due(seconds: float = 45.0) -> dict[str, int]:
    """The periodic task: probe endpoints whose backlog waits on retries, then deliver what is
    due and was left behind (first attempts and retries whose task was lost, paused ones),
    oldest first, for at most ``seconds``; an endpoint that fails is skipped for the rest of
    the run so one dead receiver cannot hold up the others (each retry has its own task,
    :func:`schedule_retry`: the skip delays none that was scheduled)."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    failing: set[int] = set()
    for endpoint_id, outcome in probe_waiting_endpoints():
        _tally(counts, failing, endpoint_id, outcome)
    now = timezone.now()
    # Unscheduled (None) means paused while the endpoint was disabled: due once it is enabled,
    # however that happened (the admin form, code), not only through enable().
    due = (WebhookDelivery.objects.filter(_due(now), _unclaimed(now), status=Status.PENDING,
                                          endpoint__enabled=True)
           .order_by("event__created_at").values_list("pk", "endpoint_id")[:1000])
    for pk, endpoint_id in due:
        if time.monotonic() - started > seconds:
            break
        if endpoint_id in failing:
            continue
        _tally(counts, failing, endpoint_id, _deliver_guarded(pk))
    return counts


def _deliver_guarded(delivery_id: int) -> str:
    """:func:`deliver`, for the periodic run: a delivery that still raises (a bug, a database
    error on its row) is logged and left to its claim's expiry; the run goes on to the others."""
    try:
        return deliver(delivery_id)
    except Exception as error:
        logger.error("webhook delivery %s raised %s; it is tried again once its claim runs out",
                     delivery_id, type(error).__name__)
        return Outcome.ERROR


def _tally(counts: dict[str, int], failing: set[int], endpoint_id: int, outcome: str) -> None:
    outcome = str(outcome)  # plain keys: the task result is pickled
    counts[outcome] = counts.get(outcome, 0) + 1
    if outcome in FAILED_OUTCOMES:
        failing.add(endpoint_id)


def probe_waiting_endpoints() -> list[tuple[int, str]]:
    """Try the oldest pending delivery of each endpoint whose every pending delivery waits on
    a retry more than PROBE_EVERY away and that nothing was sent to for PROBE_EVERY. After a
    long outage the retry ladder has pushed every delivery hours out; without the probe a
    receiver that is back would wait that long. A delivered probe releases the backlog
    (:func:`_release_backlog`); a failed one is logged but costs the delivery no retry."""
    now = timezone.now()
    waiting = (WebhookDelivery.objects.filter(status=Status.PENDING, endpoint__enabled=True)
               .order_by().values("endpoint_id")
               .annotate(soonest=Min("next_attempt_at"), latest=Max("last_attempt_at"))
               .filter(soonest__gt=now + PROBE_EVERY, latest__lte=now - PROBE_EVERY))
    probed = []
    for endpoint_id in [row["endpoint_id"] for row in waiting]:
        oldest = (WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=Status.PENDING)
                  .order_by("event__created_at").values_list("pk", flat=True).first())
        delivery = _claim(oldest, due=False) if oldest is not None else None
        if delivery is not None:
            probed.append((endpoint_id, _probe(delivery)))
    return probed


def _probe(delivery: WebhookDelivery) -> str:
    result = attempt(delivery)
    if result.ok or result.status_code == 410:  # delivered, or the receiver says it is gone
        return _record(delivery, result)
    _log(delivery, result)
    _unclaim(delivery, last_attempt_at=timezone.now(), last_status_code=result.status_code,
             last_error=result.error)
    return Outcome.PROBE_FAILED


def send_test(endpoint: WebhookEndpoint) -> AttemptResult:
    """A signed ``webhook.test`` POST to check an endpoint (not retried, not logged)."""
    event = WebhookEvent(id=new_event_id(), type="webhook.test",
                         payload=build_test_payload(endpoint))
    return attempt(WebhookDelivery(event=event, endpoint=endpoint))


@contextlib.contextmanager
def deliver_inline() -> Iterator[None]:
    """Within this block, first attempts are made right after commit in this process instead
    of queued. The archive task uses it: its deliveries would otherwise wait behind every
    other queued archive. Events write the rows already claimed and hand them to
    :func:`_send_claimed` (they are given it here, so they need not import this module)."""
    with inline_deliveries(_send_claimed):
        yield


def _send_claimed(delivery: WebhookDelivery) -> None:
    try:
        deliver_claimed(delivery)
    except Exception:
        # Still pending in the outbox: the periodic task delivers it once the claim expires.
        logger.exception("inline delivery %s failed", delivery.pk)
