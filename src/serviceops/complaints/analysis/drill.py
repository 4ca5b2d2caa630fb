"""Complaint analysis: the complaints behind a figure (drill-down)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet

from serviceops.complaints.analysis.figures import Filters, Period, complaints_in, conditions
from serviceops.complaints.analysis.groups import next_month
from serviceops.complaints.models import Cause, Complaint, Fishbone
from serviceops.insights.selectors import local_midnight

DRILLS = ("all", "decided", "upheld", "acknowledged", "resolved", "ack_late", "final_late",
          "summary", "open", "open_overdue", "repeat", "gestures")


def analysis_drill(user, *, first: date, last: date, filters: Filters = Filters(),
                   figure: str = "all", by: str | None = None, group: str | None = None,
                   cause: str | None = None, fishbone: str | None = None,
                   now: datetime) -> QuerySet[Complaint]:
    """The complaints behind a figure of `complaint_analysis` with the same arguments: one of
    DRILLS, optionally within one group of a breakdown (`group` as `group_key` gives it),
    one root cause (id) or one fishbone category."""
    period = Period.of(first, last)
    queryset = complaints_in(user, period=period, filters=filters)
    named = conditions(now)
    if figure in named:
        queryset = queryset.filter(named[figure])
    elif figure == "ack_late":
        queryset = queryset.filter(named["ack_judged"]).exclude(named["ack_on_time"])
    elif figure == "final_late":
        queryset = queryset.filter(named["final_judged"]).exclude(
            named["final_on_time"])
    elif figure == "repeat":
        repeaters = (complaints_in(user, period=period, filters=filters).order_by()
                     .filter(customer__isnull=False).values("customer")
                     .annotate(n=Count("pk")).filter(n__gte=2).values("customer"))
        queryset = queryset.filter(customer__in=repeaters)
    elif figure == "gestures":
        queryset = queryset.filter(gestures__isnull=False).distinct()
    elif figure != "all":
        raise ValueError(f"Unknown figure {figure!r}.")
    if by is not None and group is not None:
        queryset = _in_group(queryset, by, group)
    if cause:
        queryset = queryset.filter(causes__cause_id=int(cause))
    if fishbone:
        queryset = queryset.filter(causes__cause__category=fishbone).distinct()
    return queryset


def _in_group(queryset: QuerySet[Complaint], by: str, group: str) -> QuerySet[Complaint]:
    if by in ("month", "week"):
        first = date.fromisoformat(group)
        after = next_month(first) if by == "month" else first + timedelta(days=7)
        return queryset.filter(received_at__gte=local_midnight(first),
                               received_at__lt=local_midnight(after))
    column = {"category": "category_id", "product": "product", "team": "team_id",
              "severity": "severity"}[by]
    if group == "" and by != "product":
        return queryset.filter(**{f"{column}__isnull": True})
    return queryset.filter(**{column: group if by == "product" else int(group)})


def cause_labels() -> dict[str, str]:
    """{cause id: "Fishbone › name"} of the catalogue (for drill-down titles)."""
    fishbone = dict(Fishbone.choices)
    return {str(c.pk): f"{fishbone[c.category]} › {c.name}" for c in Cause.objects.all()}
