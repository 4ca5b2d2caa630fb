"""Complaint analysis: the period and filters, the SQL pieces and the counted figures
(volumes, outcomes, deadlines, durations) of a set of complaints, with their percentiles."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    Field,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from serviceops.complaints.models import Complaint, Outcome
from serviceops.complaints.selectors import complaint_scope
from serviceops.insights.selectors import period_bounds, previous_period

BREAKDOWNS = ("category", "product", "team", "severity", "month", "week")
QUANTILES = (0.5, 0.9)
UPHELD = (Outcome.UPHELD, Outcome.PARTLY_UPHELD)
DECIDED = (*UPHELD, Outcome.NOT_UPHELD)  # withdrawn complaints were never decided
NO_PRODUCT = "(no product)"
NO_GROUP = "(none)"
PENNY = Decimal("0.01")


# --- period and filters ----------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Local dates `first` to `last` (both included) and the instants [start, end)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, first: date, last: date) -> Period:
        return cls(first, last, *period_bounds(first, last))

    def previous(self) -> Period:
        """The period of the same length just before (a whole month, quarter or year is
        compared with the previous one), as the KPI dashboard does."""
        return Period.of(*previous_period(self.first, self.last))


@dataclass(frozen=True)
class Filters:
    """Optional filters; a category stands for itself and its sub-categories."""

    team_id: int | None = None
    category_id: int | None = None
    product: str = ""
    severity: int | None = None

    def q(self) -> Q:
        q = Q()
        if self.team_id is not None:
            q &= Q(team_id=self.team_id)
        if self.category_id is not None:
            q &= Q(category_id=self.category_id) | Q(category__parent_id=self.category_id)
        if self.product:
            q &= Q(product=self.product)
        if self.severity is not None:
            q &= Q(severity=self.severity)
        return q


def complaints_in(user, *, period: Period, filters: Filters = Filters()) -> QuerySet[Complaint]:
    """The complaints `user` may see that were received in `period` and meet `filters`."""
    return complaint_scope(user).filter(filters.q(), received_at__gte=period.start,
                                        received_at__lt=period.end)


# --- SQL pieces ------------------------------------------------------------------------------

class Seconds(Func):
    """Seconds from the second expression to the first (NULL if either is NULL)."""

    arity = 2
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        # date_part gives a double directly; EXTRACT gives a numeric (PostgreSQL 14+), and
        # with it a year's percentiles took about 1.5 times as long (measured).
        return self.as_sql(compiler, connection, arg_joiner=" - ",
                           template="date_part('epoch', %(expressions)s)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # julianday() keeps about 0.05 ms of precision at today's dates: rounded to the
        # millisecond, both databases give the same figures.
        return self.as_sql(compiler, connection, arg_joiner=") - julianday(",
                           template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
                           **extra)


class Quantiles(Aggregate):
    """PostgreSQL: the continuous percentiles QUANTILES of an expression, as one array."""

    function = "percentile_cont"
    template = ("%(function)s(ARRAY[" + ", ".join(str(q) for q in QUANTILES)
                + "]) WITHIN GROUP (ORDER BY %(expressions)s)")
    output_field = Field()  # a list of floats, passed through unconverted


def quantile(ordered: list[float], q: float) -> float:
    """The continuous percentile `q` (0-1) of sorted values, as `percentile_cont`."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


DURATIONS = {
    "acknowledge": Seconds(F("acknowledged_at"), F("received_at")),
    "resolve": Seconds(F("resolved_at"), F("received_at")),
}


def conditions(now: datetime) -> dict[str, Q]:
    """Named conditions on a complaint; the figures count them. A deadline is judged once it
    is met or has passed at `now`; a complaint not yet due is not judged either way."""
    still_open = Q(resolved_at__isnull=True, closed_at__isnull=True)
    ack_judged = Q(acknowledge_due__isnull=False) & (
        Q(acknowledged_at__isnull=False) | Q(acknowledge_due__lt=now))
    final_judged = Q(resolved_at__isnull=False) | (still_open & Q(final_due__lt=now))
    return {
        "decided": Q(outcome__in=DECIDED),
        "upheld": Q(outcome__in=UPHELD),
        "acknowledged": Q(acknowledged_at__isnull=False),
        "resolved": Q(resolved_at__isnull=False),
        "ack_judged": ack_judged,
        "ack_on_time": ack_judged & Q(acknowledged_at__lte=F("acknowledge_due")),
        "final_judged": final_judged,
        "final_on_time": final_judged & Q(resolved_at__lte=F("final_due")),
        "summary": Q(resolved_at__isnull=False, summary_resolution=True),
        "open": still_open,
        "open_overdue": still_open & Q(final_due__lt=now),
    }


# --- figures ---------------------------------------------------------------------------------

