"""Demand forecasting: the series and their vocabulary.

Constants, the models and measures by name, special days, `IntervalSeries` and `Demand`; the
checks of their inputs; and how long each wall-clock interval really lasts.

An `IntervalSeries` holds one value per interval of 15, 30 or 60 minutes, whole days of
`per_day` intervals each, weeks of `days_per_week` days. A dated series (`first_day` and
`time_zone` given; the builders in `inputs` make one) covers whole local days of 24 hours of
*wall-clock* intervals, so every day has the same number of intervals and the daily and weekly
seasons stay aligned with the clock across daylight-saving changes:

* on a 23-hour day the hour the clocks skip has intervals that last 0 real minutes: they hold
  no arrivals, count as closed (forecast 0, never fitted or scored);
* on a 25-hour day the hour that happens twice has intervals that last twice their length:
  arrivals of both passes are counted together, and a forecast of contacts there is twice the
  model's rate (`IntervalSeries.real_minutes` gives every interval's true length,
  `interval_exposure` its share of the nominal length).

An undated series (the weekday-only bank data, for instance) has no calendar: no daylight
saving and no special days, only the seasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

INTERVAL_MINUTES = (15, 30, 60)
LEVELS = (0.8, 0.95)
# Intraday patterns drift with the seasons; older history adds fitting time, not accuracy.
HISTORY_WEEKS = 12
ENGLAND = "GB-ENG"


class ForecastModel(Enum):
    """The forecasting models, by the name the command line and JSON use."""

    SEASONAL_NAIVE = "seasonal_naive"
    ETS = "ets"
    MSTL = "mstl"


class Measure(Enum):
    """What a series counts: contacts per interval, or their mean handle time in seconds."""

    VOLUME = "volume"
    HANDLE_TIME = "handle_time"


@dataclass(frozen=True)
class SpecialDays:
    """Local dates handled apart: closures (forecast 0, never fitted or scored) and bank
    holidays (forecast as the Sunday of their week, never fitted)."""

    bank_holidays: frozenset[date] = frozenset()
    closures: frozenset[date] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.bank_holidays or self.closures)


@dataclass(frozen=True, eq=False)
class IntervalSeries:
    """Values per interval, whole days of `per_day` intervals, weeks of `days_per_week` days.

    Dated when `first_day` is given: then each day is 24 hours of wall-clock intervals in
    `time_zone` (see the module docstring). For `Measure.HANDLE_TIME` the values are mean
    handle seconds and `weights` the contacts behind each mean (NaN where there were none).
    """

    values: np.ndarray
    interval_minutes: int
    per_day: int | None = None
    days_per_week: int = 7
    first_day: date | None = None
    time_zone: str | None = None
    measure: Measure = Measure.VOLUME
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_interval(self.interval_minutes)
        per_day = 1440 // self.interval_minutes if self.per_day is None else self.per_day
        if isinstance(per_day, bool) or not isinstance(per_day, int) or per_day < 1:
            raise ValueError(f"the intervals per day must be a whole number, 1 or more (got "
                             f"{per_day!r})")
        if self.first_day is not None and per_day * self.interval_minutes != 1440:
            raise ValueError(f"a dated series has whole 24-hour days: {per_day} intervals of "
                             f"{self.interval_minutes} minutes per day is not 24 hours")
        if not 1 <= per_day * self.interval_minutes <= 1440:
            raise ValueError(f"the intervals per day must fit in a day (got {per_day})")
        if not (isinstance(self.days_per_week, int) and 1 <= self.days_per_week <= 7):
            raise ValueError(f"the days per week must be 1 to 7 (got {self.days_per_week!r})")
        if self.first_day is not None and self.days_per_week != 7:
            raise ValueError("a dated series has 7-day weeks")
        if self.time_zone is not None:
            zone_info(self.time_zone)
        name = "the volumes" if self.measure is Measure.VOLUME else "the handle times"
        values = _numbers(name, self.values)
        if values.size == 0 or values.size % per_day:
            raise ValueError(f"{name} must cover whole days: {values.size} intervals is not "
                             f"a positive multiple of {per_day} per day")
        weights = None
        if self.measure is Measure.HANDLE_TIME:
            if self.weights is None:
                raise ValueError("a handle-time series needs the contacts per interval "
                                 "(weights)")
            weights = _numbers("the contacts", self.weights)
            _check_finite_at_least_zero("the contacts", weights)
            if weights.shape != values.shape:
                raise ValueError("give one contact count per handle time")
            values = np.where(weights > 0, values, np.nan)
            _check_finite_at_least_zero(name, values[weights > 0])
        else:
            _check_finite_at_least_zero(name, values)
        values.flags.writeable = False
        object.__setattr__(self, "per_day", per_day)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)

    @property
    def per_week(self) -> int:
        return self.per_day * self.days_per_week

    def __len__(self) -> int:
        return self.values.size

    def start_of(self, index: int) -> datetime | None:
        """The wall-clock start of interval `index` (naive, local time), None when undated."""
        if self.first_day is None:
            return None
        day, slot = divmod(index, self.per_day)
        return (datetime.combine(self.first_day + timedelta(days=day), time())
                + timedelta(minutes=slot * self.interval_minutes))

    def real_minutes(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """How long intervals `start` to `stop` (which may run past the end) really last:
        the interval length, 0 in the hour the clocks skip, double in the hour they repeat."""
        stop = len(self) if stop is None else stop
        return interval_exposure(self, start, stop) * self.interval_minutes


@dataclass(frozen=True)
class Demand:
    """Contacts per interval and, when handle times were given, their mean handle time."""

    volume: IntervalSeries
    handle_time: IntervalSeries | None = None


# --- Wall-clock intervals across daylight saving ----------------------------------------------


def interval_exposure(series: IntervalSeries, start: int, stop: int) -> np.ndarray:
    """Real length ÷ nominal length of intervals `start` to `stop` (which may run past the
    end): 1, or 0 in the hour the clocks skip and 2 in the hour they repeat."""
    exposure = np.ones(stop - start)
    if series.first_day is None or series.time_zone is None:
        return exposure
    per_day = series.per_day
    for day in range(start // per_day, (stop - 1) // per_day + 1):
        shares = _day_exposure(series.first_day + timedelta(days=day), series.time_zone,
                               series.interval_minutes)
        if shares is not None:
            first, last = max(start, day * per_day), min(stop, (day + 1) * per_day)
            exposure[first - start:last - start] = shares[first - day * per_day:
                                                          last - day * per_day]
    return exposure


@lru_cache(maxsize=4096)
def _day_exposure(day: date, time_zone: str, interval: int) -> np.ndarray | None:
    """Real length ÷ nominal length of each wall-clock interval of a local day whose length
    is not 24 hours (None for an ordinary day): each real minute from local midnight to the
    next is put in the wall-clock interval it shows."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    minutes = int((end - start).total_seconds()) // 60
    if minutes == 1440:
        return None
    counts = np.zeros(1440 // interval)
    for m in range(minutes):
        local = (start + timedelta(minutes=m)).astimezone(zone)
        if local.date() == day:
            counts[(local.hour * 60 + local.minute) // interval] += 1
    return counts / interval


# --- Checking ---------------------------------------------------------------------------------


def check_interval(minutes) -> None:
    """Refuse an interval length other than 15, 30 or 60 minutes."""
    if isinstance(minutes, bool) or minutes not in INTERVAL_MINUTES:
        raise ValueError(f"the interval must be 15, 30 or 60 minutes (got {minutes!r})")


def zone_info(name: str) -> ZoneInfo:
    """The time zone `name`, or a ValueError that says what is expected."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r} (such as Europe/London)") from None


def _numbers(name: str, values) -> np.ndarray:
    array = np.array(values, dtype=object).ravel() if not isinstance(values, np.ndarray) \
        else values.ravel()
    if array.dtype == object:
        for k, value in enumerate(array):
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ValueError(f"{name} must be numbers (interval {k} holds {value!r})")
    elif not np.issubdtype(array.dtype, np.number) or array.dtype == bool:
        raise ValueError(f"{name} must be numbers (got an array of {array.dtype})")
    return array.astype(float)


def _check_finite_at_least_zero(name: str, values: np.ndarray) -> None:
    bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
    if bad.size:
        raise ValueError(f"{name} must be numbers, 0 or more (interval {bad[0]} holds "
                         f"{values[bad[0]]:g})")
