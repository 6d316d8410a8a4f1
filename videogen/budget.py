"""What this site spends at the provider, and the cap a submit must stay under.

``VIDEOGEN["BUDGET"]`` sets a daily and a monthly cap; :func:`check_budget` refuses a submit
that would pass either (recorded costs plus an estimate for jobs still running and for this
one) with :class:`~videogen.exceptions.BudgetExceeded`.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from videogen.conf import get_settings
from videogen.exceptions import BudgetExceeded
from videogen.models import IN_FLIGHT_STATUSES, Status, VideoJob


def check_budget(job: VideoJob) -> None:
    """Refuse a submit that would pass the daily or monthly cap (recorded costs plus an
    estimate for jobs still running and for this one)."""
    caps = get_settings().budget
    if caps.daily is None and caps.monthly is None:
        return
    now = timezone.now()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for cap, since, label in ((caps.daily, day, _("daily")),
                              (caps.monthly, day.replace(day=1), _("monthly"))):
        if cap is None:
            continue
        spent = _spend_since(since) + estimated_cost(job.model)
        if spent > cap:
            raise BudgetExceeded(_(
                "The %(label)s budget of %(cap)s would be exceeded (%(spent)s with this job); "
                "nothing was sent.") % {"label": label, "cap": cap, "spent": round(spent, 2)})


def _spend_since(since: datetime) -> Decimal:
    jobs = VideoJob.objects.filter(submitted_at__gte=since)
    recorded = jobs.filter(cost__isnull=False).aggregate(total=Sum("cost"))["total"] or Decimal(0)
    pending = (jobs.filter(cost__isnull=True, status__in={Status.SUBMITTING, *IN_FLIGHT_STATUSES})
               .values("model").annotate(count=Count("pk")))
    estimate = sum((estimated_cost(row["model"]) * row["count"] for row in pending), Decimal(0))
    return recorded + estimate


def estimated_cost(model: str) -> Decimal:
    """Median recorded cost of the model's last jobs (0 when there is no history)."""
    costs = [cost for cost in VideoJob.objects.filter(model=model, cost__isnull=False)
             .order_by("-finished_at").values_list("cost", flat=True)[:50]
             if cost is not None]  # never None: filtered above; for the type checker
    return statistics.median(costs) if costs else Decimal(0)
