"""Demand forecasting for workforce planning: contacts, and handle time, per interval.

Pure: no Django, no database. statsmodels and pandas are imported inside the functions that
fit models, so that importing this module (and starting the `serviceops` command) stays cheap.

Series. An `IntervalSeries` holds one value per interval of 15, 30 or 60 minutes, whole days
of `per_day` intervals each, weeks of `days_per_week` days. A dated series (`first_day` and
`time_zone` given; the builders below make one) covers whole local days of 24 hours of
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
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

INTERVAL_MINUTES = (15, 30, 60)
LEVELS = (0.8, 0.95)
# Intraday patterns drift with the seasons; older history adds fitting time, not accuracy.
HISTORY_WEEKS = 12
ENGLAND = "GB-ENG"


class ForecastModel(Enum):
    """The forecasting models, by the name the command line and JSON use."""

    SEASONAL_NAIVE = "seasonal_naive"
    ETS = "ets"
    MSTL = "mstl"


class Measure(Enum):
    """What a series counts: contacts per interval, or their mean handle time in seconds."""

    VOLUME = "volume"
    HANDLE_TIME = "handle_time"


@dataclass(frozen=True)
class SpecialDays:
    """Local dates handled apart: closures (forecast 0, never fitted or scored) and bank
    holidays (forecast as the Sunday of their week, never fitted)."""

    bank_holidays: frozenset[date] = frozenset()
    closures: frozenset[date] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.bank_holidays or self.closures)


@dataclass(frozen=True, eq=False)
class IntervalSeries:
    """Values per interval, whole days of `per_day` intervals, weeks of `days_per_week` days.

    Dated when `first_day` is given: then each day is 24 hours of wall-clock intervals in
    `time_zone` (see the module docstring). For `Measure.HANDLE_TIME` the values are mean
    handle seconds and `weights` the contacts behind each mean (NaN where there were none).
    """

    values: np.ndarray
    interval_minutes: int
    per_day: int | None = None
    days_per_week: int = 7
    first_day: date | None = None
    time_zone: str | None = None
    measure: Measure = Measure.VOLUME
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        _check_interval(self.interval_minutes)
        per_day = 1440 // self.interval_minutes if self.per_day is None else self.per_day
        if isinstance(per_day, bool) or not isinstance(per_day, int) or per_day < 1:
            raise ValueError(f"the intervals per day must be a whole number, 1 or more (got "
                             f"{per_day!r})")
        if self.first_day is not None and per_day * self.interval_minutes != 1440:
            raise ValueError(f"a dated series has whole 24-hour days: {per_day} intervals of "
                             f"{self.interval_minutes} minutes per day is not 24 hours")
        if not 1 <= per_day * self.interval_minutes <= 1440:
            raise ValueError(f"the intervals per day must fit in a day (got {per_day})")
        if not (isinstance(self.days_per_week, int) and 1 <= self.days_per_week <= 7):
            raise ValueError(f"the days per week must be 1 to 7 (got {self.days_per_week!r})")
        if self.first_day is not None and self.days_per_week != 7:
            raise ValueError("a dated series has 7-day weeks")
        if self.time_zone is not None:
            _zone(self.time_zone)
        name = "the volumes" if self.measure is Measure.VOLUME else "the handle times"
        values = _numbers(name, self.values)
        if values.size == 0 or values.size % per_day:
            raise ValueError(f"{name} must cover whole days: {values.size} intervals is not "
                             f"a positive multiple of {per_day} per day")
        weights = None
        if self.measure is Measure.HANDLE_TIME:
            if self.weights is None:
                raise ValueError("a handle-time series needs the contacts per interval "
                                 "(weights)")
            weights = _numbers("the contacts", self.weights)
            _check_finite_at_least_zero("the contacts", weights)
            if weights.shape != values.shape:
                raise ValueError("give one contact count per handle time")
            values = np.where(weights > 0, values, np.nan)
            _check_finite_at_least_zero(name, values[weights > 0])
        else:
            _check_finite_at_least_zero(name, values)
        values.flags.writeable = False
        object.__setattr__(self, "per_day", per_day)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)

    @property
    def per_week(self) -> int:
        return self.per_day * self.days_per_week

    def __len__(self) -> int:
        return self.values.size

    def start_of(self, index: int) -> datetime | None:
        """The wall-clock start of interval `index` (naive, local time), None when undated."""
        if self.first_day is None:
            return None
        day, slot = divmod(index, self.per_day)
        return (datetime.combine(self.first_day + timedelta(days=day), time())
                + timedelta(minutes=slot * self.interval_minutes))

    def real_minutes(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """How long intervals `start` to `stop` (which may run past the end) really last:
        the interval length, 0 in the hour the clocks skip, double in the hour they repeat."""
        stop = len(self) if stop is None else stop
        return _exposure(self, start, stop) * self.interval_minutes


@dataclass(frozen=True)
class Demand:
    """Contacts per interval and, when handle times were given, their mean handle time."""

    volume: IntervalSeries
    handle_time: IntervalSeries | None = None


@dataclass(frozen=True)
class OriginScore:
    """The scores of one model's forecast from one origin (the first forecast interval)."""

    origin: int
    start: datetime | None
    wape: float
    mase: float


