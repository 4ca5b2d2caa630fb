"""Rota optimisation: ServiceOps' CP-SAT rota against pyworkforce's `MinAbsDifference`.

    .venv/bin/pip install pyworkforce    # the peer, not a dependency of ServiceOps
    .venv/bin/python benchmarks/bench_rota.py [--workers 1] [--runs 5] [--staff 1000]

Requirement: the calls of an Israeli bank's call centre in February 1999
(`../shared/data/anonymous_bank_callcenter`, 28 days, four of each weekday), counted per
15 minutes when they leave the voice-response unit for the agents' queue, averaged per weekday
into one week (Monday to Sunday; the centre is open Sunday to Thursday 07:00-24:00, Friday
until 14:00 and Saturday evening), and staffed by Erlang C for 80 % answered within 20 s with
the month's mean handle time.

(a) Anonymous rota, 7 × 96 intervals: 132 templates (starts every 30 minutes from 06:00 to
    22:00, lasting 4, 6, 8 and 9 hours; the 8- and 9-hour shifts carry a 30-minute unpaid
    lunch in their middle three hours, placed by the solver; late starts run past midnight,
    and the rota is cyclic). Solved to optimality --runs times (seeds 0, 1, ...): each time
    and status, and the median time.
(b) Named rota of --staff people over the same week, the volumes scaled up to keep them busy,
    with contracts, availability, leave, days off and the Working Time rules, in 60 s (by
    the decomposition `solve_named` takes for a roster this size): status, gap against the
    relaxation's bound, coverage, and every hard rule checked again from the assignments.
(c) The requirement of (a) through pyworkforce's `MinAbsDifference` (minimise Σ |coverage -
    requirement|) with the same templates, which it can take only without breaks and cut at
    midnight. Its coverage is scored as its model sees it (no breaks), which flatters it.
    Skipped, with a note, when pyworkforce is not installed.

Prints only.
"""

from __future__ import annotations

import argparse
import csv
import platform
import statistics
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from serviceops.workforce.erlang import Targets
from serviceops.workforce.rota import (
    Break,
    Requirement,
    ShiftTemplate,
    Staff,
    requirement_from_volumes,
    solve_anonymous,
    solve_named,
    templates_for_window,
)

DATA = Path(__file__).resolve().parents[2] / "shared/data/anonymous_bank_callcenter"
CALLS = DATA / "data_anonymous_bank_february.txt"
INTERVAL = 15
TARGETS = Targets(service_level=0.8, sl_seconds=20)


