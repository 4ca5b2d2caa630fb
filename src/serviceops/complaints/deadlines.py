"""Complaint deadlines counted from the instant a complaint is received. Pure: no Django.

A deadline is N business days or N calendar days after the *day* of receipt, falling at the
end of that day or at the same local time of day as the receipt. The day of receipt never
counts, whatever the hour (FCA DISP 1.5.1: "by close of business on the third business day
following the day on which it is received"), so a complaint received on a Friday evening
has Monday as its first business day.

A business day is a local date on which `calendar` opens at all (its weekly hours less public
holidays and closed dates, plus special opening days). Without a calendar it is Monday to
Friday less England's bank holidays, in Europe/London time. Days are counted in the
calendar's time zone, so a deadline keeps its local time across a clock change: "the end of
the day" is 23:59:59.999999 local time whether the offset is +00:00 or +01:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from serviceops.sla.businesstime import Calendar

# Enough to span the longest run of closed days a sane calendar has (Christmas and New Year
# with a weekend either side is six); more means the calendar has no business days at all.
MAX_CLOSED_RUN = 370


class DeadlineError(ValueError):
    """A deadline that cannot be computed (a naive instant, a calendar never open)."""


@dataclass(frozen=True)
class Rule:
    """`days` business days (or calendar days) after the day of receipt, at the end of that
    day or at the receipt's time of day."""

    days: int
    business_days: bool = True
    end_of_day: bool = True

    def __post_init__(self) -> None:
        if self.days < 0:
            raise DeadlineError("a deadline cannot be a negative number of days")


# FCA DISP 1.5: a summary resolution by close of business on the third business day after
# the day of receipt. DISP 1.6.2: a final (or holding) response by the end of eight weeks.
FCA_SUMMARY = Rule(days=3, business_days=True, end_of_day=True)
EIGHT_WEEKS = Rule(days=56, business_days=False, end_of_day=True)


@cache
def default_calendar() -> Calendar:
    """Monday to Friday, all day, less England's bank holidays, in Europe/London."""
    all_day = [["00:00", "24:00"]]
    return Calendar.from_dict({
        "timezone": "Europe/London",
        "hours": {day: all_day for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": "GB-ENG",
    })


def is_business_day(day: date, calendar: Calendar | None = None) -> bool:
    """Whether `calendar` (default: Monday–Friday less English bank holidays) opens on `day`."""
    calendar = calendar or default_calendar()
    return bool(calendar.intervals_on(day, calendar.holiday_dates(day, day)))


def business_day_after(day: date, count: int, calendar: Calendar | None = None) -> date:
    """The `count`-th business day after `day` (`day` itself never counts); `day` for 0."""
    calendar = calendar or default_calendar()
    if count < 0:
        raise DeadlineError("count must be zero or more")
    # One holiday look-up for a generous window rather than one per day.
    horizon = day + timedelta(days=count * 2 + 30)
    holidays = calendar.holiday_dates(day, horizon)
    found, current, closed_run = 0, day, 0
    while found < count:
        current += timedelta(days=1)
        if current > horizon:
            horizon = current + timedelta(days=count * 2 + 30)
            holidays = calendar.holiday_dates(current, horizon)
        if calendar.intervals_on(current, holidays):
            found, closed_run = found + 1, 0
        else:
            closed_run += 1
            if closed_run > MAX_CLOSED_RUN:
                raise DeadlineError("the calendar has no business days in a whole year")
    return current


def business_day_before(day: date, count: int, calendar: Calendar | None = None) -> date:
    """The `count`-th business day before `day` (`day` itself never counts)."""
    calendar = calendar or default_calendar()
    holidays = calendar.holiday_dates(day - timedelta(days=count * 2 + 30), day)
    found, current, closed_run = 0, day, 0
    while found < count:
        current -= timedelta(days=1)
        if calendar.intervals_on(current, holidays):
            found, closed_run = found + 1, 0
        else:
            closed_run += 1
            if closed_run > MAX_CLOSED_RUN:
                raise DeadlineError("the calendar has no business days in a whole year")
    return current


def _local(moment: datetime, calendar: Calendar) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DeadlineError("the instant must carry a time zone")
    return moment.astimezone(calendar.zone)


def _at(day: date, clock: time, calendar: Calendar) -> datetime:
    # A wall time the spring change skips is read with the offset before the change (fold=0),
    # which lands an hour later in real time: the deadline is never earlier than promised.
    zone = calendar.zone
    return datetime.combine(day, clock, tzinfo=zone).astimezone(zone)


def deadline(received_at: datetime, rule: Rule, calendar: Calendar | None = None) -> datetime:
    """The instant by which `rule` must be met for a complaint received at `received_at`,
    as an aware datetime in the calendar's time zone."""
    calendar = calendar or default_calendar()
    local = _local(received_at, calendar)
    if rule.business_days:
        day = business_day_after(local.date(), rule.days, calendar)
    else:
        day = local.date() + timedelta(days=rule.days)
    clock = time.max if rule.end_of_day else local.time().replace(tzinfo=None)
    return _at(day, clock, calendar)


def warning_from(due: datetime, calendar: Calendar | None = None, *,
                 business_days: int = 1) -> datetime:
    """The instant `business_days` business days before `due` (same local time of day): from
    then on the deadline counts as near."""
    calendar = calendar or default_calendar()
    local = _local(due, calendar)
    day = business_day_before(local.date(), business_days, calendar)
    return _at(day, local.time().replace(tzinfo=None), calendar)


@dataclass(frozen=True)
class Deadlines:
    acknowledge: datetime | None
    summary: datetime | None
    holding: datetime | None
    final: datetime


def deadlines(
    received_at: datetime, *, final: Rule, acknowledge: Rule | None = None,
    summary: Rule | None = None, holding: Rule | None = None, calendar: Calendar | None = None,
) -> Deadlines:
    """Every deadline of a regime for a complaint received at `received_at` (None where the
    regime sets no such deadline)."""

    def due(rule: Rule | None) -> datetime | None:
        return None if rule is None else deadline(received_at, rule, calendar)

    return Deadlines(acknowledge=due(acknowledge), summary=due(summary), holding=due(holding),
                     final=deadline(received_at, final, calendar))
