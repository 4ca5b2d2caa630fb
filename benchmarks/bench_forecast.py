"""Demand-forecast accuracy on real call-centre data: a rolling-origin backtest of every model.

    .venv/bin/python benchmarks/bench_forecast.py [--origins 20] [--coverage-origins 4]

Data: ../shared/data/fpp2_bank_calls_5min/calls_5min.csv, the five-minute call counts of a
large North American bank (fpp2's `calls`): 164 weekdays of 169 slots, 07:00-21:05, no calendar
dates (so no bank holidays or daylight saving: the series is undated, with weeks of 5 days).
Summed to 15 minutes: 56 intervals from 07:00 to 21:00 and the five-minute 21:00 slot as a 57th,
so a day is 57 intervals and a week 285.

For each model (seasonal naive, ETS, MSTL): `--origins` origins one week apart, ending one week
before the end of the data; each fits on at most the 12 weeks before its origin and forecasts
one week (285 intervals). Prints WAPE and MASE per model (mean over origins, and the range of
WAPE), the time per fit, and the winner. Then the prediction intervals of the winner are
checked on the last `--coverage-origins` weeks: each forecast is made from the data before its
week alone (its own backtest included) and the share of actual values inside the 80% and 95%
intervals is counted. Prints only.
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from serviceops.workforce.forecast import IntervalSeries, backtest, forecast

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fpp2_bank_calls_5min" / "calls_5min.csv"
SLOTS = 169  # five-minute slots a day, 07:00 to 21:05


def bank_calls() -> IntervalSeries:
    with open(DATA, newline="") as f:
        calls = np.array([float(row["calls"]) for row in csv.DictReader(f)]).reshape(-1, SLOTS)
    quarter_hours = calls[:, :168].reshape(-1, 56, 3).sum(axis=2)
    values = np.concatenate([quarter_hours, calls[:, 168:]], axis=1)
    return IntervalSeries(values.ravel(), interval_minutes=15, per_day=57, days_per_week=5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--origins", type=int, default=20)
    parser.add_argument("--coverage-origins", type=int, default=4)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, numpy {version('numpy')}, statsmodels "
          f"{version('statsmodels')}, pandas {version('pandas')}, {platform.machine()}")
    series = bank_calls()
    days = len(series) // series.per_day
    print(f"{DATA.name}: {days} weekdays, {series.values.sum():,.0f} calls; 15-minute "
          f"intervals, {series.per_day} a day, {series.per_week} a week")
    print(f"Rolling origin: {args.origins} origins one week apart, horizon one week "
          f"({series.per_week} intervals)\n")

    results, seconds = [], {}
    for model in ("seasonal_naive", "ets", "mstl"):
        start = time.perf_counter()
        results.append(backtest(series, models=[model], origins=args.origins).of(model))
        seconds[model] = time.perf_counter() - start
    naive = results[0]
    print("| model | mean WAPE | WAPE range | mean MASE | time per fit (s) |")
    print("|---|---|---|---|---|")
    for r in results:
        wapes = [o.wape for o in r.origins]
        print(f"| {r.model.value} | {100 * r.mean_wape:.2f} % | {100 * min(wapes):.1f}-"
              f"{100 * max(wapes):.1f} % | {r.mean_mase:.3f} | "
              f"{seconds[r.model.value] / args.origins:.2f} |")
    winner = min(results, key=lambda r: r.mean_wape)
    wins = sum(o.wape < n.wape for o, n in zip(winner.origins, naive.origins, strict=True))
    print(f"\nWinner: {winner.model.value}, mean WAPE {100 * winner.mean_wape:.2f} % against "
          f"{100 * naive.mean_wape:.2f} % for seasonal naive "
          f"({100 * (1 - winner.mean_wape / naive.mean_wape):.0f} % lower); better than "
          f"seasonal naive at {wins} of {args.origins} origins. Backtest time "
          f"{sum(seconds.values()):.1f} s.")

    inside = {0.8: 0, 0.95: 0}
    total, source = 0, ""
    start = time.perf_counter()
    for k in range(args.coverage_origins, 0, -1):
        origin = len(series) - k * series.per_week
        past = IntervalSeries(series.values[:origin], interval_minutes=15, per_day=57,
                              days_per_week=5)
        result = forecast(past, model=winner.model)
        actual = series.values[origin:origin + series.per_week]
        for level in inside:
            inside[level] += int(np.sum((actual >= result.lower[level])
                                        & (actual <= result.upper[level])))
        total += actual.size
        source = result.interval_source
    print(f"\nPrediction intervals of {winner.model.value} (from the {source}) over the last "
          f"{args.coverage_origins} weeks, {total} intervals: "
          + ", ".join(f"{100 * level:g} % interval holds {100 * n / total:.1f} %"
                      for level, n in inside.items())
          + f" ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
