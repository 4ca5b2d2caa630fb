"""Demand forecasting: building series from arrivals (aware times, or a CSV of them) and the
public holidays of a region.

Arrivals are binned into wall-clock intervals of their local day in the series' time zone,
so both passes of the hour the clocks repeat land in the same intervals (see `series`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from serviceops.workforce.forecast.series import (
    ENGLAND,
    Demand,
    IntervalSeries,
    Measure,
    check_interval,
    zone_info,
)


def volume_series(arrivals: Iterable[datetime], *, interval_minutes: int, time_zone: str,
                  counts: Iterable[float] | None = None, first_day: date | None = None,
                  last_day: date | None = None) -> IntervalSeries:
    """Contacts per wall-clock interval in `time_zone`, from aware arrival times (each one
    contact, or `counts[k]` contacts). Days run from `first_day` to `last_day` (by default the
    first and last local dates arrived on); intervals without arrivals are 0; arrivals outside
    those days are left out."""
    zone = zone_info(time_zone)
    rows = []
    counts = iter(counts) if counts is not None else None
    for k, moment in enumerate(arrivals, start=1):
        count = 1.0 if counts is None else _count(f"count {k}", next(counts, None))
        rows.append((*_wall(moment, zone, f"arrival {k}"), count, 0.0))
    return _series(rows, interval_minutes, time_zone, first_day, last_day).volume


def handle_time_series(contacts: Iterable[tuple[datetime, float]], *, interval_minutes: int,
                       time_zone: str, first_day: date | None = None,
                       last_day: date | None = None) -> IntervalSeries:
    """Mean handle seconds per wall-clock interval (weighted by contacts) from (aware arrival
    time, handle seconds) pairs; as `volume_series` for the days spanned."""
    zone = zone_info(time_zone)
    rows = []
    for k, (moment, seconds) in enumerate(contacts, start=1):
        seconds = _count(f"the handle time of contact {k}", seconds)
        rows.append((*_wall(moment, zone, f"contact {k}"), 1.0, seconds))
    return _series(rows, interval_minutes, time_zone, first_day, last_day,
                   handle_time=True).handle_time


def read_arrivals_csv(path, *, time_column: str, interval_minutes: int, time_zone: str,
                      count_column: str | None = None, handle_column: str | None = None,
                      first_day: date | None = None, last_day: date | None = None) -> Demand:
    """Read a CSV with a header row: one row per arrival, or with `count_column` a count of
    arrivals at that time; with `handle_column`, the mean handle seconds of the row's
    contacts. Times are ISO 8601; those without an offset are local wall-clock times in
    `time_zone`. A bad row is refused with its row number (the header is row 1)."""
    check_interval(interval_minutes)
    zone = zone_info(time_zone)
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for column in (time_column, count_column, handle_column):
                if column is not None and column not in header:
                    raise ValueError(f"{path}: no column {column!r} (the header row has "
                                     f"{', '.join(header) or 'nothing'})")
            for row in reader:
                where = f"{path} row {reader.line_num}"
                text = (row[time_column] or "").strip()
                try:
                    moment = datetime.fromisoformat(text)
                except ValueError:
                    raise ValueError(f"{where}: {time_column} {text!r} is not a date and "
                                     "time (use ISO 8601, such as 2026-03-02T08:15)") from None
                count = 1.0 if count_column is None else _count(
                    f"{where}: {count_column}", (row[count_column] or "").strip())
                handle = 0.0 if handle_column is None else count * _count(
                    f"{where}: {handle_column}", (row[handle_column] or "").strip())
                if moment.tzinfo is None:  # already local wall-clock time
                    rows.append((moment.date().toordinal(), moment.hour * 60 + moment.minute,
                                 count, handle))
                else:
                    rows.append((*_wall(moment, zone, where), count, handle))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None
    return _series(rows, interval_minutes, time_zone, first_day, last_day,
                   handle_time=handle_column is not None)


def public_holidays(first: date, last: date, region: str = ENGLAND) -> frozenset[date]:
    """Public holidays from `first` to `last` inclusive, for a region such as "GB-ENG"
    (country code, then optionally a hyphen and a subdivision), from the `holidays` package."""
    import holidays  # imported late: it is slow to import

    country, _, subdivision = region.partition("-")
    try:
        table = holidays.country_holidays(country, subdiv=subdivision or None,
                                          years=range(first.year, last.year + 1))
    except NotImplementedError:
        raise ValueError(f"unknown holiday region {region!r} (such as GB-ENG)") from None
    return frozenset(d for d in table if first <= d <= last)


# --- Parsing and binning --------------------------------------------------------------------------


def _count(name: str, value) -> float:
    if value is None:
        raise ValueError(f"{name} is missing")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a number (got {value!r})") from None
    if isinstance(value, bool) or not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a number, 0 or more (got {value!r})")
    return number


def _wall(moment, zone: ZoneInfo, name: str) -> tuple[int, int]:
    """The local date (as an ordinal) and wall-clock minute of an aware datetime."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} is not a datetime (got {moment!r})")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} ({moment.isoformat()}) has no time zone: give aware times")
    local = moment.astimezone(zone)
    return local.date().toordinal(), local.hour * 60 + local.minute


def _series(rows: list[tuple[int, int, float, float]], interval: int, time_zone: str,
            first_day: date | None, last_day: date | None, *, handle_time: bool = False
            ) -> Demand:
    """Bin (local date ordinal, wall-clock minute, contacts, handle seconds) rows into whole
    days of wall-clock intervals."""
    check_interval(interval)
    if not rows and (first_day is None or last_day is None):
        raise ValueError("there are no arrivals: give first_day and last_day to span")
    table = np.array(rows, dtype=float).reshape(-1, 4)
    first = first_day.toordinal() if first_day else int(table[:, 0].min())
    last = last_day.toordinal() if last_day else int(table[:, 0].max())
    if last < first:
        raise ValueError(f"the last day ({date.fromordinal(last)}) is before the first "
                         f"({date.fromordinal(first)})")
    per_day = 1440 // interval
    inside = (table[:, 0] >= first) & (table[:, 0] <= last)
    table = table[inside]
    index = ((table[:, 0] - first) * per_day + table[:, 1] // interval).astype(np.int64)
    size = (last - first + 1) * per_day
    contacts = np.bincount(index, weights=table[:, 2], minlength=size)
    common = dict(interval_minutes=interval, first_day=date.fromordinal(first),
                  time_zone=time_zone)
    aht = None
    if handle_time:
        seconds = np.bincount(index, weights=table[:, 3], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(contacts > 0, seconds / contacts, np.nan)
        aht = IntervalSeries(means, measure=Measure.HANDLE_TIME, weights=contacts, **common)
    return Demand(volume=IntervalSeries(contacts, **common), handle_time=aht)
