"""Rota exports: CSV in the rota's local time, iCalendar in UTC with stable UIDs, and signed
calendar-feed links that stop working when a person leaves."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from icalendar import Calendar

from serviceops.workforce import exports
from serviceops.workforce.models import Forecast, Rota, RotaShift, StaffingPlan

LONDON = ZoneInfo("Europe/London")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment in London in October 2026 (BST until 02:00 on Sunday 25th)."""
    return datetime(2026, 10, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def rota(org):
    """A published Billing rota in London time: a day shift with two breaks, and a night
    shift over the night the clocks go back (nine hours of real time)."""
    forecast = Forecast.objects.create(name="Autumn", team=org.billing,
                                       last_history_day=date(2026, 10, 18),
                                       time_zone="Europe/London", state="done")
    plan = StaffingPlan.objects.create(forecast=forecast, name="Base", aht_seconds=300)
    made = Rota.objects.create(plan=plan, first_day=date(2026, 10, 19), days=7,
                               state=Rota.State.PUBLISHED,
                               published_at=datetime(2026, 10, 15, 9, tzinfo=UTC))
    RotaShift.objects.create(
        rota=made, staff=org.agent, template="Day", start=_at(24, 8), end=_at(24, 16),
        breaks=[[_at(24, 12).isoformat(), _at(24, 12, 30).isoformat(), False],
                [_at(24, 14).isoformat(), _at(24, 14, 15).isoformat(), True]])
    RotaShift.objects.create(
        rota=made, staff=org.agent2, template="Night", start=_at(24, 22), end=_at(25, 6),
        breaks=[[_at(25, 3).isoformat(), _at(25, 3, 30).isoformat(), False]])
    return made


def test_csv_has_one_row_per_shift_in_local_time(rota):
    rows = list(csv.reader(io.StringIO(exports.rota_csv(rota))))
    assert rows == [
        exports.CSV_HEADER,
        ["2026-10-24", "08:00", "16:00", "Agent Person", "1", "Day", "450",
         "12:00-12:30 unpaid; 14:00-14:15 paid"],
        # 22:00 BST to 06:00 GMT is nine hours; less the unpaid half hour.
        ["2026-10-24", "22:00", "06:00", "Agent2 Person", "1", "Night", "510",
         "03:00-03:30 unpaid"],
    ]


def test_csv_counts_heads_on_a_rota_of_unnamed_staff(rota):
    rota.shifts.all().delete()
    RotaShift.objects.create(rota=rota, agents=3, template="Day", start=_at(20, 9),
                             end=_at(20, 13))
    _, row = csv.reader(io.StringIO(exports.rota_csv(rota)))
    assert row == ["2026-10-20", "09:00", "13:00", "", "3", "Day", "240", ""]


def test_ics_has_one_event_per_shift_in_utc_with_stable_uids(rota):
    shifts = list(rota.shifts.select_related("staff", "rota__plan__forecast__team"))
    data = exports.shifts_ics(shifts, name="Billing rota")
    assert data == exports.shifts_ics(shifts, name="Billing rota")  # same bytes every poll
    calendar = Calendar.from_ical(data)
    assert str(calendar["x-wr-calname"]) == "Billing rota"
    day, night = calendar.walk("VEVENT")
    assert str(day["uid"]) == f"rotashift-{shifts[0].pk}@serviceops"
    assert day.decoded("dtstart") == datetime(2026, 10, 24, 7, tzinfo=UTC)
    assert day.decoded("dtend") == datetime(2026, 10, 24, 15, tzinfo=UTC)
    assert day.decoded("dtstart").utcoffset() == timedelta(0)
    assert b"DTSTART:20261024T070000Z" in data
    assert str(day["summary"]) == "Day shift, Billing"
    assert str(day["description"]) == ("Breaks (Europe/London): 12:00-12:30 unpaid; "
                                       "14:00-14:15 paid")
    assert night.decoded("dtstart") == datetime(2026, 10, 24, 21, tzinfo=UTC)
    assert night.decoded("dtend") == datetime(2026, 10, 25, 6, tzinfo=UTC)
    assert night.decoded("dtstamp") == rota.published_at


def test_ics_summary_gives_the_head_count_of_unnamed_shifts(rota):
    rota.shifts.all().delete()
    RotaShift.objects.create(rota=rota, agents=3, template="Early", start=_at(20, 7),
                             end=_at(20, 11))
    event, = Calendar.from_ical(exports.shifts_ics(
        rota.shifts.select_related("rota__plan__forecast__team"), name="x")).walk("VEVENT")
    assert str(event["summary"]) == "Early shift, Billing (3 agents)"
    assert str(event["description"]) == "No breaks."


def test_a_feed_token_opens_its_own_persons_feed_only(org):
    token = exports.feed_token(org.agent)
    assert exports.staff_for_feed_token(token) == org.agent
    assert exports.staff_for_feed_token(exports.feed_token(org.agent2)) == org.agent2
    forged = signing.dumps({"staff": org.leader.pk}, salt="another purpose")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, tampered, "", "not-a-token",
                signing.dumps({"staff": "1"}, salt=exports.FEED_SALT),
                signing.dumps({"staff": 999_999}, salt=exports.FEED_SALT)):
        assert exports.staff_for_feed_token(bad) is None, bad


def test_a_feed_token_stops_working_when_the_person_is_deactivated(org):
    token = exports.feed_token(org.agent)
    org.agent.is_active = False
    org.agent.save(update_fields=["is_active"])
    assert exports.staff_for_feed_token(token) is None
    other = exports.feed_token(org.agent2)
    org.agent2.user.is_active = False
    org.agent2.user.save(update_fields=["is_active"])
    assert exports.staff_for_feed_token(other) is None


def test_a_feed_shows_recent_published_shifts_only(org, rota):
    draft = Rota.objects.create(plan=rota.plan, first_day=date(2026, 10, 19),
                                state=Rota.State.DRAFT)
    RotaShift.objects.create(rota=draft, staff=org.agent, template="Draft", start=_at(26, 8),
                             end=_at(26, 16))
    now = _at(26, 12)
    assert [s.template for s in exports.feed_shifts(org.agent, now=now)] == ["Day"]
    later = now + exports.FEED_HISTORY + timedelta(days=3)
    assert not exports.feed_shifts(org.agent, now=later).exists()


def test_coverage_summary_in_agent_hours():
    coverage = {"required": [0, 2, 3, 1], "scheduled": [0, 2, 1, 2],
                "service_level": [1.0, 0.85, 0.4, 0.99]}
    assert exports.coverage_summary(coverage, interval_minutes=30) == {
        "required_agent_hours": 3.0, "scheduled_agent_hours": 2.5, "short_intervals": 1,
        "shortfall_agent_hours": 1.0, "lowest_service_level": 0.4}
