"""Complaint analysis (DO4 item 8): the read model behind the analysis page, its CSV export
and `benchmarks/bench_complaints.py`.

For the complaints received in a period (local dates, both included), within what a user may
see (`complaint_scope`) and optional filters, every figure is an aggregate query: volumes,
uphold rate, time to acknowledge and to resolve (median, 90th percentile), deadlines met,
complaints still open past their final deadline, repeat complainants, root causes and
recovery cost, each with the previous period beside it, plus one breakdown and the Paretos
of root causes and categories. No complaint is loaded into Python to compute a figure; the
rows that cross into Python are one per group, cause or gesture kind.

Times are elapsed (calendar) seconds from receipt, not business time: the deadlines already
carry the regime's business days, so "met" is judged against them exactly, and the durations
describe what the customer lived through.

Percentiles are continuous (interpolated), as `insights.sources`: PostgreSQL computes them
with `percentile_cont`; SQLite has no percentile function, so it reads the one column of
known durations, sorted by the database, and interpolates the same way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateField,
    F,
    Field,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from serviceops.complaints.models import (
    Cause,
    Complaint,
    ComplaintCategory,
    ComplaintCause,
    Fishbone,
    Gesture,
    Outcome,
    Severity,
)
from serviceops.complaints.selectors import complaint_scope
from serviceops.core.snapshot import read_together
from serviceops.insights import spc
from serviceops.insights.selectors import local_midnight, period_bounds, previous_period
from serviceops.people.models import Team

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


def _postgres() -> bool:
    return connection.vendor == "postgresql"


DURATIONS = {
    "acknowledge": Seconds(F("acknowledged_at"), F("received_at")),
    "resolve": Seconds(F("resolved_at"), F("received_at")),
}


def _conditions(now: datetime) -> dict[str, Q]:
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

def _rate(part: int, whole: int) -> float | None:
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
        return _rate(self.upheld, self.decided)

    @property
    def ack_on_time_rate(self) -> float | None:
        return _rate(self.ack_on_time, self.ack_judged)

    @property
    def final_on_time_rate(self) -> float | None:
        return _rate(self.final_on_time, self.final_judged)

    @property
    def summary_rate(self) -> float | None:
        """Summary resolutions over resolved complaints."""
        return _rate(self.summary, self.resolved)

    @property
    def open_overdue_rate(self) -> float | None:
        """Still open past the final deadline, over all complaints received."""
        return _rate(self.open_overdue, self.volume)


COUNTED = ("volume", "decided", "upheld", "acknowledged", "resolved", "ack_judged",
           "ack_on_time", "final_judged", "final_on_time", "summary", "open", "open_overdue")


def _counts(queryset: QuerySet[Complaint], *, now: datetime, split: datetime,
            group) -> dict:
    """{(in_period, group value): {figure: count}} over `queryset`, which spans the previous
    period and the period (`in_period` is True from `split` on): one aggregate query with a
    FILTER per figure and period, which PostgreSQL hashes by group in one pass."""
    recent, older = Q(received_at__gte=split), Q(received_at__lt=split)
    counted = {"volume": Q()} | _conditions(now)
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


def _figures(counts: dict, quantiles: dict, key) -> Figures:
    """The Figures of one (in_period, group) from `_counts` and `_quantiles`."""
    values = dict(counts.get(key) or {})
    for kind in DURATIONS:
        found = quantiles.get((*key, kind))
        if found:
            values[f"{kind}_median"], values[f"{kind}_p90"] = found
    return Figures(**values)


def _sum_counts(counts: dict, in_period: bool) -> dict:
    """The counts of a whole period: the sum of its groups' (every count is additive)."""
    return {name: sum(c[name] for (p, _), c in counts.items() if p == in_period)
            for name in COUNTED}


def _in_period(split: datetime) -> Case:
    """1 for a complaint received from `split` on (the period), 0 before (the previous)."""
    return Case(When(received_at__gte=split, then=Value(1)), default=Value(0),
                output_field=IntegerField())


