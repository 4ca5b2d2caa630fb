"""Workforce API: the path from case history to a published rota and each person's shifts,
and who may read or change what (another team's plans are a 404, a reader's write a 403)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from icalendar import Calendar

from serviceops.core.tokens import api_token_create
from serviceops.people.services import staff_create_login
from serviceops.workforce import exports
from serviceops.workforce.models import Contract, Forecast, Leave, Rota, RotaShift

from .conftest import LAST_HISTORY_DAY

MONDAY = LAST_HISTORY_DAY + timedelta(days=1)


@pytest.fixture
def call(client):
    tokens = {}

    def _call(staff, method, path, body=None, **extra):
        if staff.pk not in tokens:
            tokens[staff.pk] = api_token_create(user=staff.user, name="test")[1]
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {tokens[staff.pk]}", **extra}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(f"/api/workforce{path}", **kwargs)

    return _call


@pytest.fixture
def tech_leader(org):
    return staff_create_login(username="techlead", name="Tech Leader", role="team_leader",
                              password=None, email="techlead@example.org",
                              team_names=["Technical"])


def test_from_history_to_my_shifts_through_the_api(call, client, org, history, monkeypatch,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = call(org.leader, "post", "/forecasts", {
            "name": "Billing", "team_id": org.billing.pk,
            "last_history_day": LAST_HISTORY_DAY.isoformat(), "interval_minutes": 60,
            "horizon_days": 7, "time_zone": "UTC", "holidays": "none", "origins": 1})
    assert made.status_code == 201, made.content
    forecast_id = made.json()["id"]
    assert call(org.leader, "get", f"/forecasts/{forecast_id}").json()["state"] == "done"
    values = call(org.leader, "get", f"/forecasts/{forecast_id}/values").json()
    assert len(values["starts"]) == len(values["mean"]) == 7 * 24
    assert values["starts"][0] == "2026-05-04T00:00"
    assert all(lo <= m + 1e-9 for lo, m in zip(values["low_80"], values["mean"], strict=True))

    plan = call(org.leader, "post", "/plans", {
        "forecast_id": forecast_id, "name": "80/20", "aht_seconds": 600, "shrinkage": 0.3,
        "hourly_cost": 15})
    assert plan.status_code == 201, plan.content
    plan_id = plan.json()["id"]
    scenario = call(org.leader, "post", f"/plans/{plan_id}/scenarios",
                    {"name": "Volume +20%", "volume_factor": 1.2})
    assert scenario.status_code == 201, scenario.content
    compared = call(org.leader, "get", f"/plans/{plan_id}/comparison")
    # Undefined figures are null: NaN and Infinity are not JSON.
    assert b"NaN" not in compared.content and b"Infinity" not in compared.content
    comparison = compared.json()
    base, busier = comparison["results"]
    assert base["scenario_id"] is None and busier["scenario_id"] == scenario.json()["id"]
    assert len(base["intervals"]["agents"]) == len(comparison["starts"]) == 7 * 24
    assert busier["totals"]["calls"] == pytest.approx(1.2 * base["totals"]["calls"], rel=1e-4)
    assert sum(busier["intervals"]["agents"]) >= sum(base["intervals"]["agents"])
    assert base["totals"]["rostered_hours"] == sum(base["intervals"]["rostered"])
    assert base["totals"]["cost"] == pytest.approx(15 * base["totals"]["rostered_hours"])
    assert base["totals"]["service_level"] >= 0.8

    for name, first, last, hours, lunch in (("Day", "08:00", "10:00", 8, 60),
                                            ("Short", "11:00", "13:00", 4, 0)):
        pattern = call(org.leader, "post", "/shift-patterns", {
            "name": name, "team_id": org.billing.pk, "first_start": first, "last_start": last,
            "step_minutes": 60, "length_minutes": hours * 60, "unpaid_break_minutes": lunch})
        assert pattern.status_code == 201, pattern.content
    with django_capture_on_commit_callbacks(execute=True):
        rota = call(org.leader, "post", "/rotas", {
            "plan_id": plan_id, "first_day": MONDAY.isoformat(), "days": 7,
            "time_limit_seconds": 20})
    assert rota.status_code == 201, rota.content
    rota_id = rota.json()["id"]
    detail = call(org.leader, "get", f"/rotas/{rota_id}").json()
    assert detail["state"] == "draft", detail["message"]
    assert detail["shifts"] and all(s["staff_id"] for s in detail["shifts"])
    assert len(detail["coverage"]["starts"]) == len(detail["coverage"]["scheduled"]) == 7 * 24
    assert detail["coverage"]["summary"]["scheduled_agent_hours"] == sum(
        detail["coverage"]["scheduled"])
    assert call(org.agent, "get", "/my-shifts").json() == []  # a draft is not shown
    exported = call(org.leader, "get", f"/rotas/{rota_id}/csv")
    assert exported["Content-Type"].startswith("text/csv")
    assert len(exported.content.decode().splitlines()) == 1 + len(detail["shifts"])

    published = call(org.leader, "post", f"/rotas/{rota_id}/publish")
    assert published.status_code == 200 and published.json()["state"] == "published"
    mine = call(org.agent, "get", "/my-shifts?since=2026-05-01T00:00:00Z").json()
    expected = RotaShift.objects.filter(rota_id=rota_id, staff=org.agent)
    assert [s["id"] for s in mine] == [s.pk for s in expected]
    assert all(s["rota_id"] == rota_id and s["team"] == "Billing" for s in mine)

    feed = call(org.agent, "get", "/my-shifts/feed").json()["url"]
    # The fixture's rota lies in May 2026; let the feed reach back to it from today.
    monkeypatch.setattr(exports, "FEED_HISTORY", timedelta(days=36500))
    ics = client.get(feed)  # no API token: the signed link is the credential
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(ics.content).walk("VEVENT")
    assert sorted(e.decoded("dtstart") for e in events) == [s.start for s in expected]


def test_forecast_from_an_uploaded_arrivals_file(call, org, django_capture_on_commit_callbacks):
    # Five weeks of hourly counts, 09:00-17:00 every day, busier at noon.
    first = LAST_HISTORY_DAY - timedelta(days=34)
    rows = ["start,calls"]
    for d in range(35):
        day = first + timedelta(days=d)
        rows += [f"{day}T{hour:02d}:00:00,{12 if hour == 12 else 6}" for hour in range(9, 17)]
    upload = SimpleUploadedFile("calls.csv", "\n".join(rows).encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        made = call(org.leader, "post", "/forecasts/file", data={
            "arrivals": upload, "name": "From the switch", "team_id": org.billing.pk,
            "last_history_day": LAST_HISTORY_DAY.isoformat(), "interval_minutes": 60,
            "horizon_days": 7, "time_zone": "UTC", "holidays": "none", "origins": 1,
            "time_column": "start", "count_column": "calls"})
    assert made.status_code == 201, made.content
    forecast = Forecast.objects.get(pk=made.json()["id"])
    assert forecast.source == "file" and forecast.state == "done", forecast.error
    noon = call(org.leader, "get", f"/forecasts/{forecast.pk}/values").json()["mean"][12]
    assert noon == pytest.approx(12, abs=0.5)


def test_refused_requests_name_the_field(call, org, forecast):
    bad = call(org.manager, "post", "/forecasts", {
        "name": "Bad", "last_history_day": "2026-05-03", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"time_zone"}
    missing = call(org.leader, "post", "/plans", {"forecast_id": forecast.pk, "name": "x"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "aht_seconds"
    wrong_type = call(org.leader, "post", "/plans", {"forecast_id": "soon", "name": "x"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "forecast_id"
    leave = call(org.leader, "post", f"/staff/{org.agent.pk}/leave",
                 {"first_day": "2026-05-05", "last_day": "2026-05-04"})
    assert leave.status_code == 422 and leave.json()["errors"][0]["field"] == "last_day"
    assert not Leave.objects.exists() and Forecast.objects.count() == 1


def test_agents_plan_nothing_and_see_no_plans(call, org, staffing_plan):
    refused = call(org.agent, "post", "/forecasts", {
        "name": "Mine", "team_id": org.billing.pk, "last_history_day": "2026-05-03"})
    assert refused.status_code == 403
    assert call(org.agent, "get", "/forecasts").json() == {"items": [], "next": None}
    assert call(org.agent, "get", f"/plans/{staffing_plan.pk}").status_code == 404
    assert Forecast.objects.count() == 1


def test_another_teams_leader_gets_404s(call, org, tech_leader, staffing_plan, patterns):
    draft = Rota.objects.create(plan=staffing_plan, first_day=MONDAY, state=Rota.State.DRAFT)
    forecast = staffing_plan.forecast
    for path in (f"/forecasts/{forecast.pk}", f"/forecasts/{forecast.pk}/values",
                 f"/plans/{staffing_plan.pk}/comparison", f"/rotas/{draft.pk}",
                 f"/rotas/{draft.pk}/csv"):
        assert call(tech_leader, "get", path).status_code == 404, path
    assert call(tech_leader, "post", f"/rotas/{draft.pk}/publish").status_code == 404
    assert call(tech_leader, "delete", f"/rotas/{draft.pk}").status_code == 404
    assert call(tech_leader, "post", f"/plans/{staffing_plan.pk}/scenarios",
                {"name": "x"}).status_code == 404
    assert call(tech_leader, "put", f"/staff/{org.agent.pk}/contract",
                {"max_weekly_hours": 10}).status_code == 404
    # A forecast out of sight, named in a body, is refused as if it did not exist.
    plan = call(tech_leader, "post", "/plans", {"forecast_id": forecast.pk, "name": "x",
                                                "aht_seconds": 300})
    assert plan.status_code == 422 and plan.json()["errors"][0]["field"] == "forecast_id"
    assert call(tech_leader, "get", "/shift-patterns").json()["items"] == []
    draft.refresh_from_db()
    assert draft.state == Rota.State.DRAFT and not Contract.objects.exists()


def test_an_assessor_reads_everything_and_changes_nothing(call, org, staffing_plan, patterns):
    draft = Rota.objects.create(plan=staffing_plan, first_day=MONDAY, state=Rota.State.DRAFT)
    assert [f["id"] for f in call(org.assessor, "get", "/forecasts").json()["items"]] == [
        staffing_plan.forecast_id]
    assert call(org.assessor, "get", f"/plans/{staffing_plan.pk}/comparison").status_code == 200
    assert call(org.assessor, "get", f"/rotas/{draft.pk}").json()["state"] == "draft"
    assert len(call(org.assessor, "get", "/shift-patterns").json()["items"]) == 2
    for method, path, body in (
            ("post", "/plans", {"forecast_id": staffing_plan.forecast_id, "name": "x",
                                "aht_seconds": 300}),
            ("post", f"/plans/{staffing_plan.pk}/scenarios", {"name": "x"}),
            ("post", "/rotas", {"plan_id": staffing_plan.pk, "first_day": str(MONDAY)}),
            ("post", f"/rotas/{draft.pk}/publish", None),
            ("delete", f"/rotas/{draft.pk}", None),
            ("put", f"/staff/{org.agent.pk}/contract", {"max_weekly_hours": 10}),
            ("post", f"/staff/{org.agent.pk}/leave", {"first_day": "2026-05-05",
                                                      "last_day": "2026-05-05"})):
        assert call(org.assessor, method, path, body).status_code == 403, path
    draft.refresh_from_db()
    assert draft.state == Rota.State.DRAFT and Rota.objects.count() == 1
    assert not Contract.objects.exists() and not Leave.objects.exists()


def test_a_leader_sets_contracts_and_discards_drafts(call, org, staffing_plan):
    contract = call(org.leader, "put", f"/staff/{org.agent.pk}/contract",
                    {"min_weekly_hours": 20, "max_weekly_hours": 30, "days_off": [5, 6]})
    assert contract.status_code == 200, contract.content
    saved = Contract.objects.get(staff=org.agent)
    assert (saved.min_weekly_hours, saved.max_weekly_hours, saved.days_off) == (20, 30, [5, 6])
    # PUT replaces: fields left out go back to their defaults.
    call(org.leader, "put", f"/staff/{org.agent.pk}/contract", {"max_weekly_hours": 35})
    saved.refresh_from_db()
    assert (saved.min_weekly_hours, saved.days_off) == (0, [])
    leave = call(org.leader, "post", f"/staff/{org.agent.pk}/leave",
                 {"first_day": "2026-05-05", "last_day": "2026-05-06", "note": "Dentist"})
    assert leave.status_code == 201 and Leave.objects.get().note == "Dentist"

    draft = Rota.objects.create(plan=staffing_plan, first_day=MONDAY, state=Rota.State.DRAFT)
    published = Rota.objects.create(plan=staffing_plan, first_day=MONDAY,
                                    state=Rota.State.PUBLISHED,
                                    published_at=datetime(2026, 5, 1, tzinfo=UTC))
    assert call(org.leader, "delete", f"/rotas/{published.pk}").status_code == 422
    assert call(org.leader, "delete", f"/rotas/{draft.pk}").status_code == 204
    assert list(Rota.objects.all()) == [published]


def test_a_forged_calendar_link_opens_nothing(client, call, org):
    url = call(org.agent, "get", "/my-shifts/feed").json()["url"]
    assert client.get(url).status_code == 200
    assert client.get(url[:-2] + "xx").status_code == 404
    org.agent.is_active = False
    org.agent.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404
