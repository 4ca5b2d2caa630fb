from datetime import UTC, datetime

import pytest

from serviceops.insights.kpis import (
    Direction,
    Kpi,
    Status,
    Unit,
    check_thresholds,
    register,
    status,
)


def test_status_lower_is_better_green_at_target_amber_within_limit_red_beyond():
    kw = {"target": 3600, "amber": 5400, "direction": Direction.LOWER}
    assert status(3600, **kw) is Status.GREEN
    assert status(3601, **kw) is Status.AMBER
    assert status(5400, **kw) is Status.AMBER
    assert status(5401, **kw) is Status.RED


def test_status_higher_is_better_and_missing_target_or_value():
    kw = {"target": 0.9, "amber": 0.8, "direction": Direction.HIGHER}
    assert status(0.95, **kw) is Status.GREEN
    assert status(0.85, **kw) is Status.AMBER
    assert status(0.79, **kw) is Status.RED
    assert status(0.85, target=0.9, amber=None, direction=Direction.HIGHER) is Status.RED
    assert status(None, **kw) is Status.NO_DATA
    assert status(1.0, target=None, amber=None, direction=Direction.HIGHER) is Status.NO_TARGET
    assert Status.RED.words == "Off target"


def test_thresholds_must_point_the_way_the_kpi_improves():
    assert check_thresholds(target=3600, amber=1800, direction=Direction.LOWER)
    assert check_thresholds(target=3600, amber=7200, direction=Direction.LOWER) is None
    assert check_thresholds(target=0.9, amber=0.95, direction=Direction.HIGHER)
    assert check_thresholds(target=None, amber=0.5, direction=Direction.HIGHER)


def test_register_refuses_a_key_twice():
    class One:
        kpis = (Kpi("case_volume", "Clash", "", "", Unit.COUNT, Direction.NEUTRAL),)

        def compute(self, scope):
            return {}

    with pytest.raises(ValueError, match="case_volume"):
        register(One())
    assert datetime(2026, 1, 1, tzinfo=UTC)  # the library itself is loaded by Django