@dataclass(frozen=True, eq=False)
class ModelBacktest:
    """One model over every origin: scores, their means, and the forecasts and errors
    (actual − forecast, NaN where not scored), one row per origin."""

    model: ForecastModel
    origins: tuple[OriginScore, ...]
    mean_wape: float
    mean_mase: float
    predicted: np.ndarray
    errors: np.ndarray


@dataclass(frozen=True, eq=False)
class Backtest:
    """A rolling-origin backtest of several models; `chosen` has the lowest mean WAPE."""

    horizon: int
    results: tuple[ModelBacktest, ...]
    chosen: ForecastModel

    def of(self, model: ForecastModel | str) -> ModelBacktest | None:
        model = _model(model)
        return next((r for r in self.results if r.model is model), None)


@dataclass(frozen=True, eq=False)
class Forecast:
    """Forecast values from interval `origin` on, with prediction intervals by level.

    `starts` are wall-clock starts (naive, in the series' time zone) for a dated series.
    `interval_source` is "model" (statsmodels' own) or "backtest" (empirical errors).
    """

    model: ForecastModel
    measure: Measure
    origin: int
    starts: tuple[datetime, ...] | None
    mean: np.ndarray
    lower: dict[float, np.ndarray] = field(default_factory=dict)
    upper: dict[float, np.ndarray] = field(default_factory=dict)
    interval_source: str = "model"
    closed: np.ndarray | None = None
    bank_holiday: np.ndarray | None = None


# --- Building series --------------------------------------------------------------------------


def volume_series(arrivals: Iterable[datetime], *, interval_minutes: int, time_zone: str,
                  counts: Iterable[float] | None = None, first_day: date | None = None,
                  last_day: date | None = None) -> IntervalSeries:
    """Contacts per wall-clock interval in `time_zone`, from aware arrival times (each one
    contact, or `counts[k]` contacts). Days run from `first_day` to `last_day` (by default the
    first and last local dates arrived on); intervals without arrivals are 0; arrivals outside
    those days are left out."""
    zone = _zone(time_zone)
    rows = []
    counts = iter(counts) if counts is not None else None
    for k, moment in enumerate(arrivals, start=1):
        count = 1.0 if counts is None else _count(f"count {k}", next(counts, None))
        rows.append((*_wall(moment, zone, f"arrival {k}"), count, 0.0))
    return _series(rows, interval_minutes, time_zone, first_day, last_day).volume


def handle_time_series(contacts: Iterable[tuple[datetime, float]], *, interval_minutes: int,
                       time_zone: str, first_day: date | None = None,
                       last_day: date | None = None) -> IntervalSeries:
    """Mean handle seconds per wall-clock interval (weighted by contacts) from (aware arrival
    time, handle seconds) pairs; as `volume_series` for the days spanned."""
    zone = _zone(time_zone)
    rows = []
    for k, (moment, seconds) in enumerate(contacts, start=1):
        seconds = _count(f"the handle time of contact {k}", seconds)
        rows.append((*_wall(moment, zone, f"contact {k}"), 1.0, seconds))
    return _series(rows, interval_minutes, time_zone, first_day, last_day,
                   handle_time=True).handle_time


