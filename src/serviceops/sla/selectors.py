"""Reads for SLA pages: the live board and compliance reporting, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import TruncMonth

from serviceops.cases.choices import OPEN_STATUSES
from serviceops.cases.models import Case
from serviceops.core.permissions import case_scope
from serviceops.sla.models import CaseClock

GROUPS = {
    "team": "case__team__name",
    "priority": "priority",
    "channel": "case__channel",
    "policy": "case__sla__version__policy__name",
    "month": "month",
}


def board(*, user, now: datetime) -> list[dict]:
    """Per team: open, unassigned, due within the hour, breached and the oldest open case."""
    soon = Q(sla__next_due_at__gt=now, sla__next_due_at__lte=now + timedelta(hours=1))
    rows = (case_scope(user).filter(status__in=OPEN_STATUSES)
            .values("team_id", "team__name")
            .annotate(open=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True)),
                      due_hour=Count("id", filter=soon),
                      breached=Count("id", filter=Q(sla__breached=True)),
                      untimed=Count("id", filter=Q(sla__isnull=True)
                                    | Q(sla__version__isnull=True)),
                      oldest=Min("opened_at"))
            .order_by(F("team__name").asc(nulls_last=True)))
    return list(rows)


def clocks_in(user, start: date, end: date) -> QuerySet[CaseClock]:
    """Clocks that started between two dates (inclusive) on cases the user may see."""
    return CaseClock.objects.filter(
        started_at__date__gte=start, started_at__date__lte=end,
        case__in=case_scope(user, Case.objects.all()).values("id"))


@dataclass(frozen=True)
class ComplianceRow:
    group: str
    kind: str
    met: int
    breached: int
    in_progress: int

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def met_share(self) -> float | None:
        """Met of the clocks that have an outcome (None when none has)."""
        return self.met / self.decided if self.decided else None


def compliance(*, user, start: date, end: date, by: str) -> list[ComplianceRow]:
    """% met per clock kind, grouped by team, priority, channel, policy or month.

    A clock counts in the period it started. Met and breached clocks have an outcome; running
    or paused clocks within target are "in progress" and left out of the percentage.
    """
    field = GROUPS[by]
    qs = clocks_in(user, start, end)
    if by == "month":
        qs = qs.annotate(month=TruncMonth("started_at"))
    rows = (qs.values(field, "kind")
            .annotate(met=Count("id", filter=Q(state="met")),
                      breached=Count("id", filter=Q(state="breached")),
                      in_progress=Count("id", filter=Q(state__in=["running", "paused"])))
            .order_by(field, "kind"))
    result = []
    for row in rows:
        group = row[field]
        if by == "month" and group is not None:
            group = group.strftime("%Y-%m")
        elif by == "priority" and group is not None:
            group = str(group)
        result.append(ComplianceRow(group=group if group is not None else "(none)",
                                    kind=row["kind"], met=row["met"], breached=row["breached"],
                                    in_progress=row["in_progress"]))
    return result


def breaches(*, user, start: date, end: date) -> QuerySet[CaseClock]:
    """Breached clocks that started in the period, worst overrun first."""
    return (clocks_in(user, start, end).filter(state="breached")
            .select_related("case", "case__team")
            .annotate(overrun=F("elapsed_seconds") - F("target_seconds"))
            .order_by("-overrun", "id"))
