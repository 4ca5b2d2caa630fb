"""Business-time arithmetic, checked against a minute-by-minute oracle that reads the calendar
file directly (it shares no code with the module) and against hand-worked cases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from serviceops.sla.businesstime import (
    Calendar,
    CalendarError,
    add_business_time,
    add_business_time_many,
    business_time_between,
    business_time_between_many,
    is_open,
    next_open,
    parse_duration,
    to_micros,
)

LONDON = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)
OFFICE = {
    "timezone": "Europe/London",
    "hours": {day: [["09:00", "12:30"], ["13:30", "17:30"]]
              for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": "GB-ENG",
    "closures": ["2026-12-24", ["2026-12-31T15:00:00+00:00", "2026-12-31T17:30:00+00:00"]],
    "openings": {"2026-12-27": [["10:00", "14:00"]]},
}
ALWAYS = {"timezone": "Europe/London",
          "hours": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                         "sun")}}


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


# -- the oracle: is the service open during the minute that starts at `t`? --------------------


def _wall(text: str) -> time | None:
    return None if text == "24:00" else time.fromisoformat(text)


def _local(day: date, wall: time | None, zone: ZoneInfo) -> float:
    if wall is None:  # 24:00 ends the day
        day, wall = day + timedelta(days=1), time(0)
    return datetime.combine(day, wall, tzinfo=zone).timestamp()


def _intervals_starting(data: dict, day: date, holidays: set[date]) -> list:
    if day.isoformat() in (data.get("openings") or {}):
        return data["openings"][day.isoformat()]
    if day in holidays or day.isoformat() in [c for c in data.get("closures", [])
                                             if isinstance(c, str)]:
        return []
    key = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    return data.get("hours", {}).get(key, [])


def oracle_open(data: dict, t: datetime, holidays: set[date]) -> bool:
    zone = ZoneInfo(data["timezone"])
    stamp = t.timestamp()
    today = t.astimezone(zone).date()
    open_now = False
    for day in (today - timedelta(days=1), today):
        for start_text, end_text in _intervals_starting(data, day, holidays):
            start, end = _wall(start_text), _wall(end_text)
            begins = _local(day, start, zone)
            crosses = end is not None and end <= start
            ends = _local(day + timedelta(days=1) if crosses else day, end, zone)
            open_now |= begins <= stamp < ends
    for closure in data.get("closures", []):
        if isinstance(closure, list):
            a, b = (datetime.fromisoformat(v).timestamp() for v in closure)
            open_now &= not (a <= stamp < b)
    return open_now


def oracle_add(data, start, minutes, holidays, limit=60 * 24 * 70):
    t, remaining, scanned = start, minutes, 0
    while remaining:
        if oracle_open(data, t, holidays):
            remaining -= 1
        t += MINUTE
        scanned += 1
        assume(scanned < limit)  # calendars with almost no open time: too slow to scan
    return t


def oracle_between(data, start, end, holidays):
    t, total = start, 0
    while t < end:
        total += oracle_open(data, t, holidays)
        t += MINUTE
    return total


# -- calendars and instants that hypothesis draws ---------------------------------------------

ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
# Around both London changes, both New York changes, Lord Howe's half-hour change, year ends.
HOT_DATES = [datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC),
             datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
             datetime(2026, 4, 5, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC),
             datetime(2027, 3, 28, tzinfo=UTC)]


def _text(quarter: int) -> str:
    return "24:00" if quarter == 96 else f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


@st.composite
def day_hours(draw):
    marks = sorted(draw(st.lists(st.integers(0, 96), max_size=6, unique=True)))
    marks = marks[: len(marks) // 2 * 2]
    spans = [[_text(a), _text(b)] for a, b in zip(marks[::2], marks[1::2], strict=True)]
    if draw(st.booleans()) and (not marks or marks[-1] < 95):
        begin = draw(st.integers((marks[-1] if marks else 0) + 1, 95))
        spans.append([_text(begin), _text(draw(st.integers(1, 12)))])  # crosses midnight
    return spans


@st.composite
def calendars(draw):
    data = {"timezone": draw(st.sampled_from(ZONES)),
            "hours": {d: draw(day_hours()) for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                      "sun")}}
    base = draw(st.sampled_from(HOT_DATES)).date()
    nearby = st.integers(-6, 12).map(lambda n: (base + timedelta(days=n)).isoformat())
    data["holidays"] = draw(st.lists(nearby, max_size=3, unique=True))
    closures = draw(st.lists(nearby, max_size=2, unique=True))
    if draw(st.booleans()):
        a = datetime.combine(base, time(), tzinfo=UTC) + draw(st.integers(-48, 96)) * 30 * MINUTE
        closures.append([a.isoformat(), (a + draw(st.integers(1, 48)) * 30 * MINUTE).isoformat()])
    data["closures"] = closures
    if draw(st.booleans()):
        data["openings"] = {draw(nearby): draw(day_hours())}
    try:
        calendar = Calendar.from_dict(data)
    except CalendarError:
        assume(False)
    return data, calendar


instants = st.builds(lambda base, minutes: base + minutes * MINUTE,
                     st.sampled_from(HOT_DATES), st.integers(-6 * 1440, 6 * 1440))
holidays_of = lambda data: {date.fromisoformat(d) for d in data["holidays"]}  # noqa: E731

PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY
@given(calendars(), instants, st.integers(0, 20 * 60))
def test_add_matches_the_minute_by_minute_oracle(drawn, start, minutes):
    data, calendar = drawn
    expected = oracle_add(data, start, minutes, holidays_of(data))
    due = add_business_time(start, timedelta(minutes=minutes), calendar)
    assert due == expected
    if minutes:
        assert oracle_open(data, due - MINUTE, holidays_of(data))  # the last minute was open


@PROPERTY
@given(calendars(), instants, st.integers(0, 5 * 1440))
def test_between_matches_the_minute_by_minute_oracle(drawn, start, span):
    data, calendar = drawn
    end = start + span * MINUTE
    expected = oracle_between(data, start, end, holidays_of(data))
    assert business_time_between(start, end, calendar) == expected * MINUTE
    assert business_time_between(end, start, calendar) == -expected * MINUTE


@PROPERTY
@given(calendars(), st.lists(st.tuples(instants, st.integers(0, 30 * 60)), min_size=1,
                             max_size=30))
def test_bulk_forms_agree_with_one_at_a_time(drawn, pairs):
    _, calendar = drawn
    starts = to_micros(s for s, _ in pairs)
    durations = np.array([m * 60_000_000 for _, m in pairs], dtype=np.int64)
    try:
        singles = [add_business_time(s, timedelta(minutes=m), calendar) for s, m in pairs]
    except CalendarError:
        assume(False)
    assert list(add_business_time_many(starts, durations, calendar)) == list(to_micros(singles))
    ends = to_micros(s + timedelta(minutes=m) for s, m in pairs)
    assert [business_time_between(s, s + timedelta(minutes=m), calendar) // timedelta(
        microseconds=1) for s, m in pairs] == list(
        business_time_between_many(starts, ends, calendar))


@PROPERTY
@given(calendars(), instants, st.integers(1, 10 * 60), st.integers(0, 10 * 60))
def test_adding_in_two_steps_equals_adding_once(drawn, start, first, second):
    _, calendar = drawn
    try:
        once = add_business_time(start, timedelta(minutes=first + second), calendar)
    except CalendarError:
        assume(False)
    halfway = add_business_time(start, timedelta(minutes=first), calendar)
    assert add_business_time(halfway, timedelta(minutes=second), calendar) == once
    assert business_time_between(start, once, calendar) == timedelta(minutes=first + second)


# -- worked examples -----------------------------------------------------------------------


def test_friday_afternoon_plus_four_and_a_half_hours_is_monday_noon():
    calendar = Calendar.from_dict(OFFICE)
    assert add_business_time(london(2026, 11, 20, 16), timedelta(hours=4, minutes=30),
                             calendar) == london(2026, 11, 23, 12)


def test_due_time_at_a_closing_time_is_not_pushed_to_the_next_opening():
    calendar = Calendar.from_dict(OFFICE)
    assert add_business_time(london(2026, 11, 23, 9), timedelta(hours=3, minutes=30),
                             calendar) == london(2026, 11, 23, 12, 30)


def test_christmas_closures_holidays_and_a_special_sunday_opening():
    calendar = Calendar.from_dict(OFFICE)
    # Wed 23rd: 1.5 h left; 24th closed; 25th, 26th and the substitute 28th are bank
    # holidays; Sunday 27th opens 10:00-14:00.
    assert add_business_time(london(2026, 12, 23, 16), timedelta(hours=4),
                             calendar) == london(2026, 12, 27, 12, 30)
    # 23rd 7.5 h + 27th 4 h + 29th and 30th 7.5 h each + 31st 5 h (closed from 15:00)
    # + Monday 4 January 7.5 h.
    assert business_time_between(london(2026, 12, 23, 9), london(2027, 1, 5, 9),
                                 calendar) == timedelta(hours=39)


def test_a_closure_span_cuts_new_years_eve_short():
    calendar = Calendar.from_dict(OFFICE)
    assert add_business_time(london(2026, 12, 31, 14), timedelta(hours=2),
                             calendar) == london(2027, 1, 4, 10)


def test_clock_changes_are_real_elapsed_time_both_ways():
    calendar = Calendar.from_dict(ALWAYS)
    assert business_time_between(london(2026, 3, 28), london(2026, 3, 30),
                                 calendar) == timedelta(hours=47)
    assert business_time_between(london(2026, 10, 24), london(2026, 10, 26),
                                 calendar) == timedelta(hours=49)
    # 24 business hours from Saturday midnight lands at 01:00 on Monday in the spring.
    assert add_business_time(london(2026, 3, 28), timedelta(hours=48),
                             calendar) == london(2026, 3, 30, 1)


def test_a_night_shift_across_the_autumn_change_is_nine_hours_long():
    calendar = Calendar.from_dict({"timezone": "Europe/London",
                                   "hours": {"sat": [["22:00", "06:00"]]}})
    assert business_time_between(london(2026, 10, 24, 12), london(2026, 10, 26),
                                 calendar) == timedelta(hours=9)


def test_a_night_shift_belongs_to_the_day_it_starts():
    calendar = Calendar.from_dict({"timezone": "Europe/London", "holidays": "GB-ENG",
                                   "hours": {d: [["22:00", "02:00"]] for d in ("wed", "thu")}})
    # Thu 31 Dec runs on into New Year's Day; Friday 1 January has no shift of its own.
    assert business_time_between(london(2026, 12, 31, 12), london(2027, 1, 2),
                                 calendar) == timedelta(hours=4)
    # Christmas Day is a Friday; Thursday 24th's shift runs into it.
    assert is_open(london(2026, 12, 25, 1), calendar)


def test_scottish_and_english_holidays_differ():
    english = Calendar.from_dict({**OFFICE, "closures": [], "holidays": "GB-ENG"})
    scottish = Calendar.from_dict({**OFFICE, "closures": [], "holidays": "GB-SCT"})
    friday = london(2026, 1, 2, 10)  # 2 January is a bank holiday in Scotland only
    assert is_open(friday, english)
    assert not is_open(friday, scottish)
    assert next_open(friday, scottish) == london(2026, 1, 5, 9)


def test_seconds_and_microseconds_are_kept_and_zero_returns_the_start():
    calendar = Calendar.from_dict(OFFICE)
    start = datetime(2026, 11, 23, 10, 0, 7, 250, tzinfo=UTC)
    assert add_business_time(start, 0, calendar) is start
    assert add_business_time(start, 59.5, calendar) == start + timedelta(seconds=59.5)
    closed = london(2026, 11, 23, 12, 45)  # lunch
    assert add_business_time(closed, 1, calendar) == london(2026, 11, 23, 13, 30, 1)


def test_calendar_round_trips_through_its_file_format():
    calendar = Calendar.from_dict(OFFICE)
    assert Calendar.from_json(json.dumps(calendar.to_dict())) == calendar


def test_a_calendar_with_no_open_time_fails_loudly():
    calendar = Calendar.from_dict({"timezone": "Europe/London", "hours": {}})
    with pytest.raises(CalendarError, match="open time"):
        add_business_time(london(2026, 1, 1), timedelta(hours=1), calendar)
    assert business_time_between(london(2026, 1, 1), london(2026, 2, 1),
                                 calendar) == timedelta(0)


@pytest.mark.parametrize(("change", "message"), [
    ({"timezone": "Europe/Londres"}, "unknown time zone"),
    ({"holidays": "GB-WLS-X"}, "unknown holiday region"),
    ({"holidays": "XX"}, "unknown holiday region"),
    ({"hours": {"mon": [["09:00", "09:00"]]}}, "empty"),
    ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "overlap"),
    ({"hours": {"mon": [["22:00", "10:00"]], "tue": [["09:00", "17:00"]]}},
     "crosses midnight overlaps"),
    ({"hours": {"mon": [["24:00", "10:00"]]}}, "24:00 may only end"),
    ({"hours": {"monday": [["09:00", "17:00"]]}}, "unknown day names"),
    ({"hours": {"mon": [["9am", "17:00"]]}}, "not a time"),
    ({"closures": [["2026-12-31T17:00:00+00:00", "2026-12-31T15:00:00+00:00"]]},
     "not after the start"),
    ({"closures": [["2026-12-31T15:00:00", "2026-12-31T17:00:00"]]}, "UTC offset"),
    ({"openings": {"27/12/2026": [["10:00", "14:00"]]}}, "not a date"),
    ({"colour": "blue"}, "unknown calendar keys"),
])
def test_bad_calendars_are_refused_with_a_clear_message(change, message):
    with pytest.raises(CalendarError, match=message):
        Calendar.from_dict({**OFFICE, **change})


@pytest.mark.parametrize(("text", "seconds"), [
    ("4h30m", 16200), ("90m", 5400), ("45s", 45), ("16200", 16200), ("1.5", 1.5),
    ("1h 2m 3s", 3723), ("0", 0)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "4x", "-5", "h"])
def test_parse_duration_refuses_nonsense(text):
    with pytest.raises(ValueError, match="duration|negative"):
        parse_duration(text)
