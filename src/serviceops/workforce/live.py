"""Intraday read model (DO5): one team's day so far against its forecast, staffing plan and
published rota, for the intraday page and the API.

What is compared, for a team and a day (default: today in the forecast's time zone):

* the forecast: the newest finished forecast of the team that covers the day and has a
  staffing plan the user may see; its mean per interval (not the plan's volume basis: the
  re-forecast is a best estimate, not a cautious one);
* the plan: the newest on that forecast, or the one chosen; it gives the AHT, the targets and
  the model (Erlang C, or A with patience) that turn volumes into agents required;
* scheduled agents: the published rota of the team covering the day, counted from its shift
  rows, agents on the phones only (breaks excluded, paid or not) and time-weighted within
  an interval, so that later edits to the shifts and shifts from the day before count;
* actual contacts: the team's cases opened so far in the day, counted per minute in SQL.

Intervals are wall-clock intervals of the forecast's time zone, as the forecast's are.
What the user may see follows `selectors.plan_scope` and `selectors.rota_scope`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Count
from django.db.models.functions import TruncMinute

from serviceops.workforce import intraday as maths
from serviceops.workforce.models import Forecast, JobState, Rota, StaffingPlan
from serviceops.workforce.selectors import forecast_arrays, forecast_scope, plan_scope, rota_scope

ALL_TEAMS = "all"
_LONGEST_FORECAST_DAYS = 56  # Forecast.horizon_days' maximum
DEFAULT_RULE = maths.ReforecastRule()
DEFAULT_THRESHOLDS = maths.Thresholds()


@dataclass(frozen=True)
class LiveDay:
    """One team's day: what it was compared with and the comparison, or why there is none
    (`problem`). `starts` are the local starts of the day's intervals (ISO, no offset)."""

    team: object | None
    day: date | None
    now: datetime
    time_zone: str | None = None
    forecast: Forecast | None = None
    plan: StaffingPlan | None = None
    rota: Rota | None = None
    starts: tuple[str, ...] = ()
    comparison: maths.Intraday | None = None
    problem: str = ""

    @property
    def rows(self) -> list[tuple[str, maths.Interval]]:
        if self.comparison is None:
            return []
        return list(zip(self.starts, self.comparison.intervals, strict=True))


def team_choices(user) -> list[tuple[str, str]]:
    """The teams with a finished forecast the user may see: (value, label), where the value
    is the team's id, or `ALL_TEAMS` for forecasts of every team at once."""
    rows = (forecast_scope(user).filter(state=JobState.DONE)
            .values_list("team_id", "team__name").distinct().order_by("team__name"))
    return [(ALL_TEAMS, "All teams") if team_id is None else (str(team_id), name)
            for team_id, name in rows]


def live_day(user, *, team, now: datetime, day: date | None = None, plan_id: int | None = None,
             rule: maths.ReforecastRule = DEFAULT_RULE,
             thresholds: maths.Thresholds = DEFAULT_THRESHOLDS) -> LiveDay:
    """The intraday comparison of `team` (None: forecasts of all teams) on `day` as seen at
    `now`, with the newest plan on the newest forecast covering the day, or plan `plan_id`."""
    if plan_id is not None:
        staffing_plan = plan_scope(user).filter(pk=plan_id, forecast__state=JobState.DONE).first()
        if staffing_plan is None:
            return LiveDay(team, day, now, problem="That staffing plan was not found.")
        forecast = staffing_plan.forecast
        team = forecast.team
        day = day or _today(forecast, now)
        if not _covers(forecast, day):
            return LiveDay(team, day, now, problem=f"The plan {staffing_plan.name!r} is on a "
                                                   f"forecast that does not cover {day}.")
    else:
        forecast = _newest_forecast(user, team=team, day=day, now=now)
        if forecast is None:
            when = day.isoformat() if day else "today"
            return LiveDay(team, day, now, problem=f"No finished forecast with a staffing plan "
                                                   f"covers {when} for this team.")
        day = day or _today(forecast, now)
        staffing_plan = plan_scope(user).filter(forecast=forecast).order_by(
            "-created_at", "-id").first()
    zone = ZoneInfo(forecast.time_zone)
    bounds = _interval_bounds(day, forecast.interval_minutes, zone)
    rota = _published_rota(user, team=team, day=day)
    scheduled = _scheduled(rota, bounds) if rota else np.zeros(len(bounds) - 1)
    completed, actual = _actual(team, bounds, day, forecast.interval_minutes, zone, now)
    start = (day - forecast.first_day).days * forecast.per_day
    arrays = forecast_arrays(forecast)
    stop = start + forecast.per_day
    comparison = maths.intraday(
        forecast=arrays.mean[start:stop], actual=actual, completed=completed,
        scheduled=scheduled, queue=_queue(staffing_plan, start, stop), rule=rule,
        thresholds=thresholds)
    return LiveDay(team, day, now, forecast.time_zone, forecast, staffing_plan, rota,
                   tuple(arrays.starts[start:stop]), comparison)


