"""Reading KPIs: periods, the user's scope, values with targets and status, trends, the
case list behind a figure, and the balanced scorecard."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from serviceops.cases.choices import Channel, Priority
from serviceops.core.permissions import allowed, team_ids_of
from serviceops.core.roles import Perm
from serviceops.insights import kpis
from serviceops.insights.kpis import Direction, Kpi, Measure, Scope, Status, Unit
from serviceops.insights.models import (
    KpiSetting,
    ManualKpi,
    ManualKpiValue,
    Objective,
    Perspective,
)

BREAKDOWNS = ("priority", "team", "channel", "category")


# --- periods ----------------------------------------------------------------------------

def local_midnight(day: date) -> datetime:
    """The instant local `day` begins in the service's time zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def period_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) instants of the local dates `first` to `last` inclusive."""
    if last < first:
        raise ValueError("The period ends before it starts.")
    return local_midnight(first), local_midnight(last + timedelta(days=1))


def previous_period(first: date, last: date) -> tuple[date, date]:
    """The period of the same length just before [first, last]; a whole calendar month or
    quarter is compared with the previous month or quarter."""
    if first.day == 1 and (last + timedelta(days=1)).day == 1:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        year, month = first.year, first.month - months
        while month < 1:
            month, year = month + 12, year - 1
        start = date(year, month, 1)
        return start, first - timedelta(days=1)
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)


def trend_buckets(first: date, last: date) -> tuple[list[datetime], str]:
    """Boundaries of the trend series for a period, and the bucket name: days for up to
    a month, weeks (from Monday) up to half a year, months beyond."""
    days = (last - first).days + 1
    if days <= 31:
        dates = [first + timedelta(days=i) for i in range(days + 1)]
        return [local_midnight(d) for d in dates], "day"
    if days <= 184:
        monday = first - timedelta(days=first.weekday())
        dates = []
        while monday <= last + timedelta(days=1):
            dates.append(max(monday, first))
            monday += timedelta(days=7)
        dates.append(last + timedelta(days=1))
        return [local_midnight(d) for d in sorted(set(dates))], "week"
    dates, cursor = [first], first.replace(day=1)
    while True:
        cursor = (cursor + timedelta(days=32)).replace(day=1)
        if cursor > last:
            break
        dates.append(cursor)
    dates.append(last + timedelta(days=1))
    return [local_midnight(d) for d in dates], "month"


# --- scope ------------------------------------------------------------------------------

def kpi_scope(user, *, start: datetime, end: datetime, team_ids=(), channels=(),
              priorities=(), category_ids=(), by: str | None = None) -> Scope:
    """The scope `user` may compute: managers and assessors see every team, others only
    their own teams (asking for another team gives nothing, not an error)."""
    teams: tuple[int, ...] | None = tuple(team_ids) or None
    if not allowed(user, Perm.VIEW_ALL_TEAMS):
        mine = set(team_ids_of(user))
        teams = tuple(sorted(mine & set(teams))) if teams else tuple(sorted(mine))
    return Scope(start=start, end=end, team_ids=teams, channels=tuple(channels),
                 priorities=tuple(int(p) for p in priorities),
                 category_ids=tuple(int(c) for c in category_ids), by=by)


# --- values -----------------------------------------------------------------------------

@dataclass
class KpiRow:
    """One KPI's value for one group, judged against its target."""

    kpi: Kpi
    group: Hashable
    group_label: str
    measure: Measure
    target: float | None = None
    amber: float | None = None
    owner: str = ""
    status: Status = Status.NO_DATA
    previous: Measure | None = None
    drill_url: str = ""
    trend: list = field(default_factory=list)

    @property
    def value(self) -> float | None:
        return self.measure.value

    def as_json(self) -> dict:
        """The object `serviceops kpi --json` and `/api/kpis` print."""
        out = {"key": self.kpi.key, "name": self.kpi.name, "value": self.value,
               "unit": self.kpi.unit.value, "target": self.target, "status": self.status.value}
        if self.group is not None:
            out["group"] = self.group_label
        return out


def manual_library() -> dict[str, Kpi]:
    return {m.key: Kpi(m.key, m.name, m.definition, f"{m.get_aggregation_display().lower()} "
                       "of the values entered", Unit(m.unit), Direction(m.direction),
                       cohort="values entered per month", date_basis="manual")
            for m in ManualKpi.objects.all()}


