"""The KPI library: what each KPI means, how its status is judged, and the registry of the
sources that compute them. Pure: no Django.

A *source* computes a family of KPIs in one pass over the data (e.g. every KPI of cases
opened in the period from one query). Apps add KPIs by registering a source from their
`AppConfig.ready()`; nothing here changes when they do.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Unit(StrEnum):
    COUNT = "count"
    SECONDS = "seconds"
    RATIO = "ratio"  # 0–1
    PER_1000 = "per_1000"
    GBP = "gbp"
    NUMBER = "number"


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better
    LOWER = "lower"
    NEUTRAL = "neutral"  # e.g. volume: neither direction is good in itself


class Status(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NO_TARGET = "no_target"
    NO_DATA = "no_data"

    @property
    def words(self) -> str:
        """The status in words (never shown by colour alone)."""
        return _WORDS[self]


_WORDS = {
    Status.GREEN: "On target", Status.AMBER: "Near target", Status.RED: "Off target",
    Status.NO_TARGET: "No target set", Status.NO_DATA: "No data",
}


@dataclass(frozen=True)
class Kpi:
    """One KPI's definition: what it measures, over which cases, and which way is good."""

    key: str
    name: str
    definition: str
    formula: str
    unit: Unit
    direction: Direction
    # Which cases a period covers, in words ("cases opened in the period").
    cohort: str = ""
    # Extra query of the case list behind the figure (the period is added by the caller).
    drill: str = ""
    # "opened", "resolved", "clock" or "at_end": which date the period filters on.
    date_basis: str = "opened"
    # For charts: "time" KPIs get an XmR chart of their value, "rate" ones a p-chart.
    chart: str = "xmr"


@dataclass(frozen=True)
class Measure:
    """A computed value; rates also carry their numerator and denominator (for p-charts and
    two-proportion tests), times their number of cases."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    count: int | None = None


@dataclass(frozen=True)
class Scope:
    """What to compute over: a period [start, end), filters (empty = any) and a breakdown.

    `team_ids` None means every team; an empty tuple means none (a user who sees no team).
    `by` is None, "priority", "team", "channel", "category" or "bucket"; with "bucket",
    `buckets` holds the boundaries b0 < b1 < … < bn and the period is [b0, bn).
    """

    start: datetime
    end: datetime
    team_ids: tuple[int, ...] | None = None
    channels: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    category_ids: tuple[int, ...] = ()
    by: str | None = None
    buckets: tuple[datetime, ...] = ()


Results = Mapping[tuple[str, Hashable], Measure]


class Source(Protocol):
    """Computes its KPIs for a scope: {(kpi key, group or None): Measure}."""

    kpis: tuple[Kpi, ...]

    def compute(self, scope: Scope) -> Results: ...


_SOURCES: list[Source] = []


def register(source: Source) -> None:
    """Add `source`'s KPIs to the library (once; keys must be unique)."""
    if source in _SOURCES:
        return
    known = {k.key for s in _SOURCES for k in s.kpis}
    clash = known & {k.key for k in source.kpis}
    if clash:
        raise ValueError(f"KPI keys already registered: {', '.join(sorted(clash))}")
    _SOURCES.append(source)


def sources() -> list[Source]:
    return list(_SOURCES)


def library() -> dict[str, Kpi]:
    """Every registered KPI by key, in registration order."""
    return {k.key: k for s in _SOURCES for k in s.kpis}


def status(value: float | None, *, target: float | None, amber: float | None,
           direction: Direction) -> Status:
    """Judge `value` against its `target`: green when it meets the target, amber when it
    misses it but still meets the `amber` limit, red otherwise. A neutral KPI with a target
    is judged as "higher is better"."""
    if value is None:
        return Status.NO_DATA
    if target is None:
        return Status.NO_TARGET
    lower = direction is Direction.LOWER
    if (value <= target) if lower else (value >= target):
        return Status.GREEN
    if amber is not None and ((value <= amber) if lower else (value >= amber)):
        return Status.AMBER
    return Status.RED


def check_thresholds(*, target: float | None, amber: float | None,
                     direction: Direction) -> str | None:
    """Return why a target/amber pair is inconsistent, or None if it is fine."""
    if amber is not None and target is None:
        return "Set a target before an amber limit."
    if amber is None or target is None:
        return None
    if direction is Direction.LOWER and amber < target:
        return "Lower is better here: the amber limit must be at or above the target."
    if direction is not Direction.LOWER and amber > target:
        return "Higher is better here: the amber limit must be at or below the target."
    return None


def duration_words(seconds: float) -> str:
    """A duration the way a manager says it: "45 s", "12 min", "3.5 h", "2.1 days"."""
    seconds = float(seconds)
    if abs(seconds) < 90:
        return f"{seconds:.0f} s"
    if abs(seconds) < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if abs(seconds) < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def display(value: float | None, unit: Unit) -> str:
    """`value` in words for its unit ("—" when there is none)."""
    if value is None:
        return "—"
    if unit is Unit.SECONDS:
        return duration_words(value)
    if unit is Unit.RATIO:
        return f"{value * 100:.1f} %"
    if unit is Unit.PER_1000:
        return f"{value:.1f} per 1,000"
    if unit is Unit.GBP:
        return f"£{value:,.2f}"
    if unit is Unit.COUNT:
        return f"{value:,.0f}"
    return f"{value:,.4g}"
