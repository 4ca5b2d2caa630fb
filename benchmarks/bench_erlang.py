"""Staffing maths: ServiceOps' Erlang module against `pyworkforce` (its ErlangC class).

    .venv/bin/pip install pyworkforce    # the peer, not a dependency of ServiceOps
    .venv/bin/python benchmarks/bench_erlang.py [--repeat 5]

Two workloads, both Erlang C with a target of 80% answered within 20 s:

* one week of 15-minute intervals (672), Monday to Saturday open with a morning and an
  afternoon peak, closed nights and Sunday (zero volume). pyworkforce refuses a volume of 0
  ("transactions can't be smaller or equals than 0"), so it is given the open intervals only;
  ServiceOps staffs all 672, closed ones included, and is timed both ways;
* single calls at very large loads (1,000 and 5,000 Erlangs).

Times are the best of --repeat runs. Every agent count pyworkforce gives is compared with
ServiceOps'; where they differ, both are checked against the definition (the count meets the
target and one agent fewer does not) and the differences are listed. Prints only.
"""

from __future__ import annotations

import argparse
import platform
import time
from importlib.metadata import version

import numpy as np
from pyworkforce.queuing import ErlangC

from serviceops.workforce.erlang import (
    Targets,
    Workload,
    agents_required,
    evaluate,
    staff_intervals,
)

INTERVAL_MINUTES = 15
AHT_SECONDS = 300.0
TARGET, SL_SECONDS = 0.8, 20.0
TARGETS = Targets(service_level=TARGET, sl_seconds=SL_SECONDS)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def week_volumes() -> np.ndarray:
    """Calls per 15 minutes for a week: open 08:00-20:00 Monday to Friday and 09:00-17:00 on
    Saturday, peaks at 10:30 and 14:30, Monday busiest; a fixed random wobble."""
    rng = np.random.default_rng(20260302)
    hours = np.arange(96) / 4 + 0.125
    shape = (np.exp(-((hours - 10.5) / 1.6) ** 2) + 0.8 * np.exp(-((hours - 14.5) / 2.0) ** 2)
             + 0.15)
    days = []
    for scale, opens, closes in ((1.15, 8, 20), (1.0, 8, 20), (0.95, 8, 20), (0.95, 8, 20),
                                 (0.9, 8, 20), (0.45, 9, 17), (0.0, 0, 0)):
        days.append(np.where((hours >= opens) & (hours < closes), 150 * scale * shape, 0.0))
    volumes = np.concatenate(days)
    return np.round(volumes * rng.uniform(0.9, 1.1, volumes.size))


def best_of(repeat: int, action) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def peer_agents(volume: float) -> int:
    peer = ErlangC(transactions=volume, aht=AHT_SECONDS / 60, asa=SL_SECONDS / 60,
                   interval=INTERVAL_MINUTES)
    return peer.required_positions(service_level=TARGET)["raw_positions"]


def is_smallest(workload: Workload, agents: int) -> bool:
    """The definition: `agents` meets the target and one fewer does not."""
    def level(n):
        return evaluate(workload, n, sl_seconds=SL_SECONDS).service_level
    return level(agents) >= TARGET and (agents == 0 or level(agents - 1) < TARGET)


