"""The CP-SAT model of one rota problem (`RotaModel`): the count and break variables, the
named staff and their Working Time rules, coverage with the service-level objective and the hard
minimum, the switches of the diagnosis, and the rota read out of a solution; with the break
slots it places (`_Job`, `_Pool`) and the lower convex hull of a loss table (`_lower_hull`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from serviceops.workforce.rota import (
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
from serviceops.workforce.rota_model.common import (
    forbidden,
    paid_limits,
    people_per_shift,
    result,
    serves,
    wrap,
)


class RotaModel:
    """The CP-SAT model of one rota problem (see the `rota_model` package docstring)."""

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
        return serves(self.p, t, skill)

    def _anonymous(self, relaxing: tuple[list[Staff], list[list[list[int]]]] | None) -> None:
        """Counts per (day, template, skill), up to the largest requirement or hard minimum;
        or, relaxing a named rota, up to the people who may work that shift, with the totals
        their rules imply: one shift a day each (also among the shifts some of them may not
        start), a day off a week each, and the sums of their contract minimum and maximum
        hours (so that its optimum bounds the named rota's)."""
        req, p = self.p.requirement, self.p
        if relaxing is not None:
            staff, eligible = relaxing
            for (day, t, skill), people in people_per_shift(p, staff, eligible).items():
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
        limits = [paid_limits(p, person) for person in staff]
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
                    reasons = forbidden(p, person, day, shift)
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
        return wrap(self.p, day)

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
        low, high, cap = paid_limits(p, person)
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
        return result(p, status, tuple(assignments), coverage, objective, bound, gap, seconds)


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
