"""Rota optimisation: which shifts to run, and who works them, for the best service.

Pure: no Django, no I/O. The CP-SAT model itself is in `rota_model`, imported (with OR-Tools)
only when a rota is solved, so that importing this module stays cheap.

The horizon is `days` whole days of `interval_minutes` intervals (15, 30 or 60 minutes; any
divisor of a day works). Shift templates start at a minute of the day and may cross midnight:
their intervals spill into the next day. With `cyclic=True` (the default) the rota repeats, so
the last day's night shift covers the first day's early hours and the rest rules run across
the end of the horizon into its start; with `cyclic=False` what spills past the last day is
not scored and no rule looks past it.

Two modes:

* `solve_anonymous`: how many agents start each template on each day, for each skill
  (integer counts, one skill per agent);
* `solve_named`: which member of staff works which shift, with their contracts, availability,
  leave, skills and days off, under the UK Working Time Regulations 1998 (rules listed at
  `solve_named`) and a fair share of weekend shifts.

Breaks are placed by the solver, each within its window, never in the first or last hour of a
shift. Every shift longer than six hours carries an unpaid break of at least 20 minutes
(WTR reg. 12): a template that gives no breaks gets one, rounded up to whole intervals.

The objective, in integer units (see `Weights`), is the service lost to under-staffing, taken
from the Erlang curve of each interval, plus smaller costs for agents above the requirement,
paid time and an uneven share of weekends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from serviceops.workforce import erlang

DAY = 24 * 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# UK Working Time Regulations 1998: reg. 12 (a rest break of 20 minutes when daily working
# time is more than six hours), reg. 10 (11 consecutive hours' rest in each 24 hours), reg. 11
# (24 hours' uninterrupted rest in each seven days) and reg. 4 (48 hours a week on average,
# unless the worker has opted out).
LONG_SHIFT_MINUTES = 6 * 60
WTR_BREAK_MINUTES = 20
DAILY_REST_MINUTES = 11 * 60
WEEKLY_REST_MINUTES = 24 * 60
AVERAGE_WEEKLY_HOURS_CAP = 48
# No break in the first or the last hour of a shift.
BREAK_EDGE_MINUTES = 60


@dataclass(frozen=True)
class Break:
    """A break of `minutes`, paid or unpaid, that the solver places within a window.

    `earliest` is the earliest start and `latest` the latest end, in minutes after the shift
    starts; by default the whole shift but its first and last hour.
    """

    minutes: int
    paid: bool = False
    earliest: int | None = None
    latest: int | None = None


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift that starts `start_minute` minutes after midnight and lasts `minutes` (breaks
    included; past midnight it carries on into the next day).

    `breaks` None means the legal minimum: an unpaid 20-minute break when the shift is longer
    than six hours, none otherwise. `skills` None means the template serves every skill.
    A start window is several templates: see `templates_for_window`.
    """

    name: str
    start_minute: int
    minutes: int
    breaks: tuple[Break, ...] | None = None
    skills: frozenset[str] | None = None


def templates_for_window(name: str, *, first_start: int, last_start: int, step: int,
                         minutes: int, breaks: tuple[Break, ...] | None = None,
                         skills: frozenset[str] | None = None) -> list[ShiftTemplate]:
    """Return one template per start from `first_start` to `last_start` (minutes after
    midnight) every `step` minutes, named `name HH:MM`."""
    if step <= 0 or last_start < first_start:
        raise ValueError(f"start window of {name!r}: give first_start <= last_start and a "
                         f"step above 0 (got {first_start}, {last_start}, {step})")
    return [ShiftTemplate(f"{name} {clock(start)}", start, minutes, breaks, skills)
            for start in range(first_start, last_start + 1, step)]


@dataclass(frozen=True)
class Staff:
    """A member of staff and what their rota must respect.

    Hours are per week; over a horizon of D days they are scaled by D/7, and the contract
    minimum also by the share of those days not on leave. `availability` maps a day of the
    horizon to the (earliest start, latest end) they can work, in minutes after that day's
    midnight (the end may pass midnight); days absent are open. `leave`: days of the horizon on
    approved leave (no shift starts on them or runs into them). `days_off`: weekdays never
    worked (0 is Monday). `consecutive_days_off`: a run of that many days without a shift start
    in each week. `opted_out_of_48h`: the worker has opted out of the 48-hour average.
    """

    name: str
    skills: frozenset[str]
    min_weekly_hours: float = 0.0
    max_weekly_hours: float = 48.0
    availability: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    leave: frozenset[int] = frozenset()
    days_off: frozenset[int] = frozenset()
    consecutive_days_off: int = 0
    opted_out_of_48h: bool = False


