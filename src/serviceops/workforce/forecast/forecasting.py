"""Demand forecasting: the rolling-origin backtest, the forecast with its prediction
intervals, their results and the scores.

Backtest: for each model and each of several origins (`spacing` apart, the last one `horizon`
intervals before the end), fit on the history before the origin, forecast `horizon` intervals
(one week by default) and score the forecast against what happened:

    WAPE = Σ |y − ŷ| / Σ |y|
    MASE = mean |y − ŷ| / mean over the fitted history of |y_t − y_{t−m}|,  m = one week

The model with the lowest mean WAPE over the origins is chosen. Handle time is scored with
weights equal to the contacts: WAPE = Σ v·|a − â| / Σ v·a.

Prediction intervals: ETS gives exact intervals for its additive model (statsmodels). The
seasonal naive and MSTL forecasts take theirs from the backtest errors: errors scaled by
√max(ŷ, 1), pooled by day of the horizon, and their empirical quantiles around the forecast.
Forecasts and bounds are never negative.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from serviceops.workforce.forecast.pipeline import (
    interval_calendar,
    predict,
    scored_weights,
    train_start,
    usable_intervals,
)
from serviceops.workforce.forecast.series import (
    LEVELS,
    ForecastModel,
    IntervalSeries,
    Measure,
    SpecialDays,
)


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
            mean, _ = predict(series, model, origin, horizon, special, ())
            actual = series.values[origin:origin + horizon]
            weights = scored_weights(series, special, origin, origin + horizon)
            scored = weights > 0
            predicted[k] = mean
            errors[k, scored] = actual[scored] - mean[scored]
            train = train_start(series, origin)
            history = np.where(usable_intervals(series, special, train, origin),
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
    mean, bounds = predict(series, model, origin, horizon, special, levels)
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
    calendar = interval_calendar(series, special, origin, origin + horizon)
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


# --- Prediction intervals from the backtest ---------------------------------------------------


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