def live_day_json(user, *, team, now: datetime, day: date | None = None,
                  plan_id: int | None = None,
                  thresholds: maths.Thresholds = DEFAULT_THRESHOLDS) -> dict:
    """`live_day` as a JSON-ready dict (for the API): the sources, the re-forecast factor and
    totals, and one object per interval; `problem` says why there are no intervals."""
    live = live_day(user, team=team, now=now, day=day, plan_id=plan_id, thresholds=thresholds)
    c = live.comparison
    return {
        "team": None if live.team is None else {"id": live.team.pk, "name": live.team.name},
        "day": live.day.isoformat() if live.day else None,
        "time_zone": live.time_zone,
        "now": now.isoformat(),
        "problem": live.problem or None,
        "forecast": _ref(live.forecast),
        "plan": _ref(live.plan),
        "rota": None if live.rota is None else {"id": live.rota.pk,
                                                "first_day": live.rota.first_day.isoformat(),
                                                "days": live.rota.days},
        "factor": None if c is None else round(c.factor, 4),
        "completed_intervals": None if c is None else c.completed,
        "actual_so_far": None if c is None else c.actual_so_far,
        "forecast_so_far": None if c is None else _round(c.forecast_so_far),
        "forecast_total": None if c is None else _round(c.forecast_total),
        "expected_total": None if c is None else _round(c.expected_total),
        "sl_target": None if c is None else c.sl_target,
        "warnings": None if c is None else len(c.upcoming_warnings),
        "intervals": [{
            "start": start, "forecast": _round(i.forecast), "actual": i.actual,
            "reforecast": _round(i.reforecast), "expected": _round(i.expected),
            "planned_required": i.planned, "required": i.required,
            "scheduled": _round(i.scheduled), "gap": _round(i.gap),
            "predicted_service_level": _round(i.predicted_sl, 4), "finished": i.finished,
            "in_progress": i.in_progress, "warnings": list(i.warnings),
        } for start, i in live.rows],
    }


# --- the parts --------------------------------------------------------------------------


def _today(forecast: Forecast, now: datetime) -> date:
    return now.astimezone(ZoneInfo(forecast.time_zone)).date()


def _covers(forecast: Forecast, day: date) -> bool:
    return forecast.first_day <= day < forecast.first_day + timedelta(days=forecast.horizon_days)


def _newest_forecast(user, *, team, day: date | None, now: datetime) -> Forecast | None:
    """The newest finished forecast of `team` covering `day` (default: today in its own time
    zone) with a plan the user may see. Only forecasts that could cover the day are read."""
    around = day or now.astimezone(UTC).date()  # a zone moves the date by a day at most
    plans = plan_scope(user).values("forecast_id")
    candidates = (forecast_scope(user)
                  .filter(state=JobState.DONE, pk__in=plans,
                          last_history_day__lt=around + timedelta(days=1),
                          last_history_day__gte=around - timedelta(
                              days=_LONGEST_FORECAST_DAYS + 1))
                  .order_by("-finished_at", "-id"))
    candidates = candidates.filter(team__isnull=True) if team is None else \
        candidates.filter(team=team)
    for forecast in candidates:
        if _covers(forecast, day or _today(forecast, now)):
            return forecast
    return None