@dataclass(frozen=True)
class Requirement:
    """Agents needed per interval for each skill, and what a shortfall costs.

    `required[skill]` is a (days, intervals per day) array of whole agent counts.
    `service_level[skill]`, when given, is a (days, intervals per day, n) array: the service
    level with 0, 1, ... n-1 agents, n above the largest requirement (`requirement_from_volumes`
    takes it from the Erlang maths). `volume[skill]` (calls per interval, default 1) weighs the
    loss. Without a service-level curve each agent short costs as much as one call missing the
    target. `minimum[skill]`, when given, is a hard floor of agents. Day 0 is the weekday
    `first_weekday` (0 is Monday).
    """

    interval_minutes: int
    required: Mapping[str, np.ndarray]
    service_level: Mapping[str, np.ndarray] | None = None
    volume: Mapping[str, np.ndarray] | None = None
    minimum: Mapping[str, np.ndarray] | None = None
    first_weekday: int = 0

    @property
    def days(self) -> int:
        return next(iter(self.required.values())).shape[0]

    @property
    def per_day(self) -> int:
        return DAY // self.interval_minutes


def requirement_from_volumes(volumes: Mapping[str, np.ndarray], *, interval_minutes: int,
                             aht_seconds: float, targets: erlang.Targets,
                             patience_seconds: float | None = None,
                             minimum: Mapping[str, np.ndarray] | None = None,
                             first_weekday: int = 0) -> Requirement:
    """Staff (days, intervals per day) call volumes per skill with the Erlang maths: the
    smallest agent counts meeting `targets`, and each interval's service level for every
    count from 0 to one above the largest."""
    required, curves, volume = {}, {}, {}
    for skill, calls in volumes.items():
        calls = np.asarray(calls, dtype=float)
        flat = calls.ravel()
        agents = erlang.staff_intervals(flat, interval_seconds=interval_minutes * 60,
                                        aht_seconds=aht_seconds, targets=targets,
                                        patience_seconds=patience_seconds).agents
        top = int(agents.max(initial=0)) + 2
        levels = [erlang.evaluate_intervals(flat, k, interval_seconds=interval_minutes * 60,
                                            aht_seconds=aht_seconds,
                                            patience_seconds=patience_seconds,
                                            sl_seconds=targets.sl_seconds,
                                            sl_definition=targets.sl_definition).service_level
                  for k in range(top)]
        required[skill] = agents.reshape(calls.shape)
        curves[skill] = np.stack(levels, axis=-1).reshape(*calls.shape, top)
        volume[skill] = calls
    return Requirement(interval_minutes, required, curves, volume, minimum, first_weekday)


@dataclass(frozen=True)
class Weights:
    """Objective weights, in integer cost units.

    `under`: per call that misses the service level because of under-staffing (the interval's
    volume times the service level lost). `over`: per agent-interval above the requirement.
    `paid`: per paid agent-interval. `weekend_spread`: per weekend shift between the member of
    staff with the most and the one with the fewest (named mode).
    """

    under: int = 1000
    over: int = 40
    paid: int = 10
    weekend_spread: int = 200


