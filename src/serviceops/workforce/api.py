"""Workforce API (PL4): forecasts, staffing plans and their scenarios, shift patterns,
contracts and leave, rotas from draft to published, and each person's shifts.

Thin: every read goes through the scoping selectors (another team's plan is a 404, not a
403, so that its existence is not disclosed), every write through the services, which check
the PLAN_WORKFORCE permission and the team themselves.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from serviceops.core.permissions import staff_of
from serviceops.people.models import Team
from serviceops.workforce import exports, selectors, services
from serviceops.workforce.models import Forecast, JobState, Rota, ShiftPattern
from serviceops.workforce.selectors import (
    forecast_arrays,
    forecast_scope,
    my_shifts,
    plan_scope,
    rota_scope,
)

router = Router(tags=["workforce"])


# --- schemas ----------------------------------------------------------------------------


class ForecastOut(Schema):
    id: int
    name: str
    team_id: int | None
    source: str
    interval_minutes: int
    horizon_days: int
    last_history_day: date
    first_day: date
    time_zone: str
    holidays: str
    closures: list[date]
    model: str
    origins: int
    state: str
    error: str
    chosen_model: str | None = None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_chosen_model(obj):
        return (obj.result or {}).get("volume", {}).get("backtest", {}).get("chosen")


class ForecastIn(Schema):
    name: str
    team_id: int | None = Field(None, description="Empty: all teams (needs sight of all)")
    last_history_day: date = Field(..., description="The forecast starts the day after")
    interval_minutes: int = 30
    horizon_days: int = 14
    time_zone: str = "Europe/London"
    holidays: str = "GB-ENG"
    closures: list[date] = Field(default_factory=list)
    model: str = "auto"
    origins: int = 3


class ForecastFileIn(ForecastIn):
    time_column: str
    count_column: str = ""
    handle_column: str = ""


class ForecastValuesOut(Schema):
    interval_minutes: int
    starts: list[str] = Field(..., description="Local wall-clock interval starts")
    mean: list[float | None]
    low_80: list[float | None]
    high_80: list[float | None]
    low_95: list[float | None]
    high_95: list[float | None]
    handle_time: list[float | None] | None
    history_starts: list[str]
    history: list[float | None]


class ScenarioOut(Schema):
    id: int
    name: str
    volume_factor: float
    aht_change_seconds: float
    shrinkage: float | None


class ScenarioIn(Schema):
    name: str
    volume_factor: float = 1.0
    aht_change_seconds: float = 0.0
    shrinkage: float | None = None


class PlanOut(Schema):
    id: int
    forecast_id: int
    name: str
    volume_basis: str
    aht_seconds: float | None
    sl_target: float | None
    sl_seconds: float
    asa_target: float | None
    max_abandon: float | None
    max_occupancy: float | None
    patience_seconds: float | None
    shrinkage: float
    hourly_cost: float
    created_at: datetime
    scenarios: list[ScenarioOut] = Field(default_factory=list)

    @staticmethod
    def resolve_scenarios(obj):
        return list(obj.scenarios.all())


class PlanIn(Schema):
    forecast_id: int
    name: str
    volume_basis: str = "mean"
    aht_seconds: float | None = Field(None, description="Empty: the forecast's handle times")
    sl_target: float | None = 0.8
    sl_seconds: float = 20
    asa_target: float | None = None
    max_abandon: float | None = None
    max_occupancy: float | None = None
    patience_seconds: float | None = Field(None, description="Given: Erlang A")
    shrinkage: float = 0.3
    hourly_cost: float = 0


class TotalsOut(Schema):
    calls: float
    agent_hours: float
    rostered_hours: float
    peak_rostered: int
    cost: float
    service_level: float | None
    asa_seconds: float | None
    occupancy: float | None
    p_abandon: float | None


class IntervalsOut(Schema):
    volume: list[float | None]
    aht_seconds: list[float | None]
    agents: list[int]
    rostered: list[int]
    service_level: list[float | None]
    occupancy: list[float | None]
    asa_seconds: list[float | None]
    p_abandon: list[float | None] | None


class PlanResultOut(Schema):
    scenario_id: int | None = Field(..., description="None for the base plan")
    name: str
    volume_factor: float
    aht_change_seconds: float
    shrinkage: float | None
    totals: TotalsOut
    intervals: IntervalsOut


class ComparisonOut(Schema):
    plan_id: int
    interval_minutes: int
    starts: list[str]
    results: list[PlanResultOut] = Field(..., description="The base plan, then each scenario")


class PatternOut(Schema):
    id: int
    name: str
    team_id: int | None
    first_start: time
    last_start: time
    step_minutes: int
    length_minutes: int
    unpaid_break_minutes: int
    paid_break_minutes: int
    is_active: bool


class PatternIn(Schema):
    name: str
    team_id: int | None = Field(None, description="Empty: every team's (needs sight of all)")
    first_start: time
    last_start: time
    step_minutes: int = 30
    length_minutes: int
    unpaid_break_minutes: int = 30
    paid_break_minutes: int = 0
    is_active: bool = True


class ContractIn(Schema):
    min_weekly_hours: float = 0
    max_weekly_hours: float = 48
    days_off: list[int] = Field(default_factory=list, description="0 is Monday")
    consecutive_days_off: int = 0
    earliest_start: time | None = None
    latest_end: time | None = None
    opted_out_of_48h: bool = False


class ContractOut(ContractIn):
    staff_id: int


class LeaveIn(Schema):
    first_day: date
    last_day: date
    note: str = ""
    approved: bool = True


class LeaveOut(LeaveIn):
    id: int
    staff_id: int


class BreakOut(Schema):
    start: datetime
    end: datetime
    paid: bool


class ShiftOut(Schema):
    id: int
    staff_id: int | None
    staff_name: str | None
    agents: int
    template: str
    start: datetime
    end: datetime
    paid_minutes: int
    breaks: list[BreakOut]

    @staticmethod
    def resolve_staff_name(obj):
        return obj.staff.name if obj.staff_id else None

    @staticmethod
    def resolve_paid_minutes(obj):
        return exports.paid_minutes(obj)

    @staticmethod
    def resolve_breaks(obj):
        return [{"start": s, "end": e, "paid": paid} for s, e, paid in obj.breaks]


class MyShiftOut(ShiftOut):
    rota_id: int
    team: str | None

    @staticmethod
    def resolve_team(obj):
        team = obj.rota.plan.forecast.team
        return team.name if team else None


class RotaOut(Schema):
    id: int
    plan_id: int
    first_day: date
    days: int
    named: bool
    time_limit_seconds: int
    state: str
    solver_status: str
    message: str
    objective: float | None
    gap: float | None
    solve_seconds: float | None
    created_at: datetime
    published_at: datetime | None
    published_by_id: int | None


class CoverageOut(Schema):
    starts: list[str] = Field(..., description="Local wall-clock interval starts")
    required: list[float]
    scheduled: list[float]
    service_level: list[float | None] | None
    summary: dict


class RotaDetail(RotaOut):
    coverage: CoverageOut | None
    shifts: list[ShiftOut]

    @staticmethod
    def resolve_coverage(obj):
        return _coverage(obj)

    @staticmethod
    def resolve_shifts(obj):
        return list(obj.shifts.select_related("staff"))


class RotaIn(Schema):
    plan_id: int
    first_day: date
    days: int = 7
    named: bool = Field(True, description="Named staff; false counts heads to hire")
    time_limit_seconds: int = 30


class FeedOut(Schema):
    url: str


def _page_schema(item):
    return type(f"{item.__name__}Page", (Schema,),
                {"__annotations__": {"items": list[item], "next": int | None}})


ForecastPage, PlanPage, PatternPage, RotaPage = (
    _page_schema(s) for s in (ForecastOut, PlanOut, PatternOut, RotaOut))


# --- helpers ----------------------------------------------------------------------------


def _page(queryset: QuerySet, after: int | None, limit: int) -> dict:
    """Newest first by id; `next` is the `after` of the next page (None on the last)."""
    limit = max(1, min(limit, 200))
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[:limit + 1])
    return {"items": rows[:limit], "next": rows[limit - 1].pk if len(rows) > limit else None}


def _get(queryset: QuerySet, pk: int, what: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404(f"There is no {what} {pk}.")
    return found


def _referenced(queryset: QuerySet, pk: int | None, field: str, what: str):
    """An object named in a request body: a 422 on `field` when absent or out of sight."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: f"There is no {what} {pk}."})
    return found


