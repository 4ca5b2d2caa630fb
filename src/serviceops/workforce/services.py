"""Workforce planning use cases: forecasts, staffing plans and scenarios, shift patterns,
contracts and leave, rotas from draft to published.

Every write checks the PLAN_WORKFORCE permission and the user's teams, validates and runs
in a transaction. Forecasting and rota solving take seconds to minutes, so they run as jobs
(`tasks.py`) that start from the saved request and are safe to repeat.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from serviceops.core.permissions import allowed, require, staff_of, team_ids_of
from serviceops.core.roles import Perm
from serviceops.people.models import Staff, Team
from serviceops.workforce import erlang, plan, rota
from serviceops.workforce.forecast import HISTORY_WEEKS, ForecastModel, public_holidays
from serviceops.workforce.models import (
    Contract,
    Forecast,
    JobState,
    Leave,
    Rota,
    RotaShift,
    Scenario,
    ShiftPattern,
    StaffingPlan,
)

log = logging.getLogger(__name__)

RECENT_DAYS = 14  # history kept with a forecast, for its chart


def require_team(user, team: Team | None) -> None:
    """Raise PermissionDenied unless `user` plans for `team` (None: all teams at once)."""
    require(user, Perm.PLAN_WORKFORCE)
    if allowed(user, Perm.VIEW_ALL_TEAMS):
        return
    if team is None:
        raise PermissionDenied("Only those who see every team plan for all teams at once.")
    if team.pk not in team_ids_of(user):
        raise PermissionDenied("You plan only for your own teams.")


def _invalid(field: str, error: ValueError) -> ValidationError:
    return ValidationError({field: str(error)})


# --- forecasts --------------------------------------------------------------------------


def forecast_create(*, by, name: str, team: Team | None, last_history_day: date,
                    source: str = Forecast.Source.CASES, arrivals=None, time_column: str = "",
                    count_column: str = "", handle_column: str = "",
                    interval_minutes: int = 30, horizon_days: int = 14,
                    time_zone: str = "Europe/London", holidays: str = "GB-ENG",
                    closures: list[date] = (), model: str = "auto",
                    origins: int = 3) -> Forecast:
    """Save a forecast request and queue the job that computes it."""
    require_team(by, team)
    forecast = Forecast(
        name=name, team=team, source=source, time_column=time_column.strip(),
        count_column=count_column.strip(), handle_column=handle_column.strip(),
        interval_minutes=interval_minutes, horizon_days=horizon_days,
        last_history_day=last_history_day, time_zone=time_zone, holidays=holidays.strip(),
        closures=sorted({d.isoformat() for d in closures}), model=model, origins=origins,
        created_by=staff_of(by))
    if arrivals is not None:
        forecast.arrivals = arrivals
    _check_forecast(forecast)
    forecast.full_clean()
    with transaction.atomic():
        forecast.save()
        transaction.on_commit(lambda: _queue_forecast(forecast.pk))
    return forecast


def _check_forecast(forecast: Forecast) -> None:
    errors = {}
    if forecast.model not in {"auto", *(m.value for m in ForecastModel)}:
        errors["model"] = (f"Choose auto or one of "
                           f"{', '.join(m.value for m in ForecastModel)}.")
    try:
        ZoneInfo(forecast.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = f"{forecast.time_zone!r} is not a time zone (e.g. Europe/London)."
    if forecast.holidays.lower() != "none":
        try:
            public_holidays(forecast.last_history_day, forecast.last_history_day,
                            forecast.holidays)
        except ValueError as error:
            errors["holidays"] = str(error)
    if forecast.source == Forecast.Source.FILE:
        if not forecast.arrivals:
            errors["arrivals"] = "Upload the arrivals CSV."
        if not forecast.time_column:
            errors["time_column"] = "Name the column of arrival times."
    elif forecast.arrivals or forecast.time_column:
        errors["source"] = "An arrivals file goes with the source 'Arrivals file'."
    if errors:
        raise ValidationError(errors)


def _queue_forecast(forecast_id: int) -> None:
    from serviceops.workforce.tasks import forecast_run_job

    forecast_run_job(forecast_id)


def forecast_rerun(*, by, forecast: Forecast) -> None:
    """Queue a failed forecast again (after the data it lacked has arrived)."""
    require_team(by, forecast.team)
    if forecast.state != JobState.FAILED:
        raise ValidationError("Only a failed forecast is run again.")
    Forecast.objects.filter(pk=forecast.pk).update(state=JobState.QUEUED, error="")
    transaction.on_commit(lambda: _queue_forecast(forecast.pk))


def forecast_run(forecast_id: int) -> bool:
    """Compute a queued forecast and keep its result. Returns False when there was nothing to
    do (already running, done, or deleted), so that a repeated job changes nothing."""
    from serviceops.workforce import cli_forecast
    from serviceops.workforce.forecast import read_arrivals_csv
    from serviceops.workforce.selectors import case_demand

    if not Forecast.objects.filter(pk=forecast_id, state=JobState.QUEUED).update(
            state=JobState.RUNNING):
        return False
    forecast = Forecast.objects.select_related("team").get(pk=forecast_id)
    try:
        if forecast.source == Forecast.Source.FILE:
            demand = read_arrivals_csv(
                forecast.arrivals.path, time_column=forecast.time_column,
                count_column=forecast.count_column or None,
                handle_column=forecast.handle_column or None,
                interval_minutes=forecast.interval_minutes, time_zone=forecast.time_zone,
                last_day=forecast.last_history_day)
        else:
            demand = case_demand(
                forecast.team, last_day=forecast.last_history_day,
                interval_minutes=forecast.interval_minutes, time_zone=forecast.time_zone,
                days=7 * HISTORY_WEEKS + forecast.origins * forecast.horizon_days)
        results = cli_forecast.forecast_demand(
            demand, horizon_days=forecast.horizon_days, origins=forecast.origins,
            model=forecast.model, holidays=forecast.holidays,
            closures=[date.fromisoformat(d) for d in forecast.closures])
    except ValueError as error:
        Forecast.objects.filter(pk=forecast_id).update(
            state=JobState.FAILED, error=str(error), finished_at=timezone.now())
        return True
    except Exception as error:  # a fault in the maths: keep the reason, never poll forever
        log.exception("forecast %s failed", forecast_id)
        Forecast.objects.filter(pk=forecast_id).update(
            state=JobState.FAILED, error=f"The forecast stopped with an unexpected error "
                                         f"({type(error).__name__}: {error}).",
            finished_at=timezone.now())
        return True
    result = cli_forecast.report(demand, results)
    result["recent"] = _recent(demand.volume)
    Forecast.objects.filter(pk=forecast_id).update(
        state=JobState.DONE, result=result, error="", finished_at=timezone.now())
    return True


def _recent(series) -> dict:
    """The last RECENT_DAYS days of history, for the forecast chart."""
    count = min(len(series), RECENT_DAYS * series.per_day)
    first = len(series) - count
    return {"starts": [series.start_of(k).isoformat(timespec="minutes")
                       for k in range(first, len(series))],
            "volume": [round(float(v), 3) for v in series.values[first:]]}


# --- staffing plans ---------------------------------------------------------------------


PLAN_FIELDS = ("name", "volume_basis", "aht_seconds", "sl_target", "sl_seconds", "asa_target",
               "max_abandon", "max_occupancy", "patience_seconds", "shrinkage", "hourly_cost")


def plan_create(*, by, forecast: Forecast, **fields) -> StaffingPlan:
    """Staff a finished forecast to targets (see `StaffingPlan`)."""
    require_team(by, forecast.team)
    if forecast.state != JobState.DONE:
        raise ValidationError({"forecast": "The forecast has not finished."})
    staffing_plan = StaffingPlan(forecast=forecast, created_by=staff_of(by),
                                 **{k: v for k, v in fields.items() if k in PLAN_FIELDS})
    staffing_plan.full_clean()
    try:  # impossible targets are refused with the maths' own message
        plan.staffing_plan(plan_inputs(staffing_plan))
    except ValueError as error:
        raise _invalid("sl_target", error) from None
    with transaction.atomic():
        staffing_plan.save()
    return staffing_plan


def plan_targets(staffing_plan: StaffingPlan) -> erlang.Targets:
    p = staffing_plan
    try:
        return erlang.Targets(service_level=p.sl_target, sl_seconds=p.sl_seconds,
                              asa_seconds=p.asa_target, max_abandon=p.max_abandon,
                              max_occupancy=p.max_occupancy)
    except ValueError as error:
        raise ValidationError({"sl_target": str(error)}) from None


def plan_inputs(staffing_plan: StaffingPlan) -> plan.PlanInputs:
    """The arrays a plan is computed from: the forecast (or its 80 % upper bound) and the
    AHT (the plan's own, else the forecast's per interval)."""
    from serviceops.workforce.selectors import forecast_arrays

    p = staffing_plan
    arrays = forecast_arrays(p.forecast)
    volumes = arrays.mean if p.volume_basis == StaffingPlan.VolumeBasis.MEAN else arrays.high[80]
    volumes = np.nan_to_num(volumes, nan=0.0)
    if p.aht_seconds is not None:
        aht = np.array(float(p.aht_seconds))
    elif arrays.handle_time is not None:
        aht = _fill_handle_times(arrays.handle_time)
    else:
        raise ValidationError({"aht_seconds": "This forecast has no handle times: give the "
                                              "average handling time."})
    targets = plan_targets(p)
    return plan.PlanInputs(volumes=volumes, aht_seconds=aht,
                           interval_minutes=p.forecast.interval_minutes, targets=targets,
                           patience_seconds=p.patience_seconds, shrinkage=p.shrinkage,
                           hourly_cost=p.hourly_cost)


def _fill_handle_times(values: np.ndarray) -> np.ndarray:
    """Intervals forecast without a handle time (no contacts) take the mean of the others;
    they carry no calls, so the value only has to be valid."""
    known = values[np.isfinite(values) & (values > 0)]
    if not known.size:
        raise ValidationError({"aht_seconds": "The forecast's handle times are empty: give "
                                              "the average handling time."})
    return np.where(np.isfinite(values) & (values > 0), values, known.mean())


def plan_compare(staffing_plan: StaffingPlan) -> list[plan.StaffingPlan]:
    """The plan and each of its scenarios, computed now (milliseconds for a week)."""
    inputs = plan_inputs(staffing_plan)
    scenarios = [plan.Scenario(s.name, s.volume_factor, s.aht_change_seconds, s.shrinkage)
                 for s in staffing_plan.scenarios.all()]
    try:
        return plan.compare(inputs, scenarios)
    except ValueError as error:
        raise _invalid("sl_target", error) from None


def scenario_add(*, by, staffing_plan: StaffingPlan, name: str, volume_factor: float = 1.0,
                 aht_change_seconds: float = 0.0, shrinkage: float | None = None) -> Scenario:
    require_team(by, staffing_plan.forecast.team)
    scenario = Scenario(plan=staffing_plan, name=name.strip(), volume_factor=volume_factor,
                        aht_change_seconds=aht_change_seconds, shrinkage=shrinkage)
    scenario.full_clean()
    try:
        plan.staffing_plan(plan_inputs(staffing_plan),
                           plan.Scenario(scenario.name, volume_factor, aht_change_seconds,
                                         shrinkage))
    except ValueError as error:
        raise _invalid("aht_change_seconds", error) from None
    with transaction.atomic():
        scenario.save()
    return scenario


def scenario_delete(*, by, scenario: Scenario) -> None:
    require_team(by, scenario.plan.forecast.team)
    scenario.delete()


# --- shift patterns, contracts and leave ------------------------------------------------


def pattern_save(*, by, pattern: ShiftPattern) -> ShiftPattern:
    """Create or change a shift pattern (one for all teams needs sight of all teams). A
    change needs the right to the pattern's team before the change as well as after."""
    require_team(by, pattern.team)
    if pattern.pk is not None:
        before = ShiftPattern.objects.select_related("team").filter(pk=pattern.pk).first()
        if before is not None:
            require_team(by, before.team)
    pattern.full_clean()
    _templates([pattern])  # the rota's own checks (break rules, lengths)
    with transaction.atomic():
        pattern.save()
    return pattern


