"""Calibration against history: callers' patience, estimated from who hung up and when.

Under exponential patience of rate θ, a caller who waits w seconds and hangs up contributes
θ·e^(-θw) to the likelihood, and one who is answered after w seconds contributes e^(-θw)
(their patience is censored: it was longer than w). The maximum-likelihood estimate is
θ̂ = abandonments ÷ total waiting time of every caller, served or not; the mean patience is 1/θ̂.
Kaplan-Meier on the same censored waits, and the hazard per band of waiting time, show whether
the exponential shape holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Bands of waiting time (seconds) over which the abandonment hazard is measured; the last one
# is open-ended. With exponential patience the hazard is the same in every band.
HAZARD_BANDS = (0, 30, 60, 120, 180, 300)
# Waits at which the Kaplan-Meier survival of patience is set beside the exponential one.
SURVIVAL_CHECKPOINTS = (15, 30, 60, 120, 180, 300)


@dataclass(frozen=True)
class HazardBand:
    """Abandonments per second of waiting among the callers still waiting within a band of
    waiting time; 1/hazard is the mean patience that band alone implies."""

    start_seconds: float
    end_seconds: float | None
    abandoned: int
    exposure_seconds: float
    mean_patience_seconds: float | None


@dataclass(frozen=True)
class SurvivalCheck:
    """P(patience > t) by Kaplan-Meier and under the fitted exponential."""

    seconds: float
    kaplan_meier: float
    exponential: float


@dataclass(frozen=True)
class PatienceEstimate:
    """Mean patience (1/θ̂) with a 95 % confidence interval, from `abandoned` hang-ups over
    `exposure_seconds` of waiting by `waited` callers who waited at all; and the checks of
    the exponential shape."""

    mean_seconds: float
    low_95: float
    high_95: float
    abandoned: int
    waited: int
    exposure_seconds: float
    hazard: tuple[HazardBand, ...]
    survival: tuple[SurvivalCheck, ...]


# --- Patience -------------------------------------------------------------------------------


def estimate_patience(wait: np.ndarray, abandoned: np.ndarray) -> PatienceEstimate:
    """Return the exponential estimate of callers' mean patience from each caller's wait
    (seconds) and whether they hung up: total waiting time ÷ abandonments, since a served
    caller's wait is a lower bound on their patience (a censored observation).

    The 95 % interval is θ̂·exp(±1.96/√abandonments) inverted (the estimate's standard error
    on the log scale). Raises ValueError when nobody abandoned or nobody waited.
    """
    wait = np.asarray(wait, dtype=float)
    abandoned = np.asarray(abandoned, dtype=bool)
    if wait.shape != abandoned.shape or wait.ndim != 1:
        raise ValueError("give one wait and one abandoned flag per caller")
    if not np.all(np.isfinite(wait) & (wait >= 0)):
        raise ValueError("every wait must be a number of seconds, 0 or more")
    events, exposure = int(abandoned.sum()), float(wait.sum())
    if events == 0 or exposure == 0:
        raise ValueError("patience cannot be estimated: no caller hung up while waiting"
                         if events == 0 else "patience cannot be estimated: nobody waited")
    mean = exposure / events
    spread = math.exp(1.96 / math.sqrt(events))
    return PatienceEstimate(
        mean_seconds=mean, low_95=mean / spread, high_95=mean * spread, abandoned=events,
        waited=int((wait > 0).sum()), exposure_seconds=exposure,
        hazard=_hazard_bands(wait, abandoned), survival=_survival(wait, abandoned, mean))


def kaplan_meier(wait: np.ndarray, abandoned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct abandonment times and the Kaplan-Meier estimate of P(patience > t)
    just after each, with served callers' waits as censored observations (at a tie, the
    hang-ups count before the censored waits)."""
    wait = np.asarray(wait, dtype=float)
    abandoned = np.asarray(abandoned, dtype=bool)
    times, first, counts = np.unique(wait, return_index=True, return_counts=True)
    at_risk = wait.size - np.concatenate([[0], np.cumsum(counts)[:-1]])
    events = np.bincount(np.searchsorted(times, wait[abandoned]), minlength=times.size)
    survival = np.cumprod(1.0 - events / at_risk)
    hit = events > 0
    return times[hit], survival[hit]


def _survival(wait: np.ndarray, abandoned: np.ndarray, mean: float) -> tuple[SurvivalCheck, ...]:
    times, survival = kaplan_meier(wait, abandoned)
    # Beyond the longest wait the curve is unknown: checkpoints there are left out.
    checks = [t for t in SURVIVAL_CHECKPOINTS if t <= wait.max()]
    at = np.searchsorted(times, checks, side="right") - 1
    km = np.where(at >= 0, survival[np.maximum(at, 0)], 1.0)
    return tuple(SurvivalCheck(seconds=float(t), kaplan_meier=float(s),
                               exponential=math.exp(-t / mean))
                 for t, s in zip(checks, km, strict=True))


def _hazard_bands(wait: np.ndarray, abandoned: np.ndarray) -> tuple[HazardBand, ...]:
    starts = np.array(HAZARD_BANDS, dtype=float)
    ends = np.append(starts[1:], np.inf)
    exposure = np.clip(wait[:, None] - starts, 0.0, ends - starts).sum(axis=0)
    band = np.searchsorted(starts, wait[abandoned], side="right") - 1
    events = np.bincount(band, minlength=starts.size)
    return tuple(
        HazardBand(start_seconds=float(a), end_seconds=None if math.isinf(b) else float(b),
                   abandoned=int(d), exposure_seconds=float(x),
                   mean_patience_seconds=float(x / d) if d else None)
        for a, b, d, x in zip(starts, ends, events, exposure, strict=True))