def _number(value) -> float | None:
    """JSON has no NaN or infinity: an undefined figure (no calls; a queue that never
    clears) is null."""
    if value is None:
        return None
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def _numbers(values) -> list[float | None]:
    return [_number(v) for v in values]


def _interval_starts(first_day: date, days: int, interval_minutes: int) -> list[str]:
    """Wall-clock starts of every interval of `days` days, as the forecast writes them."""
    per_day = 24 * 60 // interval_minutes
    return [(datetime.combine(first_day + timedelta(days=d), time())
             + timedelta(minutes=k * interval_minutes)).isoformat(timespec="minutes")
            for d in range(days) for k in range(per_day)]


def _coverage(rota: Rota) -> dict | None:
    if not rota.coverage:
        return None
    interval = rota.plan.forecast.interval_minutes
    return {**rota.coverage,
            "starts": _interval_starts(rota.first_day, rota.days, interval),
            "summary": exports.coverage_summary(rota.coverage, interval_minutes=interval)}


# --- forecasts --------------------------------------------------------------------------


@router.get("/forecasts", response=ForecastPage, summary="Forecasts you may see")
def forecast_list(request, after: int | None = None, limit: int = 50):
    return _page(forecast_scope(request.auth), after, limit)


def _forecast_create(request, payload: ForecastIn, **file_fields) -> Forecast:
    return services.forecast_create(
        by=request.auth, name=payload.name,
        team=_referenced(Team.objects.all(), payload.team_id, "team_id", "team"),
        last_history_day=payload.last_history_day, interval_minutes=payload.interval_minutes,
        horizon_days=payload.horizon_days, time_zone=payload.time_zone,
        holidays=payload.holidays, closures=payload.closures, model=payload.model,
        origins=payload.origins, **file_fields)


