"""The intraday maths: the shrunk ratio-to-date re-forecast, agents required against
scheduled and the warnings, with numbers checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from serviceops.workforce import erlang
from serviceops.workforce.intraday import (
    ErlangQueue,
    ReforecastRule,
    Thresholds,
    intraday,
    reforecast_factor,
)


class TenPerAgent:
    """A queue simple enough to check by hand: one agent per ten contacts (rounded up), and
    a service level of the share of contacts the agents could take at ten each."""

    def __init__(self, sl_target: float | None = 0.9):
        self.sl_target = sl_target

    def required(self, volumes):
        return np.ceil(np.asarray(volumes) / 10 - 1e-9).astype(int)

    def service_level(self, volumes, agents):
        volumes = np.asarray(volumes, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.minimum(1.0, np.asarray(agents) * 10 / volumes)


def test_factor_is_the_ratio_to_date_shrunk_towards_one():
    # (A + k) / (F + k): 120 arrived for 100 forecast, k = 30 -> 150 / 130.
    assert reforecast_factor(120, 100) == pytest.approx(150 / 130)
    assert reforecast_factor(120, 100, ReforecastRule(prior_calls=50)) == pytest.approx(170 / 150)
    # Nothing forecast or arrived yet: the forecast stands.
    assert reforecast_factor(0, 0) == 1
    # Twice the calls: a few are noise, many are news.
    few, many = reforecast_factor(12, 6), reforecast_factor(1200, 600)
    assert few == pytest.approx(42 / 36) and many == pytest.approx(1230 / 630)
    assert 1 < few < many < 2


def test_factor_is_held_between_floor_and_cap():
    assert reforecast_factor(0, 200) == 0.5  # 30 / 230 would empty the afternoon
    assert reforecast_factor(400, 100) == 2.0  # 430 / 130 would flood it
    assert reforecast_factor(0, 200, ReforecastRule(floor=0.1)) == pytest.approx(30 / 230)
    with pytest.raises(ValueError):
        ReforecastRule(floor=1.2)
    with pytest.raises(ValueError):
        ReforecastRule(prior_calls=0)


def test_the_rest_of_the_day_is_re_forecast_and_compared_with_the_rota():
    day = intraday(forecast=[10, 20, 30, 40], actual=[15, 25, 7], completed=2,
                   scheduled=[2, 3, 3, 4], queue=TenPerAgent(sl_target=0.9),
                   thresholds=Thresholds(short_agents=1, sl_points=0.05))
    # 40 arrived where 30 were forecast: (40 + 30) / (30 + 30) = 7/6.
    assert day.factor == pytest.approx(7 / 6)
    assert (day.actual_so_far, day.forecast_so_far, day.forecast_total) == (40, 30, 100)
    first, second, now, last = day.intervals
    assert (first.finished, second.finished, now.finished, last.finished) == (
        True, True, False, False)
    assert now.in_progress and not last.in_progress
    assert (now.actual, last.actual) == (7, None)  # the interval in progress counts so far
    assert first.reforecast is None and now.reforecast == pytest.approx(35)
    assert last.reforecast == pytest.approx(40 * 7 / 6)
    # Finished intervals are what arrived; the rest the re-forecast.
    assert [i.expected for i in day.intervals] == pytest.approx([15, 25, 35, 140 / 3])
    assert day.expected_total == pytest.approx(15 + 25 + 35 + 140 / 3)
    assert [i.planned for i in day.intervals] == [1, 2, 3, 4]
    assert [i.required for i in day.intervals] == [2, 3, 4, 5]
    assert [i.gap for i in day.intervals] == [0, 0, -1, -1]
    # 3 agents take 30 of 35 (86 %), 4 take 40 of 46.7 (86 %): within 5 points of 90 %.
    assert now.predicted_sl == pytest.approx(30 / 35)
    assert last.predicted_sl == pytest.approx(40 / (140 / 3))
    assert now.warnings == last.warnings == ("Short by 1 agent",)
    assert not first.warnings and not second.warnings
    assert day.upcoming_warnings == (now, last)


def test_a_predicted_service_level_below_target_less_the_margin_is_flagged():
    day = intraday(forecast=[10, 20, 30, 40], actual=[15, 25], completed=2,
                   scheduled=[2, 3, 4, 4], queue=TenPerAgent(sl_target=0.9),
                   thresholds=Thresholds(short_agents=2, sl_points=0.0))
    now, last = day.intervals[2:]
    assert now.warnings == ()  # 4 agents for 35: 100 %
    assert last.warnings == ("Predicted service level 86 % against a target of 90 %",)


def test_quiet_intervals_and_finished_ones_are_not_upcoming_warnings():
    day = intraday(forecast=[30, 1, 1.5], actual=[60], completed=1, scheduled=[1, 0, 0],
                   queue=TenPerAgent(), thresholds=Thresholds(min_calls=2))
    # 60 arrived for 30: (60 + 30) / (30 + 30) = 1.5; 1.5 and 2.25 contacts need 1 agent each.
    assert day.factor == pytest.approx(1.5)
    past, quiet, busier = day.intervals
    assert past.finished and past.warnings == (  # 1 agent for 60 contacts
        "Short by 5 agents", "Predicted service level 17 % against a target of 90 %")
    assert quiet.required == 1 and quiet.gap == -1 and quiet.warnings == ()  # 1.5 < 2 calls
    assert busier.expected == pytest.approx(2.25) and busier.warnings[0] == "Short by 1 agent"
    assert day.upcoming_warnings == (busier,)


def test_fractional_scheduled_agents_count_whole_for_the_service_level():
    day = intraday(forecast=[40], actual=[0], completed=0, scheduled=[3.5],
                   queue=TenPerAgent(sl_target=0.8),
                   thresholds=Thresholds(short_agents=1, sl_points=0.04))
    only, = day.intervals
    assert only.gap == -0.5 and only.warnings == (
        "Predicted service level 75 % against a target of 80 %",)  # 3 whole agents: 30 of 40
    assert only.actual == 0  # started, nothing yet


def test_no_service_level_target_no_prediction():
    day = intraday(forecast=[40, 0], actual=[], completed=0, scheduled=[4, 0],
                   queue=TenPerAgent(sl_target=None))
    assert [i.predicted_sl for i in day.intervals] == [None, None]
    # The day has not started: nothing counted, nothing in progress.
    assert [(i.actual, i.in_progress) for i in day.intervals] == [(None, False)] * 2
    assert day.intervals[1].required == 0 and not day.intervals[1].warnings


def test_erlang_queue_staffs_the_re_forecast_by_erlang_c():
    # 100 calls in 30 minutes at 180 s: 10 Erlangs. Erlang C by hand with 13 agents.
    def service_level(load, agents, seconds, aht):
        top = load ** agents / math.factorial(agents) * agents / (agents - load)
        p_wait = top / (sum(load ** k / math.factorial(k) for k in range(agents)) + top)
        return 1 - p_wait * math.exp(-(agents - load) * seconds / aht)

    queue = ErlangQueue(interval_minutes=30, aht_seconds=180.0,
                        targets=erlang.Targets(service_level=0.8, sl_seconds=20))
    assert service_level(10, 13, 20, 180) == pytest.approx(0.7956, abs=1e-4)
    assert service_level(10, 14, 20, 180) == pytest.approx(0.8884, abs=1e-4)
    day = intraday(forecast=[80, 100], actual=[100], completed=1, scheduled=[13, 13],
                   queue=queue, rule=ReforecastRule(floor=1, cap=1),
                   thresholds=Thresholds(short_agents=1, sl_points=0.05))
    past, rest = day.intervals
    assert rest.expected == 100 and rest.required == 14 and rest.gap == -1
    assert rest.predicted_sl == pytest.approx(service_level(10, 13, 20, 180))
    # 79.6 % is within 5 points of 80 %: only the shortfall is reported.
    assert rest.warnings == ("Short by 1 agent",)
    # The 80 forecast (8 Erlangs) needed 11: 10 agents give 67.2 %, 11 give 82.4 %.
    assert service_level(8, 10, 20, 180) == pytest.approx(0.6724, abs=1e-4)
    assert service_level(8, 11, 20, 180) == pytest.approx(0.8245, abs=1e-4)
    assert past.required == 14 and past.planned == 11


@pytest.mark.parametrize("arguments, message", [
    ({"scheduled": [1, 2]}, "scheduled agents have 2 intervals"),
    ({"completed": 4}, "between 0 and 3"),
    ({"completed": 2, "actual": [1]}, "2 intervals have finished"),
    ({"completed": 0, "actual": [1, 2]}, "0 intervals have finished"),
    ({"actual": [-1]}, "0 or more"),
])
def test_inputs_are_checked(arguments, message):
    given = {"forecast": [1, 2, 3], "actual": [1], "completed": 1, "scheduled": [1, 1, 1],
             "queue": TenPerAgent()} | arguments
    with pytest.raises(ValueError, match=message):
        intraday(**given)
