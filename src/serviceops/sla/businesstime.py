"""Business-time arithmetic on opening-hours calendars. Pure: imports no Django.

A `Calendar` says when a service is open: weekly opening intervals in local wall time (several a
day, split shifts and lunch breaks, intervals that cross midnight), an IANA time zone, public
holidays, closures and special opening days. From it we build a *timeline*: the sorted, disjoint
open intervals as instants (integer microseconds since the Unix epoch) over a range of local
dates, with the open time accumulated before each interval. Every question is then a binary
search on that timeline:

    open_before(t)  = open time from the timeline's origin up to instant t
    between(a, b)   = open_before(b) - open_before(a)
    add(t, d)       = the first instant u with open_before(u) = open_before(t) + d

The rules (also the calendar file format of `serviceops businesstime`, see docs/sla.md):

- Time is real elapsed time. Intervals become instants before anything is counted, so the
  night the clocks go back is an hour longer and the night they go forward an hour shorter;
  nothing is double-counted or skipped.
- A wall time that happens twice (the autumn change) means its first occurrence; one that does
  not exist (the spring gap) is read with the offset in force before the change, as Python's
  `zoneinfo` does with `fold=0` (PEP 495). An interval that the gap swallows is empty.
- An interval belongs to the local date on which it starts: a public holiday or a closed date
  removes the intervals that start that day (a night shift that began the evening before runs
  on); a special opening day replaces that date's intervals, even on a holiday. Closures given
  as a `[start, end]` pair of instants remove open time wherever it falls.
- Microseconds are kept. The due instant is the moment the last open microsecond elapses, even
  when that is a closing time (it is not pushed to the next opening). Adding zero returns the
  start unchanged.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 86_400
MICROSECOND = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# How far ahead `add` may look for open time before it gives up: a calendar whose open time
# runs out (every weekday closed, no special openings ahead) must fail loudly, not loop.
HORIZON_YEARS = 30

# An opening interval in local wall time: seconds after the local midnight of the day it
# starts. `end` is greater than `start`; an `end` beyond 86,400 means the interval crosses
# midnight (22:00-02:00 is (79_200, 93_600)).
Interval = tuple[int, int]

_WALL_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class CalendarError(ValueError):
    """A calendar definition that cannot be used, with a message that says what to fix."""


@dataclass(frozen=True)
class Calendar:
    """When a service is open. Build one with `Calendar.from_dict` (validates everything)."""

    timezone: str
    hours: tuple[tuple[Interval, ...], ...]  # seven entries, Monday first
    holidays: str | tuple[date, ...] = ()  # a `holidays` region code or explicit dates
    closed_dates: frozenset[date] = frozenset()
    closed_spans: tuple[tuple[datetime, datetime], ...] = ()
    openings: tuple[tuple[date, tuple[Interval, ...]], ...] = ()
    _timeline: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    # -- construction and export -------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str) -> Calendar:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CalendarError(f"the calendar is not valid JSON: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping) -> Calendar:
        """Validate a calendar in the file format and return it; `CalendarError` says what is
        wrong (unknown time zone or holiday region, empty or overlapping intervals...)."""
        if not isinstance(data, Mapping):
            raise CalendarError("a calendar is a JSON object")
        unknown = set(data) - {"timezone", "hours", "holidays", "closures", "openings"}
        if unknown:
            raise CalendarError(f"unknown calendar keys: {', '.join(sorted(unknown))}")
        timezone = data.get("timezone")
        if not isinstance(timezone, str) or not timezone:
            raise CalendarError("timezone is required (an IANA name such as Europe/London)")
        _zone(timezone)

        raw_hours = data.get("hours") or {}
        if not isinstance(raw_hours, Mapping):
            raise CalendarError('hours maps day names ("mon"...) to lists of [start, end]')
        bad_days = set(raw_hours) - set(DAY_KEYS)
        if bad_days:
            raise CalendarError(f"unknown day names in hours: {', '.join(sorted(bad_days))} "
                                f"(use {', '.join(DAY_KEYS)})")
        hours = tuple(_parse_day(raw_hours.get(key) or [], where=f"hours.{key}")
                      for key in DAY_KEYS)
        for index, key in enumerate(DAY_KEYS):
            spill = max((end for _, end in hours[index]), default=0) - DAY_SECONDS
            following = hours[(index + 1) % 7]
            if spill > 0 and following and following[0][0] < spill:
                raise CalendarError(f"hours.{key}: an interval that crosses midnight overlaps "
                                    f"the first interval of {DAY_KEYS[(index + 1) % 7]}")

        holidays = _parse_holidays(data.get("holidays"))

        closed_dates: set[date] = set()
        closed_spans: list[tuple[datetime, datetime]] = []
        closures = data.get("closures") or []
        if not isinstance(closures, list):
            raise CalendarError("closures is a list of dates and [start, end] pairs")
        for n, closure in enumerate(closures, start=1):
            if isinstance(closure, str):
                closed_dates.add(_parse_date(closure, where=f"closures[{n}]"))
            elif isinstance(closure, list | tuple) and len(closure) == 2:
                start, end = (_parse_instant(v, where=f"closures[{n}]") for v in closure)
                if end <= start:
                    raise CalendarError(f"closures[{n}]: the end is not after the start")
                closed_spans.append((start, end))
            else:
                raise CalendarError(f"closures[{n}]: expected a date or a [start, end] pair")

        raw_openings = data.get("openings") or {}
        if not isinstance(raw_openings, Mapping):
            raise CalendarError("openings maps dates to lists of [start, end]")
        openings = tuple(sorted(
            (_parse_date(day, where="openings"), _parse_day(spans, where=f"openings.{day}"))
            for day, spans in raw_openings.items()))
        return cls(timezone=timezone, hours=hours, holidays=holidays,
                   closed_dates=frozenset(closed_dates), closed_spans=tuple(closed_spans),
                   openings=openings)

    def to_dict(self) -> dict:
        """The calendar in the file format (what the UI exports)."""
        data: dict = {
            "timezone": self.timezone,
            "hours": {key: [[_wall(s), _wall(e)] for s, e in self.hours[i]]
                      for i, key in enumerate(DAY_KEYS) if self.hours[i]},
        }
        if isinstance(self.holidays, str):
            data["holidays"] = self.holidays
        elif self.holidays:
            data["holidays"] = [d.isoformat() for d in self.holidays]
        closures: list = [d.isoformat() for d in sorted(self.closed_dates)]
        closures += [[s.isoformat(), e.isoformat()] for s, e in self.closed_spans]
        if closures:
            data["closures"] = closures
        if self.openings:
            data["openings"] = {d.isoformat(): [[_wall(s), _wall(e)] for s, e in spans]
                                for d, spans in self.openings}
        return data

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def has_weekly_hours(self) -> bool:
        return any(self.hours)

    # -- the timeline ------------------------------------------------------------------------

    def timeline(self, first: int, last: int, *, open_after: int = 0) -> _Timeline:
        """A timeline exact for instants in [first, last] (microseconds) that also holds at
        least `open_after` microseconds of open time after `last` when the calendar has it."""
        cached: _Timeline | None = self._timeline.get("current")
        if cached and cached.covers(first, last, open_after):
            return cached
        zone = self.zone
        day_from = _local_date(first, zone) - timedelta(days=7)
        day_to = _local_date(last, zone) + timedelta(days=7)
        if cached:  # grow what we have rather than flip between two ranges
            day_from = min(day_from, cached.day_from)
            day_to = max(day_to, cached.day_to)
        while True:
            timeline = _Timeline.build(self, day_from, day_to)
            if timeline.covers(first, last, open_after):
                break
            if (day_to - _local_date(last, zone)).days > 366 * HORIZON_YEARS:
                raise CalendarError(
                    f"the calendar has too little open time in the {HORIZON_YEARS} years "
                    "after the start (are all its days closed?)")
            day_to += timedelta(days=max(366, (day_to - day_from).days))
        self._timeline["current"] = timeline
        return timeline

    def holiday_dates(self, first: date, last: date) -> set[date]:
        """Public holidays between two local dates, inclusive."""
        if not isinstance(self.holidays, str):
            return {d for d in self.holidays if first <= d <= last}
        import holidays as holidays_package  # imported late: it is slow to import

        country, _, subdivision = self.holidays.partition("-")
        table = holidays_package.country_holidays(
            country, subdiv=subdivision or None, years=range(first.year, last.year + 1))
        return {d for d in table if first <= d <= last}

    def intervals_on(self, day: date, holidays: set[date]) -> tuple[Interval, ...]:
        """The opening intervals that start on local date `day`."""
        for opening_day, spans in self.openings:
            if opening_day == day:
                return spans
        if day in holidays or day in self.closed_dates:
            return ()
        return self.hours[day.weekday()]


@dataclass(frozen=True)
class _Timeline:
    """Sorted disjoint open intervals [starts[i], ends[i]) in microseconds, with `before[i]` the
    open time before interval i. Exact for instants in [lo, hi]."""

    day_from: date
    day_to: date
    lo: int
    hi: int
    starts: list[int]
    ends: list[int]
    before: list[int]  # open time before interval i
    through: list[int]  # open time up to the end of interval i

    @classmethod
    def build(cls, calendar: Calendar, day_from: date, day_to: date) -> _Timeline:
        zone = calendar.zone
        holidays = calendar.holiday_dates(day_from - timedelta(days=1), day_to)
        raw: list[tuple[int, int]] = []
        day = day_from - timedelta(days=1)  # its night shift may run past midnight into day_from
        while day < day_to:
            for start, end in calendar.intervals_on(day, holidays):
                a, b = _instant(day, start, zone), _instant(day, end, zone)
                if b > a:
                    raw.append((a, b))
            day += timedelta(days=1)
        merged = _union(raw)
        closed = _union([(_micros(s), _micros(e)) for s, e in calendar.closed_spans])
        spans = _subtract(merged, closed)
        starts = [s for s, _ in spans]
        ends = [e for _, e in spans]
        before, through, total = [], [], 0
        for start, end in spans:
            before.append(total)
            total += end - start
            through.append(total)
        return cls(day_from=day_from, day_to=day_to, lo=_instant(day_from, 0, zone),
                   hi=_instant(day_to, 0, zone), starts=starts, ends=ends, before=before,
                   through=through)

    def covers(self, first: int, last: int, open_after: int) -> bool:
        if not (self.lo <= first and last <= self.hi):
            return False
        return open_after <= 0 or self.open_before(self.hi) - self.open_before(last) >= open_after

    def open_before(self, t: int) -> int:
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.before[i] + min(t - self.starts[i], self.ends[i] - self.starts[i])

    def instant_at(self, open_time: int) -> int:
        """The first instant by which `open_time` (> 0) of open time has elapsed."""
        j = bisect_left(self.through, open_time)
        return self.ends[j] - (self.through[j] - open_time)

    def arrays(self) -> tuple[np.ndarray, ...]:
        # Built on first use and kept: a frozen dataclass still has a __dict__ for a cache.
        cache = self.__dict__.get("_arrays")
        if cache is None:
            cache = tuple(np.asarray(v, dtype=np.int64)
                          for v in (self.starts, self.ends, self.before, self.through))
            self.__dict__["_arrays"] = cache
        return cache


# -- the questions, for one instant ----------------------------------------------------------


def add_business_time(start: datetime, duration: timedelta | float, calendar: Calendar,
                      ) -> datetime:
    """Return the instant at which `duration` of open time has elapsed after `start`.

    `duration` is a timedelta or a number of seconds, not negative. The result is in the
    calendar's time zone; zero returns `start` unchanged.
    """
    amount = _duration_micros(duration)
    if amount == 0:
        return start
    t = _micros(start)
    timeline = calendar.timeline(t, t, open_after=amount)
    due = timeline.instant_at(timeline.open_before(t) + amount)
    return _datetime(due, calendar.zone)


def business_time_between(start: datetime, end: datetime, calendar: Calendar) -> timedelta:
    """Return the open time between two instants (negative when `end` is before `start`)."""
    a, b = _micros(start), _micros(end)
    timeline = calendar.timeline(min(a, b), max(a, b))
    return (timeline.open_before(b) - timeline.open_before(a)) * MICROSECOND


def next_open(instant: datetime, calendar: Calendar) -> datetime:
    """Return `instant` if the service is open then, otherwise the next opening."""
    t = _micros(instant)
    timeline = calendar.timeline(t, t, open_after=1)
    i = bisect_right(timeline.starts, t) - 1
    if i >= 0 and t < timeline.ends[i]:
        return instant
    return _datetime(timeline.starts[i + 1], calendar.zone)


def is_open(instant: datetime, calendar: Calendar) -> bool:
    t = _micros(instant)
    timeline = calendar.timeline(t, t)
    i = bisect_right(timeline.starts, t) - 1
    return i >= 0 and t < timeline.ends[i]


# -- the same questions, for many instants at once -------------------------------------------


def add_business_time_many(starts: np.ndarray, durations: np.ndarray, calendar: Calendar,
                           ) -> np.ndarray:
    """Vectorised `add_business_time` on microseconds since the epoch (int64 arrays).

    Returns the due instants as int64 microseconds; a zero duration returns its start.
    """
    starts = np.asarray(starts, dtype=np.int64)
    durations = np.asarray(durations, dtype=np.int64)
    if starts.shape != durations.shape:
        raise ValueError("starts and durations must have the same shape")
    if starts.size == 0:
        return starts.copy()
    if durations.min() < 0:
        raise ValueError("a duration is negative")
    first, last = int(starts.min()), int(starts.max())
    timeline = calendar.timeline(first, last, open_after=int(durations.max()))
    target = _open_before_many(timeline, starts) + durations
    if int(target.max()) > timeline.open_before(timeline.hi):
        # A long duration from an early start can outrun the window sized from the latest start.
        timeline = calendar.timeline(first, last, open_after=int(
            target.max() - timeline.open_before(last)))
        target = _open_before_many(timeline, starts) + durations
    _, ends, _, through = timeline.arrays()
    if through.size == 0:  # no open time at all: only zero durations got this far
        return starts.copy()
    # A zero duration's target can sit past the last interval; it is replaced by its start.
    j = np.minimum(np.searchsorted(through, target, side="left"), through.size - 1)
    due = ends[j] - (through[j] - target)
    return np.where(durations == 0, starts, due)


def business_time_between_many(starts: np.ndarray, ends: np.ndarray, calendar: Calendar,
                               ) -> np.ndarray:
    """Vectorised `business_time_between` on microseconds; returns microseconds of open time."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    both = np.concatenate([starts, ends])
    timeline = calendar.timeline(int(both.min()), int(both.max()))
    return _open_before_many(timeline, ends) - _open_before_many(timeline, starts)