def read_arrivals_csv(path, *, time_column: str, interval_minutes: int, time_zone: str,
                      count_column: str | None = None, handle_column: str | None = None,
                      first_day: date | None = None, last_day: date | None = None) -> Demand:
    """Read a CSV with a header row: one row per arrival, or with `count_column` a count of
    arrivals at that time; with `handle_column`, the mean handle seconds of the row's
    contacts. Times are ISO 8601; those without an offset are local wall-clock times in
    `time_zone`. A bad row is refused with its row number (the header is row 1)."""
    _check_interval(interval_minutes)
    zone = _zone(time_zone)
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for column in (time_column, count_column, handle_column):
                if column is not None and column not in header:
                    raise ValueError(f"{path}: no column {column!r} (the header row has "
                                     f"{', '.join(header) or 'nothing'})")
            for row in reader:
                where = f"{path} row {reader.line_num}"
                text = (row[time_column] or "").strip()
                try:
                    moment = datetime.fromisoformat(text)
                except ValueError:
                    raise ValueError(f"{where}: {time_column} {text!r} is not a date and "
                                     "time (use ISO 8601, such as 2026-03-02T08:15)") from None
                count = 1.0 if count_column is None else _count(
                    f"{where}: {count_column}", (row[count_column] or "").strip())
                handle = 0.0 if handle_column is None else count * _count(
                    f"{where}: {handle_column}", (row[handle_column] or "").strip())
                if moment.tzinfo is None:  # already local wall-clock time
                    rows.append((moment.date().toordinal(), moment.hour * 60 + moment.minute,
                                 count, handle))
                else:
                    rows.append((*_wall(moment, zone, where), count, handle))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None
    return _series(rows, interval_minutes, time_zone, first_day, last_day,
                   handle_time=handle_column is not None)


def public_holidays(first: date, last: date, region: str = ENGLAND) -> frozenset[date]:
    """Public holidays from `first` to `last` inclusive, for a region such as "GB-ENG"
    (country code, then optionally a hyphen and a subdivision), from the `holidays` package."""
    import holidays  # imported late: it is slow to import

    country, _, subdivision = region.partition("-")
    try:
        table = holidays.country_holidays(country, subdiv=subdivision or None,
                                          years=range(first.year, last.year + 1))
    except NotImplementedError:
        raise ValueError(f"unknown holiday region {region!r} (such as GB-ENG)") from None
    return frozenset(d for d in table if first <= d <= last)


# --- Scores -----------------------------------------------------------------------------------


def wape(actual, predicted, *, weights=None) -> float:
    """Weighted absolute percentage error Σ w·|y − ŷ| / Σ w·|y| (w = 1 without weights);
    NaN when the actual values sum to 0."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    w = np.ones(actual.shape) if weights is None else np.asarray(weights, float)
    total = np.sum(w * np.abs(actual))
    return float(np.sum(w * np.abs(actual - predicted)) / total) if total > 0 else math.nan


def mase(actual, predicted, *, history, season: int, weights=None,
         history_weights=None) -> float:
    """Mean absolute scaled error: the (weighted) mean |y − ŷ| divided by the (weighted) mean
    |y_t − y_{t−season}| over `history` (pairs with a NaN are skipped); NaN when that scale
    is 0 or there is no pair."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    history = np.asarray(history, float)
    w = np.ones(actual.shape) if weights is None else np.asarray(weights, float)
    steps = np.abs(history[season:] - history[:-season]) if history.size > season \
        else np.empty(0)
    hw = (np.ones(steps.shape) if history_weights is None
          else np.asarray(history_weights, float)[season:])
    ok = np.isfinite(steps) & (hw > 0)
    if not ok.any() or w.sum() <= 0:
        return math.nan
    scale = np.sum(hw[ok] * steps[ok]) / np.sum(hw[ok])
    error = np.sum(w * np.abs(actual - predicted)) / np.sum(w)
    return float(error / scale) if scale > 0 else math.nan