def _require_staff(by, staff: Staff) -> None:
    require(by, Perm.PLAN_WORKFORCE)
    if allowed(by, Perm.VIEW_ALL_TEAMS):
        return
    if not set(staff.teams.values_list("id", flat=True)) & set(team_ids_of(by)):
        raise PermissionDenied("You plan only for the staff of your own teams.")


def contract_save(*, by, staff: Staff, **fields) -> Contract:
    _require_staff(by, staff)
    contract = Contract.objects.filter(staff=staff).first() or Contract(staff=staff)
    for key, value in fields.items():
        setattr(contract, key, value)
    contract.full_clean()
    with transaction.atomic():
        contract.save()
    return contract


def leave_add(*, by, staff: Staff, first_day: date, last_day: date, note: str = "",
              approved: bool = True) -> Leave:
    _require_staff(by, staff)
    leave = Leave(staff=staff, first_day=first_day, last_day=last_day, note=note,
                  approved=approved)
    leave.full_clean()
    with transaction.atomic():
        leave.save()
    return leave


def _templates(patterns) -> list[rota.ShiftTemplate]:
    templates = []
    for p in patterns:
        breaks = []
        if p.unpaid_break_minutes:
            breaks.append(rota.Break(p.unpaid_break_minutes))
        if p.paid_break_minutes:
            breaks.append(rota.Break(p.paid_break_minutes, paid=True))
        try:
            templates += rota.templates_for_window(
                p.name, first_start=_minute(p.first_start), last_start=_minute(p.last_start),
                step=p.step_minutes, minutes=p.length_minutes,
                breaks=tuple(breaks) if breaks else None)
        except ValueError as error:
            raise ValidationError({"first_start": str(error)}) from None
    return templates


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


