"""Complaint deadlines, with dates checked by hand against a 2026 calendar.

2026: Good Friday 3 April and Easter Monday 6 April; the clocks go forward on 29 March and
back on 25 October; Christmas Day is a Friday and Boxing Day (a Saturday) is observed on
Monday 28 December.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from serviceops.complaints.deadlines import (
    EIGHT_WEEKS,
    FCA_SUMMARY,
    DeadlineError,
    Rule,
    business_day_after,
    deadline,
    deadlines,
    is_business_day,
    warning_from,
)
from serviceops.sla.businesstime import Calendar

LONDON = ZoneInfo("Europe/London")


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=LONDON)


def test_a_friday_evening_complaint_counts_from_monday():
    received = london(2026, 1, 16, 19, 30)  # Friday, after hours
    assert deadline(received, FCA_SUMMARY) == end_of(date(2026, 1, 21))  # Wednesday
    assert deadline(received, Rule(days=2)) == end_of(date(2026, 1, 20))  # Tuesday
    # 20 business days: four whole weeks, Monday 19 January to Friday 13 February.
    assert deadline(received, Rule(days=20)) == end_of(date(2026, 2, 13))
    # Eight weeks: 56 calendar days after 16 January is 13 March.
    assert deadline(received, EIGHT_WEEKS) == end_of(date(2026, 3, 13))


def test_the_day_of_receipt_never_counts_even_in_the_morning():
    received = london(2026, 1, 19, 8, 0)  # Monday morning
    assert deadline(received, FCA_SUMMARY) == end_of(date(2026, 1, 22))  # Thursday


def test_easter_bank_holidays_are_skipped():
    received = london(2026, 4, 2, 10, 0)  # Thursday before Good Friday
    # Good Friday, the weekend and Easter Monday are closed: Tue 7, Wed 8, Thu 9 April.
    assert deadline(received, FCA_SUMMARY) == end_of(date(2026, 4, 9))
    assert not is_business_day(date(2026, 4, 3))
    assert not is_business_day(date(2026, 4, 6))


def test_christmas_and_the_observed_boxing_day_are_skipped():
    received = london(2026, 12, 23, 15, 0)  # Wednesday
    # Thu 24 (1); Fri 25 Christmas, the weekend, Mon 28 Boxing Day observed; Tue 29 (2),
    # Wed 30 (3).
    assert deadline(received, FCA_SUMMARY) == end_of(date(2026, 12, 30))
    assert business_day_after(date(2026, 12, 23), 2) == date(2026, 12, 29)


def test_the_same_time_of_day_is_kept_in_local_time_across_the_spring_change():
    received = london(2026, 3, 27, 14, 0)  # Friday, GMT (14:00 UTC)
    due = deadline(received, Rule(days=2, end_of_day=False))
    assert due == london(2026, 3, 31, 14, 0)  # Tuesday, BST
    assert due.astimezone(UTC) == datetime(2026, 3, 31, 13, 0, tzinfo=UTC)
    assert deadline(received, Rule(days=56, business_days=False, end_of_day=False)) == \
        london(2026, 5, 22, 14, 0)


def test_end_of_day_across_the_autumn_change_is_local_midnight():
    received = london(2026, 10, 23, 9, 0)  # Friday, BST
    due = deadline(received, Rule(days=1))
    assert due == end_of(date(2026, 10, 26))
    assert due.utcoffset().total_seconds() == 0  # GMT again
    same_time = deadline(received, Rule(days=1, end_of_day=False))
    assert same_time.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_a_receipt_given_in_utc_is_counted_on_its_london_date():
    # 23:30 UTC on Monday 29 June is 00:30 BST on Tuesday 30 June.
    received = datetime(2026, 6, 29, 23, 30, tzinfo=UTC)
    assert deadline(received, Rule(days=1)) == end_of(date(2026, 7, 1))


def test_a_calendar_with_saturday_opening_and_a_closure():
    calendar = Calendar.from_dict({
        "timezone": "Europe/London",
        "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
        "holidays": ["2026-01-19"],
        "closures": ["2026-01-20"],
    })
    received = london(2026, 1, 16, 19, 30)  # Friday
    # Saturday 17 opens (1); Sunday closed; Monday 19 a holiday, Tuesday 20 closed;
    # Wednesday 21 (2), Thursday 22 (3).
    assert deadline(received, FCA_SUMMARY, calendar) == end_of(date(2026, 1, 22))


def test_zero_days_is_the_end_of_the_day_of_receipt():
    received = london(2026, 1, 16, 10, 0)
    assert deadline(received, Rule(days=0)) == end_of(date(2026, 1, 16))


def test_a_deadline_is_near_from_one_business_day_before():
    due = end_of(date(2026, 1, 19))  # Monday
    assert warning_from(due) == end_of(date(2026, 1, 16))  # the Friday before
    due = end_of(date(2026, 12, 29))
    assert warning_from(due) == end_of(date(2026, 12, 24))


def test_every_deadline_of_a_regime_at_once():
    received = london(2026, 1, 16, 19, 30)
    result = deadlines(received, acknowledge=Rule(days=5), summary=FCA_SUMMARY,
                       holding=EIGHT_WEEKS, final=EIGHT_WEEKS)
    assert result.acknowledge == end_of(date(2026, 1, 23))
    assert result.summary == end_of(date(2026, 1, 21))
    assert result.holding == result.final == end_of(date(2026, 3, 13))
    assert deadlines(received, final=Rule(days=20)).acknowledge is None


def test_bad_input_is_refused():
    with pytest.raises(DeadlineError, match="time zone"):
        deadline(datetime(2026, 1, 16, 10, 0), FCA_SUMMARY)
    with pytest.raises(DeadlineError, match="negative"):
        Rule(days=-1)
    never_open = Calendar.from_dict({"timezone": "Europe/London", "hours": {}})
    with pytest.raises(DeadlineError, match="no business days"):
        deadline(london(2026, 1, 16, 10, 0), FCA_SUMMARY, never_open)
