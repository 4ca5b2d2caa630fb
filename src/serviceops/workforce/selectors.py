"""Read models of workforce planning: demand from case history, what each user may see,
and the arrays of a saved forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMinute

from serviceops.core.permissions import allowed, staff_of, team_ids_of
from serviceops.core.roles import Perm
from serviceops.people.models import Staff
from serviceops.workforce.forecast import Demand, volume_series
from serviceops.workforce.models import Forecast, Rota, RotaShift, ShiftPattern, StaffingPlan


def case_demand(team, *, last_day: date, interval_minutes: int, time_zone: str,
                days: int) -> Demand:
    """Cases opened per interval over the `days` up to `last_day`, for one team (None: all).

    Counted per minute in the database (one row per minute with arrivals, not per case).
    Minutes are taken in UTC so that the two passes of a repeated hour stay apart; the series
    puts each into its wall-clock interval.
    """
    from serviceops.cases.models import Case

    zone = ZoneInfo(time_zone)
    first = last_day - timedelta(days=days - 1)
    cases = Case.objects.filter(
        opened_at__gte=datetime.combine(first, time(), tzinfo=zone),
        opened_at__lt=datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone))
    if team is not None:
        cases = cases.filter(team=team)
    rows = (cases.annotate(minute=TruncMinute("opened_at", tzinfo=UTC)).values("minute")
            .annotate(n=Count("id")).order_by("minute").values_list("minute", "n"))
    minutes, counts = [], []
    for minute, n in rows:
        minutes.append(minute)
        counts.append(n)
    if not minutes:
        raise ValueError(f"no cases were opened from {first} to {last_day}"
                         + (f" in team {team.name!r}" if team is not None else ""))
    return Demand(volume=volume_series(minutes, counts=counts,
                                       interval_minutes=interval_minutes,
                                       time_zone=time_zone, first_day=first,
                                       last_day=last_day))


# --- who sees what ----------------------------------------------------------------------


def can_view_plans(user) -> bool:
    return allowed(user, Perm.PLAN_WORKFORCE) or allowed(user, Perm.VIEW_ALL_TEAMS)


def _team_filter(user, field: str) -> Q | None:
    """None when `user` sees every team's plans; else the teams they are in (plans for all
    teams at once are for those who see all teams)."""
    if allowed(user, Perm.VIEW_ALL_TEAMS):
        return None
    return Q(**{f"{field}__in": team_ids_of(user)})


def forecast_scope(user) -> QuerySet[Forecast]:
    if not can_view_plans(user):
        return Forecast.objects.none()
    condition = _team_filter(user, "team")
    qs = Forecast.objects.select_related("team")
    return qs if condition is None else qs.filter(condition)


def plan_scope(user) -> QuerySet[StaffingPlan]:
    if not can_view_plans(user):
        return StaffingPlan.objects.none()
    condition = _team_filter(user, "forecast__team")
    qs = StaffingPlan.objects.select_related("forecast", "forecast__team")
    return qs if condition is None else qs.filter(condition)


def rota_scope(user) -> QuerySet[Rota]:
    if not can_view_plans(user):
        return Rota.objects.none()
    condition = _team_filter(user, "plan__forecast__team")
    qs = Rota.objects.select_related("plan", "plan__forecast", "plan__forecast__team")
    return qs if condition is None else qs.filter(condition)


def pattern_scope(user) -> QuerySet[ShiftPattern]:
    """Patterns for every team, and the user's teams' own (all for those who see every team)."""
    if not can_view_plans(user):
        return ShiftPattern.objects.none()
    qs = ShiftPattern.objects.select_related("team")
    condition = _team_filter(user, "team")
    return qs if condition is None else qs.filter(condition | Q(team__isnull=True))


def staff_scope(user) -> QuerySet[Staff]:
    """The staff whose contracts and leave a planner sees: their teams' members, or everyone
    for those who see every team. The services decide who may change them."""
    if not can_view_plans(user):
        return Staff.objects.none()
    condition = _team_filter(user, "teams")
    return Staff.objects.all() if condition is None else \
        Staff.objects.filter(condition).distinct()


def published_shifts(staff: Staff, *, since: datetime | None = None) -> QuerySet[RotaShift]:
    """The shifts of `staff` on published rotas that end after `since` (default: all)."""
    qs = RotaShift.objects.filter(staff=staff, rota__state=Rota.State.PUBLISHED)
    if since is not None:
        qs = qs.filter(end__gt=since)
    return qs.select_related("rota__plan__forecast__team", "staff").order_by("start", "id")


def my_shifts(user, *, since: datetime | None = None) -> QuerySet[RotaShift]:
    """The published shifts of the signed-in `user`, from `since` (default: all)."""
    staff = staff_of(user)
    return RotaShift.objects.none() if staff is None else published_shifts(staff, since=since)


# --- a saved forecast as arrays ---------------------------------------------------------


@dataclass(frozen=True)
class ForecastArrays:
    """A finished forecast's values per interval, with the recent history before it."""

    starts: list[str]
    mean: np.ndarray
    low: dict[int, np.ndarray]
    high: dict[int, np.ndarray]
    handle_time: np.ndarray | None
    history_starts: list[str]
    history: np.ndarray


def forecast_arrays(forecast: Forecast) -> ForecastArrays:
    result = forecast.result
    rows = result["volume"]["forecast"]
    levels = (80, 95)
    handle = None
    if "handle_time" in result:
        handle = np.array([_value(r["forecast"]) for r in result["handle_time"]["forecast"]])
    return ForecastArrays(
        starts=[r["interval_start"] for r in rows],
        mean=np.array([_value(r["forecast"]) for r in rows]),
        low={p: np.array([_value(r[f"low_{p}"]) for r in rows]) for p in levels},
        high={p: np.array([_value(r[f"high_{p}"]) for r in rows]) for p in levels},
        handle_time=handle,
        history_starts=result["recent"]["starts"],
        history=np.array(result["recent"]["volume"], dtype=float),
    )


def _value(number) -> float:
    return float("nan") if number is None else float(number)