def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """The counted figures of a set of complaints; times in elapsed seconds."""

    volume: int = 0
    decided: int = 0
    upheld: int = 0  # upheld or partly upheld
    acknowledged: int = 0
    resolved: int = 0
    ack_judged: int = 0
    ack_on_time: int = 0
    final_judged: int = 0
    final_on_time: int = 0
    summary: int = 0
    open: int = 0
    open_overdue: int = 0
    acknowledge_median: float | None = None
    acknowledge_p90: float | None = None
    resolve_median: float | None = None
    resolve_p90: float | None = None

    @property
    def uphold_rate(self) -> float | None:
        """Upheld and partly upheld over decided (withdrawn and undecided left out)."""
        return rate(self.upheld, self.decided)

    @property
    def ack_on_time_rate(self) -> float | None:
        return rate(self.ack_on_time, self.ack_judged)

    @property
    def final_on_time_rate(self) -> float | None:
        return rate(self.final_on_time, self.final_judged)

    @property
    def summary_rate(self) -> float | None:
        """Summary resolutions over resolved complaints."""
        return rate(self.summary, self.resolved)

    @property
    def open_overdue_rate(self) -> float | None:
        """Still open past the final deadline, over all complaints received."""
        return rate(self.open_overdue, self.volume)


COUNTED = ("volume", "decided", "upheld", "acknowledged", "resolved", "ack_judged",
           "ack_on_time", "final_judged", "final_on_time", "summary", "open", "open_overdue")


def count_figures(queryset: QuerySet[Complaint], *, now: datetime, split: datetime,
            group) -> dict:
    """{(in_period, group value): {figure: count}} over `queryset`, which spans the previous
    period and the period (`in_period` is True from `split` on): one aggregate query with a
    FILTER per figure and period, which PostgreSQL hashes by group in one pass."""
    recent, older = Q(received_at__gte=split), Q(received_at__lt=split)
    counted = {"volume": Q()} | conditions(now)
    # The period first: PostgreSQL stops at it for the other period's rows.
    aggregates = {f"{name}{suffix}": Count("pk", filter=period & q)
                  for name, q in counted.items()
                  for suffix, period in (("", recent), ("__b", older))}
    out: dict = {}
    for row in queryset.order_by().annotate(g=group).values("g").annotate(**aggregates):
        for suffix, in_period in (("", True), ("__b", False)):
            if row[f"volume{suffix}"]:
                out[in_period, row["g"]] = {name: row[f"{name}{suffix}"] for name in COUNTED}
    return out


def figures_of(counts: dict, quantiles: dict, key) -> Figures:
    """The Figures of one (in_period, group) from `count_figures` and `duration_quantiles`."""
    values = dict(counts.get(key) or {})
    for kind in DURATIONS:
        found = quantiles.get((*key, kind))
        if found:
            values[f"{kind}_median"], values[f"{kind}_p90"] = found
    return Figures(**values)


def period_totals(counts: dict, in_period: bool) -> dict:
    """The counts of a whole period: the sum of its groups' (every count is additive)."""
    return {name: sum(c[name] for (p, _), c in counts.items() if p == in_period)
            for name in COUNTED}


def period_flag(split: datetime) -> Case:
    """1 for a complaint received from `split` on (the period), 0 before (the previous)."""
    return Case(When(received_at__gte=split, then=Value(1)), default=Value(0),
                output_field=IntegerField())


def duration_quantiles(queryset: QuerySet[Complaint], *, split: datetime, group=None) -> dict:
    """{(in_period, group, kind): [median, p90]} of the elapsed durations: with `group`, of
    the period's groups; without, of both whole periods (group None).

    PostgreSQL: `percentile_cont` in one query, over the period's rows alone for a
    breakdown (an ordered-set aggregate makes PostgreSQL sort the rows of each group, so the
    query keeps them narrow). SQLite, which has no percentile function: the known durations
    are read (one row of two numbers per complaint), sorted and interpolated here, as
    `insights.sources` does."""
    out: dict = {}
    queryset = queryset.order_by()
    if on_postgres():
        if group is None:
            periods = (("", True, Q(received_at__gte=split)),
                       ("__b", False, Q(received_at__lt=split)))
            found = queryset.aggregate(**{
                f"{kind}{suffix}": Quantiles(expr, filter=period)
                for kind, expr in DURATIONS.items() for suffix, _, period in periods})
            for kind in DURATIONS:
                for suffix, in_period, _ in periods:
                    out[in_period, None, kind] = found[f"{kind}{suffix}"]
            return out
        rows = (queryset.filter(received_at__gte=split).annotate(g=group).values("g")
                .annotate(**{kind: Quantiles(expr) for kind, expr in DURATIONS.items()}))
        for row in rows:
            for kind in DURATIONS:
                out[True, row["g"], kind] = row[kind]
        return out
    # SQLite: one read of the durations (two columns), sorted here: Python sorts a year's
    # values in milliseconds, where SQLite's ORDER BY on computed keys took seconds.
    keyed = queryset.annotate(p=period_flag(split), g=group if group is not None
                              else Value(None, output_field=IntegerField()),
                              **{kind: expr for kind, expr in DURATIONS.items()})
    if group is not None:
        keyed = keyed.filter(received_at__gte=split)
    known: dict = defaultdict(list)
    for p, g, *durations in keyed.values_list("p", "g", *DURATIONS).iterator(chunk_size=10_000):
        for kind, value in zip(DURATIONS, durations, strict=True):
            if value is not None:
                known[bool(p), g, kind].append(value)
    for key, values in known.items():
        values.sort()
        out[key] = [quantile(values, q) for q in QUANTILES]
    return out