@router.post("/forecasts", response={201: ForecastOut},
             summary="Forecast a team's contacts from its cases (queued)")
def forecast_create(request, payload: ForecastIn):
    """Saves the request and queues the job; poll the forecast until `state` is done."""
    return Status(201, _forecast_create(request, payload))


@router.post("/forecasts/file", response={201: ForecastOut},
             summary="Forecast from an uploaded arrivals CSV (multipart, queued)")
def forecast_create_from_file(request, arrivals: File[UploadedFile],
                              payload: Form[ForecastFileIn]):
    """`arrivals`: a CSV with a header row, one row per arrival (or a count per row with
    `count_column`; mean handle seconds per row with `handle_column`)."""
    return Status(201, _forecast_create(
        request, payload, source=Forecast.Source.FILE, arrivals=arrivals,
        time_column=payload.time_column, count_column=payload.count_column,
        handle_column=payload.handle_column))


@router.get("/forecasts/{forecast_id}", response=ForecastOut)
def forecast_get(request, forecast_id: int):
    return _get(forecast_scope(request.auth), forecast_id, "forecast")


@router.post("/forecasts/{forecast_id}/rerun", response=ForecastOut,
             summary="Queue a failed forecast again")
def forecast_rerun(request, forecast_id: int):
    forecast = _get(forecast_scope(request.auth), forecast_id, "forecast")
    services.forecast_rerun(by=request.auth, forecast=forecast)
    forecast.refresh_from_db()
    return forecast


@router.get("/forecasts/{forecast_id}/values", response=ForecastValuesOut,
            summary="A finished forecast per interval, with recent history")
def forecast_values(request, forecast_id: int):
    forecast = _get(forecast_scope(request.auth), forecast_id, "forecast")
    if forecast.state != JobState.DONE:
        state = forecast.get_state_display().lower()
        raise ValidationError({"state": f"The forecast is {state}: it has no values yet."})
    arrays = forecast_arrays(forecast)
    return {"interval_minutes": forecast.interval_minutes, "starts": arrays.starts,
            "mean": _numbers(arrays.mean),
            **{f"{side}_{p}": _numbers(getattr(arrays, side)[p])
               for side in ("low", "high") for p in (80, 95)},
            "handle_time": None if arrays.handle_time is None else _numbers(arrays.handle_time),
            "history_starts": arrays.history_starts, "history": _numbers(arrays.history)}


# --- staffing plans and scenarios -------------------------------------------------------


@router.get("/plans", response=PlanPage, summary="Staffing plans you may see")
def plan_list(request, forecast: int | None = None, after: int | None = None,
              limit: int = 50):
    plans = plan_scope(request.auth).prefetch_related("scenarios")
    if forecast is not None:
        plans = plans.filter(forecast_id=forecast)
    return _page(plans, after, limit)


@router.post("/plans", response={201: PlanOut}, summary="Staff a finished forecast to targets")
def plan_create(request, payload: PlanIn):
    forecast = _referenced(forecast_scope(request.auth), payload.forecast_id, "forecast_id",
                           "forecast")
    fields = payload.dict(exclude={"forecast_id"})
    return Status(201, services.plan_create(by=request.auth, forecast=forecast, **fields))


@router.get("/plans/{plan_id}", response=PlanOut)
def plan_get(request, plan_id: int):
    return _get(plan_scope(request.auth), plan_id, "plan")


