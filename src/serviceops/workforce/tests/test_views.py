"""The workforce pages: from a forecast to a published rota through the forms, and what each
role may see and do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from serviceops.workforce.models import Contract, Forecast, Leave, Rota, ShiftPattern

from .conftest import LAST_HISTORY_DAY


@pytest.fixture
def leader_client(client, org):
    client.force_login(org.leader.user)
    return client


def test_forecast_form_runs_the_forecast(leader_client, org, history,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = leader_client.post(reverse("workforce:forecast_new"), {
            "name": "Billing May", "team": org.billing.pk, "source": "cases",
            "last_history_day": LAST_HISTORY_DAY.isoformat(), "interval_minutes": 60,
            "horizon_days": 7, "model": "auto", "origins": 1, "time_zone": "UTC",
            "holidays": "none", "closures": ""})
    made = Forecast.objects.get()
    assert response.status_code == 302 and response.url == reverse("workforce:forecast",
                                                                    args=[made.pk])
    page = leader_client.get(response.url).content.decode()
    assert made.state == "done"
    assert 'data-chart="forecast-chart"' in page and "Backtest" in page
    assert "2026-05-04T09:00" in page  # the table of the forecast


def test_forecast_form_reports_bad_input_on_its_fields(leader_client, org):
    response = leader_client.post(reverse("workforce:forecast_new"), {
        "name": "Bad", "team": org.billing.pk, "source": "cases",
        "last_history_day": LAST_HISTORY_DAY.isoformat(), "interval_minutes": 60,
        "horizon_days": 7, "model": "auto", "origins": 1, "time_zone": "Nowhere/Atall",
        "holidays": "none", "closures": "2026-13-01"})
    page = response.content.decode()
    assert response.status_code == 200 and Forecast.objects.count() == 0
    assert "not a date" in page
    response = leader_client.post(reverse("workforce:forecast_new"), {
        "name": "Bad", "team": org.billing.pk, "source": "cases",
        "last_history_day": LAST_HISTORY_DAY.isoformat(), "interval_minutes": 60,
        "horizon_days": 7, "model": "auto", "origins": 1, "time_zone": "Nowhere/Atall",
        "holidays": "none", "closures": ""})
    assert "is not a time zone" in response.content.decode()
    assert Forecast.objects.count() == 0


def test_a_running_forecast_page_polls(leader_client, org, history):
    made = Forecast.objects.create(name="Waiting", team=org.billing,
                                   last_history_day=LAST_HISTORY_DAY)
    page = leader_client.get(reverse("workforce:forecast", args=[made.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and "Queued" in page
    partial = leader_client.get(reverse("workforce:forecast", args=[made.pk]),
                                HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "Queued" in partial.content.decode()


def test_plan_page_shows_scenarios_side_by_side(leader_client, org, forecast):
    response = leader_client.post(reverse("workforce:plan_new", args=[forecast.pk]), {
        "name": "Base plan", "volume_basis": "mean", "aht_seconds": 600, "sl_target": 0.8,
        "sl_seconds": 20, "shrinkage": 0.3, "hourly_cost": 15})
    assert response.status_code == 302
    plan_url = response.url
    leader_client.post(plan_url.replace("/plans/", "/plans/") + "scenarios/", {
        "name": "Busier", "volume_factor": 1.15, "aht_change_seconds": 0})
    page = leader_client.get(plan_url).content.decode()
    assert "Busier" in page and "volume × 1.15" in page
    assert 'data-chart="plan-chart"' in page and "Erlang C" in page


def test_plan_form_errors_are_shown(leader_client, forecast):
    response = leader_client.post(reverse("workforce:plan_new", args=[forecast.pk]), {
        "name": "No AHT", "volume_basis": "mean", "sl_target": 0.8, "sl_seconds": 20,
        "shrinkage": 0.3, "hourly_cost": 0}, follow=True)
    assert "give the average handling time" in response.content.decode()


def test_from_plan_to_published_rota(leader_client, org, staffing_plan, patterns,
                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = leader_client.post(reverse("workforce:rota_new", args=[staffing_plan.pk]), {
            "first_day": (LAST_HISTORY_DAY + timedelta(days=1)).isoformat(), "days": 7,
            "named": "on", "time_limit_seconds": 20})
    made = Rota.objects.get()
    assert response.url == reverse("workforce:rota", args=[made.pk])
    page = leader_client.get(response.url).content.decode()
    assert 'data-chart="coverage-chart"' in page and "Publish rota" in page
    assert org.agent.name in page and "Mon 4 May" in page
    leader_client.post(reverse("workforce:rota_publish", args=[made.pk]))
    made.refresh_from_db()
    assert made.state == "published"
    # The agent sees their own shifts, and only theirs.
    agent = leader_client
    agent.force_login(org.agent.user)
    mine = agent.get(reverse("workforce:my_shifts"), {"from": "2026-05-04"}).content.decode()
    shifts = list(made.shifts.filter(staff=org.agent))
    assert shifts  # four people cover the weekday peak: each works
    for shift in shifts:
        assert f"{shift.start:%a %-d %b %Y}</th><td>{shift.start:%H:%M}–{shift.end:%H:%M}" in mine
    assert mine.count("<tr><th scope=\"row\">") == len(shifts)
    later = agent.get(reverse("workforce:my_shifts"), {"from": "2026-06-01"}).content.decode()
    assert "No published shifts from Mon 1 Jun 2026" in later


def test_agents_and_other_teams_are_kept_out(client, org, staffing_plan):
    client.force_login(org.agent.user)
    assert client.get(reverse("workforce:home")).status_code == 403
    assert client.get(reverse("workforce:plan", args=[staffing_plan.pk])).status_code == 403
    assert client.get(reverse("workforce:my_shifts")).status_code == 200
    client.force_login(org.outsider.user)
    assert client.get(reverse("workforce:plan", args=[staffing_plan.pk])).status_code == 403
    other_leader = org.outsider
    other_leader.role = "team_leader"
    other_leader.save()
    assert client.get(reverse("workforce:plan", args=[staffing_plan.pk])).status_code == 404
    assert client.post(reverse("workforce:scenario_add", args=[staffing_plan.pk]),
                       {"name": "x", "volume_factor": 2,
                        "aht_change_seconds": 0}).status_code == 404


def test_assessor_reads_but_changes_nothing(client, org, staffing_plan):
    client.force_login(org.assessor.user)
    page = client.get(reverse("workforce:plan", args=[staffing_plan.pk])).content.decode()
    assert "Add a scenario" not in page and "Build rota" not in page
    client.post(reverse("workforce:scenario_add", args=[staffing_plan.pk]),
                {"name": "Sneaky", "volume_factor": 2, "aht_change_seconds": 0})
    assert not staffing_plan.scenarios.exists()
    client.post(reverse("workforce:patterns"), {
        "name": "Sneaky", "first_start": "08:00", "last_start": "09:00", "step_minutes": 30,
        "length_minutes": 480, "unpaid_break_minutes": 30, "paid_break_minutes": 0,
        "is_active": "on"})
    assert not ShiftPattern.objects.exists()


def test_contracts_and_leave_through_the_page(leader_client, org):
    url = reverse("workforce:staff_edit", args=[org.agent.pk])
    leader_client.post(url, {"action": "contract", "min_weekly_hours": 20,
                             "max_weekly_hours": 30, "days_off": ["5", "6"],
                             "consecutive_days_off": 0})
    contract = Contract.objects.get(staff=org.agent)
    assert (contract.min_weekly_hours, contract.max_weekly_hours, contract.days_off) == (
        20, 30, [5, 6])
    response = leader_client.post(url, {"action": "leave", "first_day": "2026-05-06",
                                         "last_day": "2026-05-05"})
    assert "before the first" in response.content.decode() and not Leave.objects.exists()
    leader_client.post(url, {"action": "leave", "first_day": "2026-05-05",
                             "last_day": "2026-05-06", "note": "Holiday"})
    assert Leave.objects.get().note == "Holiday"
    listing = leader_client.get(reverse("workforce:staff")).content.decode()
    assert "20–30" in listing and "Sat, Sun" in listing
    assert leader_client.get(reverse("workforce:staff_edit",
                                     args=[org.outsider.pk])).status_code == 404


def test_rota_downloads_and_the_calendar_link(client, org, staffing_plan, patterns,
                                              django_capture_on_commit_callbacks):
    from serviceops.workforce import services

    with django_capture_on_commit_callbacks(execute=True):
        made = services.rota_create(by=org.leader.user, staffing_plan=staffing_plan,
                                    first_day=LAST_HISTORY_DAY + timedelta(days=1), days=7,
                                    time_limit_seconds=20)
    made.refresh_from_db()
    client.force_login(org.leader.user)
    csv = client.get(reverse("workforce:rota_export", args=[made.pk, "csv"]))
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().count("\n") == made.shifts.count() + 1
    ics = client.get(reverse("workforce:rota_export", args=[made.pk, "ics"]))
    assert ics.content.decode().count("BEGIN:VEVENT") == made.shifts.count()
    assert client.get(reverse("workforce:rota_export", args=[made.pk, "pdf"])).status_code == 404
    client.force_login(org.outsider.user)
    assert client.get(reverse("workforce:rota_export", args=[made.pk, "csv"])).status_code == 403
    # Each person's page carries their own signed calendar link, which opens their feed.
    client.force_login(org.agent.user)
    page = client.get(reverse("workforce:my_shifts")).content.decode()
    link = page.split('<code class="secret">')[1].split("</code>")[0]
    assert link.startswith("http://testserver/api/workforce/calendar/")
    client.logout()
    assert client.get(link).status_code == 200
    assert client.get(link[:-3] + "xyz").status_code == 404