class Status(Enum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Assignment:
    """A shift on the rota: `agents` (anonymous mode) or `staff` (named mode) work `template`
    for `skill`, starting on `day`. `start`, `end` and each break's (start, end, paid) are in
    minutes from the start of the horizon; on a cyclic rota they may run past its end."""

    day: int
    template: str
    skill: str
    start: int
    end: int
    breaks: tuple[tuple[int, int, bool], ...]
    staff: str | None = None
    agents: int = 1


@dataclass(frozen=True)
class RotaResult:
    """The rota found, what it covers, and how good it is known to be.

    `coverage`, `under` and `over` map each skill to (days, intervals per day) agent counts on
    the phones (breaks excluded); `service_level` to the service level that coverage gives,
    when the requirement has curves. `gap` is (objective - best bound) / objective (0 when
    optimal). When INFEASIBLE, `binding` names the inputs that together admit no rota.
    """

    status: Status
    assignments: tuple[Assignment, ...]
    coverage: dict[str, np.ndarray]
    under: dict[str, np.ndarray]
    over: dict[str, np.ndarray]
    service_level: dict[str, np.ndarray] | None
    objective: float | None
    best_bound: float | None
    gap: float | None
    solve_seconds: float
    binding: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if self.status is Status.INFEASIBLE:
            return "no rota meets every rule; together these cannot all hold: " + "; ".join(
                self.binding)
        if self.status is Status.UNKNOWN:
            return "no rota found within the time limit"
        return (f"{self.status.value}: objective {self.objective:g}, gap {self.gap:.2%}, "
                f"{sum(int(u.sum()) for u in self.under.values())} agent-intervals short")


def solve_anonymous(requirement: Requirement, templates: Sequence[ShiftTemplate], *,
                    weights: Weights = Weights(), cyclic: bool = True,
                    time_limit: float = 10.0, workers: int = 1, seed: int = 0) -> RotaResult:
    """Choose how many agents start each template on each day for each skill, and where
    their breaks fall, to minimise the objective. Returns the counts and their coverage."""
    from serviceops.workforce import rota_model

    problem = _problem(requirement, templates, cyclic=cyclic)
    return rota_model.solve(problem, None, weights, time_limit=time_limit, workers=workers,
                            seed=seed)


def solve_named(requirement: Requirement, templates: Sequence[ShiftTemplate],
                staff: Sequence[Staff], *, weights: Weights = Weights(), cyclic: bool = True,
                time_limit: float = 60.0, workers: int = 1, seed: int = 0,
                method: str = "auto") -> RotaResult:
    """Give each member of staff at most one shift a day, to minimise the objective.

    Hard rules: skills, availability, leave, fixed days off and runs of days off; contract
    minimum and maximum hours; 11 h rest between the end of one shift and the start of the
    next; in each full week of the horizon, a day on which no shift starts with at least 24 h
    between the shifts either side of it (a sufficient form of the weekly rest: a 24 h rest
    between two shifts on consecutive days is not used); working time (unpaid breaks excluded)
    at most 48 h a week on average over the horizon unless opted out; the break rule above;
    and any hard minimum of the requirement. Weekend shifts are shared evenly among the staff
    who can work both weekend days (the spread is in the objective).

    `method` "exact" solves one model with a choice per person, day and template; it proves
    optimality on small rosters but grows too big for hundreds of people. "decomposed" solves
    the anonymous relaxation first (its optimum bounds the named one's), hands its shifts out
    to the staff greedily under every rule above, and improves that rota with the named model
    limited to the templates the relaxation runs; the gap is taken against the relaxation's
    bound, and the status is OPTIMAL only when the rota meets it. "auto" (the default) takes
    "exact" up to 20,000 person-day-template choices.
    """
    from serviceops.workforce import rota_model

    if method not in ("auto", "exact", "decomposed"):
        raise ValueError(f"method must be 'auto', 'exact' or 'decomposed' (got {method!r})")
    problem = _problem(requirement, templates, cyclic=cyclic)
    _check_staff(problem, staff)
    return rota_model.solve(problem, list(staff), weights, time_limit=time_limit,
                            workers=workers, seed=seed, method=method)


def clock(minute: int) -> str:
    """Return `minute` after midnight as HH:MM (past midnight, the next day's time)."""
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


def day_label(requirement: Requirement, day: int) -> str:
    """Return the weekday and number of `day` of the horizon, such as 'Monday (day 1)'."""
    return f"{WEEKDAYS[(requirement.first_weekday + day) % 7]} (day {day + 1})"


# --- Inputs resolved to intervals, checked -------------------------------------------------


@dataclass(frozen=True)
class BreakSlot:
    """A break in intervals: its length, whether paid, and the first and last offsets from
    the shift start at which it may begin."""

    length: int
    paid: bool
    first: int
    last: int


@dataclass(frozen=True)
class Shift:
    """A template in intervals."""

    name: str
    start_minute: int
    minutes: int
    start: int
    length: int
    breaks: tuple[BreakSlot, ...]
    skills: frozenset[str] | None

    @property
    def unpaid(self) -> int:
        return sum(b.length for b in self.breaks if not b.paid)

    @property
    def paid(self) -> int:
        """Paid intervals: the shift less its unpaid breaks (also its working time)."""
        return self.length - self.unpaid


@dataclass(frozen=True)
class Problem:
    """A checked requirement and its templates in intervals, ready for the model."""

    requirement: Requirement
    shifts: tuple[Shift, ...]
    skills: tuple[str, ...]
    loss: dict[str, np.ndarray]  # (days, per_day, max required + 1) integer-ready SL loss
    cyclic: bool

    @property
    def days(self) -> int:
        return self.requirement.days

    @property
    def per_day(self) -> int:
        return self.requirement.per_day


def _problem(requirement: Requirement, templates: Sequence[ShiftTemplate], *,
             cyclic: bool) -> Problem:
    skills = _check_requirement(requirement)
    if not templates:
        raise ValueError("give at least one shift template")
    names = [t.name for t in templates]
    if len(set(names)) != len(names):
        raise ValueError(f"shift template names must be unique (got {names})")
    shifts = tuple(_shift(t, requirement.interval_minutes, skills) for t in templates)
    loss = {skill: _loss_table(requirement, skill) for skill in skills}
    return Problem(requirement, shifts, skills, loss, cyclic)


def _check_requirement(requirement: Requirement) -> tuple[str, ...]:
    step = requirement.interval_minutes
    if not isinstance(step, int) or step <= 0 or DAY % step:
        raise ValueError(f"the interval length must be a whole number of minutes dividing a "
                         f"day, such as 15 (got {step!r})")
    if not requirement.required:
        raise ValueError("the requirement names no skill")
    if not 0 <= requirement.first_weekday <= 6:
        raise ValueError(f"first_weekday must be 0 (Monday) to 6 (got "
                         f"{requirement.first_weekday!r})")
    shape = None
    for skill, values in requirement.required.items():
        values = np.asarray(values)
        shape = shape or values.shape
        if values.ndim != 2 or values.shape[1] != requirement.per_day or values.shape != shape:
            raise ValueError(f"the requirement for {skill!r} must be (days, "
                             f"{requirement.per_day}) like the others (got {values.shape})")
        _check_counts(requirement, f"the requirement for {skill!r}", values)
        if requirement.minimum is not None and skill in requirement.minimum:
            minimum = np.asarray(requirement.minimum[skill])
            if minimum.shape != shape:
                raise ValueError(f"the hard minimum for {skill!r} must be {shape} (got "
                                 f"{minimum.shape})")
            _check_counts(requirement, f"the hard minimum for {skill!r}", minimum)
        if requirement.service_level is not None:
            curve = np.asarray(requirement.service_level[skill], dtype=float)
            if curve.shape[:2] != shape or curve.ndim != 3 or curve.shape[2] <= values.max():
                raise ValueError(f"the service-level curve for {skill!r} must be (days, "
                                 f"{requirement.per_day}, n) with n above the largest "
                                 f"requirement {values.max()} (got {curve.shape})")
            if not np.all((curve >= 0) & (curve <= 1)):
                raise ValueError(f"the service-level curve for {skill!r} must lie in [0, 1]")
        if requirement.volume is not None:
            volume = np.asarray(requirement.volume[skill], dtype=float)
            if volume.shape != shape or not np.all(np.isfinite(volume) & (volume >= 0)):
                raise ValueError(f"the volume for {skill!r} must be {shape}, 0 or more")
    for name, extra in (("hard minimum", requirement.minimum),
                        ("service-level curve", requirement.service_level),
                        ("volume", requirement.volume)):
        unknown = set(extra or ()) - set(requirement.required)
        if unknown:
            raise ValueError(f"the {name} names unknown skill {sorted(unknown)[0]!r}; the "
                             f"requirement has {sorted(requirement.required)}")
    return tuple(requirement.required)


def _check_counts(requirement: Requirement, what: str, values: np.ndarray) -> None:
    if not np.issubdtype(values.dtype, np.integer):
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise ValueError(f"{what} must be whole agent counts")
    bad = np.argwhere(values < 0)
    if bad.size:
        day, interval = (int(i) for i in bad[0])
        raise ValueError(f"{what} on {day_label(requirement, day)} at "
                         f"{clock(interval * requirement.interval_minutes)} is "
                         f"{values[day, interval]}: agent counts must be 0 or more")


def _shift(template: ShiftTemplate, step: int, skills: tuple[str, ...]) -> Shift:
    where = f"shift template {template.name!r}"
    if not 0 <= template.start_minute < DAY or template.start_minute % step:
        raise ValueError(f"{where} starts at minute {template.start_minute}: give a start from "
                         f"0 to {DAY - step} on the {step}-minute grid")
    if not 0 < template.minutes <= DAY or template.minutes % step:
        raise ValueError(f"{where} lasts {template.minutes} minutes: a shift lasts more than 0 "
                         f"and at most 24 hours, in whole {step}-minute intervals")
    unknown = set(template.skills or ()) - set(skills)
    if unknown:
        raise ValueError(f"{where} names unknown skill {sorted(unknown)[0]!r}; the "
                         f"requirement has {list(skills)}")
    breaks = template.breaks
    if breaks is None:
        breaks = ()
        if template.minutes > LONG_SHIFT_MINUTES:
            breaks = (Break(math.ceil(WTR_BREAK_MINUTES / step) * step),)
    if template.minutes > LONG_SHIFT_MINUTES and not any(
            not b.paid and b.minutes >= WTR_BREAK_MINUTES for b in breaks):
        raise ValueError(f"{where} lasts more than 6 hours and so needs an unpaid break of "
                         f"at least {WTR_BREAK_MINUTES} minutes (Working Time Regulations)")
    slots, taken = [], []
    for b in breaks:
        earliest = BREAK_EDGE_MINUTES if b.earliest is None else b.earliest
        latest = template.minutes - BREAK_EDGE_MINUTES if b.latest is None else b.latest
        if b.minutes <= 0 or b.minutes % step:
            raise ValueError(f"{where}: a break of {b.minutes} minutes is not a whole number "
                             f"of {step}-minute intervals")
        if (earliest < BREAK_EDGE_MINUTES or latest > template.minutes - BREAK_EDGE_MINUTES
                or earliest % step or latest % step or latest - earliest < b.minutes):
            raise ValueError(f"{where}: the window {earliest}-{latest} minutes for a "
                             f"{b.minutes}-minute break must hold it on the {step}-minute grid "
                             f"and leave the first and last hour free")
        if any(earliest < end and start < latest for start, end in taken):
            raise ValueError(f"{where}: break windows must not overlap")
        taken.append((earliest, latest))
        slots.append(BreakSlot(b.minutes // step, b.paid, earliest // step,
                               (latest - b.minutes) // step))
    return Shift(template.name, template.start_minute, template.minutes,
                 template.start_minute // step, template.minutes // step, tuple(slots),
                 template.skills)


def _loss_table(requirement: Requirement, skill: str) -> np.ndarray:
    """Service lost with s agents short, s = 0..max required, per interval (in calls)."""
    required = np.asarray(requirement.required[skill]).astype(np.int64)
    top = int(required.max(initial=0))
    s = np.arange(top + 1)
    if requirement.service_level is None:
        loss = np.broadcast_to(s.astype(float), (*required.shape, top + 1)).copy()
    else:
        curve = np.asarray(requirement.service_level[skill], dtype=float)
        have = np.clip(required[..., None] - s, 0, None)
        at = np.take_along_axis(curve, required[..., None], axis=2)
        loss = np.clip(at - np.take_along_axis(curve, have, axis=2), 0.0, None)
    # A shortfall beyond the requirement does not exist; one more agent short never costs less.
    loss = np.maximum.accumulate(np.where(s <= required[..., None], loss, 0.0), axis=2)
    if requirement.volume is not None:
        loss = loss * np.asarray(requirement.volume[skill], dtype=float)[..., None]
    return loss


def _check_staff(problem: Problem, staff: Sequence[Staff]) -> None:
    names = [s.name for s in staff]
    if len(set(names)) != len(names):
        raise ValueError("staff names must be unique")
    for person in staff:
        where = f"staff member {person.name!r}"
        if not person.skills:
            raise ValueError(f"{where} has no skill")
        unknown = set(person.skills) - set(problem.skills)
        if unknown:
            raise ValueError(f"{where} has unknown skill {sorted(unknown)[0]!r}; the "
                             f"requirement has {list(problem.skills)}")
        if not 0 <= person.min_weekly_hours <= person.max_weekly_hours:
            raise ValueError(f"{where}: contract hours must satisfy 0 <= minimum <= maximum "
                             f"(got {person.min_weekly_hours}, {person.max_weekly_hours})")
        for day in (*person.leave, *person.availability):
            if not 0 <= day < problem.days:
                raise ValueError(f"{where}: day {day} is outside the horizon of "
                                 f"{problem.days} days (days count from 0)")
        if any(not 0 <= d <= 6 for d in person.days_off):
            raise ValueError(f"{where}: days off are weekdays 0 (Monday) to 6")
        for day, (start, end) in person.availability.items():
            if not 0 <= start < end <= 2 * DAY:
                raise ValueError(f"{where}: availability on day {day} must be (earliest "
                                 f"start, latest end) minutes with 0 <= start < end <= 2880")
        if not 0 <= person.consecutive_days_off <= 7:
            raise ValueError(f"{where}: consecutive days off must be 0 to 7")
