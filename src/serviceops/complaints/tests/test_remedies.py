import json
from datetime import date

import pytest

from serviceops.cli import main
from serviceops.complaints.remedies import Remedy, remedies


def names(guidance):
    return [o.remedy for o in guidance.options]


def test_goods_within_30_days_may_be_rejected_or_repaired():
    g = remedies(kind="goods", purchased=date(2026, 1, 1), delivered=date(2026, 1, 3),
                 reported=date(2026, 2, 2))
    assert names(g) == [Remedy.SHORT_TERM_RIGHT_TO_REJECT, Remedy.REPAIR, Remedy.REPLACEMENT]
    assert "presumed" in g.notes[0]


def test_goods_on_day_31_lose_the_short_term_right_to_reject():
    g = remedies(kind="goods", purchased=date(2026, 1, 1), delivered=date(2026, 1, 3),
                 reported=date(2026, 2, 3))
    assert names(g) == [Remedy.REPAIR, Remedy.REPLACEMENT]


def test_goods_after_a_failed_repair_open_price_reduction_and_final_rejection():
    g = remedies(kind="goods", purchased=date(2026, 1, 1), reported=date(2026, 5, 1),
                 repairs_tried=1)
    assert names(g) == [Remedy.PRICE_REDUCTION, Remedy.FINAL_RIGHT_TO_REJECT]
    assert "no deduction for use" in g.options[1].reason


def test_after_six_months_the_customer_must_prove_the_fault_and_use_is_deducted():
    g = remedies(kind="goods", purchased=date(2026, 1, 1), reported=date(2026, 8, 1),
                 repairs_tried=1)
    assert "must show" in g.notes[0]
    assert "deduction for the use" in g.options[1].reason


def test_digital_content_has_no_rejection_and_services_start_with_repeat_performance():
    d = remedies(kind="digital", purchased=date(2026, 1, 1), reported=date(2026, 1, 2))
    assert names(d) == [Remedy.REPAIR, Remedy.REPLACEMENT]
    d2 = remedies(kind="digital", purchased=date(2026, 1, 1), reported=date(2026, 1, 9),
                  repairs_tried=2)
    assert names(d2) == [Remedy.PRICE_REDUCTION]
    s = remedies(kind="service", purchased=date(2026, 1, 1), reported=date(2026, 1, 2))
    assert names(s) == [Remedy.REPEAT_PERFORMANCE]
    s2 = remedies(kind="service", purchased=date(2026, 1, 1), reported=date(2026, 1, 2),
                  repairs_tried=1)
    assert names(s2) == [Remedy.PRICE_REDUCTION]


def test_claims_after_six_years_are_time_barred_and_impossible_dates_are_refused():
    assert remedies(kind="goods", purchased=date(2019, 1, 1),
                    reported=date(2025, 1, 2)).options == ()
    with pytest.raises(ValueError, match="before"):
        remedies(kind="goods", purchased=date(2026, 3, 1), reported=date(2026, 2, 1))


def test_cli_prints_json_with_remedy_and_reason(capsys):
    code = main(["remedies", "--kind", "goods", "--purchased", "2026-01-01",
                 "--delivered", "2026-01-05", "--reported", "2026-01-20", "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["remedy"] for r in rows] == ["short_term_right_to_reject", "repair", "replacement"]
    assert all(r["reason"] for r in rows)


def test_cli_refuses_a_report_before_delivery(capsys):
    code = main(["remedies", "--kind", "goods", "--purchased", "2026-01-05",
                 "--reported", "2026-01-01"])
    assert code == 2
    assert "cannot be reported before" in capsys.readouterr().err