# --- rotas ------------------------------------------------------------------------------


def rota_create(*, by, staffing_plan: StaffingPlan, first_day: date, days: int = 7,
                named: bool = True, time_limit_seconds: int = 30) -> Rota:
    """Save a rota request for days of the plan's forecast and queue the solver."""
    forecast = staffing_plan.forecast
    require_team(by, forecast.team)
    last = forecast.first_day + timedelta(days=forecast.horizon_days - 1)
    if not forecast.first_day <= first_day <= last or \
            first_day + timedelta(days=days - 1) > last:
        raise ValidationError({"first_day": f"The forecast covers {forecast.first_day} to "
                                            f"{last}: the rota's days must lie within it."})
    if named and forecast.team is None:
        raise ValidationError({"named": "A rota of named staff is for one team's plan."})
    if not _patterns_for(forecast.team).exists():
        raise ValidationError({"first_day": "There are no active shift patterns for this "
                                            "team: add some first."})
    new = Rota(plan=staffing_plan, first_day=first_day, days=days, named=named,
               time_limit_seconds=time_limit_seconds, created_by=staff_of(by))
    new.full_clean()
    with transaction.atomic():
        new.save()
        transaction.on_commit(lambda: _queue_rota(new.pk))
    return new


def _queue_rota(rota_id: int) -> None:
    from serviceops.workforce.tasks import rota_solve_job

    rota_solve_job(rota_id)


