"""The CP-SAT model behind `rota`: variables, rules, objective, and the infeasibility report.

Imported by `rota` only when a rota is solved, because importing OR-Tools takes a while.

Coverage is counted per template rather than per person, in both modes: an integer variable
per (day, template, skill) holds how many agents work it, and breaks are counted per interval
of the horizon for each skill and length (`_place_breaks`). Agents working the same template
on the same day are interchangeable for coverage, so breaks are handed to the named staff
afterwards, in order; this keeps the coverage constraints small however many people there are.

The anonymous model is solved on the convex hull of each shortfall's cost first, and exactly
only when that rota costs more under the exact tables (`_solve_counts`). A large named roster
is decomposed: relaxation, greedy rota under every rule, local moves, breaks placed on the
fixed shifts (`_solve_decomposed`).

When the model is infeasible it is built again without the objective, with every group of
hard rules (one member of staff's contract, their leave on one day, the hard minimum of one
skill on one day...) switched on by an assumption literal. CP-SAT returns a set of assumptions
that cannot hold together (its sufficient assumptions for infeasibility); dropping those that
turn out not to be needed leaves the binding rules, reported in words.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from serviceops.workforce.rota import (
    AVERAGE_WEEKLY_HOURS_CAP,
    DAILY_REST_MINUTES,
    DAY,
    WEEKLY_REST_MINUTES,
    Assignment,
    Problem,
    RotaResult,
    Shift,
    Staff,
    Status,
    Weights,
    clock,
    day_label,
)

_STATUS = {cp_model.OPTIMAL: Status.OPTIMAL, cp_model.FEASIBLE: Status.FEASIBLE,
           cp_model.INFEASIBLE: Status.INFEASIBLE}
# Seconds allowed to shrink the set of binding rules, on top of the first diagnosis.
_DIAGNOSIS_SECONDS = 20.0
# A named rota is decomposed (see `_solve_decomposed`) above this many person-shift choices.
_EXACT_NAMED_CHOICES = 20_000
# The share of the time limit given to the relaxation of a decomposed named rota, and of
# the time left after the greedy rota that is kept for placing its breaks.
_RELAXATION_SHARE = 0.25
_BREAKS_SHARE = 0.4
# The share of the time limit a decomposed roster keeps back for CP-SAT's overrun on a busy
# machine and for reading the rota out.
_MARGIN_SHARE = 0.1


def solve(problem: Problem, staff: list[Staff] | None, weights: Weights, *, time_limit: float,
          workers: int, seed: int, method: str = "auto") -> RotaResult:
    """Build and solve the rota model; on infeasibility, find the rules that bind."""
    started = time.perf_counter()
    if staff is None:
        return _solve_counts(problem, weights, started + time_limit, workers, seed)
    if method != "exact":
        eligible = _eligible(problem, staff)
        choices = sum(len(ts) for days in eligible for ts in days)
        if method == "decomposed" or choices > _EXACT_NAMED_CHOICES:
            return _solve_decomposed(problem, staff, eligible, weights, started + time_limit,
                                     workers, seed)
    model = _RotaModel(problem, staff, weights, diagnose=False)
    solver = _solver(max(0.1, time_limit - (time.perf_counter() - started)), workers, seed)
    status = solver.solve(model.m)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return model.result(solver, _STATUS[status], time.perf_counter() - started)
    return _failed(problem, staff, weights, status, seed, started)


def _solve_counts(problem: Problem, weights: Weights, deadline: float, workers: int,
                  seed: int, *, started: float | None = None,
                  fixed: dict[tuple[int, int, str], int] | None = None,
                  names: dict[tuple[int, int, str], list[str]] | None = None,
                  extra: int = 0, floor: float | None = None) -> RotaResult:
    """Solve the anonymous model: first with each shortfall costed by the lower convex hull
    of its loss table, then, only if that optimum is not also optimal for the exact loss, the
    exact model hinted with it.

    The hull never costs more than the table, so the relaxed optimum bounds the exact one
    from below; when the relaxed rota costs the same under the exact tables, it is optimal.
    On the bank's week the shortfalls stay where the tables are convex and the exact model,
    whose element constraints slow the search several times, is never built.

    With `fixed` counts only the breaks are placed, for the named rota of a decomposition:
    `names` are the staff on each shift, `extra` the cost the model leaves out (the weekend
    spread), and `floor` the lower bound known for every rota, which replaces the model's.
    """
    started = time.perf_counter() if started is None else started

    def finish(model: _RotaModel, solver: cp_model.CpSolver, objective: float,
               bound: float) -> RotaResult:
        objective += extra
        bound = min(objective, bound + extra if floor is None else floor)
        status = Status.OPTIMAL if objective - bound < 1e-6 else Status.FEASIBLE
        return model.result(solver, status, time.perf_counter() - started,
                            objective=objective, bound=bound, names=names)

    relaxed = _RotaModel(problem, None, weights, diagnose=False, exact_loss=False, fixed=fixed)
    solver = _counts_solver(deadline, workers, seed)
    status = solver.solve(relaxed.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _failed(problem, None, weights, status, seed, started)
    # Every cost is a whole number; the solver reports floats.
    objective = round(solver.objective_value) + relaxed.loss_error(solver)
    bound = solver.best_objective_bound
    if objective - bound < 1e-6 or deadline - time.perf_counter() < 0.5:
        return finish(relaxed, solver, objective, bound)
    exact = _RotaModel(problem, None, weights, diagnose=False, exact_loss=True, fixed=fixed)
    for key, count in exact.counts.items():
        exact.m.add_hint(count, solver.value(relaxed.counts[key]))
    for pool, hinted in zip(exact.pools, relaxed.pools, strict=True):
        for k, v in pool.taking.items():
            exact.m.add_hint(v, solver.value(hinted.taking[k]))
    check = _counts_solver(deadline, workers, seed)
    status = check.solve(exact.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (
            check.objective_value > objective):
        return finish(relaxed, solver, objective, bound)
    return finish(exact, check, round(check.objective_value),
                  max(bound, check.best_objective_bound))


def _counts_solver(deadline: float, workers: int, seed: int) -> cp_model.CpSolver:
    solver = _solver(max(0.1, deadline - time.perf_counter()), workers, seed)
    # The full linear relaxation (every constraint, the hull cuts included) closes the gap of
    # the count model several times faster; on the named model, with one Boolean per person,
    # shift and day, it slows the search down instead.
    solver.parameters.linearization_level = 2
    return solver


def _failed(problem: Problem, staff: list[Staff] | None, weights: Weights, status,
            seed: int, started: float) -> RotaResult:
    """The result when no rota was found: the binding rules when there is none."""
    binding: tuple[str, ...] = ()
    if status == cp_model.INFEASIBLE:
        binding = _binding(problem, staff, weights, seed)
    return _empty(problem, _STATUS.get(status, Status.UNKNOWN), binding,
                  time.perf_counter() - started)


def _solve_decomposed(problem: Problem, staff: list[Staff], eligible: list[list[list[int]]],
                      weights: Weights, deadline: float, workers: int,
                      seed: int) -> RotaResult:
    """Solve a large named rota in three steps (see `solve_named`'s `method`).

    1. The anonymous relaxation of the named rota (`_anonymous` with `relaxing`) gives the
       shifts worth running and a lower bound on the named rota's objective.
    2. A rota is built by hand under every hard rule (`_greedy`, `_Plan`) and improved by
       local moves while time allows (`_improve`).
    3. Its breaks are placed by the count model with its counts fixed (`_solve_counts`).

    The result's bound is step 1's, so its gap is measured against every rota. CP-SAT on the
    named model itself is not used at this size: limited to the templates step 1 runs, the
    model for 1,000 people took 10 s to build and found no solution from the greedy rota as
    a hint in 30 s.
    """
    started = time.perf_counter()
    span = deadline - started
    relaxed = _RotaModel(problem, None, weights, diagnose=False, exact_loss=False,
                         relaxing=(staff, eligible))
    solver = _counts_solver(started + _RELAXATION_SHARE * span, workers, seed)
    status = solver.solve(relaxed.m)
    if status == cp_model.INFEASIBLE:
        # No anonymous rota, so no named one either: the exact model finds the rules why.
        return solve(problem, staff, weights, time_limit=max(1.0, deadline - started),
                     workers=workers, seed=seed, method="exact")
    if status != cp_model.FEASIBLE and status != cp_model.OPTIMAL:
        return _empty(problem, Status.UNKNOWN, (), time.perf_counter() - started)
    bound = solver.best_objective_bound
    counts = {key: int(solver.value(v)) for key, v in relaxed.counts.items()}
    plans = _greedy(problem, staff, eligible, counts)
    # Keep a share of what is left for placing the breaks of the final rota.
    _improve(problem, staff, eligible, plans, weights,
             deadline - _BREAKS_SHARE * (deadline - time.perf_counter()))
    names: dict[tuple[int, int, str], list[str]] = defaultdict(list)
    for i, plan in enumerate(plans):
        for day, (t, skill) in plan.shifts.items():
            names[day, t, skill].append(staff[i].name)
    # CP-SAT overruns its limit a little on a busy machine, and reading thousands of shifts
    # out takes a moment: keep both within the caller's limit.
    return _solve_counts(problem, weights, deadline - _MARGIN_SHARE * span, workers, seed,
                         started=started,
                         fixed={key: len(people) for key, people in names.items()},
                         names=names, extra=_weekend_spread_cost(problem, staff, plans, weights),
                         floor=bound)


def _improve(problem: Problem, staff: list[Staff], eligible: list[list[list[int]]],
             plans: list[_Plan], weights: Weights, deadline: float) -> None:
    """Improve `plans` in place until `deadline` or no move helps: for each person and day,
    the template that most lowers the cost of coverage (breaks aside), a shift added on a
    free day or dropped, and each shift moved to another day (`_move_days`), whenever every
    rule still holds."""
    p = problem
    starts = np.array([s.start for s in p.shifts])
    lengths = np.array([s.length for s in p.shifts])
    paid = np.array([s.paid for s in p.shifts])
    costs = {skill: _Coverage(p, skill, weights) for skill in p.skills}
    for plan in plans:
        for day, (t, skill) in plan.shifts.items():
            costs[skill].change(day * p.per_day + starts[t], lengths[t], +1)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for i, plan in enumerate(plans):
            if time.perf_counter() > deadline:
                return
            skills = [skill for skill in p.skills if skill in staff[i].skills]
            for day in range(p.days):
                first = day * p.per_day + starts
                best = (-1e-6, None, None)
                current = plan.shifts.get(day)
                if current is not None:
                    t0, k0 = current
                    a0 = day * p.per_day + starts[t0]
                    drop = costs[k0].removing(a0, lengths[t0]) - weights.paid * paid[t0]
                    if plan.paid - paid[t0] >= plan.low and drop < best[0]:
                        best = (drop, None, k0)
                for skill in skills:
                    if current is not None and current[1] != skill:
                        continue
                    ts = np.array([t for t in eligible[i][day] if _serves(p, t, skill)],
                                  dtype=np.int64)
                    if not ts.size:
                        continue
                    delta = costs[skill].moving(first[ts], lengths[ts],
                                                None if current is None else a0,
                                                None if current is None else lengths[t0])
                    delta = delta + weights.paid * (paid[ts] - (0 if current is None
                                                                 else paid[t0]))
                    for j in np.argsort(delta, kind="stable"):
                        if delta[j] >= best[0]:
                            break
                        t = int(ts[j])
                        if current is not None and (t == current[0] or (
                                plan.paid - paid[t0] + paid[t] < min(plan.low, plan.paid))):
                            continue  # the same shift, or one that breaks the minimum
                        if current is not None:
                            del plan.shifts[day]
                            plan.paid -= paid[t0]
                        fits = plan.fits(day, t)
                        if current is not None:
                            plan.add(day, t0, k0)
                        if fits:
                            best = (delta[j], t, skill)
                            break
                if best[2] is None:
                    continue
                _, t, skill = best
                if current is not None:
                    del plan.shifts[day]
                    plan.paid -= paid[t0]
                    costs[k0].change(a0, lengths[t0], -1)
                if t is not None:
                    plan.add(day, t, skill)
                    costs[skill].change(day * p.per_day + starts[t], lengths[t], +1)
                improved = True
            improved |= _move_days(p, staff[i], eligible[i], plan, costs, weights)


def _move_days(problem: Problem, person: Staff, eligible: list[list[int]], plan: _Plan,
               costs: dict[str, _Coverage], weights: Weights) -> bool:
    """Move each of `plan`'s shifts to the free day and template where it lowers the cost of
    coverage most, if any does and every rule still holds. Returns whether one moved."""
    p, moved = problem, False
    starts = np.array([s.start for s in p.shifts])
    lengths = np.array([s.length for s in p.shifts])
    paid = np.array([s.paid for s in p.shifts])
    firsts = np.arange(p.days)[:, None] * p.per_day + starts[None, :]
    for day in list(plan.shifts):
        t0, skill = plan.shifts[day]
        a0 = day * p.per_day + starts[t0]
        saving = costs[skill].removing(a0, lengths[t0]) - weights.paid * paid[t0]
        del plan.shifts[day]
        plan.paid -= paid[t0]
        costs[skill].change(a0, lengths[t0], -1)
        allowed = np.zeros(firsts.shape, dtype=bool)
        for other in range(p.days):
            if other != day and other not in plan.shifts:
                allowed[other, [t for t in eligible[other] if _serves(p, t, skill)]] = True
        # Never further below the contract minimum than before the move.
        allowed &= (plan.paid + paid >= min(plan.low, plan.paid + paid[t0]))[None, :]
        delta = costs[skill].moving(firsts.ravel(), np.tile(lengths, p.days), None, None)
        delta = delta.reshape(firsts.shape) + weights.paid * paid[None, :] + saving
        delta = np.where(allowed, delta, np.inf)
        choice = None
        for flat in np.argsort(delta, axis=None, kind="stable"):
            other, t = divmod(int(flat), len(p.shifts))
            if delta[other, t] >= -1e-6:
                break
            if plan.fits(other, t):
                choice = (other, t)
                break
        if choice is None:
            choice = (day, t0)
        else:
            moved = True
        plan.add(choice[0], choice[1], skill)
        costs[skill].change(choice[0] * p.per_day + starts[choice[1]], lengths[choice[1]], +1)
    return moved


class _Coverage:
    """Agents per interval of one skill (breaks aside) and what one more or one fewer in
    each interval would change in the objective, as running sums over a doubled horizon so
    that any shift's change is two look-ups."""

    def __init__(self, problem: Problem, skill: str, weights: Weights) -> None:
        self.horizon = problem.days * problem.per_day
        self.cyclic = problem.cyclic
        self.need = np.asarray(problem.requirement.required[skill], dtype=np.int64).ravel()
        table = problem.loss[skill].reshape(self.horizon, -1) * weights.under
        # Cost of being s short, s = 0..need, then over-staffing at `over` an agent.
        self.table, self.over = table, weights.over
        self.agents = np.zeros(self.horizon, dtype=np.int64)
        self._sums()

    def _cost(self, agents: np.ndarray) -> np.ndarray:
        short = np.clip(self.need - agents, 0, self.need)
        cost = np.take_along_axis(self.table, short[:, None], axis=1)[:, 0]
        return cost + self.over * np.maximum(agents - self.need, 0)

    def _sums(self) -> None:
        now = self._cost(self.agents)
        more = self._cost(self.agents + 1) - now
        fewer = self._cost(np.maximum(self.agents - 1, 0)) - now
        pad = (lambda a: np.concatenate([a, a])) if self.cyclic else (
            lambda a: np.concatenate([a, np.zeros_like(a)]))
        self.more = np.concatenate([[0.0], np.cumsum(pad(more))])
        self.fewer = np.concatenate([[0.0], np.cumsum(pad(fewer))])

    def change(self, first: int, length: int, by: int) -> None:
        slots = np.arange(first, first + length)
        if self.cyclic:
            slots %= self.horizon
        else:
            slots = slots[slots < self.horizon]
        self.agents[slots] += by
        self._sums()

    def removing(self, first: int, length: int) -> float:
        return float(self.fewer[first + length] - self.fewer[first])

    def moving(self, firsts: np.ndarray, lengths: np.ndarray, old_first: int | None,
               old_length: int | None) -> np.ndarray:
        """The change of cost of starting each of `firsts` (with `lengths`) instead of the
        shift at `old_first`, if any, on the same day."""
        ends = firsts + lengths
        added = self.more[ends] - self.more[firsts]
        if old_first is None:
            return added
        old_end = old_first + old_length
        low, high = np.maximum(firsts, old_first), np.minimum(ends, old_end)
        both = np.where(high > low, 1, 0)
        high = np.where(both, high, low)
        overlap_more = self.more[high] - self.more[low]
        overlap_fewer = self.fewer[high] - self.fewer[low]
        removed = self.fewer[old_end] - self.fewer[old_first]
        return added - overlap_more + removed - overlap_fewer


def _weekend_spread_cost(problem: Problem, staff: list[Staff], plans: list[_Plan],
                         weights: Weights) -> int:
    """The weekend term of the objective (`_RotaModel._weekend_spread`) for `plans`."""
    weekend = [d for d in range(problem.days)
               if (problem.requirement.first_weekday + d) % 7 >= 5]
    counts = [sum(d in plan.shifts for d in weekend) for person, plan in zip(
        staff, plans, strict=True)
        if not set(weekend) & set(person.leave) and not {5, 6} & set(person.days_off)]
    if not weekend or len(counts) < 2:
        return 0
    return weights.weekend_spread * (max(counts) - min(counts))


class _Plan:
    """One person's rota while it is built by hand, and the hard rules it must keep (those
    `_person_rules` and `_weekly_rules` set, tested on the shifts chosen so far)."""

    def __init__(self, problem: Problem, person: Staff, eligible: list[list[int]]) -> None:
        self.p, self.person, self.eligible = problem, person, eligible
        self.days, self.cyclic = problem.days, problem.cyclic
        self.low, high, cap = _paid_limits(problem, person)
        self.high = high if cap is None else min(high, cap)
        self.shifts: dict[int, tuple[int, str]] = {}
        self.paid = 0
        weeks = self.days // 7
        # Days without a shift start that the weekly rest and the run of days off imply.
        off = max(weeks, person.consecutive_days_off) if weeks else 0
        self.most_shifts = min(sum(1 for ts in eligible if ts), self.days - off)

    def add(self, day: int, t: int, skill: str) -> None:
        self.shifts[day] = (t, skill)
        self.paid += self.p.shifts[t].paid

    def fits(self, day: int, t: int) -> bool:
        """Whether starting template `t` on `day` keeps every rule."""
        if day in self.shifts or self.paid + self.p.shifts[t].paid > self.high:
            return False
        self.shifts[day] = (t, "")
        try:
            return self._rests_hold(day) and self._weeks_hold()
        finally:
            del self.shifts[day]

    def _wrap(self, day: int) -> int | None:
        if 0 <= day < self.days:
            return day
        return day % self.days if self.cyclic else None

    def _times(self, day: int | None) -> tuple[int, int] | None:
        if day is None or day not in self.shifts:
            return None
        shift = self.p.shifts[self.shifts[day][0]]
        return shift.start_minute, shift.start_minute + shift.minutes

    def _rests_hold(self, day: int) -> bool:
        for apart in (1, 2):
            if apart == 2 and self.days <= 2:
                continue
            for first, later in ((self._wrap(day - apart), day), (day, self._wrap(day + apart))):
                a, b = self._times(first), self._times(later)
                if a and b and apart * DAY + b[0] - a[1] < DAILY_REST_MINUTES:
                    return False
        return True

    def _weeks_hold(self) -> bool:
        run = self.person.consecutive_days_off
        for week in range(self.days // 7):
            block = range(7 * week, 7 * week + 7)
            if not any(self._rests(day) for day in block):
                return False
            if run and not any(self._off(first, run) for first in block):
                return False
        return True

    def _rests(self, day: int) -> bool:
        if day in self.shifts:
            return False
        before, after = self._times(self._wrap(day - 1)), self._times(self._wrap(day + 1))
        return not (before and after) or 2 * DAY + after[0] - before[1] >= WEEKLY_REST_MINUTES

    def _off(self, first: int, run: int) -> bool:
        span = [self._wrap(first + k) for k in range(run)]
        return None not in span and not any(d in self.shifts for d in span)


def _greedy(problem: Problem, staff: list[Staff], eligible: list[list[list[int]]],
            counts: dict[tuple[int, int, str], int]) -> list[_Plan]:
    """Make a rota for the staff under every rule, guided by `counts` (the relaxation's).

    First each contract minimum is met, the people with the least room for it first, with
    shifts at least as long as their remaining hours need on average: those `counts` runs
    first, then those covering the most agent-intervals still short; when that fails, the
    person's rota is made again from one template, whose equal start times cannot break a
    rest rule. Then the shifts of `counts` not yet worked go to whoever may take them, the
    busiest days first, to those below their minimum and else the least used. A minimum may
    stay unmet.
    """
    p = problem
    plans = [_Plan(p, person, eligible[i]) for i, person in enumerate(staff)]
    index = {skill: k for k, skill in enumerate(p.skills)}
    left = np.zeros((len(p.skills), p.days, len(p.shifts)), dtype=np.int64)
    for (day, t, skill), n in counts.items():
        left[index[skill], day, t] = n
    short = np.stack([np.asarray(p.requirement.required[skill], dtype=np.int64).ravel()
                      for skill in p.skills])
    serves = np.array([[_serves(p, t, skill) for t in range(len(p.shifts))]
                       for skill in p.skills])
    paid = np.array([shift.paid for shift in p.shifts])
    top = 2 * p.days * p.per_day * max(1, len(p.shifts))  # above any count of gaps

    from_left: list[set[int]] = [set() for _ in staff]  # days whose shift `left` gave

    def take(i: int, day: int, t: int, k: int) -> None:
        plans[i].add(day, t, p.skills[k])
        short[k][_shift_slots(p, day, t)] -= 1
        if left[k, day, t] > 0:
            left[k, day, t] -= 1
            from_left[i].add(day)

    def undo(i: int) -> None:
        for day, (t, skill) in plans[i].shifts.items():
            short[index[skill]][_shift_slots(p, day, t)] += 1
            if day in from_left[i]:
                left[index[skill], day, t] += 1
        from_left[i].clear()
        plans[i] = _Plan(p, staff[i], eligible[i])

    def fill(i: int, templates: np.ndarray | None) -> None:
        plan = plans[i]
        allowed = np.zeros((p.days, len(p.shifts)), dtype=bool)
        for day in range(p.days):
            if day not in plan.shifts:
                allowed[day, eligible[i][day]] = True
        if templates is not None:
            allowed &= templates[None, :]
        skills = [index[skill] for skill in staff[i].skills]
        while plan.paid < plan.low:
            average = (plan.low - plan.paid) / max(1, plan.most_shifts - len(plan.shifts))
            best = None
            for k in skills:
                score = ((paid >= average)[None, :] * (2 * top) + (left[k] > 0) * top
                         + _uncovered(p, short[k]))
                score = np.where(allowed & serves[k][None, :], score, -1)
                for flat in np.argsort(-score, axis=None, kind="stable"):
                    day, t = divmod(int(flat), len(p.shifts))
                    if score[day, t] < 0:
                        break
                    if plan.fits(day, t):
                        if best is None or score[day, t] > best[0]:
                            best = (score[day, t], day, t, k)
                        break
            if best is None:
                return
            take(i, *best[1:])
            allowed[best[1], :] = False

    people = _people_per_shift(p, staff, eligible)

    def hand_out() -> None:
        # The busiest days first (for the share of their people they need), then by start.
        load = left.sum(axis=(0, 2)) / np.maximum(1, [sum(1 for e in eligible if e[d])
                                                      for d in range(p.days)])
        for k, day, t in sorted(zip(*np.nonzero(left), strict=True),
                                key=lambda kdt: (-load[kdt[1]], p.shifts[kdt[2]].start)):
            day, t, k = int(day), int(t), int(k)

            order = sorted(people.get((day, t, p.skills[k]), ()),
                           key=lambda i, length=paid[t]: _suits(plans[i], length))
            for i in order:
                if left[k, day, t] == 0:
                    break
                if plans[i].fits(day, t):
                    take(i, day, t, k)

    room = sorted((i for i, plan in enumerate(plans) if plan.low > 0),
                  key=lambda i: plans[i].most_shifts * plans[i].high / plans[i].low)
    for i in room:
        fill(i, None)
        if plans[i].paid < plans[i].low:
            undo(i)
            usable = [t for t in range(len(p.shifts))
                      if sum(t in ts for ts in eligible[i]) * paid[t] >= plans[i].low]
            for t in sorted(usable, key=lambda t: paid[t]):
                fill(i, np.arange(len(p.shifts)) == t)
                if plans[i].paid >= plans[i].low:
                    break
                undo(i)
    hand_out()
    return plans


def _suits(plan: _Plan, length: int) -> tuple:
    """Who takes a shift of `length` paid intervals first: those below their minimum, the
    one whose remaining hours need a shift nearest that length; then the least used."""
    need = plan.low - plan.paid
    if need > 0:
        return (0, abs(need / max(1, plan.most_shifts - len(plan.shifts)) - length))
    return (1, plan.paid / max(1, plan.high))


def _shift_slots(problem: Problem, day: int, t: int) -> np.ndarray:
    shift = problem.shifts[t]
    slots = day * problem.per_day + shift.start + np.arange(shift.length)
    horizon = problem.days * problem.per_day
    return slots % horizon if problem.cyclic else slots[slots < horizon]


def _uncovered(problem: Problem, short: np.ndarray) -> np.ndarray:
    """For each (day, template), the agent-intervals still short that it would cover."""
    horizon = problem.days * problem.per_day
    wanted = np.maximum(short, 0)
    wanted = np.concatenate([wanted, wanted if problem.cyclic else np.zeros_like(wanted)])
    total = np.concatenate([[0], np.cumsum(wanted)])
    first = (np.arange(problem.days)[:, None] * problem.per_day
             + np.array([s.start for s in problem.shifts])[None, :])
    last = np.minimum(first + np.array([s.length for s in problem.shifts])[None, :],
                      2 * horizon)
    return total[last] - total[first]


def _solver(time_limit: float, workers: int, seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    return solver


def _binding(problem: Problem, staff: list[Staff] | None, weights: Weights,
             seed: int) -> tuple[str, ...]:
    """The groups of hard rules that cannot all hold, as sentences naming their inputs."""
    model = _RotaModel(problem, staff, weights, diagnose=True)
    # Assumptions are honoured by the single-threaded search.
    solver = _solver(_DIAGNOSIS_SECONDS, 1, seed)
    if solver.solve(model.m) != cp_model.INFEASIBLE:
        return ("the rules could not be told apart within the time limit",)
    core = list(solver.sufficient_assumptions_for_infeasibility())
    deadline = time.perf_counter() + _DIAGNOSIS_SECONDS
    for literal in list(core):
        if time.perf_counter() > deadline:
            break
        trial = [other for other in core if other != literal]
        model.m.clear_assumptions()
        model.m.add_assumptions([model.literal(index) for index in trial])
        check = _solver(max(0.1, deadline - time.perf_counter()), 1, seed)
        if check.solve(model.m) == cp_model.INFEASIBLE:
            core = trial
    return tuple(sorted(model.reasons[index] for index in core))


class _RotaModel:
    """The CP-SAT model of one rota problem (see the module docstring)."""

    def __init__(self, problem: Problem, staff: list[Staff] | None, weights: Weights, *,
                 diagnose: bool, exact_loss: bool = True,
                 relaxing: tuple[list[Staff], list[list[list[int]]]] | None = None,
                 allowed: list[list[set[int]]] | None = None,
                 fixed: dict[tuple[int, int, str], int] | None = None) -> None:
        """`relaxing`: staff whose named rota the anonymous model relaxes, and the templates
        each may start per day (see `_anonymous`);
        `allowed[i][day]`: the only templates person i may start that day (all when None);
        `fixed`: the number of agents on each (day, template, skill), none elsewhere (the
        model then only places the breaks)."""
        self.p, self.staff, self.weights, self.diagnose = problem, staff, weights, diagnose
        self.exact_loss = exact_loss
        # (shortfall, its cost table, the cost in the model) where the table is not convex.
        self.nonconvex: list[tuple[cp_model.IntVar, list[int], cp_model.IntVar]] = []
        self.m = cp_model.CpModel()
        self.reasons: dict[int, str] = {}
        self._literals: dict[str, cp_model.IntVar] = {}
        self.step = problem.requirement.interval_minutes
        self.horizon = problem.days * problem.per_day
        self.counts: dict[tuple[int, int, str], cp_model.IntVar] = {}
        self.fixed: list[_Job] = []
        self.pools: list[_Pool] = []
        self.explicit: list[tuple[_Job, int, list[tuple[int, cp_model.IntVar]]]] = []
        self.people: dict[tuple[int, int, str], list[tuple[int, cp_model.IntVar]]] = {}
        # Upper and (where above 0) lower bounds of the count and break variables.
        self.caps: dict[int, int] = {}
        self.floors: dict[int, int] = {}
        self.work: dict[str, list] = {}
        self.objective: list = []
        if fixed is not None:
            for (day, t, skill), n in fixed.items():
                count = self._count(day, t, skill, n)
                self.m.add(count == n)
                self.floors[count.index] = n
        elif staff is None:
            self._anonymous(relaxing)
        else:
            self._named(staff, allowed)
        self._place_breaks()
        self._coverage()
        if not diagnose:
            self.m.minimize(sum(self.objective))

    # --- Hard rules that can be switched off for the diagnosis ------------------------------

    def rule(self, reason: str):
        """The literal that switches on the rules of `reason` (None when not diagnosing)."""
        if not self.diagnose:
            return None
        if reason not in self._literals:
            literal = self.m.new_bool_var(reason)
            self._literals[reason] = literal
            self.reasons[literal.index] = reason
            self.m.add_assumption(literal)
        return self._literals[reason]

    def literal(self, index: int) -> cp_model.IntVar:
        return self._literals[self.reasons[index]]

    def hard(self, constraint, reason: str, *conditions) -> None:
        """Enforce `constraint` when every one of `conditions` holds (always, without any),
        under the switch of `reason` when diagnosing."""
        literal = self.rule(reason)
        enforce = [*conditions, *([literal] if literal is not None else [])]
        if enforce:
            constraint.only_enforce_if(enforce)

    # --- Variables ------------------------------------------------------------------------

    def _count(self, day: int, t: int, skill: str, cap: int) -> cp_model.IntVar:
        count = self.m.new_int_var(0, cap, f"n_{day}_{t}_{skill}")
        self.counts[day, t, skill] = count
        self.caps[count.index] = cap
        self.objective.append(self.weights.paid * self.p.shifts[t].paid * count)
        return count

    def _place_breaks(self) -> None:
        """Variables for where the breaks of every counted shift fall.

        A break with one possible offset needs none. The others are grouped by skill and
        length; when no window of a group lies strictly inside another (the usual case: one
        window per template, placed alike), the group is a pool of counts per interval of the
        horizon, with a queue of breaks owed, since first-come first-served then hands every
        break to a shift whose window holds it. This keeps one variable per interval instead
        of one per shift and offset, and drops the many equivalent ways of swapping breaks
        between templates. Any other group gets a count per shift and offset.
        """
        groups: dict[tuple[str, int], list[_Job]] = defaultdict(list)
        for (day, t, skill), count in self.counts.items():
            shift = self.p.shifts[t]
            base = day * self.p.per_day + shift.start
            for b, slot in enumerate(shift.breaks):
                job = _Job(base + slot.first, base + slot.last, day, t, skill, b, count)
                if slot.first == slot.last:
                    self.fixed.append(job)
                else:
                    groups[skill, slot.length].append(job)
        for (skill, length), jobs in groups.items():
            jobs.sort(key=lambda j: (j.first, j.last))
            if all(a.last <= b.last for a, b in zip(jobs, jobs[1:], strict=False)):
                self.pools.append(self._pool(skill, length, jobs))
            else:
                for job in jobs:
                    self.explicit.append((job, length, self._offsets(job)))

    def _offsets(self, job: _Job) -> list[tuple[int, cp_model.IntVar]]:
        cap = self.caps[job.count.index]
        offsets = [(k, self.m.new_int_var(0, cap, f"b_{job.day}_{job.t}_{job.skill}_{job.b}_{k}"))
                   for k in range(job.first, job.last + 1)]
        for _, v in offsets:
            self.caps[v.index] = cap
        self.m.add(sum(v for _, v in offsets) == job.count)
        return offsets

    def _pool(self, skill: str, length: int, jobs: list[_Job]) -> _Pool:
        """Breaks taken per interval, for jobs sorted by window (see `_place_breaks`).

        `owed` after interval k is the number of shifts whose window has opened and whose
        break has not started yet: it never goes below zero (a break is taken only by a shift
        whose window is open) and never exceeds the shifts whose window is still open after k
        (no break is left past its window's end).
        """
        first, last = jobs[0].first, max(j.last for j in jobs)
        opening: dict[int, list] = defaultdict(list)
        for job in jobs:
            opening[job.first].append(job.count)
        taking, owed = {}, None
        for k in range(first, last + 1):
            open_at = [j.count for j in jobs if j.first <= k <= j.last]
            still_open = [j.count for j in jobs if j.first <= k < j.last]
            cap = sum(self.caps[c.index] for c in open_at)
            taking[k] = self.m.new_int_var(0, cap, f"w_{skill}_{length}_{k}")
            self.caps[taking[k].index] = cap
            after = self.m.new_int_var(0, sum(self.caps[c.index] for c in still_open),
                                       f"owed_{skill}_{length}_{k}")
            self.m.add(after == (owed if owed is not None else 0) + sum(opening[k])
                       - taking[k])
            self.m.add(after <= sum(still_open))
            owed = after
        return _Pool(skill, length, jobs, taking)

    def _serves(self, t: int, skill: str) -> bool:
        return _serves(self.p, t, skill)

    def _anonymous(self, relaxing: tuple[list[Staff], list[list[list[int]]]] | None) -> None:
        """Counts per (day, template, skill), up to the largest requirement or hard minimum;
        or, relaxing a named rota, up to the people who may work that shift, with the totals
        their rules imply: one shift a day each (also among the shifts some of them may not
        start), a day off a week each, and the sums of their contract minimum and maximum
        hours (so that its optimum bounds the named rota's)."""
        req, p = self.p.requirement, self.p
        if relaxing is not None:
            staff, eligible = relaxing
            for (day, t, skill), people in _people_per_shift(p, staff, eligible).items():
                self._count(day, t, skill, len(people))
            self._staff_totals(staff, eligible)
            return
        for skill in p.skills:
            cap = int(np.asarray(req.required[skill]).max(initial=0))
            if req.minimum is not None and skill in req.minimum:
                cap = max(cap, int(np.asarray(req.minimum[skill]).max(initial=0)))
            if cap == 0:
                continue
            for day in range(p.days):
                for t in range(len(p.shifts)):
                    if self._serves(t, skill):
                        self._count(day, t, skill, cap)

    def _staff_totals(self, staff: list[Staff], eligible: list[list[list[int]]]) -> None:
        p = self.p
        per_day = defaultdict(list)
        for (day, t, _), count in self.counts.items():
            per_day[day].append((t, count))
        for day, counts in per_day.items():
            self.m.add(sum(c for _, c in counts)
                       <= sum(1 for i in range(len(staff)) if eligible[i][day]))
            # The shifts outside what a group of people may start (morning-only staff, say)
            # go to the others: one such constraint per distinct set of templates.
            for group in {frozenset(eligible[i][day]) for i in range(len(staff))}:
                outside = [c for t, c in counts if t not in group]
                if group and outside:
                    self.m.add(sum(outside) <= sum(
                        1 for i in range(len(staff))
                        if not group.issuperset(eligible[i][day])))
        for week in range(p.days // 7):
            block = range(7 * week, 7 * week + 7)
            self.m.add(sum(c for d in block for _, c in per_day[d])
                       <= sum(min(6, sum(1 for d in block if eligible[i][d]))
                              for i in range(len(staff))))
        paid = sum(p.shifts[t].paid * c for counts in per_day.values() for t, c in counts)
        limits = [_paid_limits(p, person) for person in staff]
        self.m.add(paid >= sum(max(0, low) for low, _, _ in limits))
        self.m.add(paid <= sum(min(high, high if cap is None else cap)
                               for _, high, cap in limits))

    # --- Named staff and the Working Time rules ---------------------------------------------

    def _named(self, staff: list[Staff], allowed: list[list[set[int]]] | None) -> None:
        p, shifts = self.p, self.p.shifts
        days = p.days
        works = [[[[] for _ in shifts] for _ in range(days)] for _ in staff]
        for i, person in enumerate(staff):
            for day in range(days):
                for t, shift in enumerate(shifts):
                    if allowed is not None and t not in allowed[i][day]:
                        continue
                    reasons = _forbidden(p, person, day, shift)
                    if reasons and not self.diagnose:
                        continue
                    for skill in p.skills:
                        if skill not in person.skills or not self._serves(t, skill):
                            continue
                        y = self.m.new_bool_var(f"y_{i}_{day}_{t}_{skill}")
                        for reason in reasons:
                            self.hard(self.m.add(y == 0), reason)
                        works[i][day][t].append(y)
                        self.people.setdefault((day, t, skill), []).append((i, y))
        for (day, t, skill), members in self.people.items():
            self.m.add(self._count(day, t, skill, len(members)) == sum(y for _, y in members))
        for i, person in enumerate(staff):
            self._person_rules(person, works[i])
        self._weekend_spread(staff)
    def _day(self, day: int) -> int | None:
        return _wrap(self.p, day)

    def _person_rules(self, person: Staff, works: list[list[list]]) -> None:
        """One shift a day, contract hours, the 48-hour average and the rest rules.

        Per day, `work` says whether a shift starts, and `start` and `end` are its minutes
        from that day's midnight, so that each rest rule is one short constraint between two
        days, whichever templates they hold.
        """
        p, shifts, name = self.p, self.p.shifts, person.name
        days, latest = p.days, 2 * DAY
        work, start, end, paid = [], [], [], []
        for day in range(days):
            pairs = [(t, y) for t in range(len(shifts)) for y in works[day][t]]
            w = self.m.new_bool_var(f"work_{name}_{day}")
            self.m.add(sum(y for _, y in pairs) == w)
            st = self.m.new_int_var(0, latest, f"start_{name}_{day}")
            en = self.m.new_int_var(0, latest, f"end_{name}_{day}")
            self.m.add(st == sum(shifts[t].start_minute * y for t, y in pairs))
            self.m.add(en == sum((shifts[t].start_minute + shifts[t].minutes) * y
                                 for t, y in pairs))
            work.append(w)
            start.append(st)
            end.append(en)
            paid += [shifts[t].paid * y for t, y in pairs]
        self.work[name] = work
        paid = sum(paid)
        low, high, cap = _paid_limits(p, person)
        leave_days = len(person.leave)
        if low > 0:
            self.hard(self.m.add(paid >= low),
                      f"{name}: contract minimum of {person.min_weekly_hours:g} h a week "
                      f"({low * self.step / 60:g} h over the {days} days"
                      + (f", {leave_days} on leave)" if leave_days else ")"))
        self.hard(self.m.add(paid <= high),
                  f"{name}: contract maximum of {person.max_weekly_hours:g} h a week")
        if cap is not None:
            self.hard(self.m.add(paid <= cap),
                      f"{name}: the 48 h average working week (Working Time Regulations)")
        reason = f"{name}: 11 h daily rest between shifts (Working Time Regulations)"
        for day in range(days):
            # A shift lasts at most 24 h, so only the next two days can start too soon; when
            # the day between is worked, its own two rests imply this one.
            for apart in (1, 2):
                later = self._day(day + apart)
                if later is not None and (apart == 1 or days > 2):
                    self.hard(self.m.add(apart * DAY + start[later] - end[day]
                                         >= DAILY_REST_MINUTES), reason, work[day], work[later])
        self._weekly_rules(person, work, start, end)

    def _weekly_rules(self, person: Staff, work: list, start: list, end: list) -> None:
        """In each full week: a day with no shift start and 24 h between the shifts either
        side of it, and the run of consecutive days off."""
        p, name = self.p, person.name
        for week in range(p.days // 7):
            block = range(7 * week, 7 * week + 7)
            rests = []
            for day in block:
                rest = self.m.new_bool_var(f"rest_{name}_{day}")
                rests.append(rest)
                self.m.add_implication(rest, ~work[day])
                before, after = self._day(day - 1), self._day(day + 1)
                if before is not None and after is not None:
                    self.m.add(2 * DAY + start[after] - end[before] >= WEEKLY_REST_MINUTES
                               ).only_enforce_if([rest, work[before], work[after]])
            self.hard(self.m.add(sum(rests) >= 1),
                      f"{name}: 24 h weekly rest in week {week + 1} (Working Time "
                      f"Regulations)")
            run = person.consecutive_days_off
            if run:
                starts = []
                for first in block:
                    span = [self._day(first + k) for k in range(run)]
                    if None in span:
                        continue
                    off = self.m.new_bool_var(f"off_{name}_{first}")
                    starts.append(off)
                    for d in span:
                        self.m.add_implication(off, ~work[d])
                self.hard(self.m.add(sum(starts) >= 1),
                          f"{name}: {run} consecutive days off in week {week + 1}")

    def _weekend_spread(self, staff: list[Staff]) -> None:
        p = self.p
        weekend = [d for d in range(p.days) if (p.requirement.first_weekday + d) % 7 >= 5]
        eligible = [s for s in staff
                    if not set(weekend) & set(s.leave) and not {5, 6} & set(s.days_off)]
        if self.diagnose or not weekend or len(eligible) < 2 or not self.weights.weekend_spread:
            return
        most = self.m.new_int_var(0, len(weekend), "weekend_most")
        fewest = self.m.new_int_var(0, len(weekend), "weekend_fewest")
        for s in eligible:
            count = sum(self.work[s.name][d] for d in weekend)
            self.m.add(most >= count)
            self.m.add(fewest <= count)
        self.objective.append(self.weights.weekend_spread * (most - fewest))

    # --- Coverage, the service-level objective and the hard minimum --------------------------

    def _slots(self, first: int, length: int):
        """Intervals of the horizon that `length` intervals from `first` cover (counted from
        the start of the horizon, wrapped on a cyclic rota, cut otherwise)."""
        for g in range(first, first + length):
            if g >= self.horizon:
                if not self.p.cyclic:
                    return
                g -= self.horizon
            yield g

    def terms(self) -> dict[str, list[list]]:
        """For each skill and interval of the horizon, the (coefficient, variable) pairs whose
        sum is the agents on the phones."""
        terms = {skill: [[] for _ in range(self.horizon)] for skill in self.p.skills}
        for (day, t, skill), count in self.counts.items():
            shift = self.p.shifts[t]
            for g in self._slots(day * self.p.per_day + shift.start, shift.length):
                terms[skill][g].append((1, count))
        taken = [(job.skill, job.first, job.count, self.p.shifts[job.t].breaks[job.b].length)
                 for job in self.fixed]
        for job, length, offsets in self.explicit:
            taken += [(job.skill, k, v, length) for k, v in offsets]
        for pool in self.pools:
            taken += [(pool.skill, k, v, pool.length) for k, v in pool.taking.items()]
        for skill, first, v, length in taken:
            for g in self._slots(first, length):
                terms[skill][g].append((-1, v))
        return terms

    def break_starts(self, solver: cp_model.CpSolver) -> dict[tuple[int, int, str, int], list]:
        """Where each break of each counted shift starts, one entry per agent, in intervals
        from the start of the horizon."""
        starts: dict[tuple[int, int, str, int], list[int]] = {}
        for job in self.fixed:
            starts[job.key] = [job.first] * int(solver.value(job.count))
        for job, _, offsets in self.explicit:
            starts[job.key] = [k for k, v in offsets for _ in range(int(solver.value(v)))]
        for pool in self.pools:
            # First come, first served: the jobs are sorted by window, and so are the breaks.
            taken = iter(k for k, v in pool.taking.items() for _ in range(int(solver.value(v))))
            for job in pool.jobs:
                starts[job.key] = [next(taken) for _ in range(int(solver.value(job.count)))]
        return starts

    def _coverage(self) -> None:
        req, per_day = self.p.requirement, self.p.per_day
        for skill, by_interval in self.terms().items():
            required = np.asarray(req.required[skill]).ravel()
            minimum = None
            if req.minimum is not None and skill in req.minimum:
                minimum = np.asarray(req.minimum[skill]).ravel()
            loss = self.p.loss[skill].reshape(self.horizon, -1)
            for g, pairs in enumerate(by_interval):
                on_phones = sum(c * v for c, v in pairs)
                if minimum is not None and minimum[g] > 0:
                    self.hard(self.m.add(on_phones >= int(minimum[g])),
                              self._minimum_reason(skill, g // per_day))
                if self.diagnose:
                    continue
                need = int(required[g])
                if need == 0:
                    if pairs:
                        self.objective.append(self.weights.over * on_phones)
                    continue
                most = sum(self.caps.get(v.index, 0) for c, v in pairs if c > 0)
                least = sum(self.floors.get(v.index, 0) if c > 0 else
                            -self.caps.get(v.index, 0) for c, v in pairs)
                fewest = max(0, need - most)
                largest = max(fewest, min(need, need - least))
                short = self.m.new_int_var(fewest, largest, f"short_{skill}_{g}")
                over = self.m.new_int_var(0, max(0, most - need), f"over_{skill}_{g}")
                self.m.add(on_phones + short - over == need)
                self.objective.append(self.weights.over * over)
                self._shortfall_cost(short, loss[g, :need + 1], fewest, largest)

    def _shortfall_cost(self, short, loss: np.ndarray, fewest: int, most: int) -> None:
        """Add the service lost with `short` agents missing: the sides of the lower convex
        hull of the integer loss table as linear cuts, exact where the table is convex, and
        the table itself through an element constraint where it is not (unless the model is
        the relaxation, `exact_loss` False). `short` lies from `fewest` to `most`: only that
        part of the table shapes the hull (a narrow one when the shifts are fixed)."""
        cost = [int(round(x)) for x in loss * self.weights.under]
        if all(c == k * cost[1] for k, c in enumerate(cost)):
            self.objective.append(cost[1] * short)
            return
        lost = self.m.new_int_var(cost[fewest], cost[most], f"lost_{short.name}")
        hull = [(a + fewest, b + fewest) for a, b in _lower_hull(cost[fewest:most + 1])]
        for a, b in hull:
            self.m.add((b - a) * lost >= (b - a) * cost[a] + (cost[b] - cost[a]) * (short - a))
        if len(hull) < most - fewest:
            self.nonconvex.append((short, cost, lost))
            if self.exact_loss:
                self.m.add_element(short - fewest, cost[fewest:most + 1], lost)
        self.objective.append(lost)

    def loss_error(self, solver: cp_model.CpSolver) -> int:
        """How much more the solution's shortfalls cost under the exact tables than in the
        model (0 when the model is exact)."""
        return sum(cost[solver.value(short)] - solver.value(lost)
                   for short, cost, lost in self.nonconvex)

    def _minimum_reason(self, skill: str, day: int) -> str:
        req = self.p.requirement
        row = np.asarray(req.minimum[skill])[day]
        hours = np.flatnonzero(row > 0)
        return (f"the hard minimum of up to {int(row.max())} {skill!r} agents on "
                f"{day_label(req, day)} {clock(int(hours[0]) * self.step)}-"
                f"{clock((int(hours[-1]) + 1) * self.step)}")

    # --- Reading the solution ---------------------------------------------------------------

    def result(self, solver: cp_model.CpSolver, status: Status, seconds: float, *,
               objective: float | None = None, bound: float | None = None,
               names: dict[tuple[int, int, str], list[str]] | None = None) -> RotaResult:
        """The rota of the solver's solution; `objective` and `bound` replace the solver's
        when they were found otherwise (the exact cost of a relaxed rota, a better bound);
        `names` gives the staff on each counted shift when the model has no people."""
        p, step = self.p, self.step
        value = {key: int(solver.value(v)) for key, v in self.counts.items()}
        assignments = []
        starts = self.break_starts(solver)
        for (day, t, skill), n in sorted(value.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            if n == 0:
                continue
            shift = p.shifts[t]
            start = day * DAY + shift.start_minute
            # Each break's starts, one per agent, handed out in order.
            plans = [tuple((starts[day, t, skill, b][a] * step,
                            (starts[day, t, skill, b][a] + slot.length) * step, slot.paid)
                           for b, slot in enumerate(shift.breaks))
                     for a in range(n)]
            common = dict(day=day, template=shift.name, skill=skill, start=start,
                          end=start + shift.minutes)
            if names is not None:
                assignments += [Assignment(**common, breaks=plan, staff=name)
                                for name, plan in zip(names[day, t, skill], plans, strict=True)]
            elif self.staff is None:
                grouped = defaultdict(int)
                for plan in plans:
                    grouped[plan] += 1
                assignments += [Assignment(**common, breaks=plan, agents=k)
                                for plan, k in sorted(grouped.items())]
            else:
                working = [i for i, y in self.people[day, t, skill] if solver.boolean_value(y)]
                assignments += [Assignment(**common, breaks=plan, staff=self.staff[i].name)
                                for i, plan in zip(working, plans, strict=True)]
        coverage = {}
        for skill, by_interval in self.terms().items():
            coverage[skill] = np.array(
                [sum(c * int(solver.value(v)) for c, v in pairs) for pairs in by_interval],
                dtype=np.int64).reshape(p.days, p.per_day)
        objective = solver.objective_value if objective is None else objective
        bound = solver.best_objective_bound if bound is None else bound
        gap = 0.0 if status is Status.OPTIMAL or objective == 0 else (
            abs(objective - bound) / abs(objective))
        return _result(p, status, tuple(assignments), coverage, objective, bound, gap, seconds)


@dataclass(frozen=True)
class _Job:
    """The breaks of one break slot of the shifts counted by `count`: each may start from
    interval `first` to `last` of the horizon."""

    first: int
    last: int
    day: int
    t: int
    skill: str
    b: int
    count: cp_model.IntVar

    @property
    def key(self) -> tuple[int, int, str, int]:
        return self.day, self.t, self.skill, self.b


@dataclass(frozen=True)
class _Pool:
    """Breaks of one skill and length, counted per interval of the horizon in `taking`."""

    skill: str
    length: int
    jobs: list[_Job]
    taking: dict[int, cp_model.IntVar]


def _lower_hull(cost: list[int]) -> list[tuple[int, int]]:
    """Segments (a, b) of the lower convex hull of the points (k, cost[k])."""
    hull: list[int] = []
    for k in range(len(cost)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (cost[b] - cost[a]) * (k - a) >= (cost[k] - cost[a]) * (b - a):
                hull.pop()
            else:
                break
        hull.append(k)
    return list(zip(hull, hull[1:], strict=False))


def _serves(problem: Problem, t: int, skill: str) -> bool:
    skills = problem.shifts[t].skills
    return skills is None or skill in skills


def _eligible(problem: Problem, staff: list[Staff]) -> list[list[list[int]]]:
    """For each person and day, the templates they may start: those `_forbidden` has no
    reason against, serving one of their skills (the same tests, without the words)."""
    shifts = problem.shifts
    starts = np.array([s.start_minute for s in shifts])
    ends = starts + np.array([s.minutes for s in shifts])
    eligible = []
    for person in staff:
        serving = np.array([any(_serves(problem, t, skill) for skill in person.skills)
                            for t in range(len(shifts))])
        rows = []
        for day in range(problem.days):
            nxt = _wrap(problem, day + 1)
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


def _people_per_shift(problem: Problem, staff: list[Staff],
                      eligible: list[list[list[int]]]) -> dict[tuple[int, int, str], list[int]]:
    """The people who may work each (day, template, skill)."""
    serving = {skill: {t for t in range(len(problem.shifts)) if _serves(problem, t, skill)}
               for skill in problem.skills}
    people: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    for i, person in enumerate(staff):
        for skill in sorted(person.skills):
            for day, templates in enumerate(eligible[i]):
                for t in templates:
                    if t in serving[skill]:
                        people[day, t, skill].append(i)
    return people


def _paid_limits(problem: Problem, person: Staff) -> tuple[int, int, int | None]:
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


def _forbidden(problem: Problem, person: Staff, day: int, shift: Shift) -> list[str]:
    """Why `person` may not start `shift` on `day`: leave, availability, days off."""
    reasons = []
    end = shift.start_minute + shift.minutes
    nxt = _wrap(problem, day + 1)
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


def _wrap(problem: Problem, day: int) -> int | None:
    """`day` of the horizon, wrapped on a cyclic rota; None past the end otherwise."""
    if 0 <= day < problem.days:
        return day
    return day % problem.days if problem.cyclic else None


def _weekday(day: int) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[day]


def _result(problem: Problem, status: Status, assignments: tuple[Assignment, ...],
            coverage: dict[str, np.ndarray], objective: float | None, bound: float | None,
            gap: float | None, seconds: float, binding: tuple[str, ...] = ()) -> RotaResult:
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


def _empty(problem: Problem, status: Status, binding: tuple[str, ...],
           seconds: float) -> RotaResult:
    zero = {skill: np.zeros((problem.days, problem.per_day), dtype=np.int64)
            for skill in problem.skills}
    return _result(problem, status, (), zero, None, None, None, seconds, binding)