def bank_week() -> tuple[np.ndarray, float]:
    """Mean calls per 15 minutes for each weekday (Monday first), and the mean handle time."""
    counts = np.zeros((7, 96))
    handled = []
    with CALLS.open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["outcome"] == "PHANTOM":
                continue
            # 990201 was a Monday; February 1999 has exactly four of each weekday.
            weekday = (int(row["date"]) - 990201) % 7
            h, m, _ = (int(x) for x in row["vru_exit"].split(":"))
            counts[weekday, (h * 60 + m) // INTERVAL % 96] += 1
            if row["outcome"] == "AGENT" and int(row["ser_time"]) > 0:
                handled.append(int(row["ser_time"]))
    return counts / 4, float(np.mean(handled))


def templates() -> list[ShiftTemplate]:
    result = []
    for hours in (4, 6, 8, 9):
        minutes = hours * 60
        breaks = None
        if hours > 6:
            middle = minutes // 2
            breaks = (Break(30, earliest=middle - 90, latest=middle + 90),)
        result += templates_for_window(f"{hours}h", first_start=6 * 60, last_start=22 * 60,
                                       step=30, minutes=minutes, breaks=breaks)
    return result


def named_staff(count: int, rng: np.random.Generator) -> list[Staff]:
    """Three in five full time (35-40 h, two days off together); the rest part time (16-25
    h), half of them only 07:00-15:00 or only 15:00-24:00; one in ten off at weekends; one in
    twenty with a day of leave."""
    staff = []
    for i in range(count):
        full = rng.random() < 0.6
        availability = {}
        if not full and rng.random() < 0.5:
            window = (7 * 60, 15 * 60) if rng.random() < 0.5 else (15 * 60, 24 * 60)
            availability = dict.fromkeys(range(7), window)
        staff.append(Staff(
            f"agent{i:04d}", frozenset({"calls"}),
            min_weekly_hours=35 if full else 16, max_weekly_hours=40 if full else 25,
            availability=availability,
            leave=frozenset({int(rng.integers(7))}) if rng.random() < 0.05 else frozenset(),
            days_off=frozenset({5, 6}) if rng.random() < 0.1 else frozenset(),
            consecutive_days_off=2 if full else 0))
    return staff


def coverage_summary(requirement: Requirement, coverage: np.ndarray) -> str:
    required = requirement.required["calls"]
    volume = requirement.volume["calls"]
    curve = requirement.service_level["calls"]
    at = np.clip(coverage, 0, curve.shape[2] - 1)
    level = np.take_along_axis(curve, at[..., None], axis=2)[..., 0]
    achieved = float((level * volume).sum() / volume.sum())
    target = np.take_along_axis(curve, required[..., None], axis=2)[..., 0]
    aimed = float((target * volume).sum() / volume.sum())
    short = np.maximum(required - coverage, 0)
    over = np.maximum(coverage - required, 0)
    return (f"under {int(short.sum())} agent-intervals ({int((short > 0).sum())} intervals), "
            f"over {int(over.sum())}, service level {achieved:.1%} of calls "
            f"(the requirement gives {aimed:.1%})")


def run_anonymous(requirement: Requirement, shift_templates, workers: int, runs: int) -> None:
    # CPU time as well as wall time: on a shared machine the second is what others leave.
    times, cpu = [], []
    for seed in range(runs):
        started, used = time.perf_counter(), time.process_time()
        result = solve_anonymous(requirement, shift_templates, time_limit=60, workers=workers,
                                 seed=seed)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        agents = sum(a.agents for a in result.assignments)
        print(f"(a) anonymous, 7 x 96 intervals, {len(shift_templates)} templates, seed {seed}: "
              f"{result.status.value.upper()} in {times[-1]:.2f} s ({cpu[-1]:.2f} s CPU), "
              f"objective {result.objective:g}, bound {result.best_bound:g}, gap "
              f"{result.gap:.2%}, {agents} shifts")
    print(f"    median of {runs}: {statistics.median(times):.2f} s "
          f"({statistics.median(cpu):.2f} s CPU); coverage: "
          f"{coverage_summary(requirement, result.coverage['calls'])}")


def run_named(volumes: np.ndarray, aht: float, shift_templates, count: int,
              workers: int) -> None:
    staff = named_staff(count, np.random.default_rng(20261201))
    # Scale the bank's volume until the requirement needs about 85 % of the staff's hours.
    capacity = sum(0.5 * (s.min_weekly_hours + s.max_weekly_hours) for s in staff) * 4
    scale = 1.0
    for _ in range(4):
        requirement = requirement_from_volumes({"calls": volumes * scale},
                                               interval_minutes=INTERVAL, aht_seconds=aht,
                                               targets=TARGETS)
        need = requirement.required["calls"].sum()
        scale *= 0.85 * capacity / need
    started = time.perf_counter()
    result = solve_named(requirement, shift_templates, staff, time_limit=60, workers=workers)
    took = time.perf_counter() - started
    if result.objective is None:
        print(f"(b) named, {count} staff: {result.status.value.upper()} in {took:.1f} s "
              f"{result.message}")
        return
    print(f"(b) named, {count} staff, {len(shift_templates)} templates, volume x{scale:.1f} "
          f"({int(requirement.required['calls'].sum())} agent-intervals required): "
          f"{result.status.value.upper()} in {took:.1f} s, gap {result.gap:.2%} "
          f"(objective {result.objective:g}, bound {result.best_bound:g}), "
          f"{len(result.assignments)} shifts")
    print(f"    coverage: {coverage_summary(requirement, result.coverage['calls'])}")
    broken = broken_rules(result, staff)
    print(f"    hard rules checked from the assignments: "
          f"{'all kept' if not broken else '; '.join(broken[:5])}")


def broken_rules(result, staff: list[Staff]) -> list[str]:
    """Each person's shifts against their rules on the cyclic week, recomputed from the
    assignments: one a day, leave, days off, availability, hours, 11 h between shifts, a
    day of weekly rest with 24 h between the shifts either side, the run of days off."""
    week, broken = 7 * 1440, []
    by_person = {s.name: [] for s in staff}
    for a in result.assignments:
        by_person[a.staff].append(a)
    for member in staff:
        mine = sorted(by_person[member.name], key=lambda a: a.start)
        by_day = {a.day: a for a in mine}
        hours = sum(a.end - a.start - sum(e - s for s, e, paid in a.breaks if not paid)
                    for a in mine) / 60
        low = member.min_weekly_hours * (7 - len(member.leave)) / 7
        problems = [len(by_day) != len(mine),
                    not low - 1e-9 <= hours <= min(member.max_weekly_hours, 48) + 1e-9]
        for a in mine:
            window = member.availability.get(a.day, (0, 2 * 1440))
            problems += [a.day in member.leave,
                         a.end > (a.day + 1) * 1440 and (a.day + 1) % 7 in member.leave,
                         a.day in member.days_off,
                         a.start - a.day * 1440 < window[0] or a.end - a.day * 1440 > window[1]]
        for a, b in zip(mine, mine[1:] + mine[:1], strict=True):
            problems.append(a is not b and (b.start - a.end) % week < 11 * 60)

        def rests(day: int, by_day=by_day) -> bool:
            before, after = by_day.get((day - 1) % 7), by_day.get((day + 1) % 7)
            return day not in by_day and (before is None or after is None
                                          or (after.start - before.end) % week >= 1440)

        run = member.consecutive_days_off
        problems += [not any(rests(day) for day in range(7)),
                     run > 0 and not any(all((d + k) % 7 not in by_day for k in range(run))
                                         for d in range(7))]
        if any(problems):
            broken.append(member.name)
    return broken


def run_peer(requirement: Requirement, shift_templates) -> None:
    try:
        from pyworkforce.scheduling import MinAbsDifference
    except ImportError:
        print("(c) pyworkforce is not installed: .venv/bin/pip install pyworkforce")
        return
    coverage_of = {}
    for t in shift_templates:
        start, length = t.start_minute // INTERVAL, t.minutes // INTERVAL
        row = np.zeros(96, dtype=int)
        row[start:start + length] = 1  # cut at midnight: it has no next day
        coverage_of[t.name] = row.tolist()
    required = requirement.required["calls"]
    peer = MinAbsDifference(num_days=7, periods=96, shifts_coverage=coverage_of,
                            required_resources=required.tolist(),
                            max_period_concurrency=int(required.max()) * 3,
                            max_shift_concurrency=int(required.max()), max_search_time=60.0,
                            num_search_workers=2)
    started = time.perf_counter()
    solution = peer.solve()
    took = time.perf_counter() - started
    coverage = np.zeros((7, 96), dtype=np.int64)
    for row in solution["resources_shifts"]:
        coverage[row["day"]] += row["resources"] * np.array(coverage_of[row["shift"]])
    print(f"(c) pyworkforce {version('pyworkforce')} MinAbsDifference, same requirement and "
          f"templates (no breaks, cut at midnight): {solution['status']} in {took:.2f} s, "
          f"Σ|difference| {solution['cost']:g}, "
          f"{sum(r['resources'] for r in solution['resources_shifts'])} shifts")
    print(f"    coverage: {coverage_summary(requirement, coverage)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--staff", type=int, default=1000)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, OR-Tools {version('ortools')}, "
          f"{args.workers} CP-SAT workers")
    volumes, aht = bank_week()
    requirement = requirement_from_volumes({"calls": volumes}, interval_minutes=INTERVAL,
                                           aht_seconds=aht, targets=TARGETS)
    print(f"Bank week: {volumes.sum():.0f} calls, AHT {aht:.0f} s, "
          f"{int(requirement.required['calls'].sum())} agent-intervals required, "
          f"peak {int(requirement.required['calls'].max())} agents")
    shift_templates = templates()
    run_anonymous(requirement, shift_templates, args.workers, args.runs)
    run_peer(requirement, shift_templates)
    run_named(volumes, aht, shift_templates, args.staff, args.workers)


if __name__ == "__main__":
    main()
