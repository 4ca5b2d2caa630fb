"""The CP-SAT model behind `rota`: variables, rules, objective, and the infeasibility report.

Imported by `rota` only when a rota is solved, because importing OR-Tools takes a while.

Coverage is counted per template rather than per person, in both modes: an integer variable
per (day, template, skill) holds how many agents work it, and breaks are counted per interval
of the horizon for each skill and length (`RotaModel._place_breaks`). Agents working the same
template on the same day are interchangeable for coverage, so breaks are handed to the named
staff afterwards, in order; this keeps the coverage constraints small however many people
there are.

The anonymous model is solved on the convex hull of each shortfall's cost first, and exactly
only when that rota costs more under the exact tables (`solve_counts`). A large named roster
is decomposed: relaxation, greedy rota under every rule, local moves, breaks placed on the
fixed shifts (`decomposed.solve_decomposed`).

When the model is infeasible it is built again without the objective, with every group of
hard rules (one member of staff's contract, their leave on one day, the hard minimum of one
skill on one day...) switched on by an assumption literal. CP-SAT returns a set of assumptions
that cannot hold together (its sufficient assumptions for infeasibility); dropping those that
turn out not to be needed leaves the binding rules, reported in words.

The package: this module (`solve`, the count model's solve, the failure and its diagnosis),
`model` (the CP-SAT model, `RotaModel`), `decomposed` (the heuristics for a large named
roster) and `common` (who may start which shift, paid-hour limits, building the result).
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from serviceops.workforce.rota import Problem, RotaResult, Staff, Status, Weights
from serviceops.workforce.rota_model.common import eligible, empty
from serviceops.workforce.rota_model.decomposed import solve_decomposed
from serviceops.workforce.rota_model.model import RotaModel

_STATUS = {cp_model.OPTIMAL: Status.OPTIMAL, cp_model.FEASIBLE: Status.FEASIBLE,
           cp_model.INFEASIBLE: Status.INFEASIBLE}
# Seconds allowed to shrink the set of binding rules, on top of the first diagnosis.
_DIAGNOSIS_SECONDS = 20.0
# A named rota is decomposed (see `decomposed.solve_decomposed`) above this many person-shift
# choices.
_EXACT_NAMED_CHOICES = 20_000


def solve(problem: Problem, staff: list[Staff] | None, weights: Weights, *, time_limit: float,
          workers: int, seed: int, method: str = "auto") -> RotaResult:
    """Build and solve the rota model; on infeasibility, find the rules that bind."""
    started = time.perf_counter()
    if staff is None:
        return solve_counts(problem, weights, started + time_limit, workers, seed)
    if method != "exact":
        templates = eligible(problem, staff)
        choices = sum(len(ts) for days in templates for ts in days)
        if method == "decomposed" or choices > _EXACT_NAMED_CHOICES:
            return solve_decomposed(problem, staff, templates, weights, started + time_limit,
                                    workers, seed)
    model = RotaModel(problem, staff, weights, diagnose=False)
    solver = _solver(max(0.1, time_limit - (time.perf_counter() - started)), workers, seed)
    status = solver.solve(model.m)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return model.result(solver, _STATUS[status], time.perf_counter() - started)
    return _failed(problem, staff, weights, status, seed, started)


def solve_counts(problem: Problem, weights: Weights, deadline: float, workers: int,
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

    def finish(model: RotaModel, solver: cp_model.CpSolver, objective: float,
               bound: float) -> RotaResult:
        objective += extra
        bound = min(objective, bound + extra if floor is None else floor)
        status = Status.OPTIMAL if objective - bound < 1e-6 else Status.FEASIBLE
        return model.result(solver, status, time.perf_counter() - started,
                            objective=objective, bound=bound, names=names)

    relaxed = RotaModel(problem, None, weights, diagnose=False, exact_loss=False, fixed=fixed)
    solver = counts_solver(deadline, workers, seed)
    status = solver.solve(relaxed.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _failed(problem, None, weights, status, seed, started)
    # Every cost is a whole number; the solver reports floats.
    objective = round(solver.objective_value) + relaxed.loss_error(solver)
    bound = solver.best_objective_bound
    if objective - bound < 1e-6 or deadline - time.perf_counter() < 0.5:
        return finish(relaxed, solver, objective, bound)
    exact = RotaModel(problem, None, weights, diagnose=False, exact_loss=True, fixed=fixed)
    for key, count in exact.counts.items():
        exact.m.add_hint(count, solver.value(relaxed.counts[key]))
    for pool, hinted in zip(exact.pools, relaxed.pools, strict=True):
        for k, v in pool.taking.items():
            exact.m.add_hint(v, solver.value(hinted.taking[k]))
    check = counts_solver(deadline, workers, seed)
    status = check.solve(exact.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (
            check.objective_value > objective):
        return finish(relaxed, solver, objective, bound)
    return finish(exact, check, round(check.objective_value),
                  max(bound, check.best_objective_bound))


def counts_solver(deadline: float, workers: int, seed: int) -> cp_model.CpSolver:
    """A solver for the count model, with the time left until `deadline` (a
    `time.perf_counter()` reading)."""
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
    return empty(problem, _STATUS.get(status, Status.UNKNOWN), binding,
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
    model = RotaModel(problem, staff, weights, diagnose=True)
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
