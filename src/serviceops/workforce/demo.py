"""The demo's workforce plan: shift patterns, contracts and leave for every team, and for the
first team a forecast of the next fortnight from its cases, a staffing plan with two
scenarios and a published rota for the coming week, so that every page has something real
to show (and its agents have shifts)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from serviceops.people.models import Staff, Team
from serviceops.workforce import services
from serviceops.workforce.models import (
    Contract,
    Forecast,
    Leave,
    Rota,
    Scenario,
    ShiftPattern,
    StaffingPlan,
)

PATTERNS = (  # name, first start, last start, hours, unpaid break minutes
    ("Early", time(7), time(9), 8.5, 30),
    ("Day", time(9), time(11), 8.5, 30),
    ("Late", time(12), time(14), 8.5, 30),
    ("Part day", time(10), time(14), 4, 0),
)


def seed(rng: random.Random, teams: dict[str, Team], staff_by_team: dict[str, list[Staff]],
         *, today: date, planner: Staff, time_zone: str) -> None:
    """Patterns, contracts and leave for all; a forecast → plan → published rota for the
    first team (computed here, a few seconds, so that the demo opens with it)."""
    for name, first, last, hours, unpaid in PATTERNS:
        ShiftPattern.objects.create(name=name, first_start=first, last_start=last,
                                    step_minutes=30, length_minutes=int(hours * 60),
                                    unpaid_break_minutes=unpaid)
    for members in staff_by_team.values():
        for person in members:
            part_time = rng.random() < 0.25
            Contract.objects.create(
                staff=person, min_weekly_hours=16 if part_time else 30,
                max_weekly_hours=25 if part_time else 40, consecutive_days_off=2,
                days_off=[6] if rng.random() < 0.3 else [])
            if rng.random() < 0.2:
                start = today + timedelta(days=rng.randint(0, 13))
                Leave.objects.create(staff=person, first_day=start,
                                     last_day=start + timedelta(days=rng.randint(0, 4)),
                                     note="Annual leave")
    first_team = next(iter(teams.values()))
    _plan_first_team(first_team, today=today, planner=planner, time_zone=time_zone)


def _plan_first_team(team: Team, *, today: date, planner: Staff, time_zone: str) -> None:
    forecast = Forecast.objects.create(
        name=f"{team.name}: next fortnight", team=team, interval_minutes=30, horizon_days=14,
        last_history_day=today - timedelta(days=1), time_zone=time_zone, origins=2,
        created_by=planner)
    services.forecast_run(forecast.pk)
    forecast.refresh_from_db()
    if forecast.state != "done":
        return  # the demo opens with the failure shown on the forecast's page
    plan = StaffingPlan.objects.create(
        forecast=forecast, name="80 % in 20 s, 30 % shrinkage", aht_seconds=480,
        sl_target=0.8, sl_seconds=20, max_occupancy=0.85, shrinkage=0.3, hourly_cost=16.5,
        created_by=planner)
    Scenario.objects.create(plan=plan, name="Volume +15 %", volume_factor=1.15)
    Scenario.objects.create(plan=plan, name="AHT -30 s", aht_change_seconds=-30)
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    rota = Rota.objects.create(plan=plan, first_day=monday, days=7, named=True,
                               time_limit_seconds=20, created_by=planner)
    services.rota_solve(rota.pk)
    rota.refresh_from_db()
    if rota.state == Rota.State.DRAFT:
        Rota.objects.filter(pk=rota.pk).update(state=Rota.State.PUBLISHED,
                                               published_at=datetime.now().astimezone(),
                                               published_by=planner)
