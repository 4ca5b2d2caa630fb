"""Demand forecasting: series building, the models, special days, the backtest and its scores,
prediction intervals, handle time and bad input; and the real bank call data."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest

from serviceops.conftest import shared_data
from serviceops.workforce.forecast import (
    ForecastModel,
    IntervalSeries,
    Measure,
    SpecialDays,
    backtest,
    forecast,
    handle_time_series,
    mase,
    public_holidays,
    read_arrivals_csv,
    volume_series,
    wape,
)

LONDON = "Europe/London"
NAIVE, ETS, MSTL = ForecastModel.SEASONAL_NAIVE, ForecastModel.ETS, ForecastModel.MSTL


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hourly(values, first_day: date, time_zone: str | None = LONDON) -> IntervalSeries:
    return IntervalSeries(np.asarray(values, float), interval_minutes=60, first_day=first_day,
                          time_zone=time_zone)


def day_numbered(first_day: date, days: int) -> np.ndarray:
    """Hourly values that say where they come from: 100 × (day number + 1) + hour."""
    return ((np.arange(days)[:, None] + 1) * 100 + np.arange(24)[None, :]).ravel().astype(float)


def synthetic(weeks: int, *, slope: float, seed: int = 7) -> np.ndarray:
    """Hourly contacts from Monday: busy 08:00-20:00 with a midday peak, Monday busiest,
    quiet weekends, a level rising by `slope` contacts an hour, Poisson-like noise."""
    rng = np.random.default_rng(seed)
    hours = np.arange(24)
    daily = np.where((hours >= 8) & (hours < 20), 1 + 0.6 * np.sin(np.pi * (hours - 8) / 12),
                     0.05)
    days = np.array([1.2, 1.0, 1.0, 1.0, 0.9, 0.5, 0.2])
    shape = np.tile((days[:, None] * daily[None, :]).ravel(), weeks)
    mean = (100 + slope * np.arange(shape.size)) * shape
    return np.round(np.maximum(mean + rng.normal(0, 1, mean.size) * np.sqrt(mean), 0))


# --- Building series --------------------------------------------------------------------------


def test_volume_series_counts_arrivals_per_wall_clock_interval_and_zero_fills_the_rest():
    arrivals = [utc(2026, 1, 12, 8, 0), utc(2026, 1, 12, 8, 29, 59), utc(2026, 1, 12, 8, 30),
                utc(2026, 1, 12, 23, 59),
                # 00:10 in Paris is 23:10 the day before in London (GMT in January).
                datetime(2026, 1, 13, 0, 10, tzinfo=timezone(timedelta(hours=1))),
                utc(2026, 1, 14, 0, 0)]
    series = volume_series(arrivals, interval_minutes=30, time_zone=LONDON)
    assert (series.first_day, len(series), series.per_day) == (date(2026, 1, 12), 3 * 48, 48)
    expected = np.zeros(3 * 48)
    expected[16], expected[17], expected[47], expected[46], expected[96] = 2, 1, 1, 1, 1
    assert np.array_equal(series.values, expected)
    assert series.start_of(17) == datetime(2026, 1, 12, 8, 30)
    counted = volume_series(arrivals[:3], counts=[5, 0, 2.5], interval_minutes=60,
                            time_zone=LONDON, first_day=date(2026, 1, 11),
                            last_day=date(2026, 1, 12))
    assert len(counted) == 48 and counted.values[24 + 8] == 7.5 and counted.values.sum() == 7.5


def test_a_23_hour_day_keeps_24_wall_clock_hours_and_the_skipped_hour_lasts_nothing():
    # 29 March 2026: London's clocks go from 01:00 GMT to 02:00 BST.
    series = volume_series([utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30),
                            utc(2026, 3, 29, 22, 59)], interval_minutes=60, time_zone=LONDON)
    assert len(series) == 24
    assert series.values[0] == 1 and series.values[2] == 1 and series.values[23] == 1
    assert series.values[1] == 0
    minutes = series.real_minutes()
    assert minutes[1] == 0 and minutes.sum() == 23 * 60


def test_a_25_hour_day_counts_both_passes_of_the_repeated_hour_in_one_interval():
    # 25 October 2026: 01:00-02:00 happens in BST (00:00-01:00 UTC), then again in GMT.
    series = volume_series([utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)],
                           interval_minutes=30, time_zone=LONDON)
    assert len(series) == 48 and series.values[3] == 2 and series.values.sum() == 2
    minutes = series.real_minutes()
    assert minutes[2] == minutes[3] == 60 and minutes.sum() == 25 * 60


def test_forecasts_across_clock_changes_skip_the_missing_hour_and_double_the_repeated_one():
    spring = forecast(hourly(np.full(21 * 24, 10.0), date(2026, 3, 2)), model=NAIVE,
                      levels=())
    assert spring.starts[-23] == datetime(2026, 3, 29, 1, 0)
    assert spring.mean[-23] == 0 and spring.closed[-23]
    assert spring.mean.sum() == 10 * (7 * 24 - 1)
    autumn = forecast(hourly(np.full(21 * 24, 10.0), date(2026, 9, 28)), model=NAIVE,
                      levels=())
    assert autumn.starts[-23] == datetime(2026, 10, 25, 1, 0) and autumn.mean[-23] == 20
    assert autumn.mean.sum() == 10 * (7 * 24 + 1)


def test_an_arrivals_csv_gives_volumes_and_volume_weighted_handle_times(tmp_path):
    path = tmp_path / "arrivals.csv"
    path.write_text("time,calls,handle\n"
                    "2026-03-02T08:05,3,200\n"         # local wall-clock time
                    "2026-03-02 08:20,1,400\n"
                    "2026-03-02T09:10Z,2,100\n"        # 09:10 GMT
                    "2026-03-03T08:00+01:00,4,300\n")  # 07:00 GMT
    demand = read_arrivals_csv(path, time_column="time", count_column="calls",
                               handle_column="handle", interval_minutes=30, time_zone=LONDON)
    volume, aht = demand.volume, demand.handle_time
    assert len(volume) == 96 and volume.values.sum() == 10
    assert (volume.values[16], volume.values[18], volume.values[48 + 14]) == (4, 2, 4)
    assert aht.measure is Measure.HANDLE_TIME
    assert aht.values[16] == pytest.approx((3 * 200 + 400) / 4)  # 250, weighted by volume
    assert (aht.values[18], aht.values[48 + 14]) == (100, 300)
    assert np.isnan(aht.values[17]) and aht.weights[16] == 4
    one_per_row = read_arrivals_csv(path, time_column="time", interval_minutes=60,
                                    time_zone=LONDON).volume
    assert one_per_row.values.sum() == 4 and one_per_row.values[8] == 2


def test_handle_time_series_weights_each_contact_equally():
    series = handle_time_series([(utc(2026, 1, 5, 9, 1), 100), (utc(2026, 1, 5, 9, 50), 400),
                                 (utc(2026, 1, 5, 10, 0), 60)], interval_minutes=60,
                                time_zone=LONDON)
    assert series.values[9] == 250 and series.values[10] == 60
    assert series.weights[9] == 2 and np.isnan(series.values[11])


# --- Models and scores ------------------------------------------------------------------------


def test_seasonal_naive_repeats_the_last_week_exactly():
    values = np.arange(3 * 7 * 24, dtype=float)
    result = forecast(hourly(values, date(2026, 1, 5)), model=NAIVE, horizon=200, levels=())
    last_week = values[-168:]
    assert np.array_equal(result.mean, np.concatenate([last_week, last_week[:32]]))
    assert result.starts[0] == datetime(2026, 1, 26, 0, 0)


def test_wape_and_mase_match_hand_computed_values():
    actual, predicted = [10, 20, 30], [12, 18, 33]
    assert wape(actual, predicted) == pytest.approx(7 / 60)
    assert wape(actual, predicted, weights=[1, 2, 3]) == pytest.approx(15 / 140)
    # Seasonal differences of the history at lag 2: 2, 3, 5, 8 (mean 4.5); mean error 7/3.
    assert mase(actual, predicted, history=[1, 2, 3, 5, 8, 13], season=2) == pytest.approx(
        (7 / 3) / 4.5)
    assert mase(actual, predicted, history=[1, 2, np.nan, 5, 8, 13], season=2) == \
        pytest.approx((7 / 3) / ((3 + 8) / 2))
    assert np.isnan(wape([0, 0], [1, 1]))


def test_the_backtest_scores_seasonal_naive_as_computed_by_hand():
    # Days of 2 intervals, weeks of 2 days: the week is 4 intervals.
    series = IntervalSeries([1, 2, 3, 4, 2, 4, 6, 8, 3, 5, 9, 10], interval_minutes=60,
                            per_day=2, days_per_week=2)
    result = backtest(series, models=[NAIVE], horizon=4, origins=1).of(NAIVE)
    (score,) = result.origins
    assert score.origin == 8 and score.start is None
    # Forecast 2, 4, 6, 8 against 3, 5, 9, 10: errors 1, 1, 3, 2.
    assert score.wape == pytest.approx(7 / 27)
    # The history's weekly differences are 1, 2, 3, 4 (mean 2.5); the mean error is 7/4.
    assert score.mase == pytest.approx(1.75 / 2.5)
    assert np.array_equal(result.errors[0], [1, 1, 3, 2])


def test_handle_time_is_scored_with_the_contacts_as_weights():
    aht = [100, 200, 300, 400, 110, 210, 310, 410, 120, 200, 330, 999]
    contacts = [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 0]
    series = IntervalSeries(aht, weights=contacts, measure=Measure.HANDLE_TIME,
                            interval_minutes=60, per_day=2, days_per_week=2)
    assert np.isnan(series.values[-1])  # no contacts, no handle time
    (score,) = backtest(series, models=[NAIVE], horizon=4, origins=1).of(NAIVE).origins
    # Errors 10, 10, 20 on 1, 2, 3 contacts; the interval without contacts is not scored.
    assert score.wape == pytest.approx((10 + 2 * 10 + 3 * 20) / (120 + 2 * 200 + 3 * 330))
    assert score.mase == pytest.approx((90 / 6) / 10)


def test_the_backtest_picks_a_model_that_beats_seasonal_naive_on_a_trend_with_seasons():
    series = hourly(synthetic(5, slope=0.2), date(2026, 1, 5))
    result = backtest(series, origins=2)
    naive = result.of(NAIVE)
    chosen = result.of(result.chosen)
    assert result.chosen is not NAIVE
    assert chosen.mean_wape < 0.9 * naive.mean_wape
    assert chosen.mean_wape == min(r.mean_wape for r in result.results)
    assert [o.start for o in naive.origins] == [datetime(2026, 1, 26), datetime(2026, 2, 2)]
    assert all(np.isfinite(r.mean_mase) for r in result.results)


# --- Special days -----------------------------------------------------------------------------


def test_closures_forecast_zero_and_are_left_out_of_fitting_and_scoring():
    first = date(2026, 1, 5)  # a Monday
    values = day_numbered(first, 21)
    values[16 * 24:17 * 24] = 0  # Wednesday 21 January, closed
    special = SpecialDays(closures=frozenset({date(2026, 1, 21), date(2026, 1, 30)}))
    result = forecast(hourly(values, first), model=NAIVE, special_days=special, levels=())
    wednesday, friday = slice(2 * 24, 3 * 24), slice(4 * 24, 5 * 24)
    # Wednesday 28 January comes from Wednesday 14 January, not the closed day after it.
    assert np.array_equal(result.mean[wednesday], values[9 * 24:10 * 24])
    assert not result.mean[friday].any() and result.closed[friday].all()
    assert np.array_equal(result.mean[:48], values[14 * 24:16 * 24])
    # In a backtest the closed day is not scored.
    scored = backtest(hourly(values, first), models=[NAIVE], horizon=168, origins=1,
                      special_days=special).of(NAIVE)
    errors = scored.errors[0]
    assert np.isnan(errors[2 * 24:3 * 24]).all() and np.isfinite(errors[:2 * 24]).all()
    open_ = np.r_[0:48, 72:168]
    assert scored.origins[0].wape == pytest.approx(
        wape(values[14 * 24:21 * 24][open_], values[7 * 24:14 * 24][open_]))


def test_a_bank_holiday_is_forecast_as_the_sunday_of_its_week_and_not_fitted():
    holidays = public_holidays(date(2026, 4, 13), date(2026, 5, 31))
    assert holidays == {date(2026, 5, 4), date(2026, 5, 25)}
    first = date(2026, 4, 13)  # Monday; 4 weeks to Sunday 10 May, bank holiday 4 May inside
    values = day_numbered(first, 28)
    result = forecast(hourly(values, first), model=NAIVE, horizon=15 * 24, levels=(),
                      special_days=SpecialDays(bank_holidays=holidays))
    monday_27_april = values[14 * 24:15 * 24]
    assert np.array_equal(result.mean[:24], monday_27_april)  # Monday 11 May
    assert np.array_equal(result.mean[7 * 24:8 * 24], monday_27_april)  # Monday 18 May
    # Monday 25 May is a bank holiday: it takes Sunday 31 May, a repeat of Sunday 10 May.
    assert result.starts[14 * 24] == datetime(2026, 5, 25)
    assert result.bank_holiday[14 * 24:15 * 24].all() and not result.bank_holiday[:14 * 24].any()
    assert np.array_equal(result.mean[14 * 24:], values[27 * 24:28 * 24])


def test_public_holidays_are_englands_by_default():
    days = public_holidays(date(2026, 1, 1), date(2026, 12, 31))
    assert date(2026, 8, 31) in days and date(2026, 8, 3) not in days  # not Scotland's
    assert date(2026, 12, 28) in days  # Boxing Day falls on a Saturday
    assert date(2026, 8, 3) in public_holidays(date(2026, 1, 1), date(2026, 12, 31), "GB-SCT")


# --- Prediction intervals ---------------------------------------------------------------------


def test_ets_intervals_come_from_the_model_nest_and_are_never_negative():
    series = hourly(synthetic(3, slope=0.0), date(2026, 1, 5))
    result = forecast(series, model=ETS, horizon=48)
    assert result.interval_source == "model"
    assert (result.mean >= 0).all() and (result.lower[0.95] >= 0).all()
    assert (result.lower[0.95] <= result.lower[0.8]).all()
    assert (result.lower[0.8] <= result.mean).all() and (result.mean <= result.upper[0.8]).all()
    assert (result.upper[0.8] <= result.upper[0.95]).all()
    assert (result.upper[0.95] - result.lower[0.95] > 0).all()


def test_empirical_intervals_are_quantiles_of_the_scaled_backtest_errors_by_horizon_day():
    # One interval a day, weeks of 2 days. Origin 4 forecasts 10, 20 and sees 14, 20;
    # origin 6 forecasts 14, 20 and sees 10, 28.
    series = IntervalSeries([10, 20, 10, 20, 14, 20, 10, 28], interval_minutes=60,
                            per_day=1, days_per_week=2)
    scores = backtest(series, models=[NAIVE], horizon=2, origins=2)
    result = forecast(series, model=NAIVE, horizon=2, backtested=scores)
    assert result.interval_source == "backtest" and np.array_equal(result.mean, [10, 28])
    first = np.array([4 / np.sqrt(10), -4 / np.sqrt(14)])  # errors ÷ √forecast, day 1
    second = np.array([0 / np.sqrt(20), 8 / np.sqrt(20)])
    for level in (0.8, 0.95):
        quantiles = [(1 - level) / 2, (1 + level) / 2]
        low, high = np.quantile(first, quantiles) * np.sqrt(10) + 10
        assert (result.lower[level][0], result.upper[level][0]) == pytest.approx((low, high))
        low, high = np.quantile(second, quantiles) * np.sqrt(28) + 28
        assert result.lower[level][1] == pytest.approx(min(low, 28))
        assert result.upper[level][1] == pytest.approx(high)


def test_a_forecast_without_a_backtest_runs_one_for_its_intervals():
    periodic = hourly(np.tile(day_numbered(date(2026, 1, 5), 7), 4), date(2026, 1, 5))
    result = forecast(periodic, model=NAIVE, origins=2)
    # A series that repeats exactly has no backtest error: the intervals close on the mean.
    assert result.interval_source == "backtest"
    assert np.array_equal(result.lower[0.95], result.mean)
    assert np.array_equal(result.upper[0.95], result.mean)


# --- Bad input --------------------------------------------------------------------------------


SHORT = hourly(np.ones(10 * 24), date(2026, 1, 5))


@pytest.mark.parametrize(("action", "message"), [
    (lambda: IntervalSeries([1, -2] * 12, interval_minutes=60),
     "the volumes must be numbers, 0 or more (interval 1 holds -2)"),
    (lambda: IntervalSeries(["12", 3] * 12, interval_minutes=60),
     "the volumes must be numbers (interval 0 holds '12')"),
    (lambda: IntervalSeries([1, float("nan")] * 12, interval_minutes=60),
     "the volumes must be numbers, 0 or more (interval 1 holds nan)"),
    (lambda: IntervalSeries([1] * 25, interval_minutes=60),
     "must cover whole days: 25 intervals"),
    (lambda: volume_series([], interval_minutes=20, time_zone=LONDON),
     "the interval must be 15, 30 or 60 minutes (got 20)"),
    (lambda: volume_series([datetime(2026, 1, 5, 9)], interval_minutes=15, time_zone=LONDON),
     "arrival 1 (2026-01-05T09:00:00) has no time zone"),
    (lambda: volume_series([utc(2026, 1, 5)], counts=[-1], interval_minutes=15,
                           time_zone=LONDON), "count 1 must be a number, 0 or more (got -1)"),
    (lambda: volume_series([utc(2026, 1, 5)], interval_minutes=15, time_zone="Mars/Olympus"),
     "unknown time zone 'Mars/Olympus'"),
    (lambda: forecast(SHORT, model=NAIVE),
     "the history has 240 intervals (10 days); the seasonal_naive model needs at least two "
     "weeks of history (336 intervals of 60 minutes)"),
    (lambda: forecast(SHORT, model="mstl"), "the mstl model needs more than two weeks"),
    (lambda: forecast(SHORT, model="prophet"), "unknown forecasting model 'prophet'"),
    (lambda: forecast(SHORT, model=NAIVE, horizon=0),
     "the horizon must be 1 interval or more (got 0)"),
    (lambda: backtest(hourly(np.ones(21 * 24), date(2026, 1, 5)), origins=2),
     "the first origin has 168 intervals (7 days); the seasonal_naive model needs"),
    (lambda: forecast(IntervalSeries(np.ones(21 * 24), interval_minutes=60), model=NAIVE,
                      special_days=SpecialDays(closures=frozenset({date(2026, 1, 1)}))),
     "special days need a dated series"),
])
def test_bad_input_is_refused_with_a_message_naming_it(action, message):
    with pytest.raises(ValueError) as error:
        action()
    assert message in str(error.value)


@pytest.mark.parametrize(("content", "message"), [
    ("time,calls\n2026-03-02T08:00,3\n2026-03-02T08:15,-1\n",
     "row 3: calls must be a number, 0 or more (got '-1')"),
    ("time,calls\n2026-03-02T08:00,lots\n", "row 2: calls is not a number (got 'lots')"),
    ("time,calls\nMonday 8am,3\n", "row 2: time 'Monday 8am' is not a date and time"),
    ("when,calls\n2026-03-02T08:00,3\n", "no column 'time' (the header row has when, calls)"),
])
def test_a_bad_arrivals_csv_is_refused_with_the_row_number(tmp_path, content, message):
    path = tmp_path / "arrivals.csv"
    path.write_text(content)
    with pytest.raises(ValueError) as error:
        read_arrivals_csv(path, time_column="time", count_column="calls", interval_minutes=15,
                          time_zone=LONDON)
    assert message in str(error.value) and str(path) in str(error.value)


def test_importing_the_module_does_not_import_statsmodels_or_pandas():
    code = ("import sys, serviceops.workforce.forecast, serviceops.cli; "
            "print(sorted(m for m in ('statsmodels', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# --- Real data: a US bank's calls (fpp2) ------------------------------------------------------


def bank_calls_15min() -> IntervalSeries:
    """The bank's 5-minute call counts (weekdays 07:00-21:05, 169 slots a day) summed to
    15 minutes: 56 intervals from 07:00 to 21:00 and the 5-minute 21:00 slot as a 57th."""
    path = shared_data("fpp2_bank_calls_5min/calls_5min.csv")
    with open(path, newline="") as f:
        calls = np.array([float(row["calls"]) for row in csv.DictReader(f)]).reshape(-1, 169)
    values = np.concatenate([calls[:, :168].reshape(-1, 56, 3).sum(axis=2), calls[:, 168:]],
                            axis=1)
    return IntervalSeries(values.ravel(), interval_minutes=15, per_day=57, days_per_week=5)


def test_on_the_bank_calls_the_chosen_model_beats_seasonal_naive_a_week_ahead():
    series = bank_calls_15min()
    with open(shared_data("fpp2_bank_calls_5min/calls_5min.csv"), newline="") as f:
        total = sum(int(row["calls"]) for row in csv.DictReader(f))
    assert len(series) == 164 * 57 and series.values.sum() == total
    result = backtest(series, horizon=series.per_week, origins=2)
    naive, chosen = result.of(NAIVE), result.of(result.chosen)
    assert result.chosen is not NAIVE
    assert chosen.mean_wape < naive.mean_wape
    assert chosen.mean_mase < naive.mean_mase
