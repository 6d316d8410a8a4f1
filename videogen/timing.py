"""How long a job is expected to take, and when to look at it first.

Before the site has a history of its own, the catalog's figures decide.

The catalog's figures are the real provider's. A provider that runs faster (the sandbox at
``time_scale`` 0.01 in the demo and in tests) is described by ``VIDEOGEN["POLL"]["TIME_SCALE"]``,
so the first poll, the poll rhythm and the progress bar follow it. At the default of 1 nothing
changes for a site that talks to the real API.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from django.utils import timezone

from videogen import catalog
from videogen.conf import get_settings
from videogen.models import Status, VideoJob

#: Typical generation time for a model the catalog does not know (the sandbox's figure too).
UNKNOWN_MODEL_SECONDS = 120.0
#: The shortest expected duration: never plan on a job finishing in no time at all.
FLOOR_SECONDS = 1.0


def catalog_seconds(model: str) -> float:
    """The catalog's typical generation time of ``model``, times ``POLL["TIME_SCALE"]``."""
    spec = catalog.get_model(model)
    seconds = spec.typical_generation_seconds if spec else UNKNOWN_MODEL_SECONDS
    return max(FLOOR_SECONDS, seconds * get_settings().poll.time_scale)


def typical_seconds(model: str) -> float:
    """Median generation time of this site's last finished jobs of ``model`` (submitted →
    finished), else the catalog's figure."""
    rows = (VideoJob.objects.filter(model=model, status=Status.COMPLETED,
                                    submitted_at__isnull=False, finished_at__isnull=False)
            .order_by("-finished_at").values_list("submitted_at", "finished_at")[:50])
    durations = [(done - sent).total_seconds() for sent, done in rows
                 if sent and done and done > sent]  # never None: filtered above
    if len(durations) >= 3:
        return max(1.0, statistics.median(durations))
    return catalog_seconds(model)


def first_poll_at(model: str) -> datetime:
    """When to look at a job of ``model`` first: a fraction of its typical duration, within
    ``POLL["MIN_INTERVAL"]`` and ``POLL["MAX_INTERVAL"]``."""
    conf = get_settings().poll
    delay = max(conf.min_interval, conf.first_poll_fraction * typical_seconds(model))
    return timezone.now() + timedelta(seconds=min(delay, conf.max_interval))