# --- Backtest and forecast --------------------------------------------------------------------


def backtest(series: IntervalSeries, *, models=tuple(ForecastModel), horizon: int | None = None,
             origins: int = 4, spacing: int | None = None,
             special_days: SpecialDays | None = None) -> Backtest:
    """Score each model on `origins` rolling origins, `spacing` intervals apart (by default
    `horizon`), each forecasting `horizon` intervals (by default one week); choose the model
    with the lowest mean WAPE (the first listed on a tie)."""
    models = tuple(_model(m) for m in models)
    if not models:
        raise ValueError("give at least one model to backtest")
    horizon = _horizon(series, horizon)
    spacing = horizon if spacing is None else spacing
    if not (isinstance(origins, int) and origins >= 1):
        raise ValueError(f"the number of origins must be 1 or more (got {origins!r})")
    if not (isinstance(spacing, int) and spacing >= 1):
        raise ValueError(f"the spacing of origins must be 1 interval or more (got {spacing!r})")
    special = _special(series, special_days)
    first = len(series) - horizon - (origins - 1) * spacing
    for model in models:
        _check_history(series, model, first, f"with {origins} origins {spacing} intervals "
                       f"apart and a horizon of {horizon}, the first origin")
    results = []
    for model in models:
        scores, predicted, errors = [], np.full((origins, horizon), np.nan), \
            np.full((origins, horizon), np.nan)
        for k in range(origins):
            origin = first + k * spacing
            mean, _ = _predict(series, model, origin, horizon, special, ())
            actual = series.values[origin:origin + horizon]
            weights = _scored_weights(series, special, origin, origin + horizon)
            scored = weights > 0
            predicted[k] = mean
            errors[k, scored] = actual[scored] - mean[scored]
            train = _train_start(series, origin)
            history = np.where(_usable(series, special, train, origin),
                               series.values[train:origin], np.nan)
            w = weights[scored] if series.measure is Measure.HANDLE_TIME else None
            hw = series.weights[train:origin] if series.measure is Measure.HANDLE_TIME else None
            scores.append(OriginScore(
                origin=origin, start=series.start_of(origin),
                wape=wape(actual[scored], mean[scored], weights=w),
                mase=mase(actual[scored], mean[scored], history=history,
                          season=series.per_week, weights=w, history_weights=hw)))
        results.append(ModelBacktest(
            model=model, origins=tuple(scores), mean_wape=_mean([s.wape for s in scores]),
            mean_mase=_mean([s.mase for s in scores]), predicted=predicted, errors=errors))
    ranked = [r for r in results if math.isfinite(r.mean_wape)] or results
    chosen = min(ranked, key=lambda r: r.mean_wape if math.isfinite(r.mean_wape) else 0.0)
    return Backtest(horizon=horizon, results=tuple(results), chosen=chosen.model)