def label(k: int) -> str:
    minutes = k % 96 * INTERVAL_MINUTES
    return f"{DAYS[k // 96]} {minutes // 60:02d}:{minutes % 60:02d}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, numpy {version('numpy')}, scipy "
          f"{version('scipy')}, pyworkforce {version('pyworkforce')}, {platform.machine()}")
    print(f"Erlang C, {TARGET:.0%} answered within {SL_SECONDS:g} s, AHT {AHT_SECONDS:g} s, "
          f"{INTERVAL_MINUTES}-minute intervals; best of {args.repeat} runs\n")

    volumes = week_volumes()
    open_ = np.flatnonzero(volumes > 0)
    seconds = INTERVAL_MINUTES * 60
    loads = volumes * AHT_SECONDS / seconds
    try:
        peer_agents(0.0)
        refusal = "accepted"
    except ValueError as error:
        refusal = f"raises \"{error}\""
    print(f"One week: {volumes.size} intervals, {volumes.size - open_.size} with no calls "
          f"(pyworkforce {refusal} on those and is given the {open_.size} others); "
          f"{volumes.sum():.0f} calls; peak {loads.max():.1f} Erlangs")

    def ours_vectorised(k=None):
        chosen = volumes if k is None else volumes[k]
        return staff_intervals(chosen, interval_seconds=seconds, aht_seconds=AHT_SECONDS,
                               targets=TARGETS).agents

    t_vec_all, ours_all = best_of(args.repeat, ours_vectorised)
    t_vec_open, _ = best_of(args.repeat, lambda: ours_vectorised(open_))
    t_loop_open, ours_loop = best_of(args.repeat, lambda: [
        agents_required(Workload(float(v), seconds, AHT_SECONDS), TARGETS)
        for v in volumes[open_]])
    t_peer, peer = best_of(max(1, args.repeat // 2), lambda: [
        peer_agents(float(v)) for v in volumes[open_]])
    rows = [
        (f"ServiceOps staff_intervals, all {volumes.size} intervals", t_vec_all),
        (f"ServiceOps staff_intervals, the {open_.size} open intervals", t_vec_open),
        ("ServiceOps agents_required, one call per open interval", t_loop_open),
        ("pyworkforce ErlangC.required_positions, one per open interval", t_peer),
    ]
    print("| method | time (ms) | pyworkforce / this |\n|---|---|---|")
    for name, took in rows:
        print(f"| {name} | {took * 1000:.2f} | {t_peer / took:.1f}x |")

    assert list(ours_all[open_]) == ours_loop and ours_all[volumes == 0].max() == 0
    differences = [k for k, p in zip(open_, peer, strict=True) if p != ours_all[k]]
    print(f"\nAgent counts: identical on {open_.size - len(differences)} of the {open_.size} "
          f"open intervals.")
    for k in differences:
        workload = Workload(float(volumes[k]), seconds, AHT_SECONDS)
        p = peer[list(open_).index(k)]
        print(f"  {label(k)}: volume {volumes[k]:.0f}, pyworkforce {p} "
              f"({'right' if is_smallest(workload, p) else 'wrong'}), ServiceOps {ours_all[k]} "
              f"({'right' if is_smallest(workload, int(ours_all[k])) else 'wrong'})")
    unchecked = [k for k in open_ if not is_smallest(Workload(float(volumes[k]), seconds,
                                                               AHT_SECONDS), int(ours_all[k]))]
    print(f"ServiceOps counts that are not the smallest meeting the target: {len(unchecked)}")

    t_a, staffed = best_of(args.repeat, lambda: staff_intervals(
        volumes, interval_seconds=seconds, aht_seconds=AHT_SECONDS, patience_seconds=120,
        targets=Targets(service_level=TARGET, sl_seconds=SL_SECONDS, max_abandon=0.03)))
    print(f"\nErlang A (mean patience 120 s, at most 3% abandoning; pyworkforce has no "
          f"Erlang A): ServiceOps staff_intervals, all {volumes.size} intervals: "
          f"{t_a * 1000:.2f} ms; {staffed.agents.sum()} agent-intervals against "
          f"{ours_all.sum()} under Erlang C")

    print("\nSingle calls at large loads")
    print("| load (Erlangs) | agents (ServiceOps) | agents (pyworkforce) | ServiceOps (ms) "
          "| pyworkforce (ms) | pyworkforce / ServiceOps |\n|---|---|---|---|---|---|")
    for erlangs in (1000, 5000):
        volume = erlangs * seconds / AHT_SECONDS
        t_ours, n_ours = best_of(args.repeat, lambda v=volume: agents_required(
            Workload(v, seconds, AHT_SECONDS), TARGETS))
        t_theirs, n_theirs = best_of(args.repeat, lambda v=volume: peer_agents(v))
        print(f"| {erlangs:,} | {n_ours} | {n_theirs} | {t_ours * 1000:.2f} | "
              f"{t_theirs * 1000:.2f} | {t_theirs / t_ours:.1f}x |")
        assert is_smallest(Workload(volume, seconds, AHT_SECONDS), n_ours)


if __name__ == "__main__":
    main()