def _patterns_for(team: Team | None):
    patterns = ShiftPattern.objects.filter(is_active=True)
    return patterns.filter(team__isnull=True) if team is None else \
        patterns.filter(team__in=[team]) | patterns.filter(team__isnull=True)


def rota_solve(rota_id: int) -> bool:
    """Solve a queued rota and keep its shifts as a draft (or why there is none). Returns
    False when there was nothing to do, so that a repeated job changes nothing."""
    if not Rota.objects.filter(pk=rota_id, state=Rota.State.QUEUED).update(
            state=Rota.State.SOLVING):
        return False
    draft = Rota.objects.select_related("plan__forecast__team").get(pk=rota_id)
    forecast = draft.plan.forecast
    skill = forecast.team.name if forecast.team else "all"
    try:
        inputs = plan_inputs(draft.plan)
        offset = (draft.first_day - forecast.first_day).days
        requirement = plan.rota_requirement(
            inputs, skill=skill, start=offset * forecast.per_day, days=draft.days,
            first_weekday=draft.first_day.weekday())
        templates = _templates(_patterns_for(forecast.team))
        if draft.named:
            people = _rota_staff(forecast.team, draft.first_day, draft.days, skill,
                                 ZoneInfo(forecast.time_zone))
            if not people:
                raise ValueError(f"team {forecast.team.name} has no active staff to roster")
            result = rota.solve_named(requirement, templates, list(people.values()),
                                      cyclic=False, time_limit=draft.time_limit_seconds)
        else:
            people = {}
            result = rota.solve_anonymous(requirement, templates, cyclic=False,
                                          time_limit=draft.time_limit_seconds)
    except (ValueError, ValidationError) as error:
        message = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        Rota.objects.filter(pk=rota_id).update(state=Rota.State.FAILED, message=message)
        return True
    except Exception as error:  # a fault in the solver: keep the reason, never poll forever
        log.exception("rota %s failed", rota_id)
        Rota.objects.filter(pk=rota_id).update(
            state=Rota.State.FAILED, message=f"The optimiser stopped with an unexpected "
                                             f"error ({type(error).__name__}: {error}).")
        return True
    _keep_result(draft, result, requirement, people, skill, ZoneInfo(forecast.time_zone))
    return True


