"""The built-in KPIs and the SQL that computes them from case facts and SLA clocks.

Every figure comes from aggregate queries over `cases_casefact` (one row per case, see
`cases.facts`) or, for service levels, `sla_caseclock` alone (clocks carry their case's
grouping fields). Each cohort is one range of a covering index; the database does the
counting. Percentiles are the continuous (interpolated) kind on both databases:
PostgreSQL's `percentile_cont`; SQLite, which has none, reads the cohort's one value column
and interpolates the same way (see `cohort`).
"""

from __future__ import annotations

import calendar as calendar_module
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection

from serviceops.insights.kpis import Direction, Kpi, Measure, Results, Scope, Unit

FACTS = "cases_casefact"
CLOCKS = "sla_caseclock"
GROUP_COLUMNS = {"priority": "priority", "team": "team_id", "channel": "channel",
                 "category": "category_id"}
PERCENTILES = (0.5, 0.9)


# --- SQL helpers ------------------------------------------------------------------------

def _param(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _group(scope: Scope, date_column: str, alias: str = "f") -> tuple[str, list]:
    """The SQL expression naming each row's group, and its parameters."""
    if scope.by is None:
        return "0", []
    if scope.by == "bucket":
        cases = " ".join(f"WHEN {date_column} < %s THEN {i}"
                         for i in range(len(scope.buckets) - 2))
        last = len(scope.buckets) - 2
        return (f"CASE {cases} ELSE {last} END" if cases else "0",
                [_param(b) for b in scope.buckets[1:-1]])
    return f"{alias}.{GROUP_COLUMNS[scope.by]}", []


def _period(scope: Scope) -> tuple[datetime, datetime]:
    if scope.by == "bucket":
        return scope.buckets[0], scope.buckets[-1]
    return scope.start, scope.end


def _filters(scope: Scope, alias: str = "f") -> tuple[str, list]:
    """Conditions on the row `alias` (a facts row, or a clock with the same grouping
    columns) for the scope's filters (never the period)."""
    sql, params = [f"{alias}.merged = %s"], [False]
    if scope.team_ids is not None:
        if not scope.team_ids:  # a user who sees no team sees nothing
            sql.append("1 = 0")
        else:
            sql.append(f"{alias}.team_id IN ({', '.join(['%s'] * len(scope.team_ids))})")
            params.extend(scope.team_ids)
    for column, values in (("channel", scope.channels), ("priority", scope.priorities)):
        if values:
            sql.append(f"{alias}.{column} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
    if scope.category_ids:
        # A category stands for itself and its sub-categories.
        marks = ", ".join(["%s"] * len(scope.category_ids))
        sql.append(f"({alias}.category_id IN ({marks}) OR {alias}.category_id IN "
                   f"(SELECT id FROM cases_category WHERE parent_id IN ({marks})))")
        params.extend(scope.category_ids * 2)
    return " AND ".join(sql), params


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _key(scope: Scope, group):
    return None if scope.by is None else group


@dataclass(frozen=True)
class Cohort:
    """One group's rows of a cohort: how many, the sums asked for, and the continuous
    percentiles of one value over the rows where it is known (`known` of them)."""

    rows: int
    sums: tuple[int, ...]
    known: int
    quantiles: dict[float, float]


def cohort(*, table: str, where: str, params: list, group: str, group_params: list,
           value: str, value_params: list | None = None, sums: tuple[str, ...] = (),
           table_params: list | None = None) -> dict:
    """{group: Cohort} over the rows of `table` meeting `where`: COUNT(*), the
    SUM of each condition in `sums`, and the median and 90th percentile of `value`.

    PostgreSQL does it all in one pass (`percentile_cont` over an array of fractions).
    SQLite has no percentile function: one aggregate query, then the known values are read
    (one column, already filtered) and interpolated between the two ranked values around
    each position, exactly as `percentile_cont` does. `table` may be a subquery with its own
    `table_params`.
    """
    value_params = value_params or []
    params = [*(table_params or []), *params]  # the table (a subquery) comes before WHERE
    totals = ", ".join(["COUNT(*)", *(f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in sums),
                        f"COUNT({value})"])
    fractions = ", ".join(str(q) for q in PERCENTILES)
    if _postgres():
        sql = (f"SELECT {group} AS g, {totals}, percentile_cont(ARRAY[{fractions}]) "
               f"WITHIN GROUP (ORDER BY {value}) FROM {table} WHERE {where} GROUP BY 1")
        rows = _rows(sql, [*group_params, *value_params, *value_params, *params])
        return {g: Cohort(n, tuple(int(x or 0) for x in found[:-1]), found[-1],
                          dict(zip(PERCENTILES, q, strict=True)) if found[-1] else {})
                for g, n, *found, q in rows}
    sql = f"SELECT {group} AS g, {totals} FROM {table} WHERE {where} GROUP BY 1"
    counted = _rows(sql, [*group_params, *value_params, *params])
    values: dict = defaultdict(list)
    sql = (f"SELECT {group} AS g, {value} AS x FROM {table} "
           f"WHERE {where} AND ({value}) IS NOT NULL")
    for g, x in _rows(sql, [*group_params, *value_params, *params, *value_params]):
        values[g].append(x)
    out = {}
    for g, n, *found in counted:
        known = sorted(values.get(g, ()))
        out[g] = Cohort(n, tuple(int(x or 0) for x in found[:-1]), found[-1],
                        {q: _interpolate(known, q) for q in PERCENTILES} if known else {})
    return out


def _interpolate(ordered: list[float], q: float) -> float:
    """The continuous percentile `q` of the sorted values (as `percentile_cont`)."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _in_period(scope: Scope, date_column: str, alias: str = "f") -> tuple[str, list]:
    """The row's date in the scope's period, and the scope's filters."""
    filters, filter_params = _filters(scope, alias)
    start, end = _period(scope)
    return (f"{date_column} >= %s AND {date_column} < %s AND {filters}",
            [_param(start), _param(end), *filter_params])


def _seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from `earlier` to `later` (columns or %s)."""
    if _postgres():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _ratio(numerator, denominator) -> Measure:
    value = numerator / denominator if denominator else None
    return Measure(value, numerator=numerator, denominator=denominator, count=denominator)


# --- cases opened in the period ---------------------------------------------------------

class OpenedCases:
    """Volume, first response and reassignment of the cases opened in the period."""

    kpis = (
        Kpi("case_volume", "Case volume",
            "How many cases were opened: every contact that became a case, whatever the "
            "channel (a case merged into another counts once, as that case).",
            "count of cases opened in the period", Unit.COUNT, Direction.NEUTRAL,
            cohort="cases opened in the period", date_basis="opened"),
        Kpi("first_response_time_median", "First response time (median)",
            "Half of the cases that had a reply got their first public reply within this "
            "time, counted in calendar time from the opening.",
            "median(first public reply − opened) over cases opened in the period",
            Unit.SECONDS, Direction.LOWER, cohort="cases opened in the period with a reply",
            drill="fact=responded"),
        Kpi("first_response_time_p90", "First response time (90th percentile)",
            "Nine in ten cases that had a reply got their first public reply within this "
            "time (calendar time).",
            "90th percentile of (first public reply − opened)", Unit.SECONDS, Direction.LOWER,
            cohort="cases opened in the period with a reply", drill="fact=responded"),
        Kpi("reassignment_rate", "Reassignment rate",
            "Share of cases passed on: given to an agent more than once, or moved from one "
            "team to another.",
            "reassigned cases ÷ cases opened in the period", Unit.RATIO, Direction.LOWER,
            cohort="cases opened in the period", drill="fact=reassigned", chart="p"),
    )

    def compute(self, scope: Scope) -> Results:
        group, group_params = _group(scope, "f.opened_at")
        where, params = _in_period(scope, "f.opened_at")
        out: dict = {}
        for g, found in cohort(table=f"{FACTS} f", where=where, params=params, group=group,
                               group_params=group_params, value="f.first_response_seconds",
                               sums=("f.reassigned",)).items():
            key = _key(scope, g)
            out["case_volume", key] = Measure(float(found.rows), count=found.rows)
            out["reassignment_rate", key] = _ratio(found.sums[0], found.rows)
            if found.known:
                out["first_response_time_median", key] = Measure(found.quantiles[0.5],
                                                                 count=found.known)
                out["first_response_time_p90", key] = Measure(found.quantiles[0.9],
                                                              count=found.known)
        return out


def opened_counts(scope: Scope) -> dict:
    """{group: cases opened in the period} (the case volume alone, one index range)."""
    group, group_params = _group(scope, "f.opened_at")
    where, params = _in_period(scope, "f.opened_at")
    return {_key(scope, g): n for g, n in _rows(
        f"SELECT {group} AS g, COUNT(*) FROM {FACTS} f WHERE {where} GROUP BY 1",
        [*group_params, *params])}


# --- cases resolved in the period -------------------------------------------------------

class ResolvedCases:
    """Resolution time, reopening and first-contact resolution of the cases resolved in
    the period (their final resolution)."""

    kpis = (
        Kpi("resolution_time_median", "Resolution time (median)",
            "Half of the cases resolved in the period took at most this long from opening "
            "to their final resolution (calendar time, pauses included).",
            "median(final resolution − opened) over cases resolved in the period",
            Unit.SECONDS, Direction.LOWER, cohort="cases resolved in the period",
            date_basis="resolved"),
        Kpi("resolution_time_p90", "Resolution time (90th percentile)",
            "Nine in ten cases resolved in the period took at most this long.",
            "90th percentile of (final resolution − opened)", Unit.SECONDS, Direction.LOWER,
            cohort="cases resolved in the period", date_basis="resolved"),
        Kpi("reopen_rate", "Reopen rate",
            "Share of the cases resolved in the period that had been reopened at least once "
            "(the customer came back about the same problem).",
            "reopened cases ÷ cases resolved in the period", Unit.RATIO, Direction.LOWER,
            cohort="cases resolved in the period", drill="fact=reopened",
            date_basis="resolved", chart="p"),
        Kpi("first_contact_resolution", "First contact resolution",
            "Share of the cases resolved in the period that were resolved at the first "
            "contact: never reopened, never reassigned, with at most one public reply.",
            "first-contact resolutions ÷ cases resolved in the period", Unit.RATIO,
            Direction.HIGHER, cohort="cases resolved in the period", drill="fact=fcr",
            date_basis="resolved", chart="p"),
    )

    def compute(self, scope: Scope) -> Results:
        group, group_params = _group(scope, "f.resolved_at")
        where, params = _in_period(scope, "f.resolved_at")
        out: dict = {}
        for g, found in cohort(table=f"{FACTS} f", where=where, params=params, group=group,
                               group_params=group_params, value="f.resolution_seconds",
                               sums=("f.reopen_count > 0", "f.first_contact_resolution"),
                               ).items():
            key = _key(scope, g)
            reopened, fcr = found.sums
            out["reopen_rate", key] = _ratio(reopened, found.rows)
            out["first_contact_resolution", key] = _ratio(fcr, found.rows)
            if found.known:
                out["resolution_time_median", key] = Measure(found.quantiles[0.5],
                                                             count=found.known)
                out["resolution_time_p90", key] = Measure(found.quantiles[0.9],
                                                          count=found.known)
        return out


# --- SLA clocks started in the period ---------------------------------------------------

CLOCK_KINDS = ("first_response", "next_response", "resolution")


class ServiceLevels:
    """Attainment of each SLA target, and first response in business time, from the clocks
    of the cases' policies (cases with no policy have no clocks and do not count)."""

    kpis = (
        *(Kpi(f"sla_attainment_{kind}", f"SLA attained: {kind.replace('_', ' ')}",
              f"Share of {kind.replace('_', ' ')} targets met, of those met or breached. "
              "A clock still running within its target does not count yet; one past its "
              "target counts as breached.",
              "met ÷ (met + breached) over clocks started in the period", Unit.RATIO,
              Direction.HIGHER, cohort=f"{kind.replace('_', ' ')} clocks started in the period",
              drill=f"clock={kind}_breached", date_basis="clock", chart="p")
          for kind in CLOCK_KINDS),
        Kpi("first_response_time_business_median", "First response time, business hours "
            "(median)",
            "Like the first response time, but counting only the opening hours of the "
            "case's SLA calendar (and not the time paused).",
            "median of the first-response clock's elapsed time, over responded cases",
            Unit.SECONDS, Direction.LOWER, cohort="cases opened in the period with a reply "
            "and an SLA policy", drill="fact=responded", date_basis="clock"),
        Kpi("first_response_time_business_p90", "First response time, business hours "
            "(90th percentile)",
            "Nine in ten first replies came within this much open time.",
            "90th percentile of the first-response clock's elapsed time", Unit.SECONDS,
            Direction.LOWER, cohort="cases opened in the period with a reply and an SLA "
            "policy", drill="fact=responded", date_basis="clock"),
    )

    def compute(self, scope: Scope) -> Results:
        # Clocks carry their case's grouping fields: no join with the facts.
        group, group_params = _group(scope, "c.started_at", alias="c")
        where, params = _in_period(scope, "c.started_at", alias="c")
        kinds = ", ".join(f"'{kind}'" for kind in CLOCK_KINDS)  # one index range each
        sql = (f"SELECT {group} AS g, c.kind, "
               f"SUM(CASE WHEN c.state = 'met' THEN 1 ELSE 0 END), COUNT(*) "
               f"FROM {CLOCKS} c WHERE c.kind IN ({kinds}) AND {where} "
               f"AND c.state IN ('met', 'breached') GROUP BY 1, 2")
        out: dict = {}
        for g, kind, met, judged in _rows(sql, [*group_params, *params]):
            out[f"sla_attainment_{kind}", _key(scope, g)] = _ratio(int(met or 0), judged)
        replied = (f"{where} AND c.kind = 'first_response' AND c.cycle = 0 "
                   f"AND c.stopped_at IS NOT NULL")
        for g, found in cohort(table=f"{CLOCKS} c", where=replied, params=params,
                               group=group, group_params=group_params,
                               value="c.elapsed_seconds").items():
            key = _key(scope, g)
            out["first_response_time_business_median", key] = Measure(found.quantiles[0.5],
                                                                      count=found.known)
            out["first_response_time_business_p90", key] = Measure(found.quantiles[0.9],
                                                                   count=found.known)
        return out


# --- open cases at the end of the period -------------------------------------------------

class Backlog:
    """Cases open at the end of the period, and how old they are."""

    kpis = (
        Kpi("backlog", "Backlog",
            "Cases open at the end of the period: opened before it ended and not resolved "
            "by then.",
            "count of cases with opened < end and (not resolved or resolved ≥ end)",
            Unit.COUNT, Direction.LOWER, cohort="cases open at the end of the period",
            date_basis="at_end"),
        Kpi("backlog_age_median", "Backlog age (median)",
            "Half of the cases open at the end of the period had been open at least this "
            "long.",
            "median(end − opened) over the backlog", Unit.SECONDS, Direction.LOWER,
            cohort="cases open at the end of the period", date_basis="at_end"),
    )

    def compute(self, scope: Scope) -> Results:
        if scope.by == "bucket":
            out: dict = {}
            for i, (start, end) in enumerate(zip(scope.buckets, scope.buckets[1:],
                                                 strict=False)):
                one = Scope(start=start, end=end, team_ids=scope.team_ids,
                            channels=scope.channels, priorities=scope.priorities,
                            category_ids=scope.category_ids)
                for (key, _), measure in self.compute(one).items():
                    out[key, i] = measure
            return out
        # Every case opened before the end and not resolved by then, its age at the end: two
        # disjoint index ranges (never resolved; resolved at or after the end).
        end = _param(scope.end)
        columns = "opened_at, merged, team_id, channel, priority, category_id"
        table = (f"(SELECT {columns} FROM {FACTS} WHERE resolved_at IS NULL AND opened_at < %s "
                 f"UNION ALL SELECT {columns} FROM {FACTS} WHERE resolved_at >= %s "
                 f"AND opened_at < %s) f")
        group, group_params = _group(scope, "f.opened_at")
        where, params = _filters(scope)
        out = {}
        for g, found in cohort(table=table, table_params=[end, end, end], where=where,
                               params=params, group=group, group_params=group_params,
                               value=_seconds_between("%s", "f.opened_at"),
                               value_params=[end]).items():
            out["backlog", _key(scope, g)] = Measure(float(found.rows), count=found.rows)
            out["backlog_age_median", _key(scope, g)] = Measure(found.quantiles[0.5],
                                                                count=found.rows)
        return out


# --- cost and manual KPIs ---------------------------------------------------------------

def month_overlap(month: date, start: datetime, end: datetime) -> float:
    """Return the share (0–1) of the days of calendar `month` that lie within the period
    [start, end) (local dates; periods start and end at local midnight)."""
    days = calendar_module.monthrange(month.year, month.month)[1]
    first = month.replace(day=1)
    inside = sum(1 for offset in range(days)
                 if start.date() <= first + timedelta(days=offset) < end.date())
    return inside / days


class CostPerContact:
    """Cost per contact: the monthly costs entered, pro rata to the days of each month
    the period covers, divided by the case volume."""

    kpis = (
        Kpi("cost_per_contact", "Cost per contact",
            "What one contact cost: the operation's costs entered per month (pro rata to "
            "the days of the period), divided by the cases opened.",
            "Σ monthly cost × share of the month in the period ÷ case volume", Unit.GBP,
            Direction.LOWER, cohort="cases opened in the period"),
    )

    def compute(self, scope: Scope) -> Results:
        from serviceops.insights.models import MonthlyCost

        # Costs are entered per month and team: they cannot be split by channel, priority
        # or category, so a figure filtered or broken down that way has no cost.
        if scope.by not in (None, "team", "bucket") or (
                scope.channels or scope.priorities or scope.category_ids):
            return {}
        windows = (list(zip(scope.buckets, scope.buckets[1:], strict=False))
                   if scope.by == "bucket" else [(scope.start, scope.end)])
        costs = MonthlyCost.objects.all()
        if scope.team_ids is not None:
            costs = costs.filter(team_id__in=scope.team_ids)
        volume = opened_counts(scope)
        out: dict = {}
        for i, (start, end) in enumerate(windows):
            spent: dict = defaultdict(float)
            for cost in costs.filter(month__lte=end.date(), month__gte=(start.date().replace(
                    day=1))):
                group = cost.team_id if scope.by == "team" else (i if scope.by else None)
                spent[group] += float(cost.amount) * month_overlap(cost.month, start, end)
            for group, amount in spent.items():
                contacts = volume.get(group)
                if contacts:
                    out["cost_per_contact", group] = Measure(amount / contacts,
                                                             numerator=amount,
                                                             denominator=contacts)
        return out


BUILT_IN = (OpenedCases(), ResolvedCases(), ServiceLevels(), Backlog(), CostPerContact())
