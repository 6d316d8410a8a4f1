"""The staff dashboard: jobs by status, spend per day and per model, generation time (median
and p95) and failure rate per model over the last 30 days.

Five aggregate queries whatever the number of jobs (generation times are read from at most the
last ``TIMING_SAMPLE`` completed jobs, since medians are not a portable SQL aggregate). Charts are
server-rendered SVG coloured through CSS variables, so they follow the admin's light and dark
themes and need no JavaScript and no CDN.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from videogen import catalog
from videogen.models import Status, VideoJob
from videogen.progress import duration_text, money

WINDOW_DAYS = 30
TIMING_SAMPLE = 20_000
# Chart geometry, in SVG user units (the SVG scales to its container's width).
# Narrow enough to stay legible when shrunk to a phone's width; labels sit above their bars.
WIDTH = 420
VALUE_WIDTH = 110
ROW = 40
BAR = 16


@dataclass
class ModelStats:
    model: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)
    spend: Decimal = Decimal(0)
    median: float | None = None
    p95: float | None = None
    timed: int = 0

    @property
    def finished(self) -> int:
        return self.counts.get(Status.COMPLETED, 0) + self.counts.get(Status.FAILED, 0)

    @property
    def failure_rate(self) -> float | None:
        return self.counts.get(Status.FAILED, 0) / self.finished if self.finished else None


@dataclass
class Board:
    since: datetime
    by_status: list[tuple[str, str, int]]
    spend_by_day: list[tuple[date, Decimal]]
    models: list[ModelStats]
    in_flight: int

    @property
    def total_jobs(self) -> int:
        return sum(count for _s, _l, count in self.by_status)

    @property
    def total_spend(self) -> Decimal:
        return sum((amount for _d, amount in self.spend_by_day), Decimal(0))

    @property
    def total_spend_text(self) -> str:
        """The spend as every page shows money (sub-cent costs keep their digits)."""
        return money(self.total_spend)

    @property
    def failure_rate(self) -> float | None:
        failed = sum(m.counts.get(Status.FAILED, 0) for m in self.models)
        finished = sum(m.finished for m in self.models)
        return failed / finished if finished else None

    def status_chart(self) -> SafeString:
        return bar_chart([(label, count, str(count), f"vg-fill-{status}")
                          for status, label, count in self.by_status if count],
                         _("Jobs by status"))

    def spend_day_chart(self) -> SafeString:
        return column_chart([(day.strftime("%m-%d"), float(amount), money(amount))
                             for day, amount in self.spend_by_day], _("Spend per day"))

    def spend_model_chart(self) -> SafeString:
        rows = sorted((m for m in self.models if m.spend), key=lambda m: -m.spend)
        return bar_chart([(m.label, float(m.spend), money(m.spend), "vg-fill-spend")
                          for m in rows], _("Spend per model"))

    def timing_chart(self) -> SafeString:
        rows = sorted((m for m in self.models if m.median is not None),
                      key=lambda m: -(m.p95 or 0))
        return range_chart([(m.label, m.median or 0, m.p95 or 0) for m in rows],
                           _("Generation time per model"))

    def failure_chart(self) -> SafeString:
        rows = sorted((m for m in self.models if m.failure_rate is not None),
                      key=lambda m: -(m.failure_rate or 0))
        return bar_chart([(m.label, 100 * (m.failure_rate or 0), percent(m.failure_rate),
                           "vg-fill-failed") for m in rows], _("Failure rate per model"),
                         scale_max=100)


def build(now: datetime | None = None) -> Board:
    now = now or timezone.now()
    since = now - timedelta(days=WINDOW_DAYS)
    models: dict[str, ModelStats] = {}

    def stats(model: str) -> ModelStats:
        if model not in models:
            spec = catalog.get_model(model)
            models[model] = ModelStats(model, spec.display_name if spec and spec.display_name
                                       else model)
        return models[model]

    recent = VideoJob.objects.filter(created_at__gte=since)
    for model, status, count in recent.values_list("model", "status").annotate(
            n=Count("pk")).order_by():
        stats(model).counts[status] = count
    charged = VideoJob.objects.filter(submitted_at__gte=since, cost__isnull=False)
    for model, total in charged.values_list("model").annotate(total=Sum("cost")).order_by():
        stats(model).spend = total or Decimal(0)
    for model, durations in _durations(since).items():
        _set_timing(stats(model), durations)
    return Board(since=since, by_status=_by_status(models.values()),
                 spend_by_day=_spend_by_day(charged, since, now), models=list(models.values()),
                 in_flight=VideoJob.objects.filter(status__in=[
                     Status.SUBMITTING, Status.QUEUED, Status.IN_PROGRESS]).count())


def _by_status(models: Iterable[ModelStats]) -> list[tuple[str, str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for stats in models:
        for status, count in stats.counts.items():
            totals[status] += count
    return [(status.value, str(status.label), totals.get(status.value, 0)) for status in Status]


def _spend_by_day(charged: QuerySet[VideoJob], since: datetime, now: datetime
                  ) -> list[tuple[date, Decimal]]:
    rows = (charged.annotate(day=TruncDate("submitted_at"))
            .values_list("day").annotate(total=Sum("cost")).order_by("day"))
    amounts = {day: total for day, total in rows}
    first = timezone.localtime(since).date()
    days = (timezone.localtime(now).date() - first).days
    return [(first + timedelta(days=n), amounts.get(first + timedelta(days=n), Decimal(0)))
            for n in range(days + 1)]


def _durations(since: datetime) -> dict[str, list[float]]:
    rows = (VideoJob.objects.filter(status=Status.COMPLETED, finished_at__gte=since,
                                    submitted_at__isnull=False)
            .order_by("-finished_at").values_list("model", "submitted_at", "finished_at")
            [:TIMING_SAMPLE])
    durations: dict[str, list[float]] = defaultdict(list)
    for model, sent, done in rows:
        if sent and done and done >= sent:  # never None: filtered above
            durations[model].append((done - sent).total_seconds())
    return durations


def _set_timing(stats: ModelStats, durations: list[float]) -> None:
    ordered = sorted(durations)
    stats.timed = len(ordered)
    stats.median = statistics.median(ordered)
    stats.p95 = nearest_rank(ordered, 0.95)


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values (p95 of 20 values is the 19th)."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


# --- SVG ----------------------------------------------------------------------------------------


def _svg(title: str, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="vg-chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'preserveAspectRatio="xMinYMin meet"><title>{}</title>{}</svg>',
        WIDTH, height, WIDTH, height, title, body)


def _empty(title: str) -> SafeString:
    return format_html('<p class="vg-chart-empty">{}</p>',
                       _("%(title)s: nothing in the last %(days)d days.") % {
                           "title": title, "days": WINDOW_DAYS})


def bar_chart(rows: Sequence[tuple[str, float, str, str]], title: str, *,
              scale_max: float | None = None) -> SafeString:
    """Horizontal bars, each under its label: (label, value, value text, CSS class)."""
    if not rows:
        return _empty(title)
    top = scale_max or max(value for _l, value, _t, _c in rows) or 1
    span = WIDTH - VALUE_WIDTH
    body = format_html_join("", (
        '<g><title>{}: {}</title>'
        '<text class="vg-chart-label" x="0" y="{}">{}</text>'
        '<rect class="vg-chart-track" x="0" y="{}" width="{}" height="{}" rx="3"></rect>'
        '<rect class="vg-chart-bar {}" x="0" y="{}" width="{}" height="{}" rx="3"></rect>'
        '<text class="vg-chart-value" x="{}" y="{}">{}</text></g>'), (
        (label, text, i * ROW + 13, Truncator(label).chars(60),
         i * ROW + 18, span, BAR, css, i * ROW + 18, _n(_length(value, top, span)), BAR,
         span + 6, i * ROW + 30, text)
        for i, (label, value, text, css) in enumerate(rows)))
    return _svg(title, len(rows) * ROW + 4, body)


def _length(value: float, top: float, span: float) -> float:
    return max(0.0, min(1.0, value / top)) * span


def _n(value: float) -> str:
    """SVG coordinates: format_html escapes its arguments to strings, so format first."""
    return f"{value:.1f}"


def column_chart(columns: Sequence[tuple[str, float, str]], title: str) -> SafeString:
    """Vertical bars, one per day: (x label, value, value text)."""
    if not columns or not any(value for _l, value, _t in columns):
        return _empty(title)
    height, base, left = 170, 140, 60
    top = max(value for _l, value, _t in columns)
    step = (WIDTH - left) / len(columns)
    bars = format_html_join("", (
        '<g><title>{}: {}</title><rect class="vg-chart-bar vg-fill-spend" x="{}" y="{}" '
        'width="{}" height="{}" rx="2"></rect></g>'), (
        (label, text, _n(left + i * step + 1), _n(base - _height(value, top, base - 14)),
         _n(max(1.0, step - 2)), _n(_height(value, top, base - 14)))
        for i, (label, value, text) in enumerate(columns)))
    last = len(columns) - 1
    ticks = format_html_join("", (
        '<text class="vg-chart-label" x="{}" y="{}" text-anchor="{}">{}</text>'), (
        (_n(left + (i + 1) * step if i == last else left + i * step + step / 2), base + 18,
         "end" if i == last else "middle", label)
        for i, (label, _v, _t) in enumerate(columns) if (i % 5 == 0 and last - i > 2) or i == last))
    axis = format_html(
        '<line class="vg-chart-axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text class="vg-chart-label" x="{}" y="12" text-anchor="end">{}</text>'
        '<text class="vg-chart-label" x="{}" y="{}" text-anchor="end">0</text>',
        left, base, WIDTH, base, left - 4, money(Decimal(str(top))), left - 4, base)
    return _svg(title, height, mark_safe(bars + ticks + axis))  # noqa: S308 (built by format_html)


def _height(value: float, top: float, span: float) -> float:
    return max(0.0, value / top * span) if top else 0.0


def range_chart(rows: Sequence[tuple[str, float, float]], title: str) -> SafeString:
    """Median as a bar, p95 as a whisker, under each label: (label, median s, p95 s)."""
    if not rows:
        return _empty(title)
    top = max(p95 for _l, _m, p95 in rows) or 1
    body = format_html_join("", (
        '<g><title>{}: {}</title>'
        '<text class="vg-chart-label" x="0" y="{}">{}</text>'
        '<rect class="vg-chart-track" x="0" y="{}" width="{}" height="{}" rx="3"></rect>'
        '<rect class="vg-chart-bar vg-fill-in_progress" x="0" y="{}" width="{}" height="{}" '
        'rx="3"></rect>'
        '<line class="vg-chart-whisker" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<line class="vg-chart-whisker" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text class="vg-chart-value" x="{}" y="{}">{}</text></g>'), (
        _range_row(i, label, median, p95, top) for i, (label, median, p95) in enumerate(rows)))
    return _svg(title, len(rows) * ROW + 4, body)


def _range_row(i: int, label: str, median: float, p95: float, top: float
               ) -> tuple[object, ...]:
    text = _("median %(median)s, p95 %(p95)s") % {"median": duration_text(median),
                                                  "p95": duration_text(p95)}
    span = WIDTH - VALUE_WIDTH
    y = i * ROW + 18
    m_x, p_x = _length(median, top, span), _length(p95, top, span)
    return (label, text, i * ROW + 13, Truncator(label).chars(60),
            y, span, BAR, y, _n(m_x), BAR,
            _n(m_x), y + BAR / 2, _n(p_x), y + BAR / 2,
            _n(p_x), y - 2, _n(p_x), y + BAR + 2,
            span + 6, y + 12, f"{duration_text(median)} / {duration_text(p95)}")