def _quantiles(queryset: QuerySet[Complaint], *, split: datetime, group=None) -> dict:
    """{(in_period, group, kind): [median, p90]} of the elapsed durations: with `group`, of
    the period's groups; without, of both whole periods (group None).

    PostgreSQL: `percentile_cont` in one query, over the period's rows alone for a
    breakdown (an ordered-set aggregate makes PostgreSQL sort the rows of each group, so the
    query keeps them narrow). SQLite, which has no percentile function: the known durations
    are read (one row of two numbers per complaint), sorted and interpolated here, as
    `insights.sources` does."""
    out: dict = {}
    queryset = queryset.order_by()
    if _postgres():
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
    keyed = queryset.annotate(p=_in_period(split), g=group if group is not None
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


# --- breakdowns ------------------------------------------------------------------------------

def _group_expression(by: str, first: date | None = None, last: date | None = None):
    """The SQL naming each complaint's group; months and weeks (local, weeks from Monday)
    between the local dates `first` and `last`."""
    if by in ("month", "week"):
        return _calendar_buckets(by, first, last)
    return {"category": F("category_id"), "product": F("product"), "team": F("team_id"),
            "severity": F("severity")}[by]


def bucket_starts(by: str, first: date, last: date) -> list[date]:
    """The first day of each local month (or the Monday of each week) from `first`'s to
    `last`'s."""
    if by == "month":
        day, starts = first.replace(day=1), []
        while day <= last:
            starts.append(day)
            day = _next_month(day)
        return starts
    day = first - timedelta(days=first.weekday())
    return [day + timedelta(days=7 * i) for i in range((last - day).days // 7 + 1)]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _calendar_buckets(by: str, first: date, last: date):
    """Each complaint's month or week start, found by comparing its receipt with the local
    midnights that start the buckets: plain SQL on both databases (SQLite's date truncation
    in a time zone is a Python function called for every row, twenty times slower), nested
    as a binary search so that each complaint needs a handful of comparisons, not one per
    bucket."""
    return _bucket_search(bucket_starts(by, first, last))


def _bucket_search(starts: list[date]):
    if len(starts) == 1:
        return Value(starts[0], output_field=DateField())
    middle = len(starts) // 2
    return Case(When(received_at__lt=local_midnight(starts[middle]),
                     then=_bucket_search(starts[:middle])),
                default=_bucket_search(starts[middle:]), output_field=DateField())


def group_labels(by: str, keys: list) -> dict:
    """{group key: label in words} for the keys of a breakdown."""
    if by == "category":
        names = {c.pk: str(c) for c in ComplaintCategory.objects.filter(
            pk__in=[k for k in keys if k is not None]).select_related("parent")}
        return {k: names.get(k, NO_GROUP) for k in keys}
    if by == "team":
        names = dict(Team.objects.filter(pk__in=[k for k in keys if k is not None])
                     .values_list("pk", "name"))
        return {k: names.get(k, NO_GROUP) for k in keys}
    if by == "severity":
        return {k: Severity(k).label.split(":")[0] for k in keys}
    if by == "product":
        return {k: k or NO_PRODUCT for k in keys}
    if by == "month":
        return {k: k.strftime("%b %Y") for k in keys}
    return {k: "Week of " + k.strftime("%-d %b %Y") for k in keys}


def group_key(by: str, key) -> str:
    """The key of a group as it travels in a URL (drill-down)."""
    if key is None:
        return ""
    if by in ("month", "week"):
        return key.isoformat()
    return str(key)


@dataclass(frozen=True)
class GroupRow:
    key: object
    label: str
    figures: Figures
    previous_volume: int


# --- repeat complainants, causes, cost ---------------------------------------------------------

@dataclass(frozen=True)
class Repeats:
    """Customers with two or more complaints in the period, and how many complaints those
    customers made (out of `volume`)."""

    customers: int
    complaints: int
    volume: int

    @property
    def share(self) -> float | None:
        return _rate(self.complaints, self.volume)


def _repeats(queryset: QuerySet[Complaint], *, split: datetime) -> tuple[tuple, tuple]:
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
        return _rate(self.change, self.previous)

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


def _causes(user, *, period: Period, previous: Period, filters: Filters) -> list[CauseTrend]:
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


def _fishbone(user, *, period: Period, previous: Period,
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


def _costs(user, *, period: Period, previous: Period, filters: Filters) -> list[dict]:
    """Per gesture kind: how many and how much in the period (n, amount_n) and in the
    previous one (p, amount_p)."""
    rows = _scoped_children(Gesture, user, period=period, previous=previous, filters=filters)
    now, before = _in_both(period, previous)
    return list(rows.values("kind").annotate(
        n=Count("pk", filter=now), p=Count("pk", filter=before),
        amount_n=Sum("amount", filter=now), amount_p=Sum("amount", filter=before)
    ).order_by("kind"))


def _cost_pair(found: list[dict], volumes: tuple[int, int]) -> tuple[Cost, Cost]:
    """The Cost of the period and of the previous one from `_costs`' rows."""
    labels = dict(Gesture.Kind.choices)
    out = []
    for count, amount, volume in (("n", "amount_n", volumes[0]), ("p", "amount_p", volumes[1])):
        # SQLite sums decimals without their scale: pence on both databases.
        by_kind = {labels[r["kind"]]: (r[amount] or Decimal(0)).quantize(PENNY)
                   for r in found if r[count]}
        out.append(Cost(by_kind, sum(r[count] for r in found),
                        sum(by_kind.values(), Decimal("0.00")), volume))
    return out[0], out[1]


# --- the whole analysis ----------------------------------------------------------------------

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
    # One queryset over both periods: each figure is one pass, split by `_in_period`.
    both = complaint_scope(user).filter(filters.q(), received_at__gte=previous.start,
                                        received_at__lt=period.end)
    expression = _group_expression(by, previous.first, period.last)
    scoped = {"user": user, "period": period, "previous": previous, "filters": filters}
    # Independent queries, longest first: on PostgreSQL they run side by side.
    calls = {
        "counts": partial(_counts, both, now=now, split=period.start, group=expression),
        "overall": partial(_quantiles, both, split=period.start),
        "repeats": partial(_repeats, both, split=period.start),
        "by_group": partial(_quantiles, both, split=period.start, group=expression),
        "fishbone": partial(_fishbone, **scoped),
        "causes": partial(_causes, **scoped),
        "costs": partial(_costs, **scoped),
    }
    if by != "category":
        calls["categories"] = partial(_volumes, both.filter(received_at__gte=period.start),
                                      _group_expression("category"))
    found = read_together(calls)

    counts, overall, by_group = found["counts"], found["overall"], found["by_group"]
    current = _figures({(True, None): _sum_counts(counts, True)}, overall, (True, None))
    before = _figures({(False, None): _sum_counts(counts, False)}, overall, (False, None))
    labels = group_labels(by, [g for p, g in counts if p])
    rows = sorted((GroupRow(g, labels[g], _figures(counts, by_group, (True, g)),
                            counts.get((False, g), {}).get("volume", 0))
                   for p, g in counts if p),
                  key=lambda r: (r.key is None, r.key) if by in ("month", "week")
                  else (-r.figures.volume, r.label))
    volumes = (current.volume, before.volume)
    repeats, previous_repeats = (Repeats(customers, complaints, volume) for
                                 (customers, complaints), volume in zip(found["repeats"],
                                                                        volumes, strict=True))
    cost, previous_cost = _cost_pair(found["costs"], volumes)
    causes, fishbone = found["causes"], found["fishbone"]
    category_volumes = ({r.key: r.figures.volume for r in rows} if by == "category"
                        else found["categories"])
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


# --- drill-down ------------------------------------------------------------------------------

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
    conditions = _conditions(now)
    if figure in conditions:
        queryset = queryset.filter(conditions[figure])
    elif figure == "ack_late":
        queryset = queryset.filter(conditions["ack_judged"]).exclude(conditions["ack_on_time"])
    elif figure == "final_late":
        queryset = queryset.filter(conditions["final_judged"]).exclude(
            conditions["final_on_time"])
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
        after = _next_month(first) if by == "month" else first + timedelta(days=7)
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
