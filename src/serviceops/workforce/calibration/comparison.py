"""Calibration against history: each interval's observed service level and abandonment set
beside what Erlang C and Erlang A predict for its calls, handle time and agents (`calibrate`).

Agents. A call log has no rota, so the agents on duty are estimated from the service records
(`AgentEstimate`). `BUSY_WHILE_QUEUED`, the default, is the mean number of calls in service
while at least one caller was waiting: an agent free to answer would have taken the waiting
call, so at those moments every agent available was busy, and the figure counts the agents
actually taking calls, net of breaks and after-call work. It leans low (queues form more when
fewer agents are available), and in an interval where nobody waited it falls back to the peak.
`PEAK_BUSY` is the most calls in service at once during the interval: the agents who were
there at the busiest moment, more than were available on average. `SERVERS` counts the named
agents who served at least once in the interval, which counts someone who took one call in it
as present throughout. A fractional count is evaluated by interpolating the predictions of the
whole counts either side.

Time. Intervals follow the wall clock of the log's time zone, but are real spans of time: on
the day the clocks go back, the repeated hour gives two intervals (told apart by their UTC
offset), and the hour skipped in spring gives none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import numpy as np

from serviceops.workforce.calibration.call_log import CallLog
from serviceops.workforce.calibration.patience import PatienceEstimate, estimate_patience
from serviceops.workforce.erlang import Model, evaluate_intervals

INTERVAL_MINUTES = (15, 30, 60)
# The least queueing time (seconds) in an interval from which BUSY_WHILE_QUEUED is taken.
MIN_QUEUED_SECONDS = 60


class AgentEstimate(Enum):
    """How the agents on duty in an interval are estimated from the service records."""

    BUSY_WHILE_QUEUED = "busy-while-queued"
    PEAK_BUSY = "peak-busy"
    SERVERS = "servers"


@dataclass(frozen=True)
class Intervals:
    """Observed figures and model predictions, one array element per interval compared.

    Shares are of offered calls; ASA is over all callers (abandoned ones count their wait).
    `busy` is the mean number of calls in service (the carried load in Erlangs) and `agents`
    the agents on duty by the chosen estimate (fractional for BUSY_WHILE_QUEUED). Erlang C
    predicts no abandonment.
    """

    start: np.ndarray
    local_start: tuple[str, ...]
    hour: np.ndarray
    offered: np.ndarray
    answered: np.ndarray
    abandoned: np.ndarray
    answered_in_time: np.ndarray
    service_level: np.ndarray
    abandonment: np.ndarray
    asa_seconds: np.ndarray
    aht_seconds: np.ndarray
    busy: np.ndarray
    agents: np.ndarray
    erlang_c_service_level: np.ndarray
    erlang_c_asa_seconds: np.ndarray
    erlang_a_service_level: np.ndarray
    erlang_a_abandonment: np.ndarray
    erlang_a_asa_seconds: np.ndarray


@dataclass(frozen=True)
class Accuracy:
    """How close a model's predictions of one share come to the observed ones, weighting each
    interval by its offered calls: `observed` and `predicted` are the weighted means (the
    observed one is the share over all the calls), `mae` the weighted mean absolute error and
    `bias` the weighted mean of predicted − observed."""

    observed: float
    predicted: float
    mae: float
    bias: float


@dataclass(frozen=True)
class ModelAccuracy:
    """A model's accuracy on service level and abandonment."""

    model: Model
    service_level: Accuracy
    abandonment: Accuracy


@dataclass(frozen=True)
class HourAccuracy:
    """Both models' accuracy over the intervals starting in one local hour of the day."""

    hour: int
    intervals: int
    offered: int
    erlang_c: ModelAccuracy
    erlang_a: ModelAccuracy