def forecast(series: IntervalSeries, *, model: ForecastModel | str, horizon: int | None = None,
             levels: Iterable[float] = LEVELS, special_days: SpecialDays | None = None,
             backtested: Backtest | None = None, origins: int = 4) -> Forecast:
    """Forecast `horizon` intervals (by default one week) after the end of `series` with
    `model`, with prediction intervals at each of `levels` (such as 0.8 and 0.95).

    Intervals come from the model where statsmodels gives them (ETS), otherwise from the
    errors of `backtested` (when it has none, a backtest of `model` is run, over `origins`
    origins or as many as the history allows)."""
    model = _model(model)
    horizon = _horizon(series, horizon)
    levels = tuple(levels)
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"a prediction-interval level must be above 0 and below 1, such "
                             f"as 0.8 (got {level!r})")
    special = _special(series, special_days)
    origin = len(series)
    _check_history(series, model, origin, "the history")
    mean, bounds = _predict(series, model, origin, horizon, special, levels)
    source = "model"
    if bounds is None and levels:
        result = backtested.of(model) if backtested is not None else None
        if result is None:
            # As many origins as the history allows, up to `origins`.
            fit = (origin - horizon - _min_history(series, model)[0]) // horizon + 1
            result = backtest(series, models=(model,), horizon=horizon,
                              origins=max(1, min(origins, fit)), special_days=special).of(model)
        bounds = _empirical_bounds(series, mean, result, levels)
        source = "backtest"
    calendar = _calendar(series, special, origin, origin + horizon)
    lower, upper = {}, {}
    for level, (low, high) in (bounds or {}).items():
        if series.measure is Measure.VOLUME:
            low, high = np.where(calendar.closed, 0.0, low), np.where(calendar.closed, 0.0, high)
        lower[level] = np.maximum(np.minimum(low, mean), 0.0)
        upper[level] = np.maximum(high, mean)
    starts = None if series.first_day is None else tuple(
        series.start_of(origin + k) for k in range(horizon))
    return Forecast(model=model, measure=series.measure, origin=origin, starts=starts,
                    mean=mean, lower=lower, upper=upper, interval_source=source,
                    closed=calendar.closed, bank_holiday=calendar.holiday)


# --- The pipeline: special days, filling, the models -----------------------------------------


@dataclass(frozen=True)
class _Calendar:
    exposure: np.ndarray  # real length ÷ nominal length of each interval
    closed: np.ndarray  # closures and intervals the clocks skip
    holiday: np.ndarray


def _predict(series: IntervalSeries, model: ForecastModel, origin: int, steps: int,
             special: SpecialDays, levels: tuple[float, ...]):
    """The forecast of `steps` intervals from `origin`, fitted on the history before it, with
    the special-day rules applied; and the model's own bounds by level, or None."""
    per_day = series.per_day
    train = _train_start(series, origin)
    usable = _usable(series, special, train, origin)
    history = series.values[train:origin]
    if series.measure is Measure.VOLUME:
        history = history / np.where(usable, _exposure(series, train, origin), 1.0)
    filled = _fill(history, usable, series.per_week)
    # A bank holiday takes the Sunday of its week, which may lie past the horizon.
    extended = steps
    calendar = _calendar(series, special, origin, origin + steps)
    holiday_days = sorted({(origin + int(k)) // per_day
                           for k in np.flatnonzero(calendar.holiday)})
    if holiday_days:
        extended = max(steps, (_sunday(series, holiday_days[-1]) + 1) * per_day - origin)
        calendar = _calendar(series, special, origin, origin + extended)
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