def to_micros(instants: Iterable[datetime]) -> np.ndarray:
    """Aware datetimes to int64 microseconds since the epoch."""
    return np.fromiter((_micros(t) for t in instants), dtype=np.int64)


def _open_before_many(timeline: _Timeline, t: np.ndarray) -> np.ndarray:
    starts, ends, before, _ = timeline.arrays()
    if starts.size == 0:
        return np.zeros_like(t)
    i = np.searchsorted(starts, t, side="right") - 1
    k = np.maximum(i, 0)
    inside = np.minimum(t - starts[k], ends[k] - starts[k])
    return np.where(i < 0, 0, before[k] + inside)


# -- parsing and conversion helpers ----------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """'4h30m', '90m', '45s', '1h 2m 3s' or plain seconds ('16200', '1.5') to a timedelta."""
    cleaned = text.strip().lower().replace(" ", "")
    try:
        seconds = float(cleaned)
    except ValueError:
        match = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?",
                             cleaned)
        if not cleaned or not match:
            raise ValueError(f"{text!r} is not a duration (use e.g. 4h30m, 90m, 45s or "
                             "seconds)") from None
        h, m, s = (float(g or 0) for g in match.groups())
        seconds = h * 3600 + m * 60 + s
    if seconds < 0:
        raise ValueError(f"{text!r} is negative")
    return timedelta(seconds=seconds)


