"""Rota optimisation: exact optima of small rotas, each Working Time rule where it binds,
shifts across midnight, break placement, leave, the infeasibility report and bad input.

Every instance is small and solved single-threaded with a fixed seed, so the tests are quick
and give the same rota on every run.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from serviceops.workforce.erlang import Targets, evaluate_intervals, staff_intervals
from serviceops.workforce.rota import (
    Break,
    Requirement,
    ShiftTemplate,
    Staff,
    Status,
    Weights,
    requirement_from_volumes,
    solve_anonymous,
    solve_named,
    templates_for_window,
)

H = 60  # one-hour intervals keep the arrays short enough to read


def hours(*spans: tuple[int, int, int], days: int = 1, day: int = 0) -> np.ndarray:
    """Hourly requirement: `agents` from hour `a` to hour `b` on `day` of `days`."""
    values = np.zeros((days, 24), dtype=np.int64)
    for a, b, agents in spans:
        values[day, a:b] = agents
    return values


def every_day(a: int, b: int, agents: int, days: int = 7) -> np.ndarray:
    values = np.zeros((days, 24), dtype=np.int64)
    values[:, a:b] = agents
    return values


def shift(name: str, start_hour: float, length_hours: float, **kwargs) -> ShiftTemplate:
    return ShiftTemplate(name, int(start_hour * 60), int(length_hours * 60), **kwargs)


def calls(values: np.ndarray, **kwargs) -> Requirement:
    return Requirement(H, {"calls": values}, **kwargs)


def person(name: str, **kwargs) -> Staff:
    return Staff(name, frozenset({"calls"}), **kwargs)


def shifts_of(result, name: str) -> list[tuple[int, str]]:
    return [(a.day, a.template) for a in result.assignments if a.staff == name]


# --- Anonymous mode -------------------------------------------------------------------------


def test_anonymous_rota_finds_the_exact_optimum_and_covers_the_requirement_exactly():
    required = hours((8, 10, 1), (10, 14, 2), (14, 16, 1))
    templates = [shift("A", 8, 4), shift("B", 12, 4), shift("C", 10, 4), shift("D", 8, 6)]

    result = solve_anonymous(calls(required), templates)

    assert result.status is Status.OPTIMAL
    assert sorted((a.template, a.agents) for a in result.assignments) == [
        ("A", 1), ("B", 1), ("C", 1)]
    np.testing.assert_array_equal(result.coverage["calls"], required)
    assert result.under["calls"].sum() == 0 and result.over["calls"].sum() == 0
    # 12 paid agent-hours at 10 each, nothing else.
    assert result.objective == 120 and result.best_bound == 120 and result.gap == 0.0


def test_an_agent_short_is_accepted_only_when_the_service_lost_costs_less_than_the_shift():
    # One agent 08-12; a second is needed at 10:00 only, and the only shift lasts four hours.
    # With 2 agents the service level is 0.9, with 1 it is 0.5: the volume decides.
    required = hours((8, 12, 1), (10, 11, 2))
    curve = np.zeros((1, 24, 3))
    curve[:, :, :] = [0.0, 0.5, 0.9]
    curve[0, 10] = [0.0, 0.5, 0.9]
    templates = [shift("A", 8, 4)]

    def solve(calls_at_ten: float):
        volume = np.ones((1, 24))
        volume[0, 10] = calls_at_ten
        return solve_anonymous(calls(required, service_level={"calls": curve},
                                     volume={"calls": volume}), templates)

    busy, quiet = solve(1.0), solve(0.25)

    # Busy: 0.4 calls lost = 400 > a second shift (40 paid + 3 hours over at 40 = 160).
    assert busy.assignments[0].agents == 2 and busy.objective == 80 + 120
    assert busy.under["calls"].sum() == 0
    # Quiet: 0.25 × 0.4 = 0.1 calls lost = 100 < 160, so one agent and one hour short.
    assert quiet.assignments[0].agents == 1 and quiet.objective == 40 + 100
    assert quiet.under["calls"][0, 10] == 1
    assert quiet.service_level["calls"][0, 10] == 0.5


def test_a_night_shift_covers_the_next_morning_and_wraps_round_a_cyclic_rota():
    required = np.zeros((2, 24), dtype=np.int64)
    required[:, 22:] = 1
    required[:, :4] = 1
    templates = [shift("night", 22, 6)]

    cyclic = solve_anonymous(calls(required), templates, cyclic=True)
    straight = solve_anonymous(calls(required), templates, cyclic=False)

    np.testing.assert_array_equal(cyclic.coverage["calls"], required)
    assert [(a.day, a.start, a.end) for a in cyclic.assignments] == [
        (0, 22 * 60, 28 * 60), (1, 46 * 60, 52 * 60)]
    # Not cyclic: day 2's night runs past the horizon, and nothing covers day 1 before 04:00.
    assert straight.under["calls"][0, :4].tolist() == [1, 1, 1, 1]
    assert straight.coverage["calls"][1].tolist() == required[1].tolist()


def test_a_relaxed_optimum_that_the_exact_loss_makes_dearer_is_solved_again_exactly():
    # 08:00 needs two agents, 09:00 one; the only shift runs 08-10. At 08:00 the first agent
    # short costs 90 and the second 10 more (not convex: the hull charges 50 each), at
    # 09:00 an agent short costs 1,000. One agent costs 20 + 90 = 110 (70 on the hull); two
    # cost 40 paid + 40 over at 09:00 = 80, the true optimum.
    required = hours((8, 9, 2), (9, 10, 1))
    curve = np.zeros((1, 24, 3))
    curve[0, 8] = [0.0, 0.1, 1.0]
    curve[0, 9] = [0.0, 1.0, 1.0]
    volume = np.ones((1, 24))
    volume[0, 8] = 0.1

    result = solve_anonymous(calls(required, service_level={"calls": curve},
                                   volume={"calls": volume}), [shift("X", 8, 2)])

    assert result.status is Status.OPTIMAL
    assert [a.agents for a in result.assignments] == [2]
    assert result.objective == 80 and result.best_bound == 80 and result.gap == 0.0


def test_breaks_are_placed_inside_their_window_and_never_in_the_first_or_last_hour():
    quarter = np.zeros((1, 96), dtype=np.int64)
    quarter[0, 32:68] = 2  # 08:00-17:00, two agents
    requirement = Requirement(15, {"calls": quarter})
    lunch = Break(30, earliest=3 * 60, latest=6 * 60)
    tea = Break(15, paid=True, latest=150)
    templates = [ShiftTemplate("day", 8 * 60, 9 * 60, breaks=(tea, lunch)),
                 ShiftTemplate("legal", 8 * 60, 9 * 60)]

    result = solve_anonymous(requirement, templates)

    assert result.status is Status.OPTIMAL
    for a in result.assignments:
        for start, end, paid in a.breaks:
            assert a.start + 60 <= start and end <= a.end - 60
            if a.template == "day" and not paid:
                assert a.start + 180 <= start and end <= a.start + 360 and end - start == 30
        if a.template == "legal":  # no breaks given: the legal 20 minutes, as 30 on this grid
            assert [(e - s, p) for s, e, p in a.breaks] == [(30, False)]
    # Coverage is the agents less those on a break in each quarter-hour.
    expected = np.zeros(96, dtype=np.int64)
    for a in result.assignments:
        expected[a.start // 15:a.end // 15] += a.agents
        for start, end, _ in a.breaks:
            expected[start // 15:end // 15] -= a.agents
    np.testing.assert_array_equal(result.coverage["calls"][0], expected)


def test_a_requirement_from_volumes_takes_agents_and_service_levels_from_erlang():
    volumes = np.zeros((1, 96))
    volumes[0, 36:40] = [40, 80, 60, 20]
    targets = Targets(service_level=0.8, sl_seconds=20)

    requirement = requirement_from_volumes({"calls": volumes}, interval_minutes=15,
                                           aht_seconds=240, targets=targets)

    agents = staff_intervals(volumes[0], interval_seconds=900, aht_seconds=240,
                             targets=targets).agents
    np.testing.assert_array_equal(requirement.required["calls"][0], agents)
    with_five = evaluate_intervals(volumes[0], 5, interval_seconds=900, aht_seconds=240)
    np.testing.assert_allclose(requirement.service_level["calls"][0, :, 5],
                               with_five.service_level)
    result = solve_anonymous(requirement, [ShiftTemplate("A", 9 * 60, 4 * 60)])
    assert result.status is Status.OPTIMAL
    assert result.service_level["calls"][0, 36:40].min() >= 0.8


# --- Named mode and the Working Time Regulations ---------------------------------------------


def test_eleven_hours_rest_stops_a_late_shift_being_followed_by_an_early_one():
    # Six-hour shifts (no break), so that two fit the 48-hour average over two days.
    required = np.zeros((2, 24), dtype=np.int64)
    required[0, 16:22] = 1
    late = shift("late", 16, 6)

    def rota(early_start: int):
        needed = required.copy()
        needed[1, early_start:early_start + 6] = 1
        return solve_named(calls(needed), [late, shift("early", early_start, 6)],
                           [person("Ann")], cyclic=False)

    # 22:00 to 06:00 is 8 hours' rest: Ann can work only one of the two shifts.
    too_close = rota(6)
    assert len(shifts_of(too_close, "Ann")) == 1
    assert too_close.under["calls"].sum() == 6
    # 22:00 to 09:00 is 11 hours: she works both.
    assert shifts_of(rota(9), "Ann") == [(0, "late"), (1, "early")]


def test_eleven_hours_rest_runs_across_the_end_of_a_cyclic_week():
    required = np.zeros((7, 24), dtype=np.int64)
    required[6, 14:22] = 1
    required[0, 6:14] = 1
    templates = [shift("late", 14, 8), shift("early", 6, 8)]

    cyclic = solve_named(calls(required), templates, [person("Ann")], cyclic=True)
    straight = solve_named(calls(required), templates, [person("Ann")], cyclic=False)

    assert len(shifts_of(cyclic, "Ann")) == 1
    assert shifts_of(straight, "Ann") == [(0, "early"), (6, "late")]


def test_a_day_of_weekly_rest_leaves_one_day_of_seven_uncovered():
    result = solve_named(calls(every_day(8, 12, 1)), [shift("morning", 8, 4)],
                         [person("Ann", max_weekly_hours=60)])

    worked = shifts_of(result, "Ann")
    assert len(worked) == 6
    assert result.under["calls"].sum() == 4


def test_the_48_hour_average_caps_working_time_unless_the_worker_opted_out():
    required = every_day(8, 20, 1)
    templates = [shift("long", 8, 12)]  # 12 hours, 11 paid after the legal break (1 hour here)

    capped = solve_named(calls(required), templates, [person("Ann", max_weekly_hours=60)])
    opted = solve_named(calls(required), templates,
                        [person("Ann", max_weekly_hours=60, opted_out_of_48h=True)])

    assert len(shifts_of(capped, "Ann")) == 4  # 44 h; a fifth would make 55 > 48
    assert len(shifts_of(opted, "Ann")) == 5  # 55 h within her 60


def test_weekend_shifts_are_shared_evenly():
    required = every_day(9, 13, 0)
    required[5:, 9:13] = 1  # one agent on Saturday and on Sunday
    staff = [person("Ann"), person("Bob")]

    result = solve_named(calls(required), [shift("W", 9, 4)], staff)

    assert result.under["calls"].sum() == 0
    assert len(shifts_of(result, "Ann")) == 1 and len(shifts_of(result, "Bob")) == 1


def test_leave_days_off_and_availability_are_respected():
    required = every_day(9, 13, 1, days=3)
    staff = [person("Ann", leave=frozenset({1})),
             person("Bob", days_off=frozenset({0})),
             person("Cy", availability={0: (10 * 60, 14 * 60), 1: (0, 13 * 60),
                                        2: (0, 13 * 60)})]

    result = solve_named(calls(required), [shift("A", 9, 4)], staff, cyclic=False,
                         weights=Weights(paid=0))

    assert result.under["calls"].sum() == 0
    by_day = {a.day: a.staff for a in result.assignments}
    assert by_day[0] == "Ann" and by_day[1] in {"Bob", "Cy"}


def test_a_contract_minimum_makes_staff_work_even_when_over_staffed():
    required = hours((9, 13, 1), days=7)
    staff = [person("Ann", min_weekly_hours=8), person("Bob")]

    result = solve_named(calls(required), [shift("A", 9, 4)], staff)

    assert len(shifts_of(result, "Ann")) == 2
    assert result.over["calls"].sum() == 4


# --- Large rosters: the decomposition ------------------------------------------------------


def decomposition_case() -> tuple[Requirement, list[ShiftTemplate], list[Staff]]:
    required = every_day(6, 22, 3)
    required[:, 22:] = 1
    required[:, :6] = 1
    required[4, 10:14] = 5  # a busy Friday midday
    templates = [shift("early", 6, 8), shift("mid", 10, 6), shift("late", 14, 8),
                 shift("night", 22, 8)]
    staff = [person(f"full{i}", min_weekly_hours=30, max_weekly_hours=40,
                    consecutive_days_off=2) for i in range(6)]
    staff += [person(f"part{i}", min_weekly_hours=12, max_weekly_hours=20,
                     availability=dict.fromkeys(range(7), (6 * 60, 16 * 60)))
              for i in range(3)]
    staff += [person("weekday", min_weekly_hours=20, days_off=frozenset({5, 6})),
              person("leave", min_weekly_hours=14, leave=frozenset({2, 3})),
              person("long", max_weekly_hours=60, opted_out_of_48h=False)]
    return calls(required), templates, staff


def broken_rules(result, staff: list[Staff]) -> list[str]:
    """Every hard rule checked from the assignments alone, on a cyclic week."""
    week, broken = 7 * 24 * 60, []
    for member in staff:
        mine = sorted((a for a in result.assignments if a.staff == member.name),
                      key=lambda a: a.start)
        days = [a.day for a in mine]
        if len(set(days)) != len(days):
            broken.append(f"{member.name}: two shifts on a day")
        worked = sum(a.end - a.start - sum(e - s for s, e, paid in a.breaks if not paid)
                     for a in mine) / 60
        low = member.min_weekly_hours * (7 - len(member.leave)) / 7
        if not low <= worked <= min(member.max_weekly_hours, 48):
            broken.append(f"{member.name}: {worked} h")
        for a in mine:
            if a.day in member.leave or (a.end > (a.day + 1) * 1440
                                         and (a.day + 1) % 7 in member.leave):
                broken.append(f"{member.name}: works on leave")
            if a.day % 7 in member.days_off:
                broken.append(f"{member.name}: works a day off")
            if a.day in member.availability:
                earliest, latest = member.availability[a.day]
                if a.start - a.day * 1440 < earliest or a.end - a.day * 1440 > latest:
                    broken.append(f"{member.name}: outside availability")
        for a, b in zip(mine, mine[1:] + [None], strict=True):
            if b is None and len(mine) > 1:
                b = mine[0]
            if b is not None and b is not a and (b.start - a.end) % week < 11 * 60:
                broken.append(f"{member.name}: less than 11 h rest")
        by_day = {a.day: a for a in mine}
        if not any(weekly_rest(by_day, day) for day in range(7)):
            broken.append(f"{member.name}: no weekly rest")
        run = member.consecutive_days_off
        if run and not any(all((first + k) % 7 not in by_day for k in range(run))
                           for first in range(7)):
            broken.append(f"{member.name}: no {run} days off in a row")
    return broken


def weekly_rest(by_day: dict, day: int) -> bool:
    """No shift starts on `day` and, when both days either side are worked, 24 h lie
    between their shifts."""
    before, after = by_day.get((day - 1) % 7), by_day.get((day + 1) % 7)
    return day not in by_day and (before is None or after is None or (
        (after.start - before.end) % (7 * 24 * 60) >= 24 * 60))


def test_a_decomposed_named_rota_keeps_every_working_time_rule_and_reports_its_gap():
    requirement, templates, staff = decomposition_case()

    result = solve_named(requirement, templates, staff, method="decomposed", time_limit=20)

    assert result.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert broken_rules(result, staff) == []
    assert result.best_bound <= result.objective
    assert result.gap == pytest.approx((result.objective - result.best_bound)
                                       / result.objective)
    # The coverage reported is that of the assignments, breaks excluded.
    covered = np.zeros(7 * 24, dtype=np.int64)
    for a in result.assignments:
        for minute in range(a.start, a.end, 60):
            if not any(s <= minute < e for s, e, _ in a.breaks):
                covered[minute // 60 % (7 * 24)] += 1
    np.testing.assert_array_equal(result.coverage["calls"].ravel(), covered)


def test_a_decomposed_rota_keeps_contract_minimums_when_shorter_shifts_would_cost_less():
    # Four hours a day are needed, but each of them must work 30 hours: the cheapest rota
    # would give them short shifts only.
    templates = [shift("short", 9, 4), shift("long", 8, 8), shift("longer", 7, 10)]
    staff = [person(name, min_weekly_hours=30, consecutive_days_off=2)
             for name in ("Ann", "Bob", "Cy")]

    result = solve_named(calls(every_day(9, 13, 1)), templates, staff, method="decomposed",
                         time_limit=10)

    assert result.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert broken_rules(result, staff) == []
    assert result.over["calls"].sum() > 0


def test_the_decomposition_bound_is_below_the_exact_optimum_and_its_rota_above():
    required = every_day(6, 22, 1)
    required[4, 10:14] = 2
    templates = [shift("early", 6, 8), shift("late", 14, 8), shift("mid", 10, 4)]
    staff = [person("Ann", min_weekly_hours=30, consecutive_days_off=2),
             person("Bob", min_weekly_hours=12, max_weekly_hours=20,
                    availability=dict.fromkeys(range(7), (6 * 60, 16 * 60))),
             person("Cy", min_weekly_hours=20, days_off=frozenset({5, 6}))]

    decomposed = solve_named(calls(required), templates, staff, method="decomposed",
                             time_limit=10)
    exact = solve_named(calls(required), templates, staff, method="exact", time_limit=30)

    assert exact.status is Status.OPTIMAL
    assert broken_rules(exact, staff) == []
    assert decomposed.best_bound <= exact.objective <= decomposed.objective


def test_an_unknown_solving_method_is_refused():
    with pytest.raises(ValueError, match="method must be"):
        solve_named(calls(hours((9, 13, 1))), [shift("A", 9, 4)], [person("Ann")],
                    method="fastest")


# --- Infeasible rotas and bad input ---------------------------------------------------------


def test_leave_that_leaves_too_few_people_is_reported_by_name_and_day():
    required = every_day(9, 13, 1, days=3)
    staff = [person("Ann", leave=frozenset({1})), person("Bob", leave=frozenset({1, 2}))]

    result = solve_named(calls(required, minimum={"calls": required}), [shift("A", 9, 4)],
                         staff, cyclic=False)

    assert result.status is Status.INFEASIBLE
    assert result.assignments == ()
    assert result.binding == (
        "Ann: approved leave on Tuesday (day 2)",
        "Bob: approved leave on Tuesday (day 2)",
        "the hard minimum of up to 1 'calls' agents on Tuesday (day 2) 09:00-13:00",
    )
    assert "Ann: approved leave on Tuesday (day 2)" in result.message


def test_a_contract_minimum_that_availability_cannot_meet_is_reported():
    required = every_day(9, 17, 1)
    staff = [person("Ann", min_weekly_hours=30, days_off=frozenset({0, 1, 2, 3, 4}))]

    result = solve_named(calls(required), [shift("day", 9, 8)], staff)

    assert result.status is Status.INFEASIBLE
    assert result.binding == ("Ann: contract minimum of 30 h a week (30 h over the 7 days)",
                              "Ann: fixed days off on Monday, Tuesday, Wednesday, Thursday, "
                              "Friday")


def test_a_hard_minimum_no_template_can_cover_is_reported_in_anonymous_mode():
    required = hours((8, 12, 1), (20, 22, 1))

    result = solve_anonymous(calls(required, minimum={"calls": required}), [shift("A", 8, 4)])

    assert result.status is Status.INFEASIBLE
    assert result.binding == (
        "the hard minimum of up to 1 'calls' agents on Monday (day 1) 08:00-22:00",)


@pytest.mark.parametrize(("change", "message"), [
    (lambda r, t, s: (calls(hours((9, 10, -1))), t, s), r"Monday \(day 1\) at 09:00 is -1"),
    (lambda r, t, s: (r, [shift("huge", 8, 25)], s), r"'huge' lasts 1500 minutes"),
    (lambda r, t, s: (r, [shift("odd", 8.25, 4)], s), r"'odd' starts at minute 495"),
    (lambda r, t, s: (r, t, [Staff("Ann", frozenset({"french"}))]),
     r"'Ann' has unknown skill 'french'"),
    (lambda r, t, s: (r, [shift("A", 9, 4, skills=frozenset({"sales"}))], s),
     r"'A' names unknown skill 'sales'"),
    (lambda r, t, s: (r, [shift("A", 9, 8, breaks=(Break(15, paid=True),))], s),
     r"'A' lasts more than 6 hours and so needs an unpaid break"),
    (lambda r, t, s: (r, [shift("A", 9, 8, breaks=(Break(60, earliest=0),))], s),
     r"leave the first and last hour free"),
    (lambda r, t, s: (r, t, [person("Ann", leave=frozenset({9}))]), r"day 9 is outside"),
])
def test_bad_input_is_refused_with_a_message_naming_it(change, message):
    requirement, templates, staff = change(calls(hours((9, 13, 1))), [shift("A", 9, 4)],
                                           [person("Ann")])

    with pytest.raises(ValueError, match=message):
        solve_named(requirement, templates, staff)


def test_a_start_window_becomes_one_template_per_start():
    templates = templates_for_window("early", first_start=7 * 60, last_start=8 * 60, step=30,
                                     minutes=8 * 60)

    assert [(t.name, t.start_minute) for t in templates] == [
        ("early 07:00", 420), ("early 07:30", 450), ("early 08:00", 480)]


def test_importing_the_rota_module_does_not_load_or_tools():
    code = ("import sys, serviceops.workforce.rota; "
            "print(any(m.startswith('ortools') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
