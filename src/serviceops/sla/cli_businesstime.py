"""`serviceops businesstime add|between`: business-time arithmetic on a calendar file."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from serviceops.sla.businesstime import (
    Calendar,
    CalendarError,
    add_business_time,
    business_time_between,
    parse_duration,
)


def register(subparsers) -> None:
    p = subparsers.add_parser("businesstime", help="business-time arithmetic on a calendar")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="print the instant a business duration after START")
    add.add_argument("--calendar", required=True, type=Path, help="calendar JSON file")
    add.add_argument("--start", required=True, help="ISO 8601 instant (local to the calendar "
                     "when it has no offset)")
    add.add_argument("--duration", required=True, help="e.g. 4h30m, 90m, 45s or seconds")
    add.set_defaults(func=run_add)
    between = actions.add_parser("between", help="print the business seconds from START to END")
    between.add_argument("--calendar", required=True, type=Path, help="calendar JSON file")
    between.add_argument("--start", required=True)
    between.add_argument("--end", required=True)
    between.set_defaults(func=run_between)


def run_add(args) -> int:
    try:
        calendar = _calendar(args.calendar)
        start = _instant(args.start, calendar)
        due = add_business_time(start, parse_duration(args.duration), calendar)
    except ValueError as error:
        return _fail(error)
    print(due.isoformat())
    return 0


def run_between(args) -> int:
    try:
        calendar = _calendar(args.calendar)
        elapsed = business_time_between(_instant(args.start, calendar),
                                        _instant(args.end, calendar), calendar)
    except ValueError as error:
        return _fail(error)
    seconds = elapsed.total_seconds()
    print(int(seconds) if seconds == int(seconds) else f"{seconds:.6f}".rstrip("0"))
    return 0


def _calendar(path: Path) -> Calendar:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CalendarError(f"cannot read {path}: {error.strerror}") from None
    return Calendar.from_json(text)


def _instant(text: str, calendar: Calendar) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 instant") from None
    if instant.utcoffset() is None:  # a local wall time of the calendar's zone
        instant = instant.replace(tzinfo=calendar.zone)
    return instant


def _fail(error: Exception) -> int:
    print(f"serviceops businesstime: {error}", file=sys.stderr)
    return 2