def _empirical_bounds(series: IntervalSeries, mean: np.ndarray, result: ModelBacktest,
                      levels: tuple[float, ...]) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Bounds from the backtest errors of the same model, pooled by day of the horizon."""
    spread = _spread(series, result.predicted)
    scaled = result.errors / spread
    done = result.errors.shape[1]
    groups = np.arange(done) // series.per_day
    step_group = np.minimum(np.arange(mean.size) // series.per_day, groups[-1])
    everything = scaled[np.isfinite(scaled)]
    bounds = {}
    for level in levels:
        low, high = np.zeros(mean.size), np.zeros(mean.size)
        for g in np.unique(step_group):
            pooled = scaled[:, groups == g]
            pooled = pooled[np.isfinite(pooled)]
            if pooled.size == 0:
                pooled = everything if everything.size else np.zeros(1)
            q_low, q_high = np.quantile(pooled, [(1 - level) / 2, (1 + level) / 2])
            at = step_group == g
            low[at], high[at] = q_low, q_high
        width = _spread(series, mean)
        bounds[level] = (mean + low * width, mean + high * width)
    return bounds


def _spread(series: IntervalSeries, predicted: np.ndarray) -> np.ndarray:
    if series.measure is Measure.VOLUME:
        return np.sqrt(np.maximum(predicted, 1.0))
    return np.ones(predicted.shape)


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


def _usable(series: IntervalSeries, special: SpecialDays, start: int, stop: int) -> np.ndarray:
    calendar = _calendar(series, special, start, stop)
    usable = ~calendar.closed & ~calendar.holiday & np.isfinite(series.values[start:stop])
    if series.measure is Measure.HANDLE_TIME:
        usable &= series.weights[start:stop] > 0
    return usable


def _scored_weights(series: IntervalSeries, special: SpecialDays, start: int,
                    stop: int) -> np.ndarray:
    """Weight of each interval in the scores: 0 when closed (or without contacts, for handle
    time), else 1 for volumes and the contacts for handle time."""
    open_ = ~_calendar(series, special, start, stop).closed
    if series.measure is Measure.HANDLE_TIME:
        return np.where(open_, series.weights[start:stop], 0.0)
    return open_.astype(float)


def _calendar(series: IntervalSeries, special: SpecialDays, start: int, stop: int) -> _Calendar:
    exposure = _exposure(series, start, stop)
    closed, holiday = exposure == 0, np.zeros(stop - start, dtype=bool)
    if series.first_day is not None and special:
        per_day = series.per_day
        for day in range(start // per_day, (stop - 1) // per_day + 1):
            local = series.first_day + timedelta(days=day)
            at = slice(max(start, day * per_day) - start, min(stop, (day + 1) * per_day) - start)
            closed[at] |= local in special.closures
            holiday[at] = local in special.bank_holidays
    return _Calendar(exposure=exposure, closed=closed, holiday=holiday)


def _exposure(series: IntervalSeries, start: int, stop: int) -> np.ndarray:
    exposure = np.ones(stop - start)
    if series.first_day is None or series.time_zone is None:
        return exposure
    per_day = series.per_day
    for day in range(start // per_day, (stop - 1) // per_day + 1):
        shares = _day_exposure(series.first_day + timedelta(days=day), series.time_zone,
                               series.interval_minutes)
        if shares is not None:
            first, last = max(start, day * per_day), min(stop, (day + 1) * per_day)
            exposure[first - start:last - start] = shares[first - day * per_day:
                                                          last - day * per_day]
    return exposure


@lru_cache(maxsize=4096)
def _day_exposure(day: date, time_zone: str, interval: int) -> np.ndarray | None:
    """Real length ÷ nominal length of each wall-clock interval of a local day whose length
    is not 24 hours (None for an ordinary day): each real minute from local midnight to the
    next is put in the wall-clock interval it shows."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    minutes = int((end - start).total_seconds()) // 60
    if minutes == 1440:
        return None
    counts = np.zeros(1440 // interval)
    for m in range(minutes):
        local = (start + timedelta(minutes=m)).astimezone(zone)
        if local.date() == day:
            counts[(local.hour * 60 + local.minute) // interval] += 1
    return counts / interval


def _sunday(series: IntervalSeries, day: int) -> int:
    """The index of the Sunday ending the week (Monday to Sunday) of day `day`."""
    return day + 6 - (series.first_day + timedelta(days=day)).weekday()


def _train_start(series: IntervalSeries, origin: int) -> int:
    return max(0, origin - HISTORY_WEEKS * series.per_week)


def _mean(scores: list[float]) -> float:
    finite = [s for s in scores if math.isfinite(s)]
    return float(np.mean(finite)) if finite else math.nan


# --- Checking ---------------------------------------------------------------------------------


def _min_history(series: IntervalSeries, model: ForecastModel) -> tuple[int, str]:
    # MSTL drops a season whose period is not below half the series, so the weekly one
    # needs a day more than two weeks.
    if model is ForecastModel.MSTL:
        return 2 * series.per_week + series.per_day, "more than two weeks"
    return 2 * series.per_week, "at least two weeks"


def _check_history(series: IntervalSeries, model: ForecastModel, available: int,
                   what: str) -> None:
    needed, words = _min_history(series, model)
    if available < needed:
        raise ValueError(
            f"{what} has {max(available, 0)} intervals ({max(available, 0) / series.per_day:g} "
            f"days); the {model.value} model needs {words} of history ({needed} intervals of "
            f"{series.interval_minutes} minutes)")


def _horizon(series: IntervalSeries, horizon: int | None) -> int:
    if horizon is None:
        return series.per_week
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"the horizon must be 1 interval or more (got {horizon!r})")
    return int(horizon)


def _special(series: IntervalSeries, special_days: SpecialDays | None) -> SpecialDays:
    special = special_days or SpecialDays()
    if special and series.first_day is None:
        raise ValueError("special days need a dated series (one with a first day)")
    return special


def _model(model: ForecastModel | str) -> ForecastModel:
    if isinstance(model, ForecastModel):
        return model
    try:
        return ForecastModel(model)
    except ValueError:
        names = ", ".join(m.value for m in ForecastModel)
        raise ValueError(f"unknown forecasting model {model!r} (use {names})") from None


def _check_interval(minutes) -> None:
    if isinstance(minutes, bool) or minutes not in INTERVAL_MINUTES:
        raise ValueError(f"the interval must be 15, 30 or 60 minutes (got {minutes!r})")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r} (such as Europe/London)") from None