def _duration_micros(duration: timedelta | float) -> int:
    amount = (duration // MICROSECOND if isinstance(duration, timedelta)
              else round(duration * 1_000_000))
    if amount < 0:
        raise ValueError("a business duration cannot be negative")
    return amount


def _micros(instant: datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone offset")
    return (instant - EPOCH) // MICROSECOND


def _datetime(micros: int, zone: ZoneInfo) -> datetime:
    return (EPOCH + micros * MICROSECOND).astimezone(zone)


def _local_date(micros: int, zone: ZoneInfo) -> date:
    return _datetime(micros, zone).date()


def _instant(day: date, seconds: int, zone: ZoneInfo) -> int:
    """Microseconds of the wall time `seconds` after the local midnight of `day` (fold=0)."""
    extra_days, rest = divmod(seconds, DAY_SECONDS)
    wall = datetime.combine(day + timedelta(days=extra_days),
                            time(rest // 3600, rest // 60 % 60, rest % 60), tzinfo=zone)
    return (wall - EPOCH) // MICROSECOND


def _union(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _subtract(spans: list[tuple[int, int]], holes: list[tuple[int, int]],
              ) -> list[tuple[int, int]]:
    if not holes:
        return spans
    result = []
    for start, end in spans:
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                result.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            result.append((start, end))
    return result


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown time zone {name!r} (use an IANA name such as "
                            "Europe/London)") from None


def _parse_wall(text, *, where: str, allow_24: bool) -> int:
    match = _WALL_TIME.match(text) if isinstance(text, str) else None
    if not match:
        raise CalendarError(f"{where}: {text!r} is not a time (use HH:MM or HH:MM:SS)")
    h, m, s = int(match[1]), int(match[2]), int(match[3] or 0)
    if (h, m, s) == (24, 0, 0) and allow_24:
        return DAY_SECONDS
    if h > 23 or m > 59 or s > 59:
        raise CalendarError(f"{where}: {text!r} is not a time of day"
                            + (" (24:00 may only end an interval)" if h == 24 else ""))
    return h * 3600 + m * 60 + s


def _parse_day(spans, *, where: str) -> tuple[Interval, ...]:
    if not isinstance(spans, list | tuple):
        raise CalendarError(f"{where}: expected a list of [start, end] pairs")
    intervals = []
    for n, span in enumerate(spans, start=1):
        if not (isinstance(span, list | tuple) and len(span) == 2):
            raise CalendarError(f"{where}[{n}]: expected a [start, end] pair")
        start = _parse_wall(span[0], where=f"{where}[{n}]", allow_24=False)
        end = _parse_wall(span[1], where=f"{where}[{n}]", allow_24=True)
        if end == start:
            raise CalendarError(f"{where}[{n}]: the interval {span[0]}-{span[1]} is empty")
        if end < start:  # crosses midnight
            end += DAY_SECONDS
        intervals.append((start, end))
    intervals.sort()
    for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
        if start < end:
            raise CalendarError(f"{where}: opening intervals overlap")
    return tuple(intervals)


def _parse_holidays(value) -> str | tuple[date, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        import holidays as holidays_package

        country, _, subdivision = value.partition("-")
        try:
            holidays_package.country_holidays(country, subdiv=subdivision or None, years=2026)
        except (NotImplementedError, KeyError, ValueError):
            raise CalendarError(f"unknown holiday region {value!r} (use a code of the holidays "
                                "package: GB-ENG, GB-SCT, GB-NIR, DE-BY...)") from None
        return value
    if isinstance(value, list):
        return tuple(sorted({_parse_date(v, where="holidays") for v in value}))
    raise CalendarError("holidays is a region code (e.g. GB-ENG) or a list of dates")


def _parse_date(text, *, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CalendarError(f"{where}: {text!r} is not a date (use YYYY-MM-DD)") from None


def _parse_instant(text, *, where: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise CalendarError(f"{where}: {text!r} is not an ISO 8601 instant") from None
    if instant.utcoffset() is None:
        raise CalendarError(f"{where}: {text!r} needs a UTC offset (e.g. +00:00)")
    return instant


def _wall(seconds: int) -> str:
    seconds %= DAY_SECONDS * 2
    if seconds == DAY_SECONDS:
        return "24:00"
    seconds %= DAY_SECONDS
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
