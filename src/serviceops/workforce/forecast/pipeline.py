"""Demand forecasting: the pipeline from a history to a forecast of the intervals ahead.

Models (`ForecastModel`), fitted on at most the last `HISTORY_WEEKS` weeks:

* seasonal naive: each interval as it was one week earlier;
* ETS: additive Holt-Winters with a damped additive trend and a daily season (statsmodels
  `ETSModel`, "AAdA", heuristic initial states);
* MSTL: statsmodels `MSTL` splits the series into a daily and a weekly season, a trend and a
  remainder; the seasons are carried forward (each repeats its last cycle) and the seasonally
  adjusted series (trend + remainder) is forecast by a damped-trend ETS ("AAdN"), as in the
  `mstl`/`stlf` forecasts of Hyndman's R forecast package.

statsmodels and pandas are imported inside the functions that fit models, so that importing
the package (and starting the `serviceops` command) stays cheap.

Special days (dated series only): closures are forecast 0 and left out of fitting and
scoring; a bank holiday is forecast as the Sunday of its week (Monday to Sunday), interval by
interval, and past ones are left out of fitting but scored like any day. Intervals left out of
fitting are filled with the value one week earlier (or, in the first week, one week later), so
that the models see an unbroken series.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from serviceops.workforce.forecast.series import (
    HISTORY_WEEKS,
    ForecastModel,
    IntervalSeries,
    Measure,
    SpecialDays,
    interval_exposure,
)


@dataclass(frozen=True)
class _Calendar:
    exposure: np.ndarray  # real length ÷ nominal length of each interval
    closed: np.ndarray  # closures and intervals the clocks skip
    holiday: np.ndarray


def predict(series: IntervalSeries, model: ForecastModel, origin: int, steps: int,
            special: SpecialDays, levels: tuple[float, ...]):
    """The forecast of `steps` intervals from `origin`, fitted on the history before it, with
    the special-day rules applied; and the model's own bounds by level, or None."""
    per_day = series.per_day
    train = train_start(series, origin)
    usable = usable_intervals(series, special, train, origin)
    history = series.values[train:origin]
    if series.measure is Measure.VOLUME:
        history = history / np.where(usable, interval_exposure(series, train, origin), 1.0)
    filled = _fill(history, usable, series.per_week)
    # A bank holiday takes the Sunday of its week, which may lie past the horizon.
    extended = steps
    calendar = interval_calendar(series, special, origin, origin + steps)
    holiday_days = sorted({(origin + int(k)) // per_day
                           for k in np.flatnonzero(calendar.holiday)})
    if holiday_days:
        extended = max(steps, (_sunday(series, holiday_days[-1]) + 1) * per_day - origin)
        calendar = interval_calendar(series, special, origin, origin + extended)
    mean, bounds = _FIT[model](filled, extended, series, levels)
    arrays = [mean] + [b for pair in (bounds or {}).values() for b in pair]
    for day in holiday_days:
        shift = (_sunday(series, day) - day) * per_day
        first = max(origin, day * per_day) - origin
        last = min(origin + steps, (day + 1) * per_day) - origin
        for values in arrays:
            values[first:last] = values[first + shift:last + shift]
    if series.measure is Measure.VOLUME:
        for values in arrays:
            values *= calendar.exposure
            values[calendar.closed] = 0.0
    mean = np.maximum(mean[:steps], 0.0)
    if bounds is not None:
        bounds = {level: (low[:steps], high[:steps]) for level, (low, high) in bounds.items()}
    return mean, bounds


def _seasonal_naive(y: np.ndarray, steps: int, series: IntervalSeries, levels):
    week = y[-series.per_week:]
    return week[np.arange(steps) % series.per_week].copy(), None


def _ets(y: np.ndarray, steps: int, series: IntervalSeries, levels):
    import pandas as pd
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = "add" if series.per_day > 1 else None
    # A pandas Series, not an array: statsmodels 0.15's get_prediction fails on arrays.
    model = ETSModel(pd.Series(y), error="add", trend="add", damped_trend=True,
                     seasonal=seasonal, seasonal_periods=series.per_day if seasonal else None,
                     initialization_method="heuristic")
    with warnings.catch_warnings():
        # An optimiser that stops short still gives usable smoothing parameters; the
        # backtest is the judge of the forecasts.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = model.fit(disp=False)
    if not levels:
        return np.asarray(fitted.forecast(steps), float).copy(), None
    prediction = fitted.get_prediction(start=y.size, end=y.size + steps - 1)
    bounds = {}
    for level in levels:
        frame = prediction.summary_frame(alpha=1 - level)
        bounds[level] = (frame["pi_lower"].to_numpy(float).copy(),
                         frame["pi_upper"].to_numpy(float).copy())
    return np.asarray(prediction.predicted_mean, float).copy(), bounds