def _rota_staff(team: Team, first_day: date, days: int, skill: str,
                zone: ZoneInfo) -> dict[str, rota.Staff]:
    """The team's active staff as the optimiser sees them, keyed by their id (as text).

    The optimiser sees only its own horizon, so the daily rest after each person's last
    published shift before it (which may run into its first day) is passed on as a later
    earliest start (`_rest_until`)."""
    members = (team.members.filter(is_active=True).select_related("contract")
               .prefetch_related("leave"))
    last_day = first_day + timedelta(days=days - 1)
    rested = _rest_until(members, first_day, zone)
    people = {}
    for member in members:
        contract = getattr(member, "contract", None) or Contract(staff=member)
        leave = set()
        for away in member.leave.all():
            if away.approved and away.last_day >= first_day and away.first_day <= last_day:
                for k in range(days):
                    if away.first_day <= first_day + timedelta(days=k) <= away.last_day:
                        leave.add(k)
        availability = {}
        if contract.earliest_start is not None or contract.latest_end is not None:
            earliest = _minute(contract.earliest_start) if contract.earliest_start else 0
            latest = _minute(contract.latest_end) if contract.latest_end else 24 * 60
            if latest <= earliest:
                latest += 24 * 60  # the window runs past midnight
            availability = {k: (earliest, latest) for k in range(days)}
        if member.pk in rested:
            # No start before the rest ends: an earliest start of midnight after the day
            # rules the day out without counting it as leave (which would lower the
            # contract minimum and be reported as leave).
            day, minute = rested[member.pk]
            closed = (24 * 60, 2 * 24 * 60)
            availability.update(dict.fromkeys(range(min(day, days)), closed))
            if day < days:
                earliest, latest = availability.get(day, (0, 2 * 24 * 60))
                start = max(earliest, minute)
                availability[day] = (start, latest) if start < latest else closed
        people[str(member.pk)] = rota.Staff(
            name=str(member.pk), skills=frozenset({skill}),
            min_weekly_hours=contract.min_weekly_hours,
            max_weekly_hours=contract.max_weekly_hours,
            availability=availability, leave=frozenset(leave),
            days_off=frozenset(contract.days_off),
            consecutive_days_off=contract.consecutive_days_off,
            opted_out_of_48h=contract.opted_out_of_48h)
    return people


def _rest_until(members, first_day: date, zone: ZoneInfo) -> dict[int, tuple[int, int]]:
    """{staff id: (day of the horizon, minute of that day's wall clock)} before which each
    member may not start a shift: 11 hours (WTR reg. 10) after the end of their last shift
    on a published rota that starts before the horizon, where that rest reaches into it."""
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    rest = timedelta(minutes=rota.DAILY_REST_MINUTES)
    ends = (RotaShift.objects.filter(staff__in=members, rota__state=Rota.State.PUBLISHED,
                                     start__lt=start, end__gt=start - rest)
            .values("staff").annotate(last=Max("end")))
    out = {}
    for row in ends:
        free = (row["last"] + rest).astimezone(zone)
        minute = free.hour * 60 + free.minute + (1 if free.second or free.microsecond else 0)
        if free.fold:  # the hour the clocks go back, a second time: after all of it
            minute = (free.hour + 1) * 60
        out[row["staff"]] = ((free.date() - first_day).days, minute)
    return out


