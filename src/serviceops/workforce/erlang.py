"""Queueing maths for contact-centre staffing: Erlang B, Erlang C and Erlang A.

Pure: no Django, no I/O. Times are in seconds and loads in Erlangs.

Calls arrive at random (Poisson) at the rate λ = volume / interval; handling times are
exponential with mean AHT (μ = 1 / AHT); the offered load is A = λ·AHT Erlangs; n agents answer
one queue in order of arrival.

* Erlang B (M/M/n/n: a call finding every agent busy is lost) is the stable building block:
  B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)). One pass, no factorials and no powers, so it is
  exact to rounding at any load (5,000 Erlangs and beyond); the staffing searches extend it one
  agent at a time instead of starting again for each candidate.
* Erlang C (M/M/n: callers wait as long as it takes): P(wait) = n·B / (n - A(1 - B)) for n > A.
  With n <= A the queue grows without limit: P(wait) 1, service level 0, ASA infinite,
  occupancy 1.
* Erlang A (M/M/n+M; Palm; Garnett, Mandelbaum & Reiman 2002): each caller hangs up after an
  exponential patience of mean `patience_seconds` (θ = 1 / patience) unless answered first.
  Stable for every n, n <= A included, because callers leave.

Erlang A, exactly (Mandelbaum & Zeltyn, "The M/M/n+G queue: summary of performance measures").
With a = nμ/θ, y = λ/θ, ρ = A/n and S(a, x) = Σ_{j>=0} x^j / ((a+1)(a+2)...(a+j)), which is
a·e^x·x^-a·γ(a, x) with γ the lower incomplete gamma function:

    P(wait)                    = B·S(a,y) / (1 - B + B·S(a,y))
    P(served | wait)           = (1 - 1/S(a,y)) / ρ
    P(offered wait > t | wait) = R = exp(-nμt + y(1 - e^-θt)) · S(a,z) / S(a,y),  z = y·e^-θt
    P(served, wait > t | wait) = R · (1 - 1/S(a,z)) / ρ
    mean wait of all callers   = P(abandon) / θ

They follow from the wait V that a caller finding every agent busy would have if patient:
y·e^(-θV) is a Gamma(a) variable truncated to [0, y], and the caller is served when V is below
their patience, which has probability e^(-θV). As patience grows they tend to Erlang C.

Service level has three definitions in use (`ServiceLevelDefinition`) and ASA two (`AsaOf`);
under Erlang C, where nobody abandons, the three service levels are one number and so are the
two ASAs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum
from typing import NamedTuple

import numpy as np

# Targets are compared with this relative slack, so that a value equal to its target up to
# rounding (an occupancy of 8/10 against a cap of 0.8) counts as meeting it.
_SLACK = 1e-12
# Below this, scipy's regularised incomplete gamma function has lost digits to underflow.
_UNDERFLOW = 1e-280


class Model(Enum):
    """The queueing model: Erlang C (callers never hang up) or Erlang A (they do)."""

    ERLANG_C = "erlang_c"
    ERLANG_A = "erlang_a"


class ServiceLevelDefinition(Enum):
    """What the service level divides the calls answered within the threshold by.

    OFFERED: all offered calls. ANSWERED: the answered calls. EXCLUDING_SHORT_ABANDONS: offered
    calls less those abandoned within the threshold. Under Erlang C nobody abandons and the
    three are the same number.
    """

    OFFERED = "offered"
    ANSWERED = "answered"
    EXCLUDING_SHORT_ABANDONS = "excluding_short_abandons"


class AsaOf(Enum):
    """Whose waits the ASA averages: every caller (an abandoned caller counts the time they
    waited before hanging up) or only the callers who were served."""

    ALL = "all"
    SERVED = "served"


@dataclass(frozen=True)
class Workload:
    """Calls offered to one queue in one interval.

    `volume` calls arrive in `interval_seconds` and need `aht_seconds` of handling on average.
    With `patience_seconds` (callers' mean patience) the model is Erlang A, without it Erlang C.
    """

    volume: float
    interval_seconds: float
    aht_seconds: float
    patience_seconds: float | None = None

    def __post_init__(self) -> None:
        _check_at_least_zero("the volume", self.volume)
        _check_above_zero("the interval length", self.interval_seconds)
        _check_above_zero("the AHT", self.aht_seconds)
        if self.patience_seconds is not None:
            _check_above_zero("the mean patience", self.patience_seconds)

    @property
    def load(self) -> float:
        """Offered load in Erlangs: arrivals per second times AHT."""
        return self.volume * self.aht_seconds / self.interval_seconds

    @property
    def model(self) -> Model:
        return Model.ERLANG_C if self.patience_seconds is None else Model.ERLANG_A


@dataclass(frozen=True)
class Targets:
    """What a staffing level must achieve; every target given must hold at once.

    `service_level`: least share answered within `sl_seconds`, by `sl_definition`.
    `asa_seconds`: longest acceptable ASA, of `asa_of`. `p_wait`: highest acceptable probability
    of waiting at all. `max_abandon`: highest acceptable share of callers hanging up (Erlang A).
    `max_occupancy`: optional cap on the share of time agents are busy; without it occupancy is
    not capped. Shares lie strictly between 0 and 1.
    """

    service_level: float | None = None
    sl_seconds: float = 20.0
    asa_seconds: float | None = None
    p_wait: float | None = None
    max_abandon: float | None = None
    max_occupancy: float | None = None
    sl_definition: ServiceLevelDefinition = ServiceLevelDefinition.OFFERED
    asa_of: AsaOf = AsaOf.ALL

    def __post_init__(self) -> None:
        for name, share in (("the service-level target", self.service_level),
                            ("the P(wait) target", self.p_wait),
                            ("the abandonment cap", self.max_abandon),
                            ("the occupancy cap", self.max_occupancy)):
            if share is not None and not 0 < share < 1:
                raise ValueError(f"{name} must be above 0 and below 1, such as 0.8 (got "
                                 f"{share!r}); no staffing level guarantees 100%")
        if self.asa_seconds is not None:
            _check_above_zero("the ASA target", self.asa_seconds)
        _check_at_least_zero("the service-level threshold", self.sl_seconds)
        if (self.service_level, self.asa_seconds, self.p_wait, self.max_abandon) == (None,) * 4:
            raise ValueError("give at least one target: service level, ASA, P(wait) or "
                             "abandonment")


@dataclass(frozen=True)
class Metrics:
    """Steady-state performance of one queue answered by `agents` agents.

    `asa_seconds` is infinite when the queue grows without limit (Erlang C with no more agents
    than the load); `p_abandon` is None under Erlang C.
    """

    model: Model
    agents: int
    load: float
    service_level: float
    asa_seconds: float
    occupancy: float
    p_wait: float
    p_abandon: float | None


@dataclass(frozen=True)
class Staffing:
    """Agents needed on the phones, heads to roster once shrinkage is allowed for, and the
    performance those agents give."""

    agents: int
    rostered: int
    metrics: Metrics


@dataclass(frozen=True)
class IntervalMetrics:
    """`Metrics` for a run of intervals, one array element per interval."""

    model: Model
    agents: np.ndarray
    load: np.ndarray
    service_level: np.ndarray
    asa_seconds: np.ndarray
    occupancy: np.ndarray
    p_wait: np.ndarray
    p_abandon: np.ndarray | None


@dataclass(frozen=True)
class IntervalStaffing:
    """`Staffing` for a run of intervals, one array element per interval."""

    agents: np.ndarray
    rostered: np.ndarray
    metrics: IntervalMetrics


def erlang_b(agents: int, load: float) -> float:
    """Return the Erlang B blocking probability of `agents` servers offered `load` Erlangs."""
    _check_agents(agents)
    _check_at_least_zero("the load", load)
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Return the Erlang C probability that a caller waits (1 when agents <= load > 0)."""
    b = erlang_b(agents, load)
    if load == 0:
        return 0.0
    if agents <= load:
        return 1.0
    return min(1.0, agents * b / (agents - load * (1 - b)))


def evaluate(workload: Workload, agents: int, *, sl_seconds: float = 20.0,
             sl_definition: ServiceLevelDefinition = ServiceLevelDefinition.OFFERED,
             asa_of: AsaOf = AsaOf.ALL) -> Metrics:
    """Return the performance of `workload` answered by `agents` agents."""
    _check_at_least_zero("the service-level threshold", sl_seconds)
    load = workload.load
    m = _measures(np.array([load]), np.array([agents]), np.array([erlang_b(agents, load)]),
                  np.array([workload.aht_seconds]), patience=workload.patience_seconds,
                  sl_seconds=sl_seconds, sl_definition=sl_definition, asa_of=asa_of)
    return _metrics(workload, agents, m)


def agents_required(workload: Workload, targets: Targets) -> int:
    """Return the smallest number of agents that meets every target for `workload`."""
    return staff(workload, targets).agents


def staff(workload: Workload, targets: Targets, *, shrinkage: float = 0.0) -> Staffing:
    """Return the smallest number of agents meeting every target for `workload`, the heads to
    roster after `shrinkage` and the performance those agents give."""
    _check_targets_fit(workload.patience_seconds, targets)
    found, m = _search(np.array([workload.load]), np.array([workload.aht_seconds]),
                       workload.patience_seconds, targets)
    agents = int(found[0])
    return Staffing(agents=agents, rostered=rostered_heads(agents, shrinkage),
                    metrics=_metrics(workload, agents, m))


def rostered_heads(agents: int, shrinkage: float) -> int:
    """Return ceil(agents / (1 - shrinkage)): the heads to roster so that `agents` remain on
    the phones when `shrinkage` (the share of paid time off the phones) is lost."""
    _check_agents(agents)
    return int(_rostered(np.array([agents]), shrinkage)[0])


def staff_intervals(volumes: np.ndarray, *, interval_seconds: float,
                    aht_seconds: float | np.ndarray, targets: Targets,
                    patience_seconds: float | None = None,
                    shrinkage: float = 0.0) -> IntervalStaffing:
    """Staff every interval of a forecast at once: for each, the smallest number of agents
    meeting `targets`, the heads to roster after `shrinkage` and the performance.

    `volumes` are the calls offered per interval; `aht_seconds` is one AHT or one per interval.
    """
    _check_targets_fit(patience_seconds, targets)
    load, aht = _interval_loads(volumes, interval_seconds, aht_seconds, patience_seconds)
    agents, m = _search(load, aht, patience_seconds, targets)
    return IntervalStaffing(agents=agents, rostered=_rostered(agents, shrinkage),
                            metrics=_interval_metrics(patience_seconds, agents, load, m))


def evaluate_intervals(volumes: np.ndarray, agents: int | np.ndarray, *,
                       interval_seconds: float, aht_seconds: float | np.ndarray,
                       patience_seconds: float | None = None, sl_seconds: float = 20.0,
                       sl_definition: ServiceLevelDefinition = ServiceLevelDefinition.OFFERED,
                       asa_of: AsaOf = AsaOf.ALL) -> IntervalMetrics:
    """Return the performance of each interval answered by `agents` (one count, or one per
    interval)."""
    _check_at_least_zero("the service-level threshold", sl_seconds)
    load, aht = _interval_loads(volumes, interval_seconds, aht_seconds, patience_seconds)
    agents = np.broadcast_to(np.asarray(agents), load.shape)
    if not np.issubdtype(agents.dtype, np.integer) or (agents.size and agents.min() < 0):
        raise ValueError("agent counts must be whole numbers, 0 or more")
    agents = agents.astype(np.int64)
    m = _measures(load, agents, _erlang_b_at(agents, load), aht, patience=patience_seconds,
                  sl_seconds=sl_seconds, sl_definition=sl_definition, asa_of=asa_of)
    return _interval_metrics(patience_seconds, agents, load, m)


# --- The models, on arrays ------------------------------------------------------------------


class _Measures(NamedTuple):
    service_level: np.ndarray
    asa_seconds: np.ndarray
    occupancy: np.ndarray
    p_wait: np.ndarray
    p_abandon: np.ndarray


def _measures(load: np.ndarray, agents: np.ndarray, b: np.ndarray, aht: np.ndarray, *,
              patience: float | None, sl_seconds: float,
              sl_definition: ServiceLevelDefinition, asa_of: AsaOf) -> _Measures:
    """Metrics for equal-length arrays of loads, agent counts, their Erlang B values and AHTs."""
    if patience is None:
        m = _erlang_c_measures(load, agents, b, aht, sl_seconds)
    else:
        m = _erlang_a_measures(load, agents, b, aht, patience, sl_seconds, sl_definition, asa_of)
    # A NaN would never meet a target and leave a staffing search running for ever.
    if any(np.isnan(values).any() for values in m):
        raise ArithmeticError(f"no finite result for loads {load[:3]}... with agents "
                              f"{agents[:3]}... (patience {patience})")
    return m


def _erlang_c_measures(load: np.ndarray, agents: np.ndarray, b: np.ndarray, aht: np.ndarray,
                       sl_seconds: float) -> _Measures:
    stable = agents > load
    gap = np.where(stable, agents - load, 1.0)
    p_wait = np.where(stable, np.clip(agents * b / (gap + load * b), 0.0, 1.0), 1.0)
    service_level = np.where(stable, 1.0 - p_wait * np.exp(-gap * sl_seconds / aht), 0.0)
    asa = np.where(stable, p_wait * aht / gap, np.inf)
    occupancy = np.where(stable, load / np.maximum(agents, 1), 1.0)
    idle = load == 0
    p_wait[idle], service_level[idle], asa[idle], occupancy[idle] = 0.0, 1.0, 0.0, 0.0
    return _Measures(np.clip(service_level, 0.0, 1.0), asa, occupancy, p_wait,
                     np.zeros(load.shape))


def _erlang_a_measures(load: np.ndarray, agents: np.ndarray, b: np.ndarray, aht: np.ndarray,
                       patience: float, sl_seconds: float, sl_definition: ServiceLevelDefinition,
                       asa_of: AsaOf) -> _Measures:
    # No load: nobody waits. No agents: everybody waits and hangs up (after their patience on
    # average), the limits of the formulas below as the load or the agents go to zero.
    service_level, asa = np.ones(load.shape), np.zeros(load.shape)
    occupancy, p_wait, p_abandon = np.zeros(load.shape), np.zeros(load.shape), np.zeros(load.shape)
    unstaffed = (agents == 0) & (load > 0)
    service_level[unstaffed], occupancy[unstaffed] = 0.0, 1.0
    p_wait[unstaffed], p_abandon[unstaffed] = 1.0, 1.0
    asa[unstaffed] = patience if asa_of is AsaOf.ALL else np.inf
    i = np.flatnonzero((agents > 0) & (load > 0))
    if not i.size:
        return _Measures(service_level, asa, occupancy, p_wait, p_abandon)

    # scipy is imported here, not at the top, so that Erlang C and the `serviceops` command
    # start without its import time (about 0.3 s).
    from scipy import special

    load_, n, b_, aht_ = load[i], agents[i].astype(float), b[i], aht[i]
    a, y = n * patience / aht_, load_ * patience / aht_
    decay = sl_seconds / patience  # θt
    # (1 - 1/S)/ρ = a·g(a, x) with g = (1 - 1/S(a, x))/x, which stays finite for tiny loads.
    log_s_y, g_y = _log_s(a, y)
    log_s_z, g_z = _log_s(a, y * math.exp(-decay))
    with np.errstate(divide="ignore"):  # B underflows to 0 far above the load: P(wait) is 0
        waits = special.expit(np.log(b_) + log_s_y - np.log1p(-b_))
    served_if_waiting = np.clip(a * g_y, 0.0, 1.0)
    abandons = waits * (1.0 - served_if_waiting)
    late = np.clip(np.exp(-n * sl_seconds / aht_ - y * math.expm1(-decay) + log_s_z - log_s_y),
                   0.0, 1.0)
    served_late_if_waiting = late * a * g_z * math.exp(-decay)
    served_early_if_waiting = np.clip(served_if_waiting - served_late_if_waiting, 0.0, 1.0)
    answered_early = (1.0 - waits) + waits * served_early_if_waiting
    if sl_definition is ServiceLevelDefinition.OFFERED:
        sl = answered_early
    elif sl_definition is ServiceLevelDefinition.ANSWERED:
        sl = answered_early / (1.0 - abandons)
    else:
        abandoned_early_if_waiting = np.clip(
            1.0 - served_early_if_waiting - math.exp(-decay) * late, 0.0, 1.0)
        sl = answered_early / (1.0 - waits * abandoned_early_if_waiting)
    if asa_of is AsaOf.ALL:
        asa[i] = abandons * patience
    else:
        asa[i] = waits * _served_wait_if_waiting(a, y, patience) / (1.0 - abandons)
    service_level[i] = np.clip(sl, 0.0, 1.0)
    occupancy[i] = np.clip(load_ / n * (1.0 - abandons), 0.0, 1.0)
    p_wait[i], p_abandon[i] = waits, abandons
    return _Measures(service_level, asa, occupancy, p_wait, p_abandon)


def _log_s(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return log S(a, x) and (1 - 1/S(a, x))/x for arrays with a > 0 and x >= 0.

    S(a, x) = a·e^x·x^-a·Γ(a)·P(a, x), with P scipy's regularised lower incomplete gamma
    function, in log space when x > a/2. When x <= a/2, or when P has underflowed (which only
    happens well below x = a), the defining series converges and keeps every digit.
    """
    from scipy import special  # imported late: see _erlang_a_measures

    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        p = special.gammainc(a, x)
        log_s = np.log(a) + x - a * np.log(x) + special.gammaln(a) + np.log(p)
        g = -np.expm1(-log_s) / x
    by_series = np.flatnonzero((x <= 0.5 * a) | ~(p > _UNDERFLOW) | ~np.isfinite(log_s))
    if by_series.size:
        x_k = x[by_series]
        h = _s_minus_one_over_x(a[by_series], x_k)
        log_s[by_series] = np.log1p(x_k * h)
        g[by_series] = h / (1.0 + x_k * h)
    return log_s, g


def _s_minus_one_over_x(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(S(a, x) - 1)/x = Σ_{j>=1} x^(j-1) / ((a+1)...(a+j)), for arrays with x < a: each term
    is the one before times x/(a+j) < 1. All elements advance together, in blocks of terms."""
    term = 1.0 / (a + 1.0)
    total = term.copy()
    active = np.arange(a.size)
    first, size = 2, 32
    while active.size:
        j = np.arange(first, first + size)
        terms = term[active, None] * np.cumprod(x[active, None] / (a[active, None] + j), axis=1)
        total[active] += terms.sum(axis=1)
        term[active] = terms[:, -1]
        first, size = first + size, min(2 * size, 2048)
        ratio = x[active] / (a[active] + first)
        # The terms left are below a geometric series of this ratio.
        done = term[active] * ratio <= 1e-17 * (1.0 - ratio) * total[active]
        active = active[~done]
    return total


def _served_wait_if_waiting(a: np.ndarray, y: np.ndarray, patience: float) -> np.ndarray:
    """E[V·e^(-θV) | wait]: the mean wait of served callers, per caller who had to wait.

    A caller who finds j others queued needs j+1 departures at rates nμ + iθ (i = 0..j) before
    an agent is free; for that sum of exponentials V_j, E[V_j·e^(-θV_j)] is
    a/(a+j+1) · Σ_{i=1..j+1} 1/(a+i) / θ. The queue a waiting caller meets has weights
    proportional to y^j / ((a+1)...(a+j)), spread about the most likely queue with a standard
    deviation near sqrt(max(a, y)); the sums run over 10 of those either side (the weights
    beyond are below e^-50 of the peak), in chunks of similar widths to bound the padding and
    the memory.
    """
    from scipy import special  # imported late: see _erlang_a_measures

    result = np.empty(a.shape)
    mode = np.maximum(0.0, np.ceil(y - a))
    low = np.maximum(0.0, np.floor(mode - 10 * np.sqrt(y) - 20))
    width = np.ceil(mode + 10 * np.sqrt(np.maximum(a, y)) + 20 - low).astype(np.int64) + 1
    order = np.argsort(width)
    first = 0
    while first < a.size:
        count = max(1, 2**18 // int(width[order[first]]))
        k = order[first:first + count]
        # Windows padded to the widest in the chunk: the extra terms are further terms of the
        # same sums.
        j = low[k, None] + np.arange(int(width[k].max()))
        a_k, y_k = a[k, None], y[k, None]
        with np.errstate(divide="ignore"):  # a load so small that y underflows: w = 1, 0, ...
            steps = np.log(y_k / (a_k + j[:, :-1] + 1))
        log_w = np.concatenate([np.zeros((k.size, 1)), np.cumsum(steps, axis=1)], axis=1)
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        harmonic = (special.digamma(a_k + low[k, None] + 1) - special.digamma(a_k + 1)
                    + np.cumsum(1.0 / (a_k + j + 1), axis=1))
        result[k] = (w * a_k / (a_k + j + 1) * harmonic).sum(axis=1) / w.sum(axis=1)
        first += count
    return result * patience


# --- Searching and checking -----------------------------------------------------------------


def _search(load: np.ndarray, aht: np.ndarray, patience: float | None,
            targets: Targets) -> tuple[np.ndarray, _Measures]:
    """For each element, the smallest agent count meeting `targets`, and its metrics."""
    if patience is None or targets.asa_of is AsaOf.ALL:
        return _scan(load, aht, patience, targets, _first_candidate(load, patience, targets))
    # The ASA of served callers under Erlang A is the one costly measure (a sum over queue
    # lengths), so the other targets are met first. Any count meeting every target meets
    # those, so their smallest count is where the full search can start.
    start = _first_candidate(load, patience, targets)
    if (targets.service_level, targets.p_wait, targets.max_abandon) != (None,) * 3:
        others = replace(targets, asa_of=AsaOf.ALL, asa_seconds=None)
        start, _ = _scan(load, aht, patience, others, start)
        if targets.asa_seconds is None:
            return start, _measures(load, start, _erlang_b_at(start, load), aht,
                                    patience=patience, sl_seconds=targets.sl_seconds,
                                    sl_definition=targets.sl_definition, asa_of=AsaOf.SERVED)
    return _scan(load, aht, patience, targets, start)


def _scan(load: np.ndarray, aht: np.ndarray, patience: float | None, targets: Targets,
          start: np.ndarray) -> tuple[np.ndarray, _Measures]:
    """Scan up from `start` (counts below which nothing can work) to each element's first
    count meeting `targets`, so that one agent fewer fails; return the counts and metrics.

    The Erlang B recursion is carried to `start` once, then extended one agent at a time
    through blocks of candidates (8, 16, 32... up to 256 agents) evaluated together for all
    elements still searching.
    """
    agents = start.copy()
    b = _erlang_b_at(agents, load)
    found = _Measures(*(np.zeros(load.shape) for _ in _Measures._fields))
    pending = np.arange(load.size)
    block = 8
    while pending.size:
        load_p = load[pending]
        candidates = agents[pending, None] + np.arange(block)
        bs = np.empty(candidates.shape)
        bs[:, 0] = b[pending]
        for k in range(1, block):
            bs[:, k] = load_p * bs[:, k - 1] / (candidates[:, k] + load_p * bs[:, k - 1])
        m = _measures(np.repeat(load_p, block), candidates.ravel(), bs.ravel(),
                      np.repeat(aht[pending], block), patience=patience,
                      sl_seconds=targets.sl_seconds, sl_definition=targets.sl_definition,
                      asa_of=targets.asa_of)
        met = _meets(m, targets).reshape(candidates.shape)
        hit = met.any(axis=1)
        first = np.flatnonzero(hit) * block + met.argmax(axis=1)[hit]
        done = pending[hit]
        agents[done] = candidates.ravel()[first]
        for values, measured in zip(found, m, strict=True):
            values[done] = measured[first]
        # The others go on from the end of this block.
        rest, last = pending[~hit], bs[~hit, -1]
        agents[rest] = candidates[~hit, -1] + 1
        b[rest] = load[rest] * last / (agents[rest] + load[rest] * last)
        pending, block = rest, min(2 * block, 256)
    return agents, found


def _erlang_b_at(agents: np.ndarray, load: np.ndarray) -> np.ndarray:
    """Erlang B of each element's agent count: one pass of the recursion up to the largest
    count for all elements together (in plain floats for a single element, where numpy's
    per-call overhead would dominate)."""
    if load.size == 1:
        return np.array([erlang_b(int(agents[0]), float(load[0]))])
    b, result = np.ones(load.shape), np.ones(load.shape)
    for n in range(1, int(agents.max(initial=0)) + 1):
        b = load * b / (n + load * b)
        np.copyto(result, b, where=agents == n)
    return result


def _first_candidate(load: np.ndarray, patience: float | None, targets: Targets) -> np.ndarray:
    """Agent counts below which no staffing can meet `targets`: where the search starts."""
    if patience is None:
        # Erlang C: with n <= A the queue grows without limit and every target fails; the
        # occupancy A/n stays above a cap m while n < A/m.
        start = np.floor(load) + 1
        if targets.max_occupancy is not None:
            start = np.maximum(start, np.floor(load / targets.max_occupancy * (1 - 1e-9)))
    else:
        # Erlang A: n agents carry less than n Erlangs, so answering a share s of the callers
        # needs n > s·A; the answered share is at least the service level of offered calls,
        # 1 - P(wait) and 1 - P(abandon).
        shares = [0.0]
        if (targets.service_level is not None
                and targets.sl_definition is ServiceLevelDefinition.OFFERED):
            shares.append(targets.service_level)
        if targets.p_wait is not None:
            shares.append(1 - targets.p_wait)
        if targets.max_abandon is not None:
            shares.append(1 - targets.max_abandon)
        share = max(shares)
        start = np.floor(share * load * (1 - 1e-9)) + 1 if share else np.zeros(load.shape)
    return np.where(load == 0, 0, start).astype(np.int64)


def _meets(m: _Measures, targets: Targets) -> np.ndarray:
    ok = np.ones(m.p_wait.shape, dtype=bool)
    if targets.service_level is not None:
        ok &= m.service_level >= targets.service_level * (1 - _SLACK)
    for value, cap in ((m.asa_seconds, targets.asa_seconds), (m.p_wait, targets.p_wait),
                       (m.p_abandon, targets.max_abandon), (m.occupancy, targets.max_occupancy)):
        if cap is not None:
            ok &= value <= cap * (1 + _SLACK)
    return ok


def _rostered(agents: np.ndarray, shrinkage: float) -> np.ndarray:
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be at least 0 and below 1, such as 0.3 (got "
                         f"{shrinkage!r})")
    # Rounded before the ceiling: 21 / (1 - 0.3) is 30.000000000000004 in binary floating
    # point and must give 30 heads, not 31.
    return np.ceil(np.round(agents / (1 - shrinkage), 9)).astype(np.int64)


def _interval_loads(volumes: np.ndarray, interval_seconds: float,
                    aht_seconds: float | np.ndarray,
                    patience_seconds: float | None) -> tuple[np.ndarray, np.ndarray]:
    volumes = np.asarray(volumes, dtype=float)
    if volumes.ndim != 1:
        raise ValueError("give the volumes as a one-dimensional array, one per interval")
    aht = np.broadcast_to(np.asarray(aht_seconds, dtype=float), volumes.shape)
    if not np.all(np.isfinite(volumes) & (volumes >= 0)):
        raise ValueError("every volume must be a number of calls, 0 or more")
    if not np.all(np.isfinite(aht) & (aht > 0)):
        raise ValueError("every AHT must be above 0 seconds")
    _check_above_zero("the interval length", interval_seconds)
    if patience_seconds is not None:
        _check_above_zero("the mean patience", patience_seconds)
    return volumes * aht / interval_seconds, aht


def _metrics(workload: Workload, agents: int, m: _Measures) -> Metrics:
    return Metrics(
        model=workload.model, agents=agents, load=workload.load,
        service_level=float(m.service_level[0]), asa_seconds=float(m.asa_seconds[0]),
        occupancy=float(m.occupancy[0]), p_wait=float(m.p_wait[0]),
        p_abandon=None if workload.patience_seconds is None else float(m.p_abandon[0]),
    )


def _interval_metrics(patience: float | None, agents: np.ndarray, load: np.ndarray,
                      m: _Measures) -> IntervalMetrics:
    return IntervalMetrics(
        model=Model.ERLANG_C if patience is None else Model.ERLANG_A, agents=agents, load=load,
        service_level=m.service_level, asa_seconds=m.asa_seconds, occupancy=m.occupancy,
        p_wait=m.p_wait, p_abandon=None if patience is None else m.p_abandon,
    )


def _check_targets_fit(patience: float | None, targets: Targets) -> None:
    if targets.max_abandon is not None and patience is None:
        raise ValueError("an abandonment cap needs Erlang A: give the callers' mean patience")


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int | np.integer) or agents < 0:
        raise ValueError(f"the number of agents must be a whole number, 0 or more (got "
                         f"{agents!r})")


def _check_above_zero(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be above 0 (got {value!r})")


def _check_at_least_zero(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be 0 or more (got {value!r})")
