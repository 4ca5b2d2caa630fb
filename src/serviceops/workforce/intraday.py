"""Intraday management (DO5): today's contacts against the forecast, a re-forecast of the rest
of the day, the agents that re-forecast needs against the agents scheduled, and warnings where
the gap is too wide.

Pure: no Django. The caller gives the day's forecast, the contacts counted so far, how many
intervals have finished, the agents scheduled and a `Queue` that turns volumes into agents
required and a service level (`ErlangQueue` does it with the plan's targets).

Re-forecast rule (ratio to date, shrunk towards the forecast)
-------------------------------------------------------------
Over the `completed` intervals, A contacts arrived where F were forecast. The rest of the
day is the forecast times

    factor = clamp((A + k) / (F + k), floor, cap)

This is the posterior mean of a multiplier θ on the forecast when arrivals are Poisson with
mean θ·F and θ has a Gamma(k, k) prior (mean 1, standard deviation 1/√k): a credibility
weight F / (F + k) on the observed ratio A / F and the rest on 1. With few calls so far the
factor stays near 1 (twelve calls instead of six at 08:30 is noise, not a doubling); with
many it follows the observed ratio. The floor and cap keep one odd morning (a system
outage, a mass mailing) from emptying or flooding the afternoon. The interval in progress is
not used: its count is partial. The defaults (k = 30 contacts, floor 0.5, cap 2) give the
observed ratio half its weight once 30 contacts were expected, and a prior spread of about
18 %, the size of a typical day-level forecast error.

Warnings
--------
An interval is flagged when it expects at least `min_calls` contacts and either the
scheduled agents fall short of the required by `short_agents` or more, or the service level
the scheduled agents are predicted to give is more than `sl_points` below the target.
Intervals expecting fewer contacts are not flagged: a rota that leaves the night empty is a
decision, not an emergency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from serviceops.workforce import erlang


@dataclass(frozen=True)
class ReforecastRule:
    """How far the rest of the day follows the morning: `prior_calls` is k above (the more,
    the more calls it takes to move away from the forecast); `floor` and `cap` bound the
    factor."""

    prior_calls: float = 30.0
    floor: float = 0.5
    cap: float = 2.0

    def __post_init__(self) -> None:
        if not self.prior_calls > 0:
            raise ValueError(f"the prior weight must be above 0 calls (got {self.prior_calls})")
        if not 0 < self.floor <= 1 <= self.cap:
            raise ValueError(f"the factor's floor must lie in (0, 1] and its cap be 1 or more "
                             f"(got {self.floor} and {self.cap})")


@dataclass(frozen=True)
class Thresholds:
    """When an interval is flagged: short by `short_agents` agents or more, or a predicted
    service level more than `sl_points` (a share: 0.05 is 5 points) below the target; only
    in intervals expecting at least `min_calls` contacts."""

    short_agents: float = 1.0
    sl_points: float = 0.05
    min_calls: float = 2.0

    def __post_init__(self) -> None:
        for name, value in (("the shortfall", self.short_agents),
                            ("the service-level margin", self.sl_points),
                            ("the least volume", self.min_calls)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} threshold must be 0 or more (got {value})")


class Queue(Protocol):
    """Turns contacts per interval into agents needed, and agents into a service level."""

    sl_target: float | None

    def required(self, volumes: np.ndarray) -> np.ndarray:
        """Agents needed on the phones in each interval."""

    def service_level(self, volumes: np.ndarray, agents: np.ndarray) -> np.ndarray:
        """The service level `agents` (whole numbers) give in each interval."""


@dataclass(frozen=True)
class ErlangQueue:
    """A `Queue` by the Erlang maths, for the intervals of one day: AHT one value or one per
    interval, the plan's targets and, for Erlang A, callers' patience."""

    interval_minutes: int
    aht_seconds: np.ndarray | float
    targets: erlang.Targets
    patience_seconds: float | None = None

    @property
    def sl_target(self) -> float | None:
        return self.targets.service_level

    def required(self, volumes: np.ndarray) -> np.ndarray:
        return erlang.staff_intervals(
            volumes, interval_seconds=self.interval_minutes * 60, aht_seconds=self.aht_seconds,
            targets=self.targets, patience_seconds=self.patience_seconds).agents

    def service_level(self, volumes: np.ndarray, agents: np.ndarray) -> np.ndarray:
        return erlang.evaluate_intervals(
            volumes, agents, interval_seconds=self.interval_minutes * 60,
            aht_seconds=self.aht_seconds, patience_seconds=self.patience_seconds,
            sl_seconds=self.targets.sl_seconds,
            sl_definition=self.targets.sl_definition).service_level


@dataclass(frozen=True)
class Interval:
    """One interval of the day.

    `actual` is None for intervals not yet started (the interval in progress has its count
    so far). `expected` is the best estimate of its contacts: the actual count once it has
    finished, else the re-forecast. `reforecast` is None for finished intervals. `required`
    is the agents `expected` needs, `planned` those the forecast needed; `gap` is scheduled
    minus required (negative: short). `predicted_sl` is the service level the scheduled
    agents give `expected` (None without contacts or a service-level target). `warnings`
    say in words why the interval is flagged (empty: it is not)."""

    index: int
    forecast: float
    actual: float | None
    reforecast: float | None
    expected: float
    planned: int
    required: int
    scheduled: float
    gap: float
    predicted_sl: float | None
    finished: bool
    in_progress: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Intraday:
    """The day's comparison: the re-forecast factor and the totals it rests on, and each
    interval."""

    factor: float
    actual_so_far: float
    forecast_so_far: float
    forecast_total: float
    expected_total: float
    completed: int
    sl_target: float | None
    intervals: tuple[Interval, ...]

    @property
    def upcoming_warnings(self) -> tuple[Interval, ...]:
        """Flagged intervals that have not finished (those that can still be acted on)."""
        return tuple(i for i in self.intervals if i.warnings and not i.finished)


def reforecast_factor(actual: float, forecast: float,
                      rule: ReforecastRule = ReforecastRule()) -> float:
    """The multiplier on the rest of the day's forecast: (A + k) / (F + k), clamped."""
    if actual < 0 or forecast < 0:
        raise ValueError("contact counts must be 0 or more")
    raw = (actual + rule.prior_calls) / (forecast + rule.prior_calls)
    return min(rule.cap, max(rule.floor, raw))