@dataclass(frozen=True)
class Calibration:
    """The comparison of a call log with Erlang C and Erlang A.

    `intervals` are those with calls and at least one agent estimated on duty; the calls of
    intervals with none (the queue open while nobody answered) are `unstaffed_calls`.
    `erlang_c_unstable_calls` are the calls of intervals where the load reached the agents, so
    that Erlang C's queue grows without limit (its service level 0).
    """

    interval_minutes: int
    sl_seconds: float
    agents_from: AgentEstimate
    patience: PatienceEstimate
    intervals: Intervals
    unstaffed_calls: int
    erlang_c_unstable_calls: int
    erlang_c: ModelAccuracy
    erlang_a: ModelAccuracy
    by_hour: tuple[HourAccuracy, ...]


class _Predicted(NamedTuple):
    service_level: np.ndarray
    asa_seconds: np.ndarray
    p_abandon: np.ndarray


# --- Intervals and the comparison -----------------------------------------------------------


def calibrate(log: CallLog, *, interval_minutes: int = 30, sl_seconds: float = 20.0,
              agents_from: AgentEstimate | str = AgentEstimate.BUSY_WHILE_QUEUED,
              patience_seconds: float | None = None) -> Calibration:
    """Compare each interval of `log` with Erlang C and Erlang A.

    Each interval's offered calls, AHT (of its answered calls) and agents on duty (by
    `agents_from`) go into both models; Erlang A uses `patience_seconds`, or by default the
    patience estimated from the whole log. Calls belong to the interval in which they joined
    the queue. Service level is the share of offered calls answered within `sl_seconds`.
    """
    if interval_minutes not in INTERVAL_MINUTES:
        raise ValueError(f"the interval must be 15, 30 or 60 minutes (got {interval_minutes!r})")
    if not (math.isfinite(sl_seconds) and sl_seconds >= 0):
        raise ValueError(f"the service-level threshold must be 0 or more (got {sl_seconds!r})")
    agents_from = AgentEstimate(agents_from)
    if log.offered == 0:
        raise ValueError("the call log has no calls offered to agents")
    patience = estimate_patience(log.wait, ~log.answered)
    mean_patience = patience.mean_seconds if patience_seconds is None else patience_seconds

    length = interval_minutes * 60
    offset = _utc_offsets(log.arrival, log.time_zone)
    # Each call's interval, by its UTC start: the wall-clock grid moved by the local offset.
    call_start = (log.arrival + offset) // length * length - offset
    starts, which = np.unique(call_start, return_inverse=True)
    count = lambda weights=None: np.bincount(which, weights=weights, minlength=starts.size)  # noqa: E731
    offered = count().astype(np.int64)
    answered = count(log.answered).astype(np.int64)
    in_time = count(log.answered & (log.wait <= sl_seconds)).astype(np.int64)
    waited = count(log.wait)
    # AHT of the answered calls with a handle time; a record of 0 s means it was not taken.
    served = log.answered & (log.handle > 0)
    handled, timed = count(log.handle * served), count(served)
    service_end = log.service_start + log.handle.astype(np.int64)
    busy_mean, peak = _concurrency(log.service_start[served], service_end[served], starts,
                                   length)
    if agents_from is AgentEstimate.PEAK_BUSY:
        agents = peak.astype(float)
    elif agents_from is AgentEstimate.SERVERS:
        agents = _servers(log, starts, length).astype(float)
    else:
        queued = log.wait > 0
        busy, queued_seconds = _busy_while_queued(
            log.service_start[served], service_end[served], log.arrival[queued],
            log.arrival[queued] + np.round(log.wait[queued]).astype(np.int64), starts, length)
        agents = np.where(queued_seconds >= MIN_QUEUED_SECONDS, busy, peak)

    compared = (agents > 0) & (timed > 0)
    k = np.flatnonzero(compared)
    aht = handled[k] / timed[k]
    common = dict(offered=offered[k].astype(float), agents=agents[k],
                  interval_seconds=float(length), aht_seconds=np.maximum(aht, 1.0),
                  sl_seconds=sl_seconds)
    c = _predict(patience_seconds=None, **common)
    a = _predict(patience_seconds=mean_patience, **common)

    import pandas as pd

    local = pd.to_datetime(starts[k], unit="s", utc=True).tz_convert(log.time_zone)
    intervals = Intervals(
        start=starts[k], local_start=tuple(t.isoformat() for t in local),
        hour=local.hour.to_numpy(), offered=offered[k], answered=answered[k],
        abandoned=offered[k] - answered[k], answered_in_time=in_time[k],
        service_level=in_time[k] / offered[k], abandonment=1 - answered[k] / offered[k],
        asa_seconds=waited[k] / offered[k], aht_seconds=aht, busy=busy_mean[k],
        agents=agents[k], erlang_c_service_level=c.service_level,
        erlang_c_asa_seconds=c.asa_seconds, erlang_a_service_level=a.service_level,
        erlang_a_abandonment=a.p_abandon, erlang_a_asa_seconds=a.asa_seconds)
    unstable = agents[k] <= offered[k] * aht / length
    hours = np.unique(intervals.hour)
    return Calibration(
        interval_minutes=interval_minutes, sl_seconds=sl_seconds, agents_from=agents_from,
        patience=patience, intervals=intervals,
        unstaffed_calls=int(offered[~compared].sum()),
        erlang_c_unstable_calls=int(intervals.offered[unstable].sum()),
        erlang_c=_model_accuracy(intervals, Model.ERLANG_C, slice(None)),
        erlang_a=_model_accuracy(intervals, Model.ERLANG_A, slice(None)),
        by_hour=tuple(
            HourAccuracy(hour=int(h), intervals=int((intervals.hour == h).sum()),
                         offered=int(intervals.offered[intervals.hour == h].sum()),
                         erlang_c=_model_accuracy(intervals, Model.ERLANG_C,
                                                  intervals.hour == h),
                         erlang_a=_model_accuracy(intervals, Model.ERLANG_A,
                                                  intervals.hour == h))
            for h in hours))


