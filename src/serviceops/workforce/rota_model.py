"""The CP-SAT model behind `rota`: variables, rules, objective, and the infeasibility report.

Imported by `rota` only when a rota is solved, because importing OR-Tools takes a while.

Coverage is counted per template rather than per person, in both modes: an integer variable
per (day, template, skill) holds how many agents work it, and one per break offset how many
of them take that break there (the offsets' counts add up to the agents). Agents working the
same template on the same day are interchangeable for coverage, so breaks are handed to the
named staff afterwards, in order; this keeps the coverage constraints small however many
people there are.

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


def solve(problem: Problem, staff: list[Staff] | None, weights: Weights, *, time_limit: float,
          workers: int, seed: int) -> RotaResult:
    """Build and solve the rota model; on infeasibility, find the rules that bind."""
    started = time.perf_counter()
    model = _RotaModel(problem, staff, weights, diagnose=False)
    solver = _solver(max(0.1, time_limit - (time.perf_counter() - started)), workers, seed)
    if staff is None:
        # The full linear relaxation (every constraint, the element tables' hull cuts included)
        # closes the gap of the count model several times faster; on the named model, with
        # one Boolean per person, shift and day, it slows the search down instead.
        solver.parameters.linearization_level = 2
    status = solver.solve(model.m)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return model.result(solver, _STATUS[status], time.perf_counter() - started)
    binding: tuple[str, ...] = ()
    if status == cp_model.INFEASIBLE:
        binding = _binding(problem, staff, weights, seed)
    return _empty(problem, _STATUS.get(status, Status.UNKNOWN), binding,
                  time.perf_counter() - started)


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
                 diagnose: bool) -> None:
        self.p, self.staff, self.weights, self.diagnose = problem, staff, weights, diagnose
        self.m = cp_model.CpModel()
        self.reasons: dict[int, str] = {}
        self._literals: dict[str, cp_model.IntVar] = {}
        self.step = problem.requirement.interval_minutes
        self.horizon = problem.days * problem.per_day
        self.counts: dict[tuple[int, int, str], cp_model.IntVar] = {}
        self.breaks: dict[tuple[int, int, str], list[list[tuple[int, cp_model.IntVar]]]] = {}
        self.people: dict[tuple[int, int, str], list[tuple[int, cp_model.IntVar]]] = {}
        self.caps: dict[int, int] = {}
        self.work: dict[str, list] = {}
        self.objective: list = []
        if staff is None:
            self._anonymous()
        else:
            self._named(staff)
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
        slots = []
        for b, slot in enumerate(self.p.shifts[t].breaks):
            if slot.first == slot.last:
                slots.append([(slot.first, count)])
                continue
            offsets = [(o, self.m.new_int_var(0, cap, f"b_{day}_{t}_{skill}_{b}_{o}"))
                       for o in range(slot.first, slot.last + 1)]
            self.m.add(sum(v for _, v in offsets) == count)
            slots.append(offsets)
        self.breaks[day, t, skill] = slots
        self.objective.append(self.weights.paid * self.p.shifts[t].paid * count)
        return count

    def _serves(self, t: int, skill: str) -> bool:
        skills = self.p.shifts[t].skills
        return skills is None or skill in skills

    def _anonymous(self) -> None:
        req = self.p.requirement
        for skill in self.p.skills:
            cap = int(np.asarray(req.required[skill]).max(initial=0))
            if req.minimum is not None and skill in req.minimum:
                cap = max(cap, int(np.asarray(req.minimum[skill]).max(initial=0)))
            if cap == 0:
                continue
            for day in range(self.p.days):
                for t in range(len(self.p.shifts)):
                    if self._serves(t, skill):
                        self._count(day, t, skill, cap)

    # --- Named staff and the Working Time rules ---------------------------------------------

    def _named(self, staff: list[Staff]) -> None:
        p, shifts = self.p, self.p.shifts
        days = p.days
        works = [[[[] for _ in shifts] for _ in range(days)] for _ in staff]
        for i, person in enumerate(staff):
            for day in range(days):
                for t, shift in enumerate(shifts):
                    reasons = self._forbidden(person, day, shift)
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
    def _forbidden(self, person: Staff, day: int, shift) -> list[str]:
        """Why `person` may not start `shift` on `day`: leave, availability, days off."""
        p, reasons = self.p, []
        end = shift.start_minute + shift.minutes
        nxt = self._day(day + 1)
        if day in person.leave or (end > DAY and nxt is not None and nxt in person.leave):
            on_leave = day if day in person.leave else nxt
            reasons.append(f"{person.name}: approved leave on "
                           f"{day_label(p.requirement, on_leave)}")
        if day in person.availability:
            start_ok, end_ok = person.availability[day]
            if shift.start_minute < start_ok or end > end_ok:
                reasons.append(f"{person.name}: available only {clock(start_ok)}-"
                               f"{clock(end_ok)} on {day_label(p.requirement, day)}")
        if (p.requirement.first_weekday + day) % 7 in person.days_off:
            reasons.append(f"{person.name}: fixed days off on "
                           + ", ".join(_weekday(d) for d in sorted(person.days_off)))
        return reasons

    def _day(self, day: int) -> int | None:
        """`day` of the horizon, wrapped on a cyclic rota; None past the end otherwise."""
        if 0 <= day < self.p.days:
            return day
        return day % self.p.days if self.p.cyclic else None

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
        scale = 60 / self.step / 7
        leave_days = len(person.leave)
        low = math.ceil(person.min_weekly_hours * scale * (days - leave_days) - 1e-9)
        if low > 0:
            self.hard(self.m.add(paid >= low),
                      f"{name}: contract minimum of {person.min_weekly_hours:g} h a week "
                      f"({low * self.step / 60:g} h over the {days} days"
                      + (f", {leave_days} on leave)" if leave_days else ")"))
        high = math.floor(person.max_weekly_hours * scale * days + 1e-9)
        self.hard(self.m.add(paid <= high),
                  f"{name}: contract maximum of {person.max_weekly_hours:g} h a week")
        if not person.opted_out_of_48h and person.max_weekly_hours > AVERAGE_WEEKLY_HOURS_CAP:
            cap = math.floor(AVERAGE_WEEKLY_HOURS_CAP * scale * days + 1e-9)
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

    def _slots(self, day: int, t: int, first: int, length: int):
        """Intervals of the horizon that offsets first..first+length-1 of (day, t) cover."""
        for j in range(first, first + length):
            g = day * self.p.per_day + self.p.shifts[t].start + j
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
            for g in self._slots(day, t, 0, self.p.shifts[t].length):
                terms[skill][g].append((1, count))
            for slot, offsets in zip(self.p.shifts[t].breaks, self.breaks[day, t, skill],
                                     strict=True):
                for offset, taking in offsets:
                    for g in self._slots(day, t, offset, slot.length):
                        terms[skill][g].append((-1, taking))
        return terms

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
                short = self.m.new_int_var(0, need, f"short_{skill}_{g}")
                most = sum(self.caps.get(v.index, 0) for c, v in pairs if c > 0)
                over = self.m.new_int_var(0, max(0, most - need), f"over_{skill}_{g}")
                self.m.add(on_phones + short - over == need)
                self.objective.append(self.weights.over * over)
                self._shortfall_cost(short, loss[g, :need + 1])

    def _shortfall_cost(self, short, loss: np.ndarray) -> None:
        """Add the service lost with `short` agents missing: the integer loss table through
        an element constraint, and the sides of its lower convex hull as linear cuts."""
        cost = [int(round(x)) for x in loss * self.weights.under]
        if all(c == k * cost[1] for k, c in enumerate(cost)):
            self.objective.append(cost[1] * short)
            return
        lost = self.m.new_int_var(0, cost[-1], f"lost_{short.name}")
        self.m.add_element(short, cost, lost)
        for a, b in _lower_hull(cost):
            self.m.add((b - a) * lost >= (b - a) * cost[a] + (cost[b] - cost[a]) * (short - a))
        self.objective.append(lost)

    def _minimum_reason(self, skill: str, day: int) -> str:
        req = self.p.requirement
        row = np.asarray(req.minimum[skill])[day]
        hours = np.flatnonzero(row > 0)
        return (f"the hard minimum of up to {int(row.max())} {skill!r} agents on "
                f"{day_label(req, day)} {clock(int(hours[0]) * self.step)}-"
                f"{clock((int(hours[-1]) + 1) * self.step)}")

    # --- Reading the solution ---------------------------------------------------------------

    def result(self, solver: cp_model.CpSolver, status: Status, seconds: float) -> RotaResult:
        p, step = self.p, self.step
        value = {key: int(solver.value(v)) for key, v in self.counts.items()}
        assignments = []
        for (day, t, skill), n in sorted(value.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            if n == 0:
                continue
            shift = p.shifts[t]
            start = day * DAY + shift.start_minute
            # Each break's offsets, one per agent, handed out in order.
            per_agent = [[o for o, v in offsets for _ in range(int(solver.value(v)))]
                         for offsets in self.breaks[day, t, skill]]
            plans = [tuple((start + offsets[a] * step,
                            start + (offsets[a] + slot.length) * step, slot.paid)
                           for slot, offsets in zip(shift.breaks, per_agent, strict=True))
                     for a in range(n)]
            common = dict(day=day, template=shift.name, skill=skill, start=start,
                          end=start + shift.minutes)
            if self.staff is None:
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
        objective, bound = solver.objective_value, solver.best_objective_bound
        gap = 0.0 if status is Status.OPTIMAL or objective == 0 else (
            abs(objective - bound) / abs(objective))
        return _result(p, status, tuple(assignments), coverage, objective, bound, gap, seconds)


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
