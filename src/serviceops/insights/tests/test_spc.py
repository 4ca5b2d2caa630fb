"""Statistical process control: limits worked by hand with fractions, each run rule at and just
below its threshold, Pareto ranking, and the before/after tests against scipy and math.erfc."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from scipy.stats import mannwhitneyu

from serviceops.insights.spc import (
    Comparison,
    ParetoRow,
    Signal,
    before_after_rates,
    before_after_times,
    format_duration,
    p_chart,
    pareto,
    run_rules,
    u_chart,
    xmr,
)

HOUR = 3600


def rules(signals: list[Signal]) -> list[tuple[int, str]]:
    return [(s.index, s.rule) for s in signals]


def unit(values: list[float | None]) -> list[tuple[int, str]]:
    """Run the rules around centre 0 with sigma 1, so values are z-scores."""
    return rules(run_rules(values, 0.0, [1.0] * len(values)))


# --- XmR --------------------------------------------------------------------------------------


def test_xmr_limits_use_average_moving_range_over_1_128():
    chart = xmr([10, 12, 11, 15, 9])
    centre = Fraction(10 + 12 + 11 + 15 + 9, 5)  # 11.4
    mr_bar = Fraction(2 + 1 + 4 + 6, 4)  # |12-10|, |11-12|, |15-11|, |9-15|
    sigma = mr_bar / Fraction("1.128")
    assert chart.kind == "xmr"
    assert chart.values == [10, 12, 11, 15, 9]
    assert chart.centre == pytest.approx(float(centre))
    assert chart.sigma == pytest.approx([float(sigma)] * 5)
    assert chart.ucl == pytest.approx([float(centre + 3 * sigma)] * 5)
    assert chart.lcl == pytest.approx([float(centre - 3 * sigma)] * 5)
    assert chart.mr_ucl == pytest.approx(float(Fraction("3.267") * mr_bar))
    assert chart.signals == []


def test_xmr_baseline_slice_sets_limits_and_later_points_are_judged_against_them():
    values = [10, 12, 11, 15, 9, 30]
    baseline_chart = xmr(values, baseline=slice(0, 5))
    assert baseline_chart.centre == pytest.approx(11.4)
    assert baseline_chart.ucl[5] == pytest.approx(11.4 + 3 * 3.25 / 1.128)
    assert rules(baseline_chart.signals) == [(5, "beyond_3_sigma")]
    # With every point in the baseline the outlier inflates the limits and hides itself.
    whole = xmr(values)
    assert whole.centre == pytest.approx(87 / 6)
    assert whole.mr_ucl == pytest.approx(3.267 * (2 + 1 + 4 + 6 + 21) / 5)
    assert rules(whole.signals) == []


def test_xmr_needs_two_baseline_points():
    with pytest.raises(ValueError, match="at least 2 baseline points"):
        xmr([5.0])
    with pytest.raises(ValueError, match="at least 2 baseline points"):
        xmr([5.0, 6.0, 7.0], baseline=slice(2, None))
    with pytest.raises(ValueError, match="at least 2"):
        xmr([])


@pytest.mark.parametrize("bad", [None, math.nan, math.inf])
def test_xmr_refuses_missing_or_non_finite_values(bad):
    with pytest.raises(ValueError, match="value 1"):
        xmr([1.0, bad, 2.0])


def test_xmr_with_identical_baseline_has_zero_sigma_and_flags_any_departure():
    chart = xmr([5, 5, 5, 6], baseline=slice(0, 3))
    assert chart.sigma == [0.0] * 4
    assert chart.ucl == chart.lcl == [5.0] * 4
    assert (3, "beyond_3_sigma") in rules(chart.signals)


# --- run rules --------------------------------------------------------------------------------


def test_point_exactly_on_the_control_limit_is_not_beyond_it():
    assert unit([3.0, -3.0]) == []


def test_point_beyond_3_sigma_on_either_side_is_flagged_with_plain_description():
    signals = run_rules([3.1, 0.0, -3.1], 0.0, [1.0] * 3)
    assert rules(signals) == [(0, "beyond_3_sigma"), (2, "beyond_3_sigma")]
    assert signals[0].description == "Point outside the control limits"


def test_seven_points_on_one_side_are_not_a_run():
    assert unit([0.5] * 7) == []


def test_eighth_point_on_one_side_and_every_later_one_are_flagged():
    signals = run_rules([0.5] * 10, 0.0, [1.0] * 10)
    assert rules(signals) == [(7, "run_of_8"), (8, "run_of_8"), (9, "run_of_8")]
    assert signals[0].description == "8 points in a row on one side of the centre"
    assert unit([-0.5] * 8) == [(7, "run_of_8")]


def test_point_on_the_centre_line_breaks_a_run():
    assert unit([0.5] * 4 + [0.0] + [0.5] * 4) == []
    assert unit([0.5] * 4 + [-0.5] + [0.5] * 4) == []


def test_missing_points_are_skipped_and_the_run_closes_up_over_them():
    assert unit([0.5] * 4 + [None] + [0.5] * 4) == [(8, "run_of_8")]


def test_five_rising_points_are_not_a_trend():
    assert unit([-0.3, -0.2, -0.1, 0.1, 0.2]) == []


def test_sixth_rising_point_completes_a_trend():
    signals = run_rules([-0.3, -0.2, -0.1, 0.1, 0.2, 0.3, 0.4], 0.0, [1.0] * 7)
    assert rules(signals) == [(5, "trend_of_6"), (6, "trend_of_6")]
    assert signals[0].description == "6 points in a row rising"


def test_six_falling_points_are_a_falling_trend():
    signals = run_rules([0.3, 0.2, 0.1, -0.1, -0.2, -0.3], 0.0, [1.0] * 6)
    assert rules(signals) == [(5, "trend_of_6")]
    assert signals[0].description == "6 points in a row falling"


def test_a_repeated_value_breaks_a_trend():
    assert unit([-0.3, -0.2, -0.2, -0.1, 0.1, 0.2, 0.3]) == []


def test_one_point_beyond_2_sigma_is_not_a_signal():
    assert unit([2.5, 0.0, 0.0]) == []


def test_two_of_three_beyond_2_sigma_flags_the_point_completing_the_pattern():
    signals = run_rules([2.5, 0.0, 2.5], 0.0, [1.0] * 3)
    assert rules(signals) == [(2, "2_of_3_beyond_2_sigma")]
    assert signals[0].description == "2 of 3 points beyond 2 sigma on one side"
    assert unit([-2.5, -2.5]) == [(1, "2_of_3_beyond_2_sigma")]


def test_two_beyond_2_sigma_on_opposite_sides_or_too_far_apart_are_not_a_signal():
    assert unit([2.5, -2.5, 0.0]) == []
    assert unit([2.5, 0.0, 0.0, 2.5]) == []


def test_point_completing_the_window_must_itself_be_beyond_2_sigma():
    # Points 0 and 1 make the pattern (flag 1); point 2 sits inside 2 sigma and is not flagged.
    assert unit([2.5, 2.5, 0.0]) == [(1, "2_of_3_beyond_2_sigma")]


def test_signals_are_ordered_by_index_then_rule_code():
    assert unit([3.5, 3.5]) == [
        (0, "beyond_3_sigma"),
        (1, "2_of_3_beyond_2_sigma"),
        (1, "beyond_3_sigma"),
    ]


def test_run_rules_needs_a_sigma_for_every_value():
    with pytest.raises(ValueError, match="differ in length"):
        run_rules([1.0, 2.0], 0.0, [1.0])
    with pytest.raises(ValueError, match="no valid sigma"):
        run_rules([1.0], 0.0, [None])


# --- p chart ----------------------------------------------------------------------------------


def test_p_chart_limits_vary_with_n_and_the_lower_limit_is_clipped_at_zero():
    chart = p_chart([10, 30, 5, 0], [100, 200, 50, 0])
    p_bar = Fraction(45, 350)
    assert chart.kind == "p"
    assert chart.centre == pytest.approx(float(p_bar))
    assert chart.values == pytest.approx([0.1, 0.15, 0.1, None])
    for i, n in enumerate([100, 200, 50]):
        sigma = math.sqrt(float(p_bar * (1 - p_bar) / n))
        assert chart.sigma[i] == pytest.approx(sigma)
        assert chart.ucl[i] == pytest.approx(float(p_bar) + 3 * sigma)
    sigma_100 = math.sqrt(float(p_bar * (1 - p_bar) / 100))
    assert chart.lcl[0] == pytest.approx(float(p_bar) - 3 * sigma_100)
    assert chart.lcl[0] > 0
    assert chart.lcl[2] == 0.0  # p-bar - 3 sigma is negative for n = 50
    assert chart.ucl[2] > chart.ucl[0] > chart.ucl[1]  # fewer cases, wider limits
    assert chart.mr_ucl is None


def test_p_chart_upper_limit_is_clipped_at_one():
    chart = p_chart([90, 1], [100, 1])
    p_bar = Fraction(91, 101)
    assert chart.ucl[1] == 1.0  # p-bar + 3 sigma is about 1.8 for a single case
    assert chart.ucl[0] == pytest.approx(
        float(p_bar) + 3 * math.sqrt(float(p_bar * (1 - p_bar) / 100)))
    assert chart.ucl[0] < 1


def test_p_chart_point_with_no_cases_has_no_value_or_limits_and_is_skipped():
    chart = p_chart([0, 1, 1], [0, 10, 10])
    assert chart.values[0] is None
    assert chart.ucl[0] is chart.lcl[0] is chart.sigma[0] is None
    assert chart.signals == []


def test_p_chart_baseline_slice_changes_the_limits():
    chart = p_chart([1, 1, 9], [10, 10, 10], baseline=slice(0, 2))
    assert chart.centre == pytest.approx(0.1)
    assert chart.ucl[2] == pytest.approx(0.1 + 3 * math.sqrt(0.1 * 0.9 / 10))
    assert rules(chart.signals) == [(2, "beyond_3_sigma")]
    assert p_chart([1, 1, 9], [10, 10, 10]).centre == pytest.approx(11 / 30)


def test_p_chart_refuses_bad_counts():
    with pytest.raises(ValueError, match="negative"):
        p_chart([-1], [10])
    with pytest.raises(ValueError, match="11 successes out of only 10"):
        p_chart([11], [10])
    with pytest.raises(ValueError, match="differ in length"):
        p_chart([1, 2], [10])
    with pytest.raises(ValueError, match="no cases"):
        p_chart([0, 1], [0, 10], baseline=slice(0, 1))


# --- u chart ----------------------------------------------------------------------------------


def test_u_chart_scales_values_and_limits_per_1000():
    chart = u_chart([3, 5, 2], [1000, 2000, 500], per=1000)
    u_bar = Fraction(10, 3500)
    assert chart.kind == "u"
    assert chart.centre == pytest.approx(float(u_bar * 1000))
    assert chart.values == pytest.approx([3.0, 2.5, 4.0])
    for i, exposure in enumerate([1000, 2000, 500]):
        sigma = math.sqrt(float(u_bar / exposure)) * 1000
        assert chart.sigma[i] == pytest.approx(sigma)
        assert chart.ucl[i] == pytest.approx(float(u_bar * 1000) + 3 * sigma)
        assert chart.lcl[i] == 0.0  # centre - 3 sigma < 0 for these exposures
    plain = u_chart([3, 5, 2], [1000, 2000, 500])
    assert [u * 1000 for u in plain.ucl] == pytest.approx(chart.ucl)
    assert plain.centre * 1000 == pytest.approx(chart.centre)


def test_u_chart_lower_limit_is_kept_when_positive_and_baseline_changes_it():
    chart = u_chart([300, 310, 600], [100_000, 100_000, 100_000], per=1000,
                    baseline=slice(0, 2))
    assert chart.centre == pytest.approx(3.05)
    sigma = math.sqrt(305 / 100_000 / 100_000) * 1000
    assert chart.lcl[0] == pytest.approx(3.05 - 3 * sigma)
    assert chart.lcl[0] > 0
    assert rules(chart.signals) == [(2, "beyond_3_sigma")]


def test_u_chart_point_with_no_exposure_has_no_value():
    chart = u_chart([0, 4], [0, 2])
    assert chart.values == [None, 2.0]
    assert chart.ucl[0] is None and chart.lcl[0] is None


def test_u_chart_refuses_bad_input():
    with pytest.raises(ValueError, match="negative"):
        u_chart([1], [-5])
    with pytest.raises(ValueError, match="per must be positive"):
        u_chart([1], [5], per=0)
    with pytest.raises(ValueError, match="no exposure"):
        u_chart([1], [0])


# --- rows -------------------------------------------------------------------------------------


def test_to_rows_gives_one_dict_per_point_with_joined_rule_codes():
    chart = xmr([0, 1, 0, 1, 0, 1, 20, 20], baseline=slice(0, 6))
    rows = chart.to_rows([f"W{i}" for i in range(8)])
    assert rows[0] == {"label": "W0", "value": 0.0, "centre": 0.5, "ucl": chart.ucl[0],
                       "lcl": chart.lcl[0], "signal": ""}
    assert rows[6]["signal"] == "beyond_3_sigma"
    assert rows[7]["signal"] == "2_of_3_beyond_2_sigma,beyond_3_sigma"
    with pytest.raises(ValueError, match="labels"):
        chart.to_rows(["only one"])


# --- Pareto -----------------------------------------------------------------------------------


def test_pareto_sorts_by_count_then_label_with_cumulative_shares_and_vital_few():
    rows = pareto({"zeta": 5, "login": 10, "billing": 50, "app": 5, "delivery": 30})
    assert [r.label for r in rows] == ["billing", "delivery", "login", "app", "zeta"]
    assert [r.share for r in rows] == pytest.approx([0.5, 0.3, 0.1, 0.05, 0.05])
    assert [r.cumulative_share for r in rows] == pytest.approx([0.5, 0.8, 0.9, 0.95, 1.0])
    # The row where the cumulative share first reaches 80 % is the last of the vital few.
    assert [r.vital_few for r in rows] == [True, True, False, False, False]
    assert rows[0] == ParetoRow("billing", 50, 0.5, 0.5, True)


def test_pareto_first_row_alone_past_80_percent_is_the_only_vital_one():
    rows = pareto({"a": 90, "b": 10})
    assert [r.vital_few for r in rows] == [True, False]


def test_pareto_groups_small_categories_into_a_final_other_row():
    rows = pareto({"zeta": 5, "login": 10, "billing": 50, "app": 5, "delivery": 30},
                  other_threshold=0.06)
    assert [(r.label, r.count) for r in rows] == [
        ("billing", 50), ("delivery", 30), ("login", 10), ("Other", 10)]
    assert rows[-1].share == pytest.approx(0.1)
    assert rows[-1].cumulative_share == pytest.approx(1.0)


def test_pareto_keeps_a_single_small_category_under_its_own_name():
    rows = pareto({"a": 95, "b": 5}, other_threshold=0.06)
    assert [r.label for r in rows] == ["a", "b"]


def test_pareto_of_nothing_is_empty_and_negative_counts_are_refused():
    assert pareto({}) == []
    with pytest.raises(ValueError, match="non-negative"):
        pareto({"a": -1})


# --- before / after: times --------------------------------------------------------------------

BEFORE_H = [3.8, 4.0, 4.1, 4.2, 4.2, 4.4, 4.9, 5.0, 5.1]
AFTER_H = [2.8, 2.9, 3.0, 3.1, 3.1, 3.2, 3.3, 3.4, 3.5]
BEFORE = [h * HOUR for h in BEFORE_H]
AFTER = [h * HOUR for h in AFTER_H]


def test_before_after_times_matches_scipy_mann_whitney_and_says_improved():
    result = before_after_times(BEFORE, AFTER)
    expected = mannwhitneyu(BEFORE, AFTER, alternative="two-sided", method="auto")
    assert isinstance(result, Comparison)
    assert result.test == "mann_whitney"
    assert result.statistic == pytest.approx(float(expected.statistic))
    assert result.p_value == pytest.approx(float(expected.pvalue))
    assert result.before == pytest.approx(4.2 * HOUR)
    assert result.after == pytest.approx(3.1 * HOUR)
    assert (result.n_before, result.n_after) == (9, 9)
    assert result.significant and result.direction == "improved"
    assert result.verdict.startswith(
        "Improved: the median fell from 4.2 h to 3.1 h and the change is statistically "
        "significant (Mann-Whitney U, p < 0.001).")
    assert "few cases: treat with caution" in result.verdict.lower()


def test_before_after_times_falling_is_worse_when_higher_is_better():
    result = before_after_times(BEFORE, AFTER, lower_is_better=False)
    assert result.direction == "worse"
    assert result.verdict.startswith("Worse: the median fell from 4.2 h to 3.1 h")


def test_before_after_times_rising_is_worse_when_lower_is_better():
    result = before_after_times(AFTER, BEFORE)
    assert result.direction == "worse"
    assert result.verdict.startswith("Worse: the median rose from 3.1 h to 4.2 h")


def test_before_after_times_with_overlapping_samples_reports_no_significant_change():
    before = [300, 420, 540, 660, 780]
    after = [360, 480, 600, 720, 840]
    result = before_after_times(before, after)
    expected = mannwhitneyu(before, after, alternative="two-sided", method="auto")
    assert result.p_value == pytest.approx(float(expected.pvalue))
    assert not result.significant and result.direction == "no_change"
    assert result.verdict.startswith(
        f"No significant change: the median rose from 9.0 min to 10.0 min (Mann-Whitney U, "
        f"p = {expected.pvalue:.2f}); the difference could be chance.")


def test_before_after_times_with_equal_medians_says_the_median_stayed():
    result = before_after_times([60, 120, 180], [30, 120, 300])
    assert result.direction == "no_change"
    assert result.verdict.startswith("No significant change: the median stayed at 2.0 min")


def test_before_after_times_gives_no_caution_with_20_cases_each_side():
    before = [600 + 10 * i for i in range(20)]
    after = [300 + 10 * i for i in range(20)]
    result = before_after_times(before, after)
    assert result.direction == "improved"
    assert "caution" not in result.verdict


def test_before_after_times_says_which_side_is_empty():
    with pytest.raises(ValueError, match="before"):
        before_after_times([], [1.0])
    with pytest.raises(ValueError, match="after"):
        before_after_times([1.0], [])
    with pytest.raises(ValueError, match="non-negative"):
        before_after_times([math.nan], [1.0])


@pytest.mark.parametrize(("seconds", "text"), [
    (45, "45 s"), (750, "12.5 min"), (4.2 * HOUR, "4.2 h"), (3 * 86_400, "3.0 days")])
def test_durations_are_formatted_in_readable_units(seconds, text):
    assert format_duration(seconds) == text


# --- before / after: rates --------------------------------------------------------------------


def test_before_after_rates_z_test_matches_hand_computation_and_says_improved():
    result = before_after_rates(780, 1000, 845, 1000)
    pooled = Fraction(780 + 845, 2000)
    se = math.sqrt(float(pooled * (1 - pooled) * (Fraction(1, 1000) + Fraction(1, 1000))))
    z = float(Fraction(845, 1000) - Fraction(780, 1000)) / se
    assert result.test == "two_proportion_z"
    assert (result.before, result.after) == (0.78, 0.845)
    assert (result.n_before, result.n_after) == (1000, 1000)
    assert result.statistic == pytest.approx(z)
    assert result.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert result.significant and result.direction == "improved"
    assert result.verdict == (
        "Improved: 78.0 % → 84.5 % and the change is statistically significant "
        "(two-proportion z-test, p < 0.001).")


def test_before_after_rates_rise_is_worse_when_lower_is_better():
    result = before_after_rates(780, 1000, 845, 1000, higher_is_better=False)
    assert result.direction == "worse"
    assert result.verdict.startswith("Worse: 78.0 % → 84.5 %")


def test_before_after_rates_small_difference_is_no_significant_change():
    result = before_after_rates(78, 100, 80, 100)
    assert not result.significant and result.direction == "no_change"
    assert result.verdict.startswith("No significant change: 78.0 % → 80.0 % (two-proportion")
    assert "could be chance" in result.verdict


@pytest.mark.parametrize("successes", [0, 10])
def test_before_after_rates_all_alike_gives_p_of_one(successes):
    result = before_after_rates(successes, 10, successes, 10)
    assert result.p_value == 1.0
    assert result.statistic == 0.0
    assert result.direction == "no_change"


def test_before_after_rates_refuses_empty_totals_and_impossible_counts():
    with pytest.raises(ValueError, match="total before"):
        before_after_rates(0, 0, 1, 10)
    with pytest.raises(ValueError, match="total after"):
        before_after_rates(1, 10, 0, 0)
    with pytest.raises(ValueError, match="successes after"):
        before_after_rates(1, 10, 11, 10)
    with pytest.raises(ValueError, match="successes before"):
        before_after_rates(-1, 10, 1, 10)
    with pytest.raises(ValueError, match="alpha"):
        before_after_rates(1, 10, 1, 10, alpha=0)