def _predict(*, offered: np.ndarray, agents: np.ndarray, interval_seconds: float,
             aht_seconds: np.ndarray, sl_seconds: float,
             patience_seconds: float | None) -> _Predicted:
    """Erlang C (no patience) or Erlang A predictions for fractional agent counts: the whole
    counts either side, weighted by the fraction."""
    low = np.floor(agents).astype(np.int64)
    share = agents - low
    common = dict(interval_seconds=interval_seconds, aht_seconds=aht_seconds,
                  patience_seconds=patience_seconds, sl_seconds=sl_seconds)
    below = evaluate_intervals(offered, low, **common)
    above = evaluate_intervals(offered, low + 1, **common)

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # an unbounded Erlang C ASA times 0
            return np.where(share == 0, x, (1 - share) * x + share * y)

    return _Predicted(service_level=mix(below.service_level, above.service_level),
                      asa_seconds=mix(below.asa_seconds, above.asa_seconds),
                      p_abandon=(np.zeros(offered.shape) if patience_seconds is None
                                 else mix(below.p_abandon, above.p_abandon)))


def _model_accuracy(iv: Intervals, model: Model, rows) -> ModelAccuracy:
    if model is Model.ERLANG_C:
        sl, abandon = iv.erlang_c_service_level, np.zeros(iv.offered.shape)
    else:
        sl, abandon = iv.erlang_a_service_level, iv.erlang_a_abandonment
    weights = iv.offered[rows].astype(float)
    return ModelAccuracy(model=model,
                         service_level=_accuracy(iv.service_level[rows], sl[rows], weights),
                         abandonment=_accuracy(iv.abandonment[rows], abandon[rows], weights))


