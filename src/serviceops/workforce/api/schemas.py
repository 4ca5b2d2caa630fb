"""Request and response schemas of the workforce API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from ninja import Field, Schema

from serviceops.workforce import exports
from serviceops.workforce.models import Rota

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