def intraday(*, forecast: Sequence[float], actual: Sequence[float], completed: int,
             scheduled: Sequence[float], queue: Queue,
             rule: ReforecastRule = ReforecastRule(),
             thresholds: Thresholds = Thresholds()) -> Intraday:
    """Compare the day interval by interval.

    `forecast` and `scheduled` have one value per interval of the day; `completed` is how
    many intervals have finished; `actual` the contacts counted in the intervals started so
    far: `completed` values, or one more for the interval in progress. Scheduled
    agents may be fractional (a shift covering half an interval counts a half); the predicted
    service level takes the whole agents present (rounded down).
    """
    forecast = np.nan_to_num(np.asarray(forecast, dtype=float), nan=0.0)
    scheduled = np.asarray(scheduled, dtype=float)
    n = len(forecast)
    if scheduled.shape != (n,):
        raise ValueError(f"scheduled agents have {scheduled.size} intervals, the forecast {n}")
    if not 0 <= completed <= n:
        raise ValueError(f"completed intervals must lie between 0 and {n} (got {completed})")
    given = np.asarray(actual, dtype=float)
    started = len(given)
    if not completed <= started <= min(n, completed + 1):
        raise ValueError(f"{completed} intervals have finished: give their actual counts, "
                         f"and the count so far of the one in progress (got {started})")
    if (given < 0).any():
        raise ValueError("contact counts must be 0 or more")
    counts = np.zeros(n)
    counts[:started] = given

    actual_so_far = float(counts[:completed].sum())
    forecast_so_far = float(forecast[:completed].sum())
    factor = reforecast_factor(actual_so_far, forecast_so_far, rule)
    reforecast = forecast * factor
    expected = np.where(np.arange(n) < completed, counts, reforecast)

    planned = np.asarray(queue.required(forecast), dtype=np.int64)
    required = np.asarray(queue.required(expected), dtype=np.int64)
    gap = scheduled - required
    whole = np.floor(scheduled + 1e-9).astype(np.int64)
    levels = np.asarray(queue.service_level(expected, whole), dtype=float) \
        if queue.sl_target is not None else np.full(n, np.nan)

    intervals = []
    for k in range(n):
        busy = expected[k] > 0 and queue.sl_target is not None
        level = float(levels[k]) if busy and math.isfinite(levels[k]) else None
        intervals.append(Interval(
            index=k, forecast=float(forecast[k]),
            actual=float(counts[k]) if k < started else None,
            reforecast=float(reforecast[k]) if k >= completed else None,
            expected=float(expected[k]), planned=int(planned[k]), required=int(required[k]),
            scheduled=float(scheduled[k]), gap=float(gap[k]), predicted_sl=level,
            finished=k < completed, in_progress=k == completed < started,
            warnings=_warnings(expected[k], gap[k], level, queue.sl_target, thresholds)))
    return Intraday(factor=factor, actual_so_far=actual_so_far,
                    forecast_so_far=forecast_so_far, forecast_total=float(forecast.sum()),
                    expected_total=float(expected.sum()), completed=completed,
                    sl_target=queue.sl_target, intervals=tuple(intervals))


def _warnings(expected: float, gap: float, level: float | None, target: float | None,
              thresholds: Thresholds) -> tuple[str, ...]:
    if expected < thresholds.min_calls:
        return ()
    reasons = []
    # A small tolerance so that a shortfall of exactly the threshold (2.0 against 2) counts.
    if -gap >= thresholds.short_agents - 1e-9 and gap < 0:
        reasons.append(f"Short by {_agents(-gap)}")
    if level is not None and target is not None and level < target - thresholds.sl_points:
        reasons.append(f"Predicted service level {level * 100:.0f} % against a target of "
                       f"{target * 100:.0f} %")
    return tuple(reasons)


def _agents(count: float) -> str:
    text = f"{count:.1f}".removesuffix(".0")
    return f"{text} agent" if text == "1" else f"{text} agents"