def full_library() -> dict[str, Kpi]:
    """Built-in and registered KPIs, then the manual ones."""
    return {**kpis.library(), **manual_library()}


def _manual_values(scope: Scope) -> dict:
    if scope.by not in (None, "bucket"):
        return {}
    windows = (list(enumerate(zip(scope.buckets, scope.buckets[1:], strict=False)))
               if scope.by == "bucket" else [(None, (scope.start, scope.end))])
    out: dict = {}
    values = defaultdict(list)
    first = windows[0][1][0].date().replace(day=1)
    for kpi_id, month, value in ManualKpiValue.objects.filter(
            month__gte=first, month__lt=windows[-1][1][1].date()).values_list(
            "kpi__key", "month", "value").order_by("month"):
        values[kpi_id].append((month, value))
    aggregation = dict(ManualKpi.objects.values_list("key", "aggregation"))
    for key, months in values.items():
        for group, (start, end) in windows:
            inside = [v for m, v in months if start.date() <= m < end.date()]
            if not inside:
                continue
            how = aggregation[key]
            value = (sum(inside) if how == "sum" else inside[-1] if how == "latest"
                     else sum(inside) / len(inside))
            out[key, group] = Measure(value, count=len(inside))
    return out


def kpi_values(scope: Scope) -> dict[tuple[str, Hashable], Measure]:
    """Every KPI (registered and manual) for `scope`: {(key, group): Measure}."""
    out: dict = {}
    for source in kpis.sources():
        out.update(source.compute(scope))
    out.update(_manual_values(scope))
    return out


def group_labels(by: str | None, groups) -> dict:
    from serviceops.cases.models import Category
    from serviceops.people.models import Team

    if by == "team":
        names = dict(Team.objects.filter(pk__in=[g for g in groups if g]).values_list("pk",
                                                                                      "name"))
        return {g: names.get(g, "No team") for g in groups}
    if by == "category":
        found = {c.pk: c.path for c in Category.objects.filter(
            pk__in=[g for g in groups if g]).select_related("parent")}
        return {g: found.get(g, "No category") for g in groups}
    if by == "priority":
        return {g: Priority(g).label for g in groups}
    if by == "channel":
        return {g: Channel(g).label for g in groups}
    return {g: "" for g in groups}


def drill_url(kpi: Kpi, scope: Scope, group: Hashable = None) -> str:
    """The case list behind a figure: the same period (on the KPI's date), filters and
    group, plus the KPI's own condition."""
    params: dict[str, object] = {"view": "all", "state": "any"}
    basis = {"opened": "opened", "resolved": "resolved", "clock": "opened"}.get(kpi.date_basis)
    if basis:
        params[f"{basis}_from"] = scope.start.isoformat()
        params[f"{basis}_to"] = scope.end.isoformat()
    elif kpi.date_basis == "at_end":
        params["open_at"] = scope.end.isoformat()
    else:
        return ""
    filters = {"team": scope.team_ids or (), "channel": scope.channels,
               "priority": scope.priorities, "category": scope.category_ids}
    if scope.by in filters and group is not None:
        filters[scope.by] = (group,)
    for name, values in filters.items():
        if values:
            params[name] = ",".join(str(v) for v in values)
    url = "/cases/?" + urlencode(params)
    return url + ("&" + kpi.drill if kpi.drill else "")


def kpi_report(scope: Scope, *, previous: Scope | None = None) -> list[KpiRow]:
    """Every KPI for `scope` with target, status and link to its cases (and, given
    `previous`, the value of the comparison period), in library order."""
    library = full_library()
    values = kpi_values(scope)
    before = kpi_values(previous) if previous is not None else {}
    settings_by_key = {s.key: s for s in KpiSetting.objects.select_related("owner")}
    groups = sorted({g for _, g in values} - {None}, key=lambda g: (str(type(g)), g))
    labels = group_labels(scope.by, groups)
    rows = []
    for key, kpi in library.items():
        setting = settings_by_key.get(key)
        target = setting.target if setting else None
        amber = setting.amber if setting else None
        for group in ([None] if scope.by is None else groups):
            measure = values.get((key, group))
            if measure is None:
                if scope.by is not None:
                    continue
                measure = Measure(None)
            rows.append(KpiRow(
                kpi=kpi, group=group, group_label=labels.get(group, ""), measure=measure,
                target=target, amber=amber,
                owner=str(setting.owner) if setting and setting.owner else "",
                status=kpis.status(measure.value, target=target, amber=amber,
                                   direction=kpi.direction),
                previous=before.get((key, group)), drill_url=drill_url(kpi, scope, group),
            ))
    return rows


