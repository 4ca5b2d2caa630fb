"""The built-in KPIs computed in SQL, checked against figures worked out by hand."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from serviceops.insights.kpis import Scope
from serviceops.insights.models import ManualKpi, ManualKpiValue, MonthlyCost
from serviceops.insights.selectors import kpi_report, kpi_scope, kpi_values, period_bounds
from serviceops.insights.tests.conftest import HOUR, T0
from serviceops.sla.models import CaseClock


def _period():
    return period_bounds(date(2026, 3, 1), date(2026, 3, 31))


def test_case_kpis_match_hand_computed_values(cases):
    start, end = _period()
    values = kpi_values(Scope(start=start, end=end))
    assert values["case_volume", None].value == 5
    frt = np.array([1, 2, 3, 10]) * HOUR
    assert values["first_response_time_median", None].value == pytest.approx(2.5 * HOUR)
    assert values["first_response_time_p90", None].value == pytest.approx(
        np.quantile(frt, 0.9))
    assert values["first_response_time_p90", None].value == pytest.approx(7.9 * HOUR)
    resolution = np.array([4, 6, 8, 30]) * HOUR
    assert values["resolution_time_median", None].value == pytest.approx(7 * HOUR)
    assert values["resolution_time_p90", None].value == pytest.approx(
        np.quantile(resolution, 0.9))
    assert values["reopen_rate", None].value == pytest.approx(1 / 4)
    assert values["reassignment_rate", None].value == pytest.approx(1 / 5)
    # Cases 0 and 3 only: 1 was reopened, 2 was reassigned.
    assert values["first_contact_resolution", None].value == pytest.approx(2 / 4)
    assert values["first_contact_resolution", None].numerator == 2
    # Open at the end of March: the phone case (opened in March) and the old case.
    assert values["backlog", None].value == 2
    ages = sorted((end - c.opened_at).total_seconds() for c in cases[4:])
    assert values["backlog_age_median", None].value == pytest.approx(np.median(ages))


def test_filters_breakdowns_and_buckets(org, cases):
    start, end = _period()
    by_team = kpi_values(Scope(start=start, end=end, by="team"))
    assert by_team["case_volume", org.billing.pk].value == 4
    assert by_team["case_volume", org.technical.pk].value == 1
    phone = kpi_values(Scope(start=start, end=end, channels=("phone",)))
    assert phone["case_volume", None].value == 1
    assert ("resolution_time_median", None) not in phone
    # A parent category stands for its sub-categories.
    refunds = kpi_values(Scope(start=start, end=end, category_ids=(org.refunds_parent.pk,)))
    assert refunds["case_volume", None].value == 4
    buckets = (T0, T0 + timedelta(hours=2), T0 + timedelta(days=2))
    series = kpi_values(Scope(start=start, end=end, by="bucket", buckets=buckets))
    assert series["case_volume", 0].value == 2 and series["case_volume", 1].value == 3


def test_an_agent_sees_only_their_teams_figures(org, cases):
    start, end = _period()
    scope = kpi_scope(org.outsider.user, start=start, end=end)
    assert scope.team_ids == (org.technical.pk,)
    assert kpi_values(scope)["case_volume", None].value == 1
    asked_for_billing = kpi_scope(org.outsider.user, start=start, end=end,
                                  team_ids=[org.billing.pk])
    assert ("case_volume", None) not in kpi_values(asked_for_billing)
    assert kpi_scope(org.manager.user, start=start, end=end).team_ids is None


def test_sla_attainment_counts_met_and_breached_clocks_only(org, cases):
    def clock(case, kind, state, elapsed, stopped=True):
        CaseClock.objects.create(
            case=case, kind=kind, cycle=0, priority=3, target_seconds=4 * HOUR,
            started_at=case.opened_at, stopped_at=case.opened_at if stopped else None,
            elapsed_seconds=elapsed, paused_seconds=0, state=state,
            running=not stopped, as_of=case.opened_at)

    clock(cases[0], "first_response", "met", 600)
    clock(cases[1], "first_response", "met", 1200)
    clock(cases[2], "first_response", "breached", 5 * HOUR)
    clock(cases[3], "first_response", "running", 100, stopped=False)
    clock(cases[0], "resolution", "breached", 9 * HOUR)
    start, end = _period()
    values = kpi_values(Scope(start=start, end=end))
    assert values["sla_attainment_first_response", None].value == pytest.approx(2 / 3)
    assert values["sla_attainment_resolution", None].value == 0
    assert values["first_response_time_business_median", None].value == pytest.approx(1200)


def test_cost_per_contact_is_pro_rata_and_manual_kpis_aggregate(org, cases):
    MonthlyCost.objects.create(month=date(2026, 3, 1), amount=Decimal("3100"))
    MonthlyCost.objects.create(month=date(2026, 4, 1), amount=Decimal("9000"))
    survey = ManualKpi.objects.create(key="engagement", name="Engagement", definition="Pulse",
                                      unit="ratio", direction="higher", aggregation="mean")
    ManualKpiValue.objects.create(kpi=survey, month=date(2026, 3, 1), value=0.6)
    ManualKpiValue.objects.create(kpi=survey, month=date(2026, 4, 1), value=0.8)
    start, end = period_bounds(date(2026, 3, 1), date(2026, 3, 15))
    values = kpi_values(Scope(start=start, end=end))
    assert values["cost_per_contact", None].value == pytest.approx(3100 * 15 / 31 / 5)
    assert values["engagement", None].value == pytest.approx(0.6)
    start, end = period_bounds(date(2026, 3, 1), date(2026, 4, 30))
    assert kpi_values(Scope(start=start, end=end))["engagement", None].value == \
        pytest.approx(0.7)


def test_report_judges_each_kpi_against_its_target(org, cases):
    from serviceops.insights.services import kpi_setting_save

    kpi_setting_save(key="first_response_time_median", target=2 * HOUR, amber=3 * HOUR,
                     owner=org.manager, by=org.manager.user)
    start, end = _period()
    rows = {r.kpi.key: r for r in kpi_report(Scope(start=start, end=end))}
    row = rows["first_response_time_median"]
    assert row.status.value == "amber" and row.owner == str(org.manager)
    assert row.as_json() == {"key": "first_response_time_median",
                             "name": "First response time (median)", "value": 2.5 * HOUR,
                             "unit": "seconds", "target": 2 * HOUR, "status": "amber"}
    assert "fact=responded" in row.drill_url and "opened_from=" in row.drill_url


def test_sla_kpis_follow_the_cases_clocks_and_equal_a_join_with_the_cases(
        org, django_capture_on_commit_callbacks):
    """Clocks carry copies of their case's team, category and merge flag so the SLA KPIs
    read one table; every change to a case recomputes them, so the figures equal the same
    count taken through a join with the cases themselves."""
    from django.utils import timezone

    from serviceops.cases.services import case_create, case_merge, case_reply, case_update
    from serviceops.sla.models import SlaPolicy
    from serviceops.sla.services import policy_save

    policy_save(policy=SlaPolicy(name="Email", channels=["email"], business_time=False,
                                 targets={"3": {"first_response": 4 * HOUR}}),
                by=org.manager.user)
    now = timezone.now().replace(microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        made = [case_create(by=org.agent.user, subject=f"Case {i}", channel="email",
                            team=org.billing, now=now - timedelta(hours=10 - i))
                for i in range(4)]
        case_reply(case=made[0], body="Hi", by=org.agent.user, now=now - timedelta(hours=9))
        case_reply(case=made[1], body="Hi", by=org.agent.user, now=now - timedelta(hours=3))
        case_reply(case=made[2], body="Hi", by=org.agent.user, now=now - timedelta(hours=7))
        case_update(case=made[2], team=org.technical, category=org.refunds,
                    by=org.manager.user, now=now - timedelta(hours=2))
        case_merge(source=made[3], target=made[0], by=org.manager.user,
                   now=now - timedelta(hours=1))
    moved = CaseClock.objects.get(case=made[2], kind="first_response")
    assert (moved.team_id, moved.category_id) == (org.technical.pk, org.refunds.pk)
    assert CaseClock.objects.get(case=made[3], kind="first_response").merged

    start, end = period_bounds(now.date() - timedelta(days=2), now.date())
    values = kpi_values(Scope(start=start, end=end, by="team"))
    # Billing: case 0 met (1 h), case 1 breached (6 h); case 3 merged away. Technical: met.
    assert values["sla_attainment_first_response", org.billing.pk].value == pytest.approx(0.5)
    assert values["sla_attainment_first_response", org.technical.pk].value == 1
    for team in (org.billing, org.technical):
        judged = CaseClock.objects.filter(
            kind="first_response", case__team=team, case__merged_into__isnull=True,
            state__in=("met", "breached"), started_at__gte=start, started_at__lt=end)
        measure = values["sla_attainment_first_response", team.pk]
        assert (measure.numerator, measure.denominator) == (
            judged.filter(state="met").count(), judged.count())
    refunds = kpi_values(Scope(start=start, end=end, category_ids=(org.refunds.pk,)))
    assert refunds["sla_attainment_first_response", None].denominator == 1
