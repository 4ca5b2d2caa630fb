"""Complaint analysis: the whole analysis of a period, its queries run side by side, and the
root-cause answer in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from django.db.models import Count, QuerySet

from serviceops.complaints.analysis.causes import (
    CauseTrend,
    Cost,
    Repeats,
    cause_trends,
    cost_pair,
    fishbone_trends,
    gesture_totals,
    repeat_counts,
)
from serviceops.complaints.analysis.figures import (
    BREAKDOWNS,
    Figures,
    Filters,
    Period,
    count_figures,
    duration_quantiles,
    figures_of,
    period_totals,
)
from serviceops.complaints.analysis.groups import (
    GroupRow,
    group_expression,
    group_key,
    group_labels,
)
from serviceops.complaints.models import Complaint
from serviceops.complaints.selectors import complaint_scope
from serviceops.core.snapshot import read_together
from serviceops.insights import spc


@dataclass(frozen=True)
class Analysis:
    period: Period
    previous: Period
    filters: Filters
    by: str
    totals: Figures
    previous_totals: Figures
    rows: list[GroupRow]
    repeats: Repeats
    previous_repeats: Repeats
    causes: list[CauseTrend]
    fishbone: list[CauseTrend]
    cost: Cost
    previous_cost: Cost
    cause_pareto: list[spc.ParetoRow]
    category_pareto: list[spc.ParetoRow]
    # Pareto label → drill-down key (cause id, category id) for the page's links.
    pareto_keys: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def causes_verdict(self) -> str:
        return causes_in_words(self.causes, self.fishbone)


def complaint_analysis(user, *, first: date, last: date, filters: Filters = Filters(),
                       by: str = "category", now: datetime) -> Analysis:
    """Every figure of the analysis for the complaints `user` may see received from `first`
    to `last` (local dates, included), with the previous period beside them, broken down
    `by` one of BREAKDOWNS. Deadlines not yet due at `now` are not judged."""
    if by not in BREAKDOWNS:
        raise ValueError(f"Unknown breakdown {by!r}: choose one of {', '.join(BREAKDOWNS)}.")
    period = Period.of(first, last)
    previous = period.previous()
    # One queryset over both periods: each figure is one pass, split by `period_flag`.
    both = complaint_scope(user).filter(filters.q(), received_at__gte=previous.start,
                                        received_at__lt=period.end)
    expression = group_expression(by, previous.first, period.last)
    scoped = {"user": user, "period": period, "previous": previous, "filters": filters}
    # Independent queries, longest first: on PostgreSQL they run side by side.
    calls = {
        "counts": partial(count_figures, both, now=now, split=period.start, group=expression),
        "overall": partial(duration_quantiles, both, split=period.start),
        "repeats": partial(repeat_counts, both, split=period.start),
        "by_group": partial(duration_quantiles, both, split=period.start, group=expression),
        "fishbone": partial(fishbone_trends, **scoped),
        "causes": partial(cause_trends, **scoped),
        "costs": partial(gesture_totals, **scoped),
    }
    if by != "category":
        calls["categories"] = partial(_volumes, both.filter(received_at__gte=period.start),
                                      group_expression("category"))
    found = read_together(calls)

    counts, overall, by_group = found["counts"], found["overall"], found["by_group"]
    current = figures_of({(True, None): period_totals(counts, True)}, overall, (True, None))
    before = figures_of({(False, None): period_totals(counts, False)}, overall, (False, None))
    labels = group_labels(by, [g for p, g in counts if p])
    rows = sorted((GroupRow(g, labels[g], figures_of(counts, by_group, (True, g)),
                            counts.get((False, g), {}).get("volume", 0))
                   for p, g in counts if p),
                  key=lambda r: (r.key is None, r.key) if by in ("month", "week")
                  else (-r.figures.volume, r.label))
    now_repeating, before_repeating = found["repeats"]
    repeats = Repeats(*now_repeating, current.volume)
    previous_repeats = Repeats(*before_repeating, before.volume)
    cost, previous_cost = cost_pair(found["costs"], (current.volume, before.volume))
    causes, fishbone = found["causes"], found["fishbone"]
    if by == "category":  # the breakdown is the categories: its labels serve the Pareto
        category_volumes = {r.key: r.figures.volume for r in rows}
        category_labels = labels
    else:
        category_volumes = found["categories"]
        category_labels = group_labels("category", list(category_volumes))
    return Analysis(
        period=period, previous=previous, filters=filters, by=by, totals=current,
        previous_totals=before, rows=rows, repeats=repeats, previous_repeats=previous_repeats,
        causes=causes, fishbone=fishbone, cost=cost, previous_cost=previous_cost,
        cause_pareto=spc.pareto({c.label: c.count for c in causes if c.count}),
        category_pareto=spc.pareto({category_labels[k]: n
                                    for k, n in category_volumes.items() if n}),
        pareto_keys={"cause": {c.label: c.key for c in causes},
                     "category": {category_labels[k]: group_key("category", k)
                                  for k in category_volumes}},
    )


def _volumes(queryset: QuerySet[Complaint], expression) -> dict:
    return dict(queryset.order_by().annotate(g=expression).values("g")
                .annotate(n=Count("pk")).values_list("g", "n"))


def causes_in_words(causes: list[CauseTrend], fishbone: list[CauseTrend], *,
                    top: int = 3) -> str:
    """"What are our top root causes and are they falling?" answered in a sentence or two."""
    shown = [c for c in causes if c.count][:top]
    if not shown:
        return "No root cause was recorded for the complaints of this period."
    parts = []
    for c in shown:
        if c.direction == "new":
            trend = "new: none in the previous period"
        elif c.direction == "unchanged":
            trend = "unchanged"
        else:
            trend = (f"{c.direction}, {abs(c.change_share or 0) * 100:.0f} % "
                     f"{'fewer' if c.change < 0 else 'more'} than the previous period's "
                     f"{c.previous:,}")
        parts.append(f"{c.label} ({_complaints(c.count)}; {trend})")
    falling = sum(1 for c in shown if c.direction == "falling")
    verdict = ("All of them are falling." if falling == len(shown) else
               "None of them is falling." if falling == 0 else
               f"{falling} of the {len(shown)} are falling.")
    text = f"Top root causes: {'; '.join(parts)}. {verdict}"
    biggest = next((f for f in fishbone if f.count), None)
    if biggest is not None:
        text += (f" The largest fishbone category is {biggest.label} "
                 f"({_complaints(biggest.count)}, {biggest.previous:,} before).")
    return text


def _complaints(n: int) -> str:
    return f"{n:,} complaint{'' if n == 1 else 's'}"
