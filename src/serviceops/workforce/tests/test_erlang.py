"""Erlang B, C and A: exact oracles, published figures, a simulation and staffing properties.

The oracles here share no code with `erlang.py`: Erlang B and C from their defining sums in
exact rational arithmetic (or log space, for thousands of Erlangs), Erlang A from a
discrete-event simulation of the M/M/n+M queue.
"""

from __future__ import annotations

import heapq
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serviceops.workforce.erlang import (
    AsaOf,
    Model,
    ServiceLevelDefinition,
    Targets,
    Workload,
    agents_required,
    erlang_b,
    erlang_c,
    evaluate,
    evaluate_intervals,
    rostered_heads,
    staff,
    staff_intervals,
)

PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DEFINITIONS = list(ServiceLevelDefinition)


def exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """P(wait) from the textbook M/M/n sum, in exact rational arithmetic."""
    last = load**agents / math.factorial(agents) * Fraction(agents) / (agents - load)
    return last / (sum(load**k / math.factorial(k) for k in range(agents)) + last)


def exact_erlang_b(agents: int, load: Fraction) -> Fraction:
    return (load**agents / math.factorial(agents)) / sum(
        load**k / math.factorial(k) for k in range(agents + 1))


def log_space_erlang_b(agents: int, load: float) -> float:
    terms = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents + 1)]
    top = max(terms)
    return math.exp(terms[-1] - top - math.log(sum(math.exp(t - top) for t in terms)))


