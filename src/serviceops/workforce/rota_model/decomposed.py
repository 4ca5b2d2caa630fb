"""A large named roster, decomposed (`solve_decomposed`): the anonymous relaxation, a rota made
by hand under every hard rule (`_greedy`, `_Plan`), improved by local moves while time allows
(`_improve`, `_move_days`, costed by `_Coverage`), and its breaks placed by the count model on
the fixed shifts.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from ortools.sat.python import cp_model

from serviceops.workforce.rota import (
    DAILY_REST_MINUTES,
    DAY,
    WEEKLY_REST_MINUTES,
    Problem,
    RotaResult,
    Staff,
    Status,
    Weights,
)
from serviceops.workforce.rota_model.common import empty, paid_limits, people_per_shift, serves
from serviceops.workforce.rota_model.model import RotaModel

# The share of the time limit given to the relaxation of a decomposed named rota, and of
# the time left after the greedy rota that is kept for placing its breaks.
_RELAXATION_SHARE = 0.25
_BREAKS_SHARE = 0.4
# The share of the time limit a decomposed roster keeps back for CP-SAT's overrun on a busy
# machine and for reading the rota out.
_MARGIN_SHARE = 0.1


def solve_decomposed(problem: Problem, staff: list[Staff], eligible: list[list[list[int]]],
                     weights: Weights, deadline: float, workers: int,
                     seed: int) -> RotaResult:
    """Solve a large named rota in three steps (see `solve_named`'s `method`).

    1. The anonymous relaxation of the named rota (`RotaModel._anonymous` with `relaxing`)
       gives the shifts worth running and a lower bound on the named rota's objective.
    2. A rota is built by hand under every hard rule (`_greedy`, `_Plan`) and improved by
       local moves while time allows (`_improve`).
    3. Its breaks are placed by the count model with its counts fixed (`solve_counts`).

    The result's bound is step 1's, so its gap is measured against every rota. CP-SAT on the
    named model itself is not used at this size: limited to the templates step 1 runs, the
    model for 1,000 people took 10 s to build and found no solution from the greedy rota as
    a hint in 30 s.
    """
    # Imported here rather than above: the package imports this module, and its entry points
    # (the exact model for an infeasible roster, the count model) are the steps around ours.
    from serviceops.workforce.rota_model import counts_solver, solve, solve_counts

    started = time.perf_counter()
    span = deadline - started
    relaxed = RotaModel(problem, None, weights, diagnose=False, exact_loss=False,
                        relaxing=(staff, eligible))
    solver = counts_solver(started + _RELAXATION_SHARE * span, workers, seed)
    status = solver.solve(relaxed.m)
    if status == cp_model.INFEASIBLE:
        # No anonymous rota, so no named one either: the exact model finds the rules why.
        return solve(problem, staff, weights, time_limit=max(1.0, deadline - started),
                     workers=workers, seed=seed, method="exact")
    if status != cp_model.FEASIBLE and status != cp_model.OPTIMAL:
        return empty(problem, Status.UNKNOWN, (), time.perf_counter() - started)
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
    return solve_counts(problem, weights, deadline - _MARGIN_SHARE * span, workers, seed,
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
                    ts = np.array([t for t in eligible[i][day] if serves(p, t, skill)],
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
                allowed[other, [t for t in eligible[other] if serves(p, t, skill)]] = True
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
    """The weekend term of the objective (`RotaModel._weekend_spread`) for `plans`."""
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
    `RotaModel._person_rules` and `_weekly_rules` set, tested on the shifts chosen so far)."""

    def __init__(self, problem: Problem, person: Staff, eligible: list[list[int]]) -> None:
        self.p, self.person, self.eligible = problem, person, eligible
        self.days, self.cyclic = problem.days, problem.cyclic
        self.low, high, cap = paid_limits(problem, person)
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
    serving = np.array([[serves(p, t, skill) for t in range(len(p.shifts))]
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
                score = np.where(allowed & serving[k][None, :], score, -1)
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

    people = people_per_shift(p, staff, eligible)

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
