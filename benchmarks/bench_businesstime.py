"""Bulk deadline computation: ServiceOps' business-time module against `businesstimedelta`.

    .venv/bin/pip install businesstimedelta pytz    # the peer, not a dependency of ServiceOps
    .venv/bin/python benchmarks/bench_businesstime.py [--pairs 100000] [--peer-pairs 10000]

Calendar: Monday to Friday 09:00-12:30 and 13:30-17:30 in Europe/London with the bank
holidays of England and Wales, the shape both libraries can express. Pairs: starts spread over
2025-2027 at any second of the day, durations of 0-40 business hours. The peer is slow, so it
runs on the first `--peer-pairs` pairs and throughputs (pairs per second) are compared; every
pair the peer computed is checked against ours and differences are listed by kind.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import holidays
import numpy as np
import pytz
from businesstimedelta import BusinessTimeDelta, HolidayRule, LunchTimeRule, Rules, WorkDayRule

from serviceops.sla.businesstime import (
    Calendar,
    add_business_time,
    add_business_time_many,
    to_micros,
)

CALENDAR = {
    "timezone": "Europe/London",
    "hours": {day: [["09:00", "12:30"], ["13:30", "17:30"]]
              for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": "GB-ENG",
}


def peer_rules() -> Rules:
    london = pytz.timezone("Europe/London")
    weekdays = [0, 1, 2, 3, 4]
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2030))
    return Rules([
        WorkDayRule(start_time=clock(9), end_time=clock(17, 30), working_days=weekdays,
                    tz=london),
        LunchTimeRule(start_time=clock(12, 30), end_time=clock(13, 30), working_days=weekdays,
                      tz=london),
        HolidayRule(bank_holidays, tz=london),
    ])


def pairs(n: int, seed: int = 20261123) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    origin = datetime(2025, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=3 * 365).total_seconds())
    return [(origin + timedelta(seconds=rng.randrange(span)), rng.randrange(40 * 3600))
            for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--peer-pairs", type=int, default=10_000)
    args = parser.parse_args()
    data = pairs(args.pairs)

    calendar = Calendar.from_dict(CALENDAR)
    started = time.perf_counter()
    starts = to_micros(s for s, _ in data)
    durations = np.array([d for _, d in data], dtype=np.int64) * 1_000_000
    convert = time.perf_counter() - started
    started = time.perf_counter()
    due = add_business_time_many(starts, durations, calendar)  # cold: builds the timeline
    bulk_cold = time.perf_counter() - started
    started = time.perf_counter()
    add_business_time_many(starts, durations, calendar)
    bulk_warm = time.perf_counter() - started
    singles = data[: args.peer_pairs]
    started = time.perf_counter()
    ours_one_by_one = [add_business_time(s, d, calendar) for s, d in singles]
    scalar = time.perf_counter() - started

    rules = peer_rules()
    started = time.perf_counter()
    theirs = [s + BusinessTimeDelta(rules, seconds=d) for s, d in singles]
    peer = time.perf_counter() - started

    differences: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for (start, seconds), mine, peer_due, bulk in zip(singles, ours_one_by_one, theirs, due,
                                                      strict=False):
        assert to_micros([mine])[0] == bulk, "bulk and one-at-a-time disagree"
        if mine != peer_due:
            kind = ("zero duration: the peer moves the start to the next opening"
                    if seconds == 0 else "other")
            differences[kind] += 1
            examples.setdefault(kind, f"{start.isoformat()} + {seconds} s: ours "
                                      f"{mine.isoformat()}, peer {peer_due.isoformat()}")

    peer_rate = len(singles) / peer

    def row(label: str, n: int, seconds: float) -> None:
        rate = n / seconds
        ratio = f"{rate / peer_rate:7.0f}x peer" if label != "businesstimedelta" else ""
        print(f"{label:<44} {seconds * 1000:9.1f} ms {rate:>12,.0f} pairs/s {ratio}")

    print(f"pairs: {args.pairs:,} (peer: {len(singles):,})")
    row("ServiceOps bulk, cold (builds the timeline)", args.pairs, bulk_cold)
    row("ServiceOps bulk, warm", args.pairs, bulk_warm)
    row("ServiceOps bulk + datetime conversion", args.pairs, bulk_cold + convert)
    row("ServiceOps one at a time", len(singles), scalar)
    row("businesstimedelta", len(singles), peer)
    # Edge probes: where the two differ, which one follows the documented rules.
    london = pytz.timezone("Europe/London")
    probes = [("zero duration on a Saturday", london.localize(datetime(2026, 11, 21, 10)), 0),
              ("zero duration at closing time", london.localize(datetime(2026, 11, 20, 17, 30)),
               0),
              ("one second from the start of lunch", london.localize(datetime(2026, 11, 23, 12,
                                                                              30)), 1),
              ("8 h from Friday 16:00 before the spring change",
               london.localize(datetime(2026, 3, 27, 16)), 8 * 3600)]
    for label, start, seconds in probes:
        mine = add_business_time(start, seconds, calendar)
        peer_due = start + BusinessTimeDelta(rules, seconds=seconds)
        verdict = "same" if mine == peer_due else "DIFFERENT"
        print(f"probe, {label}: ours {mine.isoformat()}, peer {peer_due.isoformat()} "
              f"({verdict})")
    agree = len(singles) - sum(differences.values())
    print(f"identical results: {agree:,} of {len(singles):,}")
    for kind, count in differences.items():
        print(f"  differ ({kind}): {count:,}; e.g. {examples[kind]}")


if __name__ == "__main__":
    main()