def kpi_trends(scope: Scope, first: date, last: date) -> tuple[list[datetime], str, dict]:
    """The series of every KPI over the period in days, weeks or months:
    (bucket starts, bucket name, {key: [Measure or None per bucket]})."""
    buckets, unit = trend_buckets(first, last)
    series_scope = replace(scope, by="bucket", buckets=tuple(buckets))
    values = kpi_values(series_scope)
    out: dict = defaultdict(lambda: [None] * (len(buckets) - 1))
    for (key, index), measure in values.items():
        out[key][index] = measure
    return buckets[:-1], unit, dict(out)


def kpi_samples(kpi: Kpi, scope: Scope) -> list[float]:
    """The per-case values behind a time KPI (for a before/after test): first responses of
    the cases opened in the scope's period, or resolutions of the cases resolved in it."""
    from serviceops.cases.models import CaseFact

    field_name, date_field = {
        "opened": ("first_response_seconds", "opened_at"),
        "resolved": ("resolution_seconds", "resolved_at"),
    }[kpi.date_basis]
    facts = CaseFact.objects.filter(**{f"{date_field}__gte": scope.start,
                                       f"{date_field}__lt": scope.end,
                                       f"{field_name}__isnull": False}, merged=False)
    if scope.team_ids is not None:
        facts = facts.filter(team_id__in=scope.team_ids)
    if scope.channels:
        facts = facts.filter(channel__in=scope.channels)
    if scope.priorities:
        facts = facts.filter(priority__in=scope.priorities)
    if scope.category_ids:
        facts = facts.filter(Q(category_id__in=scope.category_ids)
                             | Q(category__parent_id__in=scope.category_ids))
    return list(facts.values_list(field_name, flat=True))


# --- scorecard --------------------------------------------------------------------------

_RANK = {Status.RED: 0, Status.AMBER: 1, Status.GREEN: 2}


def roll_up(statuses: list[Status]) -> Status:
    """An objective or perspective is as good as its worst judged measure; with nothing
    judged it has no target."""
    judged = [s for s in statuses if s in _RANK]
    if not judged:
        return Status.NO_DATA if statuses and all(s is Status.NO_DATA for s in statuses) \
            else Status.NO_TARGET
    return min(judged, key=_RANK.__getitem__)


@dataclass
class ScorecardObjective:
    objective: Objective
    rows: list[KpiRow]
    status: Status
    initiatives: list


@dataclass
class ScorecardPerspective:
    perspective: Perspective
    objectives: list[ScorecardObjective]
    status: Status


def scorecard(scope: Scope, *, previous: Scope | None = None) -> list[ScorecardPerspective]:
    """The balanced scorecard for `scope`: the four perspectives in order, each with its
    objectives, their measures (KPI rows) and initiatives, statuses rolled up."""
    rows = {row.kpi.key: row for row in kpi_report(scope, previous=previous)}
    objectives = Objective.objects.prefetch_related("measures", "initiatives__owner")
    by_perspective = defaultdict(list)
    for objective in objectives:
        measured = [rows[m.kpi_key] for m in objective.measures.all() if m.kpi_key in rows]
        by_perspective[objective.perspective].append(ScorecardObjective(
            objective=objective, rows=measured, status=roll_up([r.status for r in measured]),
            initiatives=list(objective.initiatives.all())))
    return [ScorecardPerspective(perspective=p, objectives=by_perspective[p.value],
                                 status=roll_up([o.status for o in by_perspective[p.value]]))
            for p in Perspective]


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 28 full days up to yesterday."""
    today = today or timezone.localdate()
    return today - timedelta(days=28), today - timedelta(days=1)