def _keep_result(draft: Rota, result: rota.RotaResult, requirement: rota.Requirement,
                 people: dict, skill: str, zone: ZoneInfo) -> None:
    def moment(minute: int) -> datetime:
        day, rest = divmod(minute, 24 * 60)
        return datetime.combine(draft.first_day + timedelta(days=day),
                                time(rest // 60, rest % 60), tzinfo=zone)

    fields = {"solver_status": result.status.value, "message": result.message,
              "objective": result.objective, "gap": result.gap,
              "solve_seconds": result.solve_seconds}
    if result.status not in (rota.Status.OPTIMAL, rota.Status.FEASIBLE):
        Rota.objects.filter(pk=draft.pk).update(state=Rota.State.FAILED, **fields)
        return
    service_level = result.service_level[skill].ravel() if result.service_level else None
    coverage = {
        "required": requirement.required[skill].ravel().tolist(),
        "scheduled": result.coverage[skill].ravel().tolist(),
        "service_level": None if service_level is None else [
            None if not math.isfinite(v) else round(float(v), 4) for v in service_level],
    }
    staff_ids = {key: int(key) for key in people}
    shifts = [RotaShift(rota_id=draft.pk, staff_id=staff_ids.get(a.staff), agents=a.agents,
                        template=a.template, start=moment(a.start), end=moment(a.end),
                        breaks=[[moment(s).isoformat(), moment(e).isoformat(), paid]
                                for s, e, paid in a.breaks])
              for a in result.assignments]
    with transaction.atomic():
        RotaShift.objects.filter(rota_id=draft.pk).delete()
        RotaShift.objects.bulk_create(shifts, batch_size=1000)
        Rota.objects.filter(pk=draft.pk).update(state=Rota.State.DRAFT, coverage=coverage,
                                                **fields)


def rota_publish(*, by, draft: Rota) -> Rota:
    """Publish a draft: staff see their shifts, and a published rota of the same team whose
    days overlap is superseded."""
    require_team(by, draft.plan.forecast.team)
    with transaction.atomic():
        draft = Rota.objects.select_for_update().select_related("plan__forecast").get(
            pk=draft.pk)
        if draft.state != Rota.State.DRAFT:
            raise ValidationError(f"Only a draft is published (this rota is "
                                  f"{draft.get_state_display().lower()}).")
        last = draft.first_day + timedelta(days=draft.days - 1)
        overlapping = Rota.objects.filter(
            state=Rota.State.PUBLISHED, plan__forecast__team=draft.plan.forecast.team,
            first_day__lte=last).exclude(pk=draft.pk)
        for other in overlapping:
            if other.first_day + timedelta(days=other.days - 1) >= draft.first_day:
                other.state = Rota.State.SUPERSEDED
                other.save(update_fields=["state"])
        draft.state = Rota.State.PUBLISHED
        draft.published_at = timezone.now()
        draft.published_by = staff_of(by)
        draft.save(update_fields=["state", "published_at", "published_by"])
        transaction.on_commit(lambda: _queue_published(draft.pk))
    return draft


def _queue_published(rota_id: int) -> None:
    from serviceops.workforce.tasks import rota_notify_published

    rota_notify_published(rota_id)


def rota_delete(*, by, draft: Rota) -> None:
    """Discard a rota that is not published."""
    require_team(by, draft.plan.forecast.team)
    with transaction.atomic():
        draft = Rota.objects.select_for_update().get(pk=draft.pk)
        if draft.state in (Rota.State.PUBLISHED, Rota.State.SOLVING):
            raise ValidationError(f"A {draft.get_state_display().lower()} rota cannot be "
                                  "discarded.")
        draft.delete()
