"""Complaint analysis: repeat complainants, root causes and fishbone categories period over
period, and the cost of service recovery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from serviceops.complaints.analysis.figures import PENNY, Filters, Period, rate
from serviceops.complaints.models import Complaint, ComplaintCause, Fishbone, Gesture
from serviceops.complaints.selectors import complaint_scope


@dataclass(frozen=True)
class Repeats:
    """Customers with two or more complaints in the period, and how many complaints those
    customers made (out of `volume`)."""

    customers: int
    complaints: int
    volume: int

    @property
    def share(self) -> float | None:
        return rate(self.complaints, self.volume)


def repeat_counts(queryset: QuerySet[Complaint], *, split: datetime) -> tuple[tuple, tuple]:
    """(customers, complaints) of the repeat complainants of the period and of the previous
    one (`queryset` spans both, split at `split`), counted in one pass."""
    now, before = Q(received_at__gte=split), Q(received_at__lt=split)
    per_customer = (queryset.order_by().filter(customer__isnull=False).values("customer")
                    .annotate(n=Count("pk", filter=now), b=Count("pk", filter=before)))
    found = per_customer.aggregate(
        customers=Count("customer", filter=Q(n__gte=2)), complaints=Sum("n", filter=Q(n__gte=2)),
        customers_before=Count("customer", filter=Q(b__gte=2)),
        complaints_before=Sum("b", filter=Q(b__gte=2)))
    return ((found["customers"] or 0, found["complaints"] or 0),
            (found["customers_before"] or 0, found["complaints_before"] or 0))


@dataclass(frozen=True)
class CauseTrend:
    """Complaints with a root cause (or a fishbone category) now and in the previous period."""

    key: str  # cause id, or fishbone category
    label: str
    fishbone: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_share(self) -> float | None:
        return rate(self.change, self.previous)

    @property
    def direction(self) -> str:
        """"falling", "rising", "unchanged" or "new" (none in the previous period)."""
        if self.count == self.previous:
            return "unchanged"
        if self.previous == 0:
            return "new"
        return "falling" if self.count < self.previous else "rising"


def _in_both(period: Period, previous: Period):
    now = Q(received_at__gte=period.start, received_at__lt=period.end)
    before = Q(received_at__gte=previous.start, received_at__lt=previous.end)
    return now, before


def _scoped_children(model, user, *, period: Period, previous: Period, filters: Filters):
    """Rows of `model` (a complaint's causes or gestures, which carry its receipt) received in
    either period, restricted to the complaints the user may see and the filters select."""
    rows = model.objects.filter(received_at__gte=previous.start, received_at__lt=period.end)
    complaints = complaint_scope(user).filter(filters.q())
    if complaints.query.where:  # a subquery only when it selects something less than all
        rows = rows.filter(complaint__in=complaints.filter(
            received_at__gte=previous.start, received_at__lt=period.end).values("pk"))
    return rows.order_by()


def cause_trends(user, *, period: Period, previous: Period, filters: Filters) -> list[CauseTrend]:
    """Complaints per root cause, largest count first."""
    rows = _scoped_children(ComplaintCause, user, period=period, previous=previous,
                            filters=filters)
    now, before = _in_both(period, previous)
    fishbone = dict(Fishbone.choices)
    return sorted((
        CauseTrend(str(r["cause"]), f"{fishbone[r['cause__category']]} › {r['cause__name']}",
                   r["cause__category"], r["n"], r["p"])
        for r in rows.values("cause", "cause__name", "cause__category").annotate(
            n=Count("pk", filter=now), p=Count("pk", filter=before))), key=_largest_first)


def fishbone_trends(user, *, period: Period, previous: Period,
              filters: Filters) -> list[CauseTrend]:
    """Complaints per fishbone category, largest count first. A complaint counts once under
    a category however many of its causes are in it (COUNT DISTINCT measured faster here
    than counting distinct pairs in a subquery)."""
    rows = _scoped_children(ComplaintCause, user, period=period, previous=previous,
                            filters=filters)
    now, before = _in_both(period, previous)
    fishbone = dict(Fishbone.choices)
    return sorted((
        CauseTrend(r["cause__category"], fishbone[r["cause__category"]], r["cause__category"],
                   r["n"], r["p"])
        for r in rows.values("cause__category").annotate(
            n=Count("complaint", distinct=True, filter=now),
            p=Count("complaint", distinct=True, filter=before))), key=_largest_first)


def _largest_first(trend: CauseTrend):
    return (-trend.count, -trend.previous, trend.label)


@dataclass(frozen=True)
class Cost:
    """Service-recovery gestures on the complaints received in the period."""

    by_kind: dict[str, Decimal]  # kind label → total
    gestures: int
    total: Decimal
    volume: int

    @property
    def per_complaint(self) -> Decimal | None:
        """Total cost over every complaint received (with a gesture or not)."""
        return (self.total / self.volume).quantize(PENNY) if self.volume else None


def gesture_totals(user, *, period: Period, previous: Period, filters: Filters) -> list[dict]:
    """Per gesture kind: how many and how much in the period (n, amount_n) and in the
    previous one (p, amount_p)."""
    rows = _scoped_children(Gesture, user, period=period, previous=previous, filters=filters)
    now, before = _in_both(period, previous)
    return list(rows.values("kind").annotate(
        n=Count("pk", filter=now), p=Count("pk", filter=before),
        amount_n=Sum("amount", filter=now), amount_p=Sum("amount", filter=before)
    ).order_by("kind"))


def cost_pair(found: list[dict], volumes: tuple[int, int]) -> tuple[Cost, Cost]:
    """The Cost of the period and of the previous one from `gesture_totals`' rows."""
    labels = dict(Gesture.Kind.choices)
    out = []
    for count, amount, volume in (("n", "amount_n", volumes[0]), ("p", "amount_p", volumes[1])):
        # SQLite sums decimals without their scale: pence on both databases.
        by_kind = {labels[r["kind"]]: (r[amount] or Decimal(0)).quantize(PENNY)
                   for r in found if r[count]}
        out.append(Cost(by_kind, sum(r[count] for r in found),
                        sum(by_kind.values(), Decimal("0.00")), volume))
    return out[0], out[1]