def _published_rota(user, *, team, day: date) -> Rota | None:
    """The published rota of `team` covering `day` (publishing supersedes overlapping ones;
    the newest wins should two remain)."""
    rotas = (rota_scope(user)
             .filter(state=Rota.State.PUBLISHED, first_day__lte=day,
                     first_day__gt=day - timedelta(days=28))
             .order_by("-published_at", "-id"))
    rotas = rotas.filter(plan__forecast__team__isnull=True) if team is None else \
        rotas.filter(plan__forecast__team=team)
    return next((r for r in rotas if day < r.first_day + timedelta(days=r.days)), None)


def _interval_bounds(day: date, interval_minutes: int, zone: ZoneInfo) -> list[datetime]:
    """The instants that open each wall-clock interval of `day`, then the next midnight."""
    starts = [datetime.combine(day, time(m // 60, m % 60), tzinfo=zone)
              for m in range(0, 24 * 60, interval_minutes)]
    return starts + [datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)]


def _scheduled(rota: Rota, bounds: list[datetime]) -> np.ndarray:
    """Agents on the phones per interval: each shift's time in the interval less its breaks,
    times its agents, over the interval's length."""
    edges = np.array([b.timestamp() for b in bounds])
    starts, ends = edges[:-1], edges[1:]
    lengths = np.maximum(ends - starts, 1.0)  # a wall-clock hour skipped in spring is empty

    def overlap(begin: float, finish: float) -> np.ndarray:
        return np.clip(np.minimum(ends, finish) - np.maximum(starts, begin), 0, None)

    agents = np.zeros(len(starts))
    shifts = rota.shifts.filter(start__lt=bounds[-1], end__gt=bounds[0]).values_list(
        "start", "end", "breaks", "agents")
    for start, end, breaks, count in shifts:
        covered = overlap(start.timestamp(), end.timestamp())
        for brk in breaks:
            covered -= overlap(datetime.fromisoformat(brk[0]).timestamp(),
                               datetime.fromisoformat(brk[1]).timestamp())
        agents += count * covered / lengths
    return np.round(agents, 6)


def _actual(team, bounds: list[datetime], day: date, interval_minutes: int, zone: ZoneInfo,
            now: datetime) -> tuple[int, list[int]]:
    """How many intervals of `day` have finished at `now`, and the cases opened in each
    interval started so far (the last one in progress, if any).

    Counted per minute in the database; minutes are taken in UTC so that both passes of an
    hour repeated in autumn are counted, each in its wall-clock interval.
    """
    from serviceops.cases.models import Case

    per_day = len(bounds) - 1
    local = now.astimezone(zone)
    if local.date() < day:
        return 0, []
    if local.date() > day:
        completed, started = per_day, per_day
    else:
        completed = (local.hour * 60 + local.minute) // interval_minutes
        started = completed + 1
    cases = Case.objects.filter(opened_at__gte=bounds[0], opened_at__lt=min(now, bounds[-1]))
    if team is not None:
        cases = cases.filter(team=team)
    rows = (cases.annotate(minute=TruncMinute("opened_at", tzinfo=UTC)).values("minute")
            .annotate(n=Count("id")).values_list("minute", "n"))
    counts = [0] * started
    for minute, n in rows:
        moment = minute.astimezone(zone)
        if moment.date() == day:
            index = (moment.hour * 60 + moment.minute) // interval_minutes
            if index < started:
                counts[index] += n
    return completed, counts


def _queue(staffing_plan: StaffingPlan, start: int, stop: int) -> maths.ErlangQueue:
    from serviceops.workforce.services import plan_inputs

    inputs = plan_inputs(staffing_plan)
    aht = np.broadcast_to(np.asarray(inputs.aht_seconds, dtype=float),
                          np.shape(inputs.volumes))[start:stop]
    return maths.ErlangQueue(interval_minutes=inputs.interval_minutes, aht_seconds=aht,
                             targets=inputs.targets, patience_seconds=inputs.patience_seconds)


def _ref(obj) -> dict | None:
    return None if obj is None else {"id": obj.pk, "name": obj.name}


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