def _numbers(name: str, values) -> np.ndarray:
    array = np.array(values, dtype=object).ravel() if not isinstance(values, np.ndarray) \
        else values.ravel()
    if array.dtype == object:
        for k, value in enumerate(array):
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ValueError(f"{name} must be numbers (interval {k} holds {value!r})")
    elif not np.issubdtype(array.dtype, np.number) or array.dtype == bool:
        raise ValueError(f"{name} must be numbers (got an array of {array.dtype})")
    return array.astype(float)


def _check_finite_at_least_zero(name: str, values: np.ndarray) -> None:
    bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
    if bad.size:
        raise ValueError(f"{name} must be numbers, 0 or more (interval {bad[0]} holds "
                         f"{values[bad[0]]:g})")


def _count(name: str, value) -> float:
    if value is None:
        raise ValueError(f"{name} is missing")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a number (got {value!r})") from None
    if isinstance(value, bool) or not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a number, 0 or more (got {value!r})")
    return number


def _wall(moment, zone: ZoneInfo, name: str) -> tuple[int, int]:
    """The local date (as an ordinal) and wall-clock minute of an aware datetime."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} is not a datetime (got {moment!r})")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} ({moment.isoformat()}) has no time zone: give aware times")
    local = moment.astimezone(zone)
    return local.date().toordinal(), local.hour * 60 + local.minute


def _series(rows: list[tuple[int, int, float, float]], interval: int, time_zone: str,
            first_day: date | None, last_day: date | None, *, handle_time: bool = False
            ) -> Demand:
    """Bin (local date ordinal, wall-clock minute, contacts, handle seconds) rows into whole
    days of wall-clock intervals."""
    _check_interval(interval)
    if not rows and (first_day is None or last_day is None):
        raise ValueError("there are no arrivals: give first_day and last_day to span")
    table = np.array(rows, dtype=float).reshape(-1, 4)
    first = first_day.toordinal() if first_day else int(table[:, 0].min())
    last = last_day.toordinal() if last_day else int(table[:, 0].max())
    if last < first:
        raise ValueError(f"the last day ({date.fromordinal(last)}) is before the first "
                         f"({date.fromordinal(first)})")
    per_day = 1440 // interval
    inside = (table[:, 0] >= first) & (table[:, 0] <= last)
    table = table[inside]
    index = ((table[:, 0] - first) * per_day + table[:, 1] // interval).astype(np.int64)
    size = (last - first + 1) * per_day
    contacts = np.bincount(index, weights=table[:, 2], minlength=size)
    common = dict(interval_minutes=interval, first_day=date.fromordinal(first),
                  time_zone=time_zone)
    aht = None
    if handle_time:
        seconds = np.bincount(index, weights=table[:, 3], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(contacts > 0, seconds / contacts, np.nan)
        aht = IntervalSeries(means, measure=Measure.HANDLE_TIME, weights=contacts, **common)
    return Demand(volume=IntervalSeries(contacts, **common), handle_time=aht)