def _mstl(y: np.ndarray, steps: int, series: IntervalSeries, levels):
    import pandas as pd
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from statsmodels.tsa.seasonal import MSTL

    periods = sorted({series.per_day, series.per_week} - {1})
    # Seasonal windows: the daily shape is smoothed over about ten weeks of days (a day's
    # noise would otherwise pass into the profile), the weekly one over 15 weeks (the
    # statsmodels default). LOESS is evaluated every per_day/10 points and interpolated
    # between, as R's stl does by default: the same decomposition in a fraction of the time.
    daily_window = 10 * series.days_per_week + 1  # odd, as LOESS windows must be
    windows = [daily_window if p == series.per_day else 15 for p in periods]
    jump = max(1, math.ceil(series.per_day / 10))
    parts = MSTL(y, periods=periods, windows=windows,
                 stl_kwargs={"trend_jump": jump, "low_pass_jump": jump}).fit()
    seasonal = np.asarray(parts.seasonal, float).reshape(y.size, -1)
    ahead = np.zeros(steps)
    for k, period in enumerate(periods):
        ahead += seasonal[-period:, k][np.arange(steps) % period]
    adjusted = pd.Series(np.asarray(parts.trend, float) + np.asarray(parts.resid, float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # see _ets
        fitted = ETSModel(adjusted, error="add", trend="add", damped_trend=True).fit(disp=False)
    return np.asarray(fitted.forecast(steps), float) + ahead, None


_FIT = {ForecastModel.SEASONAL_NAIVE: _seasonal_naive, ForecastModel.ETS: _ets,
        ForecastModel.MSTL: _mstl}


def _fill(values: np.ndarray, usable: np.ndarray, week: int) -> np.ndarray:
    """`values` with the unusable ones replaced by the value a week earlier (or later, in the
    first week); any left (a time of the week never usable) by the mean of the usable ones."""
    filled = np.where(usable, values, np.nan)
    for i in np.flatnonzero(~usable):
        if i >= week:
            filled[i] = filled[i - week]
    for i in np.flatnonzero(np.isnan(filled))[::-1]:
        if i + week < filled.size:
            filled[i] = filled[i + week]
    if np.isnan(filled).any():
        filled[np.isnan(filled)] = np.nanmean(filled) if usable.any() else 0.0
    return filled


def usable_intervals(series: IntervalSeries, special: SpecialDays, start: int,
                     stop: int) -> np.ndarray:
    """Whether each interval from `start` to `stop` may be fitted: open, not a bank holiday,
    with a value (and, for handle time, contacts)."""
    calendar = interval_calendar(series, special, start, stop)
    usable = ~calendar.closed & ~calendar.holiday & np.isfinite(series.values[start:stop])
    if series.measure is Measure.HANDLE_TIME:
        usable &= series.weights[start:stop] > 0
    return usable


def scored_weights(series: IntervalSeries, special: SpecialDays, start: int,
                   stop: int) -> np.ndarray:
    """Weight of each interval in the scores: 0 when closed (or without contacts, for handle
    time), else 1 for volumes and the contacts for handle time."""
    open_ = ~interval_calendar(series, special, start, stop).closed
    if series.measure is Measure.HANDLE_TIME:
        return np.where(open_, series.weights[start:stop], 0.0)
    return open_.astype(float)


def interval_calendar(series: IntervalSeries, special: SpecialDays, start: int,
                      stop: int) -> _Calendar:
    """The exposure of each interval from `start` to `stop`, and which are closed and which
    fall on a bank holiday."""
    exposure = interval_exposure(series, start, stop)
    closed, holiday = exposure == 0, np.zeros(stop - start, dtype=bool)
    if series.first_day is not None and special:
        per_day = series.per_day
        for day in range(start // per_day, (stop - 1) // per_day + 1):
            local = series.first_day + timedelta(days=day)
            at = slice(max(start, day * per_day) - start, min(stop, (day + 1) * per_day) - start)
            closed[at] |= local in special.closures
            holiday[at] = local in special.bank_holidays
    return _Calendar(exposure=exposure, closed=closed, holiday=holiday)


def _sunday(series: IntervalSeries, day: int) -> int:
    """The index of the Sunday ending the week (Monday to Sunday) of day `day`."""
    return day + 6 - (series.first_day + timedelta(days=day)).weekday()


def train_start(series: IntervalSeries, origin: int) -> int:
    """The first interval fitted for a forecast from `origin`: at most `HISTORY_WEEKS` back."""
    return max(0, origin - HISTORY_WEEKS * series.per_week)