def simulate(*, volume, interval, aht, patience, agents, sl_seconds, calls=200_000, seed=7):
    """Serve `calls` Poisson arrivals first come first served by `agents` agents; callers
    leave after an exponential patience. Returns the measured metrics (first 5% discarded)."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(interval / volume, calls)).tolist()
    services = rng.exponential(aht, calls).tolist()
    patiences = rng.exponential(patience, calls).tolist()
    free = [0.0] * agents  # when each agent is next free, as a heap
    waited, served = np.empty(calls), np.empty(calls, dtype=bool)
    for k, (t, service, patience_k) in enumerate(zip(arrivals, services, patiences,
                                                     strict=True)):
        wait = max(0.0, free[0] - t)
        served[k] = wait <= patience_k
        waited[k] = wait if served[k] else patience_k
        if served[k]:
            heapq.heapreplace(free, t + wait + service)
    waited, served = waited[calls // 20:], served[calls // 20:]
    in_time = served & (waited <= sl_seconds)
    short_abandons = ~served & (waited <= sl_seconds)
    return {
        "p_wait": np.mean(waited > 0), "p_abandon": np.mean(~served),
        ServiceLevelDefinition.OFFERED: in_time.mean(),
        ServiceLevelDefinition.ANSWERED: in_time.sum() / served.sum(),
        ServiceLevelDefinition.EXCLUDING_SHORT_ABANDONS:
            in_time.sum() / (waited.size - short_abandons.sum()),
        AsaOf.ALL: waited.mean(), AsaOf.SERVED: waited[served].mean(),
    }


# --- Erlang B and C against exact values -----------------------------------------------------


@pytest.mark.parametrize(("agents", "load"), [(1, Fraction(1, 2)), (5, Fraction(3)),
                                               (13, Fraction(10)), (30, Fraction(55, 2)),
                                               (60, Fraction(48))])
def test_erlang_c_metrics_match_the_exact_textbook_sums(agents, load):
    workload = Workload(volume=float(load) * 1800 / 180, interval_seconds=1800, aht_seconds=180)
    c = float(exact_erlang_c(agents, load))
    gap = agents - float(load)
    m = evaluate(workload, agents, sl_seconds=20)
    assert erlang_b(agents, float(load)) == pytest.approx(float(exact_erlang_b(agents, load)),
                                                          rel=1e-12)
    assert erlang_c(agents, float(load)) == pytest.approx(c, rel=1e-12)
    assert m.p_wait == pytest.approx(c, rel=1e-12)
    assert m.service_level == pytest.approx(1 - c * math.exp(-gap * 20 / 180), rel=1e-12)
    assert m.asa_seconds == pytest.approx(c * 180 / gap, rel=1e-12)
    assert m.occupancy == pytest.approx(float(load) / agents, rel=1e-12)
    assert m.model is Model.ERLANG_C and m.p_abandon is None


def test_the_classic_example_needs_14_agents_and_20_heads_after_30_percent_shrinkage():
    # 100 calls in 30 minutes, AHT 180 s (10 Erlangs), 80% answered in 20 s, 30% shrinkage:
    # the inputs of Call Centre Helper's worked Erlang C example. The figures are those that
    # pyworkforce's test suite asserts for it (14 agents, 20 heads, SL 88.8%, occupancy 71.4%,
    # P(wait) 17.4%).
    workload = Workload(volume=100, interval_seconds=1800, aht_seconds=180)
    result = staff(workload, Targets(service_level=0.8, sl_seconds=20), shrinkage=0.3)
    assert (result.agents, result.rostered) == (14, 20)
    assert round(result.metrics.service_level, 3) == 0.888
    assert round(result.metrics.occupancy, 3) == 0.714
    assert round(result.metrics.p_wait, 3) == 0.174
    # 13 agents fall just short: the exact P(wait) gives 79.6% within 20 s.
    thirteen = 1 - float(exact_erlang_c(13, Fraction(10))) * math.exp(-3 * 20 / 180)
    assert thirteen == pytest.approx(0.7956, abs=1e-4)
    assert evaluate(workload, 13, sl_seconds=20).service_level == pytest.approx(thirteen)


def test_an_occupancy_cap_adds_agents_and_without_one_occupancy_is_not_capped():
    workload = Workload(volume=100, interval_seconds=1800, aht_seconds=180)
    capped = Targets(service_level=0.8, sl_seconds=20, max_occupancy=0.7)
    assert agents_required(workload, capped) == 15  # ceil(10 / 0.7)
    busy = Workload(volume=5000 * 1800 / 300, interval_seconds=1800, aht_seconds=300)
    assert staff(busy, Targets(service_level=0.8, sl_seconds=20)).metrics.occupancy > 0.99


def test_erlang_b_is_stable_at_thousands_of_erlangs():
    for agents, load in ((5000, 5000.0), (4900, 5000.0), (5300, 5000.0), (12000, 11500.5)):
        assert erlang_b(agents, load) == pytest.approx(log_space_erlang_b(agents, load),
                                                       rel=1e-9)
    exact = float(exact_erlang_b(400, Fraction(390)))
    assert erlang_b(400, 390.0) == pytest.approx(exact, rel=1e-12)


def test_staffing_5000_erlangs_gives_the_smallest_count_that_works():
    workload = Workload(volume=5000 * 1800 / 300, interval_seconds=1800, aht_seconds=300)
    targets = Targets(service_level=0.8, sl_seconds=20, asa_seconds=15)
    n = agents_required(workload, targets)
    assert 5000 < n < 5100
    assert evaluate(workload, n, sl_seconds=20).service_level >= 0.8
    assert evaluate(workload, n - 1, sl_seconds=20).service_level < 0.8
    assert erlang_c(5000, 5000.0) == 1.0


def test_with_no_more_agents_than_the_load_erlang_c_queues_without_limit():
    m = evaluate(Workload(volume=100, interval_seconds=1800, aht_seconds=180), 10)
    assert (m.p_wait, m.service_level, m.asa_seconds, m.occupancy) == (1.0, 0.0, math.inf, 1.0)


@pytest.mark.parametrize("patience", [None, 90.0])
def test_zero_load_needs_no_agents_and_reports_perfect_service(patience):
    workload = Workload(volume=0, interval_seconds=900, aht_seconds=300,
                        patience_seconds=patience)
    result = staff(workload, Targets(service_level=0.9, sl_seconds=20, asa_seconds=5))
    assert (result.agents, result.rostered) == (0, 0)
    m = result.metrics
    assert (m.service_level, m.asa_seconds, m.p_wait, m.occupancy) == (1.0, 0.0, 0.0, 0.0)
    assert m.p_abandon == (None if patience is None else 0.0)


def test_under_erlang_c_every_service_level_definition_and_both_asas_agree():
    workload = Workload(volume=120, interval_seconds=900, aht_seconds=240)
    values = {(d, a): evaluate(workload, 36, sl_seconds=15, sl_definition=d, asa_of=a)
              for d in DEFINITIONS for a in AsaOf}
    assert len({m.service_level for m in values.values()}) == 1
    assert len({m.asa_seconds for m in values.values()}) == 1


# --- Erlang A -------------------------------------------------------------------------------


@pytest.mark.parametrize(("volume", "aht", "patience", "agents"), [
    (100, 180, 120, 10),  # as many agents as Erlangs: only abandonment keeps it stable
    (300, 300, 60, 40),   # 50 Erlangs on 40 agents: a fifth of callers hang up
])
def test_erlang_a_agrees_with_a_simulation_of_impatient_callers(volume, aht, patience, agents):
    simulated = simulate(volume=volume, interval=1800, aht=aht, patience=patience,
                         agents=agents, sl_seconds=20)
    workload = Workload(volume=volume, interval_seconds=1800, aht_seconds=aht,
                        patience_seconds=patience)
    for definition in DEFINITIONS:
        for asa_of in AsaOf:
            m = evaluate(workload, agents, sl_seconds=20, sl_definition=definition,
                         asa_of=asa_of)
            assert m.service_level == pytest.approx(simulated[definition], abs=0.015)
            assert m.asa_seconds == pytest.approx(simulated[asa_of], rel=0.05)
    assert m.p_wait == pytest.approx(simulated["p_wait"], abs=0.015)
    assert m.p_abandon == pytest.approx(simulated["p_abandon"], abs=0.01)


@pytest.mark.parametrize("agents", [11, 13, 20])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(agents):
    # The gap shrinks in proportion to 1/patience (with 11 agents SL is 5e-4 higher at a
    # patience of 1e6 s, 5e-5 at 1e7 s): at 1e9 s it is below the tolerance.
    patient = Workload(volume=100, interval_seconds=1800, aht_seconds=180,
                       patience_seconds=1e9)
    never_leave = Workload(volume=100, interval_seconds=1800, aht_seconds=180)
    c = evaluate(never_leave, agents, sl_seconds=20)
    for definition in DEFINITIONS:
        for asa_of in AsaOf:
            a = evaluate(patient, agents, sl_seconds=20, sl_definition=definition,
                         asa_of=asa_of)
            assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
            assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-5)
            assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
            assert a.occupancy == pytest.approx(c.occupancy, rel=1e-5)
            assert a.p_abandon < 1e-6


def test_erlang_a_copes_with_fewer_agents_than_the_load():
    workload = Workload(volume=200, interval_seconds=1800, aht_seconds=180,
                        patience_seconds=60)
    m = evaluate(workload, 15, sl_seconds=20)  # 20 Erlangs
    assert 0 < m.service_level < 1 and 0 < m.p_abandon < 1 and math.isfinite(m.asa_seconds)
    # Every agent is nearly always busy and the carried load is what the agents can take.
    assert m.occupancy == pytest.approx(20 * (1 - m.p_abandon) / 15)
    assert m.occupancy > 0.95
    nobody = evaluate(workload, 0, sl_seconds=20, asa_of=AsaOf.ALL)
    assert (nobody.p_abandon, nobody.service_level, nobody.asa_seconds) == (1.0, 0.0, 60.0)


def test_an_abandonment_cap_is_met_by_the_fewest_agents():
    workload = Workload(volume=300, interval_seconds=1800, aht_seconds=300,
                        patience_seconds=120)
    targets = Targets(max_abandon=0.02)
    n = agents_required(workload, targets)
    assert evaluate(workload, n).p_abandon <= 0.02 < evaluate(workload, n - 1).p_abandon


def test_erlang_a_at_5000_erlangs_keeps_its_probabilities_in_range():
    for patience in (30.0, 600.0, 1e6):
        workload = Workload(volume=5000 * 1800 / 300, interval_seconds=1800, aht_seconds=300,
                            patience_seconds=patience)
        for agents in (1, 4000, 5000, 5100, 20000):
            for definition in DEFINITIONS:
                m = evaluate(workload, agents, sl_seconds=20, sl_definition=definition,
                             asa_of=AsaOf.SERVED)
                for share in (m.service_level, m.p_wait, m.p_abandon, m.occupancy):
                    assert 0.0 <= share <= 1.0
                assert m.asa_seconds >= 0


# --- Properties of any queue -----------------------------------------------------------------

workloads = st.builds(
    Workload,
    volume=st.floats(0, 3000),
    interval_seconds=st.sampled_from([900.0, 1800.0, 3600.0]),
    aht_seconds=st.floats(30, 900),
    patience_seconds=st.none() | st.floats(5, 3600),
)


@st.composite
def target_sets(draw, patience: bool):
    shares = st.floats(0.05, 0.99)
    chosen = draw(st.fixed_dictionaries({}, optional={
        "service_level": shares, "asa_seconds": st.floats(1, 120), "p_wait": shares,
        "max_occupancy": st.floats(0.5, 0.99),
        **({"max_abandon": st.floats(0.005, 0.3)} if patience else {}),
    }))
    if not {"service_level", "asa_seconds", "p_wait", "max_abandon"} & chosen.keys():
        chosen["service_level"] = draw(shares)
    return Targets(sl_seconds=draw(st.floats(0, 120)), sl_definition=draw(
        st.sampled_from(DEFINITIONS)), asa_of=draw(st.sampled_from(list(AsaOf))), **chosen)


def meets(m, t: Targets) -> bool:
    return ((t.service_level is None or m.service_level >= t.service_level)
            and (t.asa_seconds is None or m.asa_seconds <= t.asa_seconds)
            and (t.p_wait is None or m.p_wait <= t.p_wait)
            and (t.max_abandon is None or m.p_abandon <= t.max_abandon)
            and (t.max_occupancy is None or m.occupancy <= t.max_occupancy))


@PROPERTY
@given(workloads, st.data())
def test_staffing_is_the_smallest_count_meeting_every_target(workload, data):
    targets = data.draw(target_sets(workload.patience_seconds is not None))
    n = agents_required(workload, targets)

    def at(agents):
        return evaluate(workload, agents, sl_seconds=targets.sl_seconds,
                        sl_definition=targets.sl_definition, asa_of=targets.asa_of)

    assert meets(at(n), targets)
    if n > 0:
        assert not meets(at(n - 1), targets)


@PROPERTY
@given(workloads, st.integers(0, 400), st.floats(0, 300), st.sampled_from(list(AsaOf)))
def test_metrics_stay_in_range_and_the_service_levels_are_ordered(workload, agents, seconds,
                                                                   asa_of):
    by_definition = {d: evaluate(workload, agents, sl_seconds=seconds, sl_definition=d,
                                 asa_of=asa_of) for d in DEFINITIONS}
    for m in by_definition.values():
        for share in (m.service_level, m.p_wait, m.occupancy, m.p_abandon or 0.0):
            assert 0.0 <= share <= 1.0
        assert m.asa_seconds >= 0
    offered, answered, excluding = (by_definition[d].service_level for d in DEFINITIONS)
    # Fewer calls in the denominator: answered >= excluding short abandons >= offered.
    assert offered <= excluding * (1 + 1e-9) and excluding <= answered * (1 + 1e-9)


@PROPERTY
@given(st.lists(st.floats(0, 400), min_size=1, max_size=40), st.floats(60, 600),
       st.none() | st.floats(10, 600), st.data())
def test_interval_forms_agree_with_one_interval_at_a_time(volumes, aht, patience, data):
    targets = data.draw(target_sets(patience is not None))
    result = staff_intervals(np.array(volumes), interval_seconds=900, aht_seconds=aht,
                             patience_seconds=patience, targets=targets, shrinkage=0.25)
    for k, volume in enumerate(volumes):
        workload = Workload(volume, 900, aht, patience)
        single = staff(workload, targets, shrinkage=0.25)
        assert (result.agents[k], result.rostered[k]) == (single.agents, single.rostered)
        assert result.metrics.service_level[k] == pytest.approx(single.metrics.service_level)
        assert result.metrics.asa_seconds[k] == pytest.approx(single.metrics.asa_seconds)
    again = evaluate_intervals(np.array(volumes), result.agents, interval_seconds=900,
                               aht_seconds=aht, patience_seconds=patience,
                               sl_seconds=targets.sl_seconds,
                               sl_definition=targets.sl_definition, asa_of=targets.asa_of)
    assert np.allclose(again.p_wait, result.metrics.p_wait)


def test_a_week_of_quarter_hours_is_staffed_per_interval_with_a_per_interval_aht():
    hours = np.arange(672) % 96 / 4
    volumes = np.where((hours >= 8) & (hours < 20), 60 + 40 * np.sin((hours - 8) / 12 * np.pi),
                       0.0)
    aht = np.where(hours < 14, 240.0, 300.0)
    result = staff_intervals(volumes, interval_seconds=900, aht_seconds=aht,
                             targets=Targets(service_level=0.8, sl_seconds=20))
    assert result.agents[hours < 8].max() == 0
    for k in (40, 60, 79):
        assert result.agents[k] == agents_required(
            Workload(volumes[k], 900, aht[k]), Targets(service_level=0.8, sl_seconds=20))


# --- Inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["service_level", "p_wait", "max_abandon", "max_occupancy"])
@pytest.mark.parametrize("value", [1.0, 1.2, 0.0, -0.1])
def test_shares_of_one_or_more_or_of_zero_or_less_are_refused(field, value):
    with pytest.raises(ValueError, match="above 0 and below 1"):
        Targets(**{"service_level": 0.8, field: value})


def test_impossible_requests_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="at least one target"):
        Targets(max_occupancy=0.85)
    with pytest.raises(ValueError, match="needs Erlang A"):
        agents_required(Workload(100, 1800, 180), Targets(max_abandon=0.05))
    with pytest.raises(ValueError, match="ASA target"):
        Targets(asa_seconds=0)
    with pytest.raises(ValueError, match="AHT"):
        Workload(100, 1800, 0)
    with pytest.raises(ValueError, match="volume"):
        Workload(-1, 1800, 180)
    with pytest.raises(ValueError, match="shrinkage"):
        rostered_heads(10, 1.0)


def test_rostered_heads_round_up_and_ignore_binary_rounding():
    assert rostered_heads(21, 0.3) == 30  # 21 / 0.7 is 30.000000000000004 in floating point
    assert rostered_heads(14, 0.3) == 20
    assert rostered_heads(13, 0.3) == 19
    assert rostered_heads(7, 0.0) == 7
