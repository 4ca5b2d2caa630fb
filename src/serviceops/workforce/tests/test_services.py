"""From case history to a published rota through the services: forecasts, plans, scenarios,
rotas, and who may do what."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from serviceops.workforce import erlang, services
from serviceops.workforce.models import Contract, Forecast, Leave, Rota, RotaShift, ShiftPattern
from serviceops.workforce.selectors import forecast_arrays, forecast_scope, my_shifts

from .conftest import LAST_HISTORY_DAY

MONDAY = LAST_HISTORY_DAY + timedelta(days=1)


def test_forecast_from_cases_follows_the_history(forecast, history):
    arrays = forecast_arrays(forecast)
    assert len(arrays.starts) == 7 * 24 and arrays.starts[0] == "2026-05-04T00:00"
    # Weekdays 09–17 carry the contacts; nights and the weekend forecast (almost) none.
    days = arrays.mean.reshape(7, 24)
    assert days[:5, 9:17].mean() > 6 and days[:, :8].max() < 1.5 and days[5:].max() < 1.5
    assert (arrays.low[80] <= arrays.mean + 1e-9).all()
    assert (arrays.mean <= arrays.high[80] + 1e-9).all()
    assert arrays.history.sum() == len(history) or arrays.history.sum() < len(history)
    assert forecast.result["volume"]["backtest"]["chosen"] in {"seasonal_naive", "ets", "mstl"}


def test_a_forecast_job_runs_once(forecast):
    assert services.forecast_run(forecast.pk) is False  # already done: nothing changes


def test_a_forecast_without_history_fails_with_the_reason(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = services.forecast_create(by=org.manager.user, name="Empty", team=org.technical,
                                        last_history_day=LAST_HISTORY_DAY, interval_minutes=60,
                                        horizon_days=7, holidays="none")
    made.refresh_from_db()
    assert made.state == "failed" and "no cases were opened" in made.error


def test_forecast_requests_are_checked(org):
    with pytest.raises(ValidationError) as caught:
        services.forecast_create(by=org.manager.user, name="Bad", team=None,
                                 last_history_day=LAST_HISTORY_DAY, time_zone="Mars/Olympus",
                                 holidays="XX-NOWHERE", model="crystal_ball")
    assert {"time_zone", "holidays", "model"} <= set(caught.value.message_dict)
    with pytest.raises(ValidationError) as caught:
        services.forecast_create(by=org.manager.user, name="No file", team=None,
                                 last_history_day=LAST_HISTORY_DAY, source="file")
    assert {"arrivals", "time_column"} <= set(caught.value.message_dict)


def test_who_may_plan(org, forecast):
    with pytest.raises(PermissionDenied):  # an agent does not plan
        services.forecast_create(by=org.agent.user, name="x", team=org.billing,
                                 last_history_day=LAST_HISTORY_DAY)
    with pytest.raises(PermissionDenied):  # a team leader plans only for their own teams
        services.forecast_create(by=org.leader.user, name="x", team=org.technical,
                                 last_history_day=LAST_HISTORY_DAY)
    with pytest.raises(PermissionDenied):  # nor for all teams at once
        services.forecast_create(by=org.leader.user, name="x", team=None,
                                 last_history_day=LAST_HISTORY_DAY)
    with pytest.raises(PermissionDenied):  # an assessor reads, changes nothing
        services.plan_create(by=org.assessor.user, forecast=forecast, name="x", aht_seconds=300)
    assert list(forecast_scope(org.assessor.user)) == [forecast]
    assert list(forecast_scope(org.leader.user)) == [forecast]
    assert not forecast_scope(org.outsider.user).exists()
    assert not forecast_scope(org.agent.user).exists()


def test_plan_staffs_each_interval_with_the_erlang_maths(staffing_plan, forecast):
    base, = services.plan_compare(staffing_plan)
    arrays = forecast_arrays(forecast)
    expected = erlang.staff_intervals(arrays.mean, interval_seconds=3600, aht_seconds=600,
                                      targets=erlang.Targets(service_level=0.8, sl_seconds=20),
                                      shrinkage=0.3)
    assert (base.staffing.agents == expected.agents).all()
    assert (base.staffing.rostered == expected.rostered).all()
    assert base.totals.rostered_hours == expected.rostered.sum()
    assert base.totals.cost == pytest.approx(15 * expected.rostered.sum())
    assert base.totals.service_level >= 0.8


def test_scenarios_sit_beside_the_base(org, staffing_plan):
    services.scenario_add(by=org.leader.user, staffing_plan=staffing_plan, name="Volume +15%",
                          volume_factor=1.15)
    services.scenario_add(by=org.leader.user, staffing_plan=staffing_plan, name="AHT -10 s",
                          aht_change_seconds=-10)
    services.scenario_add(by=org.leader.user, staffing_plan=staffing_plan,
                          name="Shrinkage 35%", shrinkage=0.35)
    base, busier, quicker, shrunk = services.plan_compare(staffing_plan)
    assert busier.totals.calls == pytest.approx(1.15 * base.totals.calls)
    assert busier.totals.agent_hours > base.totals.agent_hours
    assert quicker.totals.agent_hours <= base.totals.agent_hours
    assert (shrunk.staffing.agents == base.staffing.agents).all()
    assert shrunk.totals.rostered_hours > base.totals.rostered_hours
    with pytest.raises(ValidationError, match="must stay above 0"):
        services.scenario_add(by=org.leader.user, staffing_plan=staffing_plan, name="Silly",
                              aht_change_seconds=-600)


def test_plan_targets_are_checked(org, forecast):
    with pytest.raises(ValidationError, match="1.0|below 1|100"):
        services.plan_create(by=org.leader.user, forecast=forecast, name="Perfect",
                             aht_seconds=300, sl_target=1.0)
    with pytest.raises(ValidationError) as caught:  # no handle times in a case forecast
        services.plan_create(by=org.leader.user, forecast=forecast, name="No AHT")
    assert "aht_seconds" in caught.value.message_dict


def _rota(org, staffing_plan, captured, **options):
    with captured(execute=True):
        made = services.rota_create(by=org.leader.user, staffing_plan=staffing_plan,
                                    first_day=MONDAY, days=7, time_limit_seconds=20, **options)
    made.refresh_from_db()
    return made


def test_named_rota_covers_the_plan_within_the_rules(org, staffing_plan, patterns,
                                                     django_capture_on_commit_callbacks):
    Contract.objects.create(staff=org.agent, min_weekly_hours=30, max_weekly_hours=40,
                            days_off=[5, 6])
    Leave.objects.create(staff=org.agent2, first_day=MONDAY + timedelta(days=2),
                         last_day=MONDAY + timedelta(days=3))
    made = _rota(org, staffing_plan, django_capture_on_commit_callbacks)
    assert made.state == Rota.State.DRAFT, made.message
    assert made.solver_status in {"optimal", "feasible"} and made.gap is not None
    shifts = list(made.shifts.select_related("staff"))
    assert shifts and all(s.staff is not None for s in shifts)
    agent_days = [s.start.date() for s in shifts if s.staff == org.agent]
    assert all(day.weekday() < 5 for day in agent_days)  # days off respected
    hours = sum((s.end - s.start).total_seconds() for s in shifts if s.staff == org.agent) / 3600
    assert 30 - 0.5 * len(agent_days) <= hours <= 40 + 0.5 * len(agent_days)
    away = {MONDAY + timedelta(days=2), MONDAY + timedelta(days=3)}
    assert not [s for s in shifts if s.staff == org.agent2 and s.start.date() in away]
    required = np.array(made.coverage["required"])
    scheduled = np.array(made.coverage["scheduled"])
    assert required.shape == scheduled.shape == (7 * 24,)
    # The weekday peak is covered; nobody is on at night.
    assert scheduled.reshape(7, 24)[:5, 12].min() >= 1
    assert scheduled.reshape(7, 24)[:, :7].sum() == 0
    assert not my_shifts(org.agent.user).exists()  # a draft is not shown to staff


def test_publishing_shows_shifts_and_supersedes(org, staffing_plan, patterns, mailoutbox,
                                                django_capture_on_commit_callbacks):
    first = _rota(org, staffing_plan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.rota_publish(by=org.leader.user, draft=first)
    mine = list(my_shifts(org.agent.user))
    assert mine == list(RotaShift.objects.filter(rota=first, staff=org.agent))
    assert {m.to[0] for m in mailoutbox} <= {f"{n}@example.org" for n in
                                             ("agent", "agent2", "leader", "trainer")}
    assert mailoutbox
    second = _rota(org, staffing_plan, django_capture_on_commit_callbacks)
    services.rota_publish(by=org.leader.user, draft=second)
    first.refresh_from_db()
    assert first.state == Rota.State.SUPERSEDED
    with pytest.raises(ValidationError, match="Only a draft"):
        services.rota_publish(by=org.leader.user, draft=second)
    with pytest.raises(ValidationError):
        services.rota_delete(by=org.leader.user, draft=second)
    with pytest.raises(PermissionDenied):
        services.rota_publish(by=org.agent.user, draft=second)


def test_the_rest_after_the_last_published_shift_carries_into_the_next_rota(
        org, staffing_plan):
    """11 hours' rest (WTR reg. 10) after a shift on the rota before, which the optimiser
    does not see: a later earliest start on the first day, or the whole day off."""
    before = Rota.objects.create(plan=staffing_plan, first_day=MONDAY - timedelta(days=7),
                                 days=7, state=Rota.State.PUBLISHED)
    sunday = datetime.combine(MONDAY - timedelta(days=1), time(0), tzinfo=UTC)

    def shift(staff, start_hour, hours, rota=before):
        start = sunday + timedelta(hours=start_hour)
        return RotaShift.objects.create(rota=rota, staff=staff, template="t", start=start,
                                        end=start + timedelta(hours=hours))

    shift(org.agent, 14, 9)  # ends Sunday 23:00: free from Monday 10:00
    shift(org.agent2, 9, 8)  # ends Sunday 17:00: free from 04:00, before any shift
    shift(org.agent2, 22, 9)  # a night shift ending Monday 07:00: free from 18:00
    Contract.objects.create(staff=org.leader, earliest_start=time(8), latest_end=time(18))
    shift(org.leader, 22, 9)  # free from 18:00, when the leader's window closes
    shift(org.trainer, 8 - 7 * 24, 8)  # a week before: no effect
    superseded = Rota.objects.create(plan=staffing_plan, first_day=MONDAY - timedelta(days=7),
                                     days=7, state=Rota.State.SUPERSEDED)
    shift(org.trainer, 20, 8, rota=superseded)  # not on a published rota: no effect

    people = services._rota_staff(org.billing, MONDAY, 7, "Billing", ZoneInfo("UTC"))

    agent, agent2 = people[str(org.agent.pk)], people[str(org.agent2.pk)]
    assert agent.availability == {0: (10 * 60, 2 * 24 * 60)} and not agent.leave
    assert agent2.availability == {0: (18 * 60, 2 * 24 * 60)} and not agent2.leave
    leader = people[str(org.leader.pk)]
    assert leader.availability[0] == (24 * 60, 48 * 60)  # no start on Monday
    assert leader.availability[1] == (8 * 60, 18 * 60) and not leader.leave
    trainer = people[str(org.trainer.pk)]
    assert trainer.availability == {} and not trainer.leave


def test_rest_ending_in_the_hour_the_clocks_go_back_waits_for_its_second_pass(
        org, staffing_plan):
    london = ZoneInfo("Europe/London")
    first_day = date(2026, 10, 25)  # the clocks go back at 02:00 BST, to 01:00 GMT
    before = Rota.objects.create(plan=staffing_plan, first_day=first_day - timedelta(days=7),
                                 days=7, state=Rota.State.PUBLISHED)
    end = datetime(2026, 10, 25, 1, 30, tzinfo=UTC) - timedelta(hours=11)  # rest to 01:30 GMT
    RotaShift.objects.create(rota=before, staff=org.agent, template="t",
                             start=end - timedelta(hours=8), end=end)
    people = services._rota_staff(org.billing, first_day, 7, "Billing", london)
    earliest = people[str(org.agent.pk)].availability[0][0]
    # 01:30 happens twice; the first (BST) is only 10 hours after the shift.
    assert earliest == 120


def test_infeasible_rota_names_the_binding_rules(org, staffing_plan, patterns,
                                                 django_capture_on_commit_callbacks):
    # Everyone must work at least 60 hours, beyond the legal 48-hour average.
    for person in (org.agent, org.agent2, org.leader, org.trainer):
        Contract.objects.create(staff=person, min_weekly_hours=47, max_weekly_hours=48,
                                earliest_start=time(11), latest_end=time(15))
    made = _rota(org, staffing_plan, django_capture_on_commit_callbacks)
    assert made.state == Rota.State.FAILED
    assert "no rota meets every rule" in made.message
    assert not made.shifts.exists()


def test_anonymous_rota_counts_heads(org, staffing_plan, patterns,
                                     django_capture_on_commit_callbacks):
    made = _rota(org, staffing_plan, django_capture_on_commit_callbacks, named=False)
    assert made.state == Rota.State.DRAFT and made.solver_status == "optimal"
    shifts = list(made.shifts.all())
    assert shifts and all(s.staff is None and s.agents >= 1 for s in shifts)
    under = np.maximum(np.array(made.coverage["required"]) - made.coverage["scheduled"], 0)
    assert under.sum() <= 0.1 * np.array(made.coverage["required"]).sum()


def test_rota_days_must_lie_in_the_forecast(org, staffing_plan, patterns):
    with pytest.raises(ValidationError, match="The forecast covers"):
        services.rota_create(by=org.leader.user, staffing_plan=staffing_plan,
                             first_day=MONDAY + timedelta(days=3), days=7)


def test_rota_needs_shift_patterns(org, staffing_plan):
    with pytest.raises(ValidationError, match="no active shift patterns"):
        services.rota_create(by=org.leader.user, staffing_plan=staffing_plan,
                             first_day=MONDAY, days=7)


def test_shift_patterns_are_checked(org):
    with pytest.raises(ValidationError):
        services.pattern_save(by=org.leader.user, pattern=ShiftPattern(
            name="Backwards", team=org.billing, first_start=time(10), last_start=time(8),
            length_minutes=480))
    with pytest.raises(PermissionDenied):
        services.pattern_save(by=org.leader.user, pattern=ShiftPattern(
            name="Theirs", team=org.technical, first_start=time(8), last_start=time(8),
            length_minutes=480))
    assert Forecast.objects.count() == 0 and ShiftPattern.objects.count() == 0


def test_leave_and_contracts_are_checked(org):
    with pytest.raises(ValidationError):
        services.leave_add(by=org.leader.user, staff=org.agent, first_day=date(2026, 5, 5),
                           last_day=date(2026, 5, 4))
    with pytest.raises(ValidationError):
        services.contract_save(by=org.leader.user, staff=org.agent, min_weekly_hours=40,
                               max_weekly_hours=20)
    with pytest.raises(PermissionDenied):
        services.contract_save(by=org.leader.user, staff=org.outsider, max_weekly_hours=20)


def test_an_unexpected_fault_fails_the_job_with_its_reason(org, history, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    from serviceops.workforce import cli_forecast

    def broken(*args, **kwargs):
        raise ZeroDivisionError("model blew up")

    monkeypatch.setattr(cli_forecast, "forecast_demand", broken)
    with django_capture_on_commit_callbacks(execute=True):
        made = services.forecast_create(by=org.leader.user, name="Broken", team=org.billing,
                                        last_history_day=LAST_HISTORY_DAY, interval_minutes=60,
                                        horizon_days=7, holidays="none", origins=1)
    made.refresh_from_db()
    assert made.state == "failed" and "ZeroDivisionError: model blew up" in made.error