@router.get("/plans/{plan_id}/comparison", response=ComparisonOut,
            summary="The plan and its scenarios per interval, with totals")
def plan_comparison(request, plan_id: int):
    """Computed on request (milliseconds for a week). Undefined figures (an interval with no
    calls; an ASA that never settles) are null."""
    staffing_plan = _get(plan_scope(request.auth), plan_id, "plan")
    scenarios = [None, *staffing_plan.scenarios.all()]
    results = []
    for saved, computed in zip(scenarios, services.plan_compare(staffing_plan), strict=True):
        s, m, t = computed.scenario, computed.staffing.metrics, computed.totals
        results.append({
            "scenario_id": saved.pk if saved else None, "name": s.name,
            "volume_factor": s.volume_factor, "aht_change_seconds": s.aht_change_seconds,
            "shrinkage": s.shrinkage,
            "totals": {name: _number(getattr(t, name)) for name in TotalsOut.model_fields},
            "intervals": {
                "volume": _numbers(computed.volumes), "aht_seconds": _numbers(computed.aht_seconds),
                "agents": computed.staffing.agents.astype(int).tolist(),
                "rostered": computed.staffing.rostered.astype(int).tolist(),
                "service_level": _numbers(m.service_level), "occupancy": _numbers(m.occupancy),
                "asa_seconds": _numbers(m.asa_seconds),
                "p_abandon": None if m.p_abandon is None else _numbers(m.p_abandon)},
        })
    return {"plan_id": staffing_plan.pk,
            "interval_minutes": staffing_plan.forecast.interval_minutes,
            "starts": forecast_arrays(staffing_plan.forecast).starts, "results": results}


@router.post("/plans/{plan_id}/scenarios", response={201: ScenarioOut},
             summary="Add a what-if scenario")
def scenario_add(request, plan_id: int, payload: ScenarioIn):
    staffing_plan = _get(plan_scope(request.auth), plan_id, "plan")
    return Status(201, services.scenario_add(by=request.auth, staffing_plan=staffing_plan,
                                             **payload.dict()))


@router.delete("/plans/{plan_id}/scenarios/{scenario_id}", response={204: None})
def scenario_delete(request, plan_id: int, scenario_id: int):
    staffing_plan = _get(plan_scope(request.auth), plan_id, "plan")
    scenario = _get(staffing_plan.scenarios.all(), scenario_id, "scenario")
    services.scenario_delete(by=request.auth, scenario=scenario)
    return Status(204, None)


# --- shift patterns, contracts, leave ---------------------------------------------------


@router.get("/shift-patterns", response=PatternPage,
            summary="Shift patterns of your teams and of every team")
def pattern_list(request, after: int | None = None, limit: int = 50):
    return _page(selectors.pattern_scope(request.auth), after, limit)


@router.post("/shift-patterns", response={201: PatternOut})
def pattern_create(request, payload: PatternIn):
    fields = payload.dict(exclude={"team_id"})
    team = _referenced(Team.objects.all(), payload.team_id, "team_id", "team")
    return Status(201, services.pattern_save(by=request.auth,
                                             pattern=ShiftPattern(team=team, **fields)))


@router.put("/staff/{staff_id}/contract", response=ContractOut,
            summary="Set a member of staff's contract (every field; defaults for the rest)")
def contract_put(request, staff_id: int, payload: ContractIn):
    staff = _get(selectors.staff_scope(request.auth), staff_id, "member of staff")
    return services.contract_save(by=request.auth, staff=staff, **payload.dict())


@router.post("/staff/{staff_id}/leave", response={201: LeaveOut})
def leave_add(request, staff_id: int, payload: LeaveIn):
    staff = _get(selectors.staff_scope(request.auth), staff_id, "member of staff")
    return Status(201, services.leave_add(by=request.auth, staff=staff, **payload.dict()))


# --- rotas ------------------------------------------------------------------------------


@router.get("/rotas", response=RotaPage, summary="Rotas you may see")
def rota_list(request, plan: int | None = None, state: str | None = None,
              after: int | None = None, limit: int = 50):
    rotas = rota_scope(request.auth)
    if plan is not None:
        rotas = rotas.filter(plan_id=plan)
    if state is not None:
        if state not in Rota.State.values:
            raise ValidationError({"state": f"Choose one of {', '.join(Rota.State.values)}."})
        rotas = rotas.filter(state=state)
    return _page(rotas, after, limit)


@router.post("/rotas", response={201: RotaOut},
             summary="Solve a rota for days of a plan (queued; poll until draft or failed)")
