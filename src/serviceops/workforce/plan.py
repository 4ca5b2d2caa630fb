"""Staffing plans: a forecast, its handle times and the service targets turned into the
agents needed per interval, what they achieve and what they cost, and what-if scenarios.

Pure: no Django. The queueing maths is `erlang.staff_intervals`; this module adds the
scenario changes, the plan totals and the volume-weighted performance of a whole plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from serviceops.workforce import erlang, rota


@dataclass(frozen=True)
class Scenario:
    """A what-if change to a plan's inputs: volume times `volume_factor`, AHT plus
    `aht_change_seconds` (negative to shorten it), and, when given, another shrinkage."""

    name: str
    volume_factor: float = 1.0
    aht_change_seconds: float = 0.0
    shrinkage: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.volume_factor) or self.volume_factor < 0:
            raise ValueError(f"scenario {self.name!r}: the volume factor must be 0 or more "
                             f"(got {self.volume_factor})")
        if not math.isfinite(self.aht_change_seconds):
            raise ValueError(f"scenario {self.name!r}: the AHT change must be a number")
        if self.shrinkage is not None and not 0 <= self.shrinkage < 1:
            raise ValueError(f"scenario {self.name!r}: shrinkage must be at least 0 and "
                             f"below 1 (got {self.shrinkage})")


BASE = Scenario("Base")


@dataclass(frozen=True)
class PlanInputs:
    """What a plan is made from: calls offered per interval, the AHT (one value or one per
    interval), the interval length, the targets, callers' patience (Erlang A when given),
    shrinkage and the cost of one rostered hour."""

    volumes: np.ndarray
    aht_seconds: np.ndarray
    interval_minutes: int
    targets: erlang.Targets
    patience_seconds: float | None = None
    shrinkage: float = 0.0
    hourly_cost: float = 0.0


@dataclass(frozen=True)
class Totals:
    """A plan in a few figures.

    `service_level`, `asa_seconds` and `p_abandon` are weighted by the calls of each
    interval; `occupancy` is the time agents spend serving over their time on the phones;
    `peak_rostered` is the most heads needed in one interval. Hours are agent-hours on the
    phones and rostered.
    """

    calls: float
    agent_hours: float
    rostered_hours: float
    peak_rostered: int
    cost: float
    service_level: float | None
    asa_seconds: float | None
    occupancy: float | None
    p_abandon: float | None


@dataclass(frozen=True)
class StaffingPlan:
    """Per interval: the inputs after the scenario, the agents and rostered heads needed, and
    what they achieve; with the totals."""

    scenario: Scenario
    volumes: np.ndarray
    aht_seconds: np.ndarray
    staffing: erlang.IntervalStaffing
    totals: Totals


def staffing_plan(inputs: PlanInputs, scenario: Scenario = BASE) -> StaffingPlan:
    """Staff every interval of `inputs` as changed by `scenario`."""
    volumes = np.asarray(inputs.volumes, dtype=float) * scenario.volume_factor
    aht = np.broadcast_to(np.asarray(inputs.aht_seconds, dtype=float), volumes.shape)
    aht = aht + scenario.aht_change_seconds
    if aht.size and aht.min() <= 0:
        raise ValueError(f"scenario {scenario.name!r}: the AHT change of "
                         f"{scenario.aht_change_seconds:+g} s leaves an AHT of "
                         f"{aht.min():g} s; it must stay above 0")
    shrinkage = inputs.shrinkage if scenario.shrinkage is None else scenario.shrinkage
    interval_seconds = inputs.interval_minutes * 60
    staffing = erlang.staff_intervals(volumes, interval_seconds=interval_seconds,
                                      aht_seconds=aht, targets=inputs.targets,
                                      patience_seconds=inputs.patience_seconds,
                                      shrinkage=shrinkage)
    return StaffingPlan(scenario, volumes, aht, staffing,
                        _totals(volumes, staffing, inputs.interval_minutes, inputs.hourly_cost))


def compare(inputs: PlanInputs, scenarios: list[Scenario]) -> list[StaffingPlan]:
    """The base plan followed by one plan per scenario, for a side-by-side comparison."""
    return [staffing_plan(inputs)] + [staffing_plan(inputs, s) for s in scenarios]


def _totals(volumes: np.ndarray, staffing: erlang.IntervalStaffing, interval_minutes: int,
            hourly_cost: float) -> Totals:
    m = staffing.metrics
    hours = interval_minutes / 60
    calls = float(volumes.sum())
    agent_hours = float(staffing.agents.sum()) * hours
    rostered_hours = float(staffing.rostered.sum()) * hours
    busy = float(np.dot(m.occupancy, staffing.agents))  # Erlang A: abandoned calls do no work
    staffed = float(staffing.agents.sum())

    def weighted(values: np.ndarray | None) -> float | None:
        if values is None or calls == 0:
            return None
        return float(np.dot(values, volumes) / calls)

    return Totals(
        calls=calls, agent_hours=agent_hours, rostered_hours=rostered_hours,
        peak_rostered=int(staffing.rostered.max(initial=0)),
        cost=rostered_hours * hourly_cost,
        service_level=weighted(m.service_level), asa_seconds=weighted(m.asa_seconds),
        occupancy=busy / staffed if staffed else None,
        p_abandon=weighted(m.p_abandon),
    )


def rota_requirement(inputs: PlanInputs, *, skill: str, start: int, days: int,
                     first_weekday: int) -> rota.Requirement:
    """The agents a rota must put on the phones for `days` whole days of `inputs` from
    interval `start`, with each interval's service level for every head count up to one
    above the need, so that the optimiser weighs a shortfall by the service it costs.

    Shrinkage is not added: a rota places breaks and leave itself, so it staffs to the agents
    on the phones; the rostered heads of the plan are what it costs in people.
    """
    per_day = 24 * 60 // inputs.interval_minutes
    stop = start + days * per_day
    if start < 0 or stop > len(inputs.volumes):
        raise ValueError(f"the plan has {len(inputs.volumes) // per_day} days; a rota of "
                         f"{days} days from day {start // per_day + 1} does not fit in it")
    volumes = np.asarray(inputs.volumes, dtype=float)[start:stop]
    aht = np.broadcast_to(np.asarray(inputs.aht_seconds, dtype=float),
                          np.shape(inputs.volumes))[start:stop]
    interval_seconds = inputs.interval_minutes * 60
    agents = erlang.staff_intervals(volumes, interval_seconds=interval_seconds,
                                    aht_seconds=aht, targets=inputs.targets,
                                    patience_seconds=inputs.patience_seconds).agents
    levels = [erlang.evaluate_intervals(volumes, k, interval_seconds=interval_seconds,
                                        aht_seconds=aht,
                                        patience_seconds=inputs.patience_seconds,
                                        sl_seconds=inputs.targets.sl_seconds,
                                        sl_definition=inputs.targets.sl_definition
                                        ).service_level
              for k in range(int(agents.max(initial=0)) + 2)]
    shape = (days, per_day)
    return rota.Requirement(
        interval_minutes=inputs.interval_minutes,
        required={skill: agents.reshape(shape)},
        service_level={skill: np.stack(levels, axis=-1).reshape(*shape, len(levels))},
        volume={skill: volumes.reshape(shape)},
        first_weekday=first_weekday)
