"""The intraday read model and page: a forecast, a plan and a published rota from the
services, cases opened "today" (Monday 4 May 2026, seen at 12:30 UTC), and who sees what."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from serviceops.insights.charts import to_svg
from serviceops.workforce import live, services, views_intraday
from serviceops.workforce.intraday import ErlangQueue, Thresholds
from serviceops.workforce.models import Rota
from serviceops.workforce.selectors import forecast_arrays

from .conftest import LAST_HISTORY_DAY

MONDAY = LAST_HISTORY_DAY + timedelta(days=1)
NOW = datetime.combine(MONDAY, time(12, 30), tzinfo=UTC)


def _rota(org, staffing_plan, captured, *, publish: bool) -> Rota:
    with captured(execute=True):
        made = services.rota_create(by=org.leader.user, staffing_plan=staffing_plan,
                                    first_day=MONDAY, days=7, named=False,
                                    time_limit_seconds=10)
    made.refresh_from_db()
    assert made.state == Rota.State.DRAFT, made.message
    if publish:
        services.rota_publish(by=org.leader.user, draft=made)
        made.refresh_from_db()
    return made


def _open_cases(org, times: dict[time, int], team=None) -> None:
    from serviceops.cases.models import Case

    rows = []
    for moment, count in times.items():
        at = datetime.combine(MONDAY, moment, tzinfo=UTC)
        rows += [Case(subject="Card declined", opened_at=at + timedelta(seconds=k),
                      updated_at=at, team=team or org.billing) for k in range(count)]
    Case.objects.bulk_create(rows)


@pytest.fixture
def today(org, staffing_plan, patterns, django_capture_on_commit_callbacks):
    """A published rota for the week, and Monday's cases up to 12:30 (with others that must
    not count: another team's, and one stamped after now)."""
    rota = _rota(org, staffing_plan, django_capture_on_commit_callbacks, publish=True)
    _open_cases(org, {time(9, 5): 14, time(10, 20): 16, time(11, 59): 18, time(12, 10): 3,
                      time(12, 45): 7})
    _open_cases(org, {time(10, 0): 50}, team=org.technical)
    return rota


def test_the_day_so_far_against_forecast_plan_and_published_rota(org, forecast, staffing_plan,
                                                                 today):
    day = live.live_day(org.leader.user, team=org.billing, now=NOW)
    assert day.problem == "" and day.day == MONDAY  # today in the forecast's zone (UTC)
    assert (day.forecast, day.plan, day.rota) == (forecast, staffing_plan, today)
    c = day.comparison
    assert len(day.starts) == 24 and day.starts[12] == "2026-05-04T12:00"
    # 12 hours have finished; 12:00-13:00 is in progress with 3 so far; 12:45 is not yet.
    assert c.completed == 12
    actual = [i.actual for i in c.intervals]
    assert actual[9:13] == [14, 16, 18, 3] and sum(actual[:12]) == 48
    assert actual[13:] == [None] * 11
    assert c.intervals[12].in_progress and not c.intervals[13].in_progress
    # The re-forecast factor is (48 + 30) / (forecast to 12:00 + 30).
    mean = forecast_arrays(forecast).mean[:24]
    assert c.forecast_so_far == pytest.approx(mean[:12].sum())
    assert c.factor == pytest.approx(78 / (mean[:12].sum() + 30))
    assert c.intervals[15].reforecast == pytest.approx(mean[15] * c.factor)
    # Scheduled from the shift rows, breaks excluded, is the solver's own coverage.
    scheduled = [i.scheduled for i in c.intervals]
    assert scheduled == pytest.approx(today.coverage["scheduled"][:24])
    assert max(scheduled) >= 1
    # Required: the plan's Erlang maths on what arrived, then on the re-forecast.
    queue = ErlangQueue(interval_minutes=60, aht_seconds=600.0,
                        targets=services.plan_targets(staffing_plan))
    expected = np.array([i.expected for i in c.intervals])
    assert expected[:12] == pytest.approx(actual[:12])
    assert [i.required for i in c.intervals] == queue.required(expected).tolist()
    assert [i.gap for i in c.intervals] == pytest.approx(
        np.array(scheduled) - queue.required(expected))


def test_warnings_follow_the_thresholds(org, forecast, today):
    strict = live.live_day(org.leader.user, team=org.billing, now=NOW,
                           thresholds=Thresholds(short_agents=0.01, sl_points=0, min_calls=0))
    lenient = live.live_day(org.leader.user, team=org.billing, now=NOW,
                            thresholds=Thresholds(short_agents=1000, sl_points=1, min_calls=0))
    flagged = [i for i in strict.comparison.intervals if i.warnings]
    assert flagged  # the nights are unstaffed
    assert all(i.gap < 0 or i.predicted_sl < strict.comparison.sl_target for i in flagged)
    assert not any(i.warnings for i in lenient.comparison.intervals)


def test_a_day_without_a_published_rota_schedules_nobody(org, staffing_plan, patterns,
                                                         django_capture_on_commit_callbacks):
    _rota(org, staffing_plan, django_capture_on_commit_callbacks, publish=False)  # a draft
    day = live.live_day(org.leader.user, team=org.billing, now=NOW)
    assert day.rota is None
    assert {i.scheduled for i in day.comparison.intervals} == {0.0}
    assert day.comparison.actual_so_far == 0  # no cases today