def rota_create(request, payload: RotaIn):
    staffing_plan = _referenced(plan_scope(request.auth), payload.plan_id, "plan_id", "plan")
    return Status(201, services.rota_create(
        by=request.auth, staffing_plan=staffing_plan, first_day=payload.first_day,
        days=payload.days, named=payload.named,
        time_limit_seconds=payload.time_limit_seconds))


@router.get("/rotas/{rota_id}", response=RotaDetail, summary="A rota with its shifts and coverage")
def rota_get(request, rota_id: int):
    return _get(rota_scope(request.auth), rota_id, "rota")


@router.get("/rotas/{rota_id}/csv", response={200: None}, summary="A rota as CSV (local times)")
def rota_csv(request, rota_id: int):
    rota = _get(rota_scope(request.auth), rota_id, "rota")
    response = HttpResponse(exports.rota_csv(rota), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rota-{rota.pk}.csv"'
    return response


@router.get("/rotas/{rota_id}/ics", response={200: None}, summary="A rota as iCalendar")
def rota_ics(request, rota_id: int):
    rota = _get(rota_scope(request.auth), rota_id, "rota")
    shifts = rota.shifts.select_related("staff", "rota__plan__forecast__team")
    response = HttpResponse(exports.shifts_ics(shifts, name=f"Rota from {rota.first_day}"),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rota-{rota.pk}.ics"'
    return response


@router.post("/rotas/{rota_id}/publish", response=RotaOut,
             summary="Publish a draft (supersedes an overlapping published rota)")
def rota_publish(request, rota_id: int):
    rota = _get(rota_scope(request.auth), rota_id, "rota")
    return services.rota_publish(by=request.auth, draft=rota)


@router.delete("/rotas/{rota_id}", response={204: None}, summary="Discard a rota not published")
def rota_delete(request, rota_id: int):
    rota = _get(rota_scope(request.auth), rota_id, "rota")
    services.rota_delete(by=request.auth, draft=rota)
    return Status(204, None)


# --- my shifts and the calendar feed ----------------------------------------------------


@router.get("/my-shifts", response=list[MyShiftOut], summary="Your published shifts")
def my_shift_list(request, since: datetime | None = None):
    """From `since` (default: the start of today, UTC); shifts ending after it."""
    if since is None:
        since = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return list(my_shifts(request.auth, since=since).select_related("staff"))


@router.get("/my-shifts/feed", response=FeedOut,
            summary="The secret link of your calendar feed (subscribe to it)")
def my_feed(request):
    staff = staff_of(request.auth)
    if staff is None:
        raise Http404("Your login has no staff record, so no shifts.")
    path = reverse("api:workforce_calendar_feed", kwargs={"token": exports.feed_token(staff)})
    return {"url": request.build_absolute_uri(path)}


@router.get("/calendar/{token}", auth=None, response={200: None},
            url_name="workforce_calendar_feed",
            summary="A person's published shifts as iCalendar (signed link; no token)")
def calendar_feed(request, token: str):
    staff = exports.staff_for_feed_token(token)
    if staff is None:
        raise Http404("This calendar link is not valid (or no longer).")
    shifts = exports.feed_shifts(staff, now=timezone.now())
    return HttpResponse(exports.shifts_ics(shifts, name=f"Shifts of {staff.name}"),
                        content_type="text/calendar; charset=utf-8")


# --- intraday ---------------------------------------------------------------------------


@router.get("/intraday", summary="Today's actual vs forecast vs required vs scheduled")
def intraday(request, team: int | None = None, day: date | None = None,
             plan: int | None = None, short: float = 1.0, sl_points: float = 5.0):
    """Per interval of the day (default today in the forecast's time zone): contacts so far,
    the forecast and its re-forecast, agents required and scheduled, the predicted service
    level and the warnings. `team` omitted: all teams (for those who see every team). A
    warning is raised when the rota is `short` agents or more below the requirement, or the
    predicted service level is `sl_points` or more below target."""
    from serviceops.workforce import intraday as maths
    from serviceops.workforce import live

    if not selectors.can_view_plans(request.auth):
        raise PermissionDenied("Your role does not include workforce planning.")
    if short < 0 or not 0 <= sl_points <= 100:
        raise ValidationError({"short": "Give 0 or more agents and 0–100 points."})
    chosen = None
    if team is not None:
        chosen = Team.objects.filter(pk=team).first()
        if chosen is None:
            raise ValidationError({"team": f"There is no team {team}."})
    return live.live_day_json(request.auth, team=chosen, now=timezone.now(), day=day,
                              plan_id=plan, thresholds=maths.Thresholds(
                                  short_agents=short, sl_points=sl_points / 100))
