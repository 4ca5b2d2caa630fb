"""Helpers shared by the rota model's modules: which templates each person may start, and why
not (`eligible`, `forbidden`, `people_per_shift`, `serves`, `wrap`), their paid-hour limits
(`paid_limits`), and the `RotaResult` of a rota or of none (`result`, `empty`).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from serviceops.workforce.rota import (
    AVERAGE_WEEKLY_HOURS_CAP,
    DAY,
    Assignment,
    Problem,
    RotaResult,
    Shift,
    Staff,
    Status,
    clock,
    day_label,
)


def serves(problem: Problem, t: int, skill: str) -> bool:
    """Whether template `t` may be worked for `skill` (every skill when it names none)."""
    skills = problem.shifts[t].skills
    return skills is None or skill in skills


def eligible(problem: Problem, staff: list[Staff]) -> list[list[list[int]]]:
    """For each person and day, the templates they may start: those `forbidden` has no
    reason against, serving one of their skills (the same tests, without the words)."""
    shifts = problem.shifts
    starts = np.array([s.start_minute for s in shifts])
    ends = starts + np.array([s.minutes for s in shifts])
    eligible = []
    for person in staff:
        serving = np.array([any(serves(problem, t, skill) for skill in person.skills)
                            for t in range(len(shifts))])
        rows = []
        for day in range(problem.days):
            nxt = wrap(problem, day + 1)
            ok = serving.copy()
            if day in person.leave or (problem.requirement.first_weekday + day) % 7 in (
                    person.days_off):
                ok[:] = False
            if nxt is not None and nxt in person.leave:
                ok &= ends <= DAY
            if day in person.availability:
                earliest, latest = person.availability[day]
                ok &= (starts >= earliest) & (ends <= latest)
            rows.append(np.flatnonzero(ok).tolist())
        eligible.append(rows)
    return eligible


def people_per_shift(problem: Problem, staff: list[Staff],
                     eligible: list[list[list[int]]]) -> dict[tuple[int, int, str], list[int]]:
    """The people who may work each (day, template, skill)."""
    serving = {skill: {t for t in range(len(problem.shifts)) if serves(problem, t, skill)}
               for skill in problem.skills}
    people: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    for i, person in enumerate(staff):
        for skill in sorted(person.skills):
            for day, templates in enumerate(eligible[i]):
                for t in templates:
                    if t in serving[skill]:
                        people[day, t, skill].append(i)
    return people


def paid_limits(problem: Problem, person: Staff) -> tuple[int, int, int | None]:
    """Paid intervals over the horizon: the contract minimum (less the days on leave), the
    contract maximum, and the 48-hour average cap (None when it does not apply)."""
    scale = 60 / problem.requirement.interval_minutes / 7
    days = problem.days
    low = math.ceil(person.min_weekly_hours * scale * (days - len(person.leave)) - 1e-9)
    high = math.floor(person.max_weekly_hours * scale * days + 1e-9)
    cap = None
    if not person.opted_out_of_48h and person.max_weekly_hours > AVERAGE_WEEKLY_HOURS_CAP:
        cap = math.floor(AVERAGE_WEEKLY_HOURS_CAP * scale * days + 1e-9)
    return low, high, cap


def forbidden(problem: Problem, person: Staff, day: int, shift: Shift) -> list[str]:
    """Why `person` may not start `shift` on `day`: leave, availability, days off."""
    reasons = []
    end = shift.start_minute + shift.minutes
    nxt = wrap(problem, day + 1)
    if day in person.leave or (end > DAY and nxt is not None and nxt in person.leave):
        on_leave = day if day in person.leave else nxt
        reasons.append(f"{person.name}: approved leave on "
                       f"{day_label(problem.requirement, on_leave)}")
    if day in person.availability:
        start_ok, end_ok = person.availability[day]
        if shift.start_minute < start_ok or end > end_ok:
            reasons.append(f"{person.name}: available only {clock(start_ok)}-"
                           f"{clock(end_ok)} on {day_label(problem.requirement, day)}")
    if (problem.requirement.first_weekday + day) % 7 in person.days_off:
        reasons.append(f"{person.name}: fixed days off on "
                       + ", ".join(_weekday(d) for d in sorted(person.days_off)))
    return reasons


def wrap(problem: Problem, day: int) -> int | None:
    """`day` of the horizon, wrapped on a cyclic rota; None past the end otherwise."""
    if 0 <= day < problem.days:
        return day
    return day % problem.days if problem.cyclic else None


def _weekday(day: int) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[day]


def result(problem: Problem, status: Status, assignments: tuple[Assignment, ...],
           coverage: dict[str, np.ndarray], objective: float | None, bound: float | None,
           gap: float | None, seconds: float, binding: tuple[str, ...] = ()) -> RotaResult:
    """The `RotaResult` of `assignments` and the agents they put on the phones (`coverage`),
    with the shortfall, over-staffing and (when the requirement has its curves) service level
    of every interval."""
    req = problem.requirement
    under, over, levels = {}, {}, {} if req.service_level is not None else None
    for skill, covered in coverage.items():
        required = np.asarray(req.required[skill]).astype(np.int64)
        under[skill] = np.maximum(required - covered, 0)
        over[skill] = np.maximum(covered - required, 0)
        if levels is not None:
            curve = np.asarray(req.service_level[skill], dtype=float)
            at = np.clip(covered, 0, curve.shape[2] - 1)
            levels[skill] = np.take_along_axis(curve, at[..., None], axis=2)[..., 0]
    return RotaResult(status, assignments, coverage, under, over, levels, objective, bound,
                      gap, seconds, binding)


def empty(problem: Problem, status: Status, binding: tuple[str, ...],
          seconds: float) -> RotaResult:
    """The `RotaResult` of no rota: no shift, nobody on the phones, and `binding` rules."""
    zero = {skill: np.zeros((problem.days, problem.per_day), dtype=np.int64)
            for skill in problem.skills}
    return result(problem, status, (), zero, None, None, None, seconds, binding)