def test_the_chosen_plan_and_the_day_are_used(org, forecast, staffing_plan):
    quick = services.plan_create(by=org.leader.user, forecast=forecast, name="Quick",
                                 aht_seconds=120, sl_target=0.8, sl_seconds=20)
    newest = live.live_day(org.leader.user, team=org.billing, now=NOW)
    chosen = live.live_day(org.leader.user, team=org.billing, now=NOW,
                           plan_id=staffing_plan.pk, day=MONDAY + timedelta(days=2))
    assert newest.plan == quick
    assert chosen.plan == staffing_plan and chosen.day == MONDAY + timedelta(days=2)
    assert chosen.comparison.completed == 0  # Wednesday has not begun
    assert all(i.actual is None for i in chosen.comparison.intervals)
    beyond = live.live_day(org.leader.user, team=org.billing, now=NOW,
                           day=MONDAY + timedelta(days=7))
    assert beyond.comparison is None and "No finished forecast" in beyond.problem


def test_what_each_user_may_see(org, forecast, staffing_plan, today):
    assert live.team_choices(org.leader.user) == [(str(org.billing.pk), "Billing")]
    assert live.team_choices(org.assessor.user) == [(str(org.billing.pk), "Billing")]
    assert live.team_choices(org.outsider.user) == []
    assert live.live_day(org.assessor.user, team=org.billing, now=NOW).rota == today
    hidden = live.live_day(org.outsider.user, team=org.billing, now=NOW)
    assert hidden.comparison is None and hidden.forecast is None
    by_plan = live.live_day(org.outsider.user, team=None, now=NOW, plan_id=staffing_plan.pk)
    assert by_plan.comparison is None and "not found" in by_plan.problem


def test_the_json_for_the_api(org, forecast, today):
    data = live.live_day_json(org.leader.user, team=org.billing, now=NOW)
    assert json.loads(json.dumps(data)) == data
    assert data["day"] == "2026-05-04" and data["team"] == {"id": org.billing.pk,
                                                           "name": "Billing"}
    assert data["rota"]["id"] == today.pk and data["problem"] is None
    assert data["actual_so_far"] == 48 and data["completed_intervals"] == 12
    first, now = data["intervals"][0], data["intervals"][12]
    assert first["start"] == "2026-05-04T00:00" and first["finished"]
    assert now["in_progress"] and now["actual"] == 3
    assert set(now) >= {"forecast", "reforecast", "required", "scheduled", "gap",
                        "predicted_service_level", "warnings"}
    missing = live.live_day_json(org.outsider.user, team=org.billing, now=NOW)
    assert missing["intervals"] == [] and missing["problem"]


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(views_intraday, "timezone", SimpleNamespace(now=lambda: NOW))


def test_the_page_shows_the_day_and_refreshes_its_table(client, org, today, frozen):
    client.force_login(org.leader.user)
    page = client.get("/workforce/intraday/", {"team": org.billing.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Intraday" in html and 'hx-trigger="every 60s"' in html
    assert 'data-chart="intraday-volume"' in html and 'data-chart="intraday-agents"' in html
    assert "Each interval of the day" in html and "3 so far" in html
    assert "Published rota from" in html and "Updated 12:30" in html  # the forecast's zone
    assert 'name="short" value="1"' in html  # the default threshold is shown
    for name in ("volume_chart", "agents_chart"):  # valid Vega-Lite: it renders
        assert to_svg(page.context[name]).lstrip().startswith("<svg")
    partial = client.get("/workforce/intraday/", {"team": org.billing.pk},
                         HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body and "<h1>" not in body
    assert "Each interval of the day" in body


def test_the_page_words_its_warnings(client, org, today, frozen):
    client.force_login(org.leader.user)
    html = client.get("/workforce/intraday/", {"team": org.billing.pk, "short": 0,
                                               "sl_points": 0}).content.decode()
    assert "Warning:" in html and "ahead need" in html
    assert "Short by" in html or "Predicted service level" in html
    calm = client.get("/workforce/intraday/", {"team": org.billing.pk, "short": 1000,
                                               "sl_points": 100}).content.decode()
    assert "No warnings for the rest of the day." in calm


def test_the_page_is_for_those_who_see_plans(client, org, forecast, frozen):
    assert client.get("/workforce/intraday/").status_code == 302  # to the login page
    client.force_login(org.agent.user)
    assert client.get("/workforce/intraday/").status_code == 403
    client.force_login(org.outsider.user)
    assert client.get("/workforce/intraday/").status_code == 403
    client.force_login(org.leader.user)
    assert client.get("/workforce/intraday/", {"team": org.technical.pk}).status_code == 400
    assert client.get("/workforce/intraday/", {"short": -1}).status_code == 400



def test_the_api_gives_the_day_to_planners_only(client, org, today):
    from serviceops.core.tokens import api_token_create

    def get(staff, **params):
        token = api_token_create(user=staff.user, name="test")[1]
        return client.get("/api/workforce/intraday", params,
                          HTTP_AUTHORIZATION=f"Bearer {token}")

    # The whole of Monday is past: every interval is finished and counted.
    data = get(org.leader, team=org.billing.pk, day="2026-05-04").json()
    assert data["rota"]["id"] == today.pk and data["actual_so_far"] == 58
    assert data["completed_intervals"] == 24 and len(data["intervals"]) == 24
    assert get(org.agent, team=org.billing.pk).status_code == 403
    assert get(org.leader, team=org.billing.pk, short=-1).status_code == 422
    assert get(org.leader, team=999999).status_code == 422