def _accuracy(observed: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> Accuracy:
    error = predicted - observed
    return Accuracy(observed=float(np.average(observed, weights=weights)),
                    predicted=float(np.average(predicted, weights=weights)),
                    mae=float(np.average(np.abs(error), weights=weights)),
                    bias=float(np.average(error, weights=weights)))


def _utc_offsets(epoch: np.ndarray, zone: str) -> np.ndarray:
    """Each instant's UTC offset in `zone`, in seconds."""
    import pandas as pd

    utc = pd.to_datetime(epoch, unit="s")
    local = utc.tz_localize("UTC").tz_convert(zone).tz_localize(None)
    return (local - utc).total_seconds().to_numpy().astype(np.int64)


def _concurrency(begin: np.ndarray, end: np.ndarray, starts: np.ndarray,
                 length: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the peak number of services [begin, end) in progress during each interval
    [start, start + length); `starts` ascending and at least `length` apart."""
    times = np.concatenate([end, begin]).astype(np.int64)
    steps = np.concatenate([-np.ones(end.size, np.int64), np.ones(begin.size, np.int64)])
    order = np.lexsort((steps, times))  # at equal times the ends first: services are half-open
    times, level = times[order], np.cumsum(steps[order])
    # The area under the level up to each event, to integrate it over any span.
    area = np.concatenate([[0], np.cumsum(level[:-1] * np.diff(times))])

    def level_and_area(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.searchsorted(times, t, side="right") - 1
        before = i < 0
        j = np.maximum(i, 0)
        lv = np.where(before, 0, level[j])
        return lv, np.where(before, 0, area[j] + lv * (t - times[j]))

    ends = starts + length
    level_at_start, area_at_start = level_and_area(starts)
    _, area_at_end = level_and_area(ends)
    mean = (area_at_end - area_at_start) / length
    # The peak: the level at the start, or after any event inside the interval.
    first = np.searchsorted(times, starts, side="right")
    last = np.searchsorted(times, ends, side="left")
    inside = last > first
    peak = level_at_start.copy()
    if inside.any():
        padded = np.append(level, 0)
        bounds = np.column_stack([first[inside], last[inside]]).ravel()
        segment_max = np.maximum.reduceat(padded, bounds)[::2]
        peak[inside] = np.maximum(peak[inside], segment_max)
    return mean, peak.astype(np.int64)


def _busy_while_queued(service_begin: np.ndarray, service_end: np.ndarray,
                       wait_begin: np.ndarray, wait_end: np.ndarray, starts: np.ndarray,
                       length: int) -> tuple[np.ndarray, np.ndarray]:
    """For each interval [start, start + length): the mean number of services in progress
    while at least one caller was waiting, and the seconds during which one was."""
    times = np.concatenate([service_begin, service_end, wait_begin, wait_end, starts,
                            starts + length]).astype(np.int64)
    zeros = np.zeros(2 * starts.size, np.int64)
    ones = lambda n: np.ones(n, np.int64)  # noqa: E731
    serving = np.concatenate([ones(service_begin.size), -ones(service_end.size),
                              0 * ones(wait_begin.size + wait_end.size), zeros])
    waiting = np.concatenate([0 * ones(service_begin.size + service_end.size),
                              ones(wait_begin.size), -ones(wait_end.size), zeros])
    order = np.argsort(times, kind="stable")
    times = times[order]
    # Between consecutive events (the interval bounds among them) both levels are constant.
    serving, waiting = np.cumsum(serving[order])[:-1], np.cumsum(waiting[order])[:-1]
    seconds = np.diff(times) * (waiting > 0)
    k = np.searchsorted(starts, times[:-1], side="right") - 1
    inside = (k >= 0) & (times[:-1] < starts[np.maximum(k, 0)] + length)
    queued = np.bincount(k[inside], weights=seconds[inside], minlength=starts.size)
    busy = np.bincount(k[inside], weights=(seconds * serving)[inside], minlength=starts.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(queued > 0, busy / queued, 0.0), queued


def _servers(log: CallLog, starts: np.ndarray, length: int) -> np.ndarray:
    """The named agents who were serving at some moment of each interval."""
    named = log.answered & (log.agent != "")
    begin = log.service_start[named]
    # A call of 0 seconds still shows its agent present at that moment.
    end = begin + np.maximum(log.handle[named], 1).astype(np.int64)
    _, agent = np.unique(log.agent[named], return_inverse=True)
    low = np.searchsorted(starts, begin - length, side="right")
    high = np.searchsorted(starts, end, side="left")
    spans = np.maximum(high - low, 0)
    interval = np.repeat(low, spans) + (np.arange(spans.sum())
                                        - np.repeat(np.cumsum(spans) - spans, spans))
    pairs = np.unique(interval * (agent.max(initial=0) + 1) + np.repeat(agent, spans))
    return np.bincount(pairs // (agent.max(initial=0) + 1), minlength=starts.size).astype(
        np.int64)
