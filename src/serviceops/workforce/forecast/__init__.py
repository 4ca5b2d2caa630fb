"""Demand forecasting for workforce planning: contacts, and handle time, per interval.

Pure: no Django, no database. statsmodels and pandas are imported inside the functions that
fit models, so that importing this package (and starting the `serviceops` command) stays cheap.

Series. An `IntervalSeries` holds one value per interval of 15, 30 or 60 minutes, whole days
of `per_day` intervals each, weeks of `days_per_week` days. A dated series (`first_day` and
`time_zone` given; the builders in `inputs` make one) covers whole local days of 24 hours of
*wall-clock* intervals, so every day has the same number of intervals and the daily and weekly
seasons stay aligned with the clock across daylight-saving changes:

* on a 23-hour day the hour the clocks skip has intervals that last 0 real minutes: they hold
  no arrivals, count as closed (forecast 0, never fitted or scored);
* on a 25-hour day the hour that happens twice has intervals that last twice their length:
  arrivals of both passes are counted together, and a forecast of contacts there is twice the
  model's rate (`IntervalSeries.real_minutes` gives every interval's true length).

An undated series (the weekday-only bank data, for instance) has no calendar: no daylight
saving and no special days, only the seasons.

Models (`ForecastModel`), fitted on at most the last `HISTORY_WEEKS` weeks:

* seasonal naive: each interval as it was one week earlier;
* ETS: additive Holt-Winters with a damped additive trend and a daily season (statsmodels
  `ETSModel`, "AAdA", heuristic initial states);
* MSTL: statsmodels `MSTL` splits the series into a daily and a weekly season, a trend and a
  remainder; the seasons are carried forward (each repeats its last cycle) and the seasonally
  adjusted series (trend + remainder) is forecast by a damped-trend ETS ("AAdN"), as in the
  `mstl`/`stlf` forecasts of Hyndman's R forecast package.

Special days (`SpecialDays`, dated series only):

* closures: forecast 0, left out of fitting (filled in, see below) and of scoring;
* bank holidays (England's by default, from the `holidays` package): a bank holiday is
  forecast as the Sunday of its week (Monday to Sunday), interval by interval: centres that
  open on bank holidays usually keep Sunday hours, and those closed on Sundays are closed on
  bank holidays too. Past bank holidays are left out of fitting, so that they do not drag
  down the weekday they fell on, but are scored like any day.

Intervals left out of fitting are filled with the value one week earlier (or, in the first
week, one week later), so that the models see an unbroken series.

Backtest: rolling origin. For each model and each of several origins (`spacing` apart, the
last one `horizon` intervals before the end), fit on the history before the origin, forecast
`horizon` intervals (one week by default) and score the forecast against what happened:

    WAPE = Σ |y − ŷ| / Σ |y|
    MASE = mean |y − ŷ| / mean over the fitted history of |y_t − y_{t−m}|,  m = one week

The model with the lowest mean WAPE over the origins is chosen.

Prediction intervals: ETS gives exact intervals for its additive model (statsmodels). The
seasonal naive and MSTL forecasts take theirs from the backtest errors: errors scaled by
√max(ŷ, 1) (counts spread like Poisson counts, whose spread grows with the square root of
the mean), pooled by day of the horizon (a handful of origins gives too few errors at any one
step), and their empirical quantiles around the forecast. Forecasts and bounds are never
negative.

Handle time: a series of the mean handle time of the contacts that arrived in each interval
(total handle seconds ÷ contacts, so the mean is weighted by volume). Intervals without
contacts have no handle time and are filled in like closures. It is forecast by the same
models (not scaled on clock-change days; closed intervals keep the model's value, so that the
AHT handed to the staffing maths stays above 0) and scored with weights equal to the contacts:
WAPE = Σ v·|a − â| / Σ v·a, the error in workload (contacts × handle time) that the
handle-time forecast alone would cause.

The package: `series` (the constants, `ForecastModel`, `Measure`, `SpecialDays`,
`IntervalSeries`, `Demand`, the checks of their inputs and the daylight-saving exposure of each
interval), `inputs` (building series from arrivals or an arrivals CSV, and public holidays),
`pipeline` (special days, filling and the three models, from a history to the intervals ahead)
and `forecasting` (`backtest`, `forecast`, their results, the WAPE and MASE scores and the
prediction intervals taken from the backtest errors).
"""

from serviceops.workforce.forecast.forecasting import (
    Backtest,
    Forecast,
    ModelBacktest,
    OriginScore,
    backtest,
    forecast,
    mase,
    wape,
)
from serviceops.workforce.forecast.inputs import (
    handle_time_series,
    public_holidays,
    read_arrivals_csv,
    volume_series,
)
from serviceops.workforce.forecast.series import (
    ENGLAND,
    HISTORY_WEEKS,
    INTERVAL_MINUTES,
    LEVELS,
    Demand,
    ForecastModel,
    IntervalSeries,
    Measure,
    SpecialDays,
)

__all__ = [
    "ENGLAND", "HISTORY_WEEKS", "INTERVAL_MINUTES", "LEVELS", "Backtest", "Demand", "Forecast",
    "ForecastModel", "IntervalSeries", "Measure", "ModelBacktest", "OriginScore", "SpecialDays",
    "backtest", "forecast", "handle_time_series", "mase", "public_holidays", "read_arrivals_csv",
    "volume_series", "wape",
]
