"""Calibration against history: how close Erlang C and Erlang A come to what a queue did.

Pure: no Django. A call log (`read_call_log`) becomes the calls offered to the agents' queue;
the callers' patience is estimated from the abandonments (`estimate_patience`); then each
interval's observed service level and abandonment is set beside what Erlang C and Erlang A
predict for that interval's calls, handle time and agents (`calibrate`).

Patience. Under exponential patience of rate θ, a caller who waits w seconds and hangs up
contributes θ·e^(-θw) to the likelihood, and one who is answered after w seconds contributes
e^(-θw) (their patience is censored: it was longer than w). The maximum-likelihood estimate is
θ̂ = abandonments ÷ total waiting time of every caller, served or not; the mean patience is 1/θ̂.
Kaplan-Meier on the same censored waits, and the hazard per band of waiting time, show whether
the exponential shape holds.

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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from serviceops.workforce.erlang import Model, evaluate_intervals

BANK_ZONE = "Asia/Jerusalem"
DEFAULT_ZONE = "Europe/London"
INTERVAL_MINUTES = (15, 30, 60)
# Bands of waiting time (seconds) over which the abandonment hazard is measured; the last one
# is open-ended. With exponential patience the hazard is the same in every band.
HAZARD_BANDS = (0, 30, 60, 120, 180, 300)
# The least queueing time (seconds) in an interval from which BUSY_WHILE_QUEUED is taken.
MIN_QUEUED_SECONDS = 60
# Waits at which the Kaplan-Meier survival of patience is set beside the exponential one.
SURVIVAL_CHECKPOINTS = (15, 30, 60, 120, 180, 300)
BANK_COLUMNS = ("date", "vru_entry", "vru_exit", "q_start", "q_time", "outcome", "ser_start",
                "ser_time", "server")
_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)
_HALF_DAY = 12 * 3600


class LogFormat(Enum):
    """The layout of a call log file."""

    ANONYMOUS_BANK = "anonymous-bank"
    CSV = "csv"


class AgentEstimate(Enum):
    """How the agents on duty in an interval are estimated from the service records."""

    BUSY_WHILE_QUEUED = "busy-while-queued"
    PEAK_BUSY = "peak-busy"
    SERVERS = "servers"


@dataclass(frozen=True)
class CallLog:
    """Calls offered to the agents' queue, one array element per call, in arrival order.

    `arrival`: when the caller joined the queue (or was put straight through), in seconds since
    1970-01-01 UTC. `wait`: seconds in the queue until answered or hanging up. `answered`:
    True if an agent answered. `service_start` and `handle`: when the answer came and how long
    the call lasted, in seconds (0 for abandoned calls). `agent`: who answered ('' unknown).
    `rows` is the number of records read and `excluded` the records left out, by reason.
    """

    arrival: np.ndarray
    wait: np.ndarray
    answered: np.ndarray
    service_start: np.ndarray
    handle: np.ndarray
    agent: np.ndarray
    time_zone: str
    rows: int
    excluded: Mapping[str, int]

    @property
    def offered(self) -> int:
        return int(self.arrival.size)

    @property
    def abandoned(self) -> int:
        return int(self.arrival.size - self.answered.sum())


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


# --- Reading call logs ----------------------------------------------------------------------


def read_call_log(path, *, log_format: LogFormat | str = LogFormat.CSV,
                  time_zone: str | None = None) -> CallLog:
    """Return the calls offered to the agents' queue in the call log at `path`.

    `LogFormat.ANONYMOUS_BANK`: the Technion "Anonymous Bank" file (tab-separated; date
    YYMMDD, times H:MM:SS local, no offset; default zone Asia/Jerusalem). PHANTOM records
    ("a virtual call to be ignored", says the data's description) and callers who hung up in
    the voice menu before asking for an agent are left out and counted in `excluded`.

    `LogFormat.CSV`: a header row and the columns `arrival` (ISO 8601 time the call joined the
    queue; local wall-clock time in `time_zone`, default Europe/London, unless it has an
    offset), `wait_seconds` or `queue_exit` (time it left the queue), `handle_seconds` (may be
    empty for abandoned calls), `outcome` (answered or abandoned) and, optionally, `agent`.

    Raises ValueError naming the file, the row (the header is row 1) and the problem.
    """
    log_format = LogFormat(log_format)
    zone_name = time_zone or (BANK_ZONE if log_format is LogFormat.ANONYMOUS_BANK
                              else DEFAULT_ZONE)
    _zone(zone_name)
    import pandas as pd  # imported here: the `serviceops` command starts without it

    try:
        if log_format is LogFormat.ANONYMOUS_BANK:
            table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False,
                                encoding="utf-8-sig")
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"{path} is not a readable table: {error}") from None
    table.columns = [str(c).strip() for c in table.columns]
    table = table.apply(lambda column: column.str.strip())
    if log_format is LogFormat.ANONYMOUS_BANK:
        return _bank_log(table, str(path), zone_name)
    return _csv_log(table, str(path), zone_name)


def _bank_log(table, path: str, zone: str) -> CallLog:
    import pandas as pd

    _require(table, BANK_COLUMNS, path)
    rows = len(table)
    dates = pd.to_datetime(table["date"], format="%y%m%d", errors="coerce")
    _refuse_missing(dates.isna().to_numpy(), table["date"], path, "date", "is not a YYMMDD date")
    outcome = table["outcome"].str.upper().to_numpy()
    unknown = ~np.isin(outcome, ["AGENT", "HANG", "PHANTOM"])
    _refuse_missing(unknown, table["outcome"], path, "outcome",
                    "is not AGENT, HANG or PHANTOM")
    clock = {name: _clock_seconds(table[name], path, name)
             for name in ("vru_entry", "vru_exit", "q_start", "ser_start")}
    q_time = _whole_seconds(table["q_time"], path, "q_time")
    ser_time = _whole_seconds(table["ser_time"], path, "ser_time")
    # The file has no offsets: the wall-clock times of the date's day, each later stamp moved
    # to the next day when it reads more than 12 hours before the call entered the voice menu
    # (a call that runs past midnight).
    entry = clock["vru_entry"]

    def local(name: str) -> np.ndarray:
        t = clock[name]
        return t + np.where(t < entry - _HALF_DAY, 86_400, 0)

    day = dates.to_numpy().astype("datetime64[s]").astype(np.int64)
    # q_start reads 0:00:00 for callers who never queued; a caller who did join at midnight
    # exactly with no wait is indistinguishable from them (and negligible).
    queued = (clock["q_start"] != 0) | (q_time > 0)
    answered = outcome == "AGENT"
    keep = answered | ((outcome == "HANG") & queued)
    wait = np.where(queued, q_time, 0)
    arrival_local = day + np.where(queued, local("q_start"), local("vru_exit"))
    # A few answered calls have no service record (ser_start 0:00:00, ser_time 0): their
    # service began when they left the queue, and they lasted an unknown time.
    recorded = (clock["ser_start"] != 0) | (ser_time > 0)
    service_local = np.where(recorded, day + local("ser_start"), arrival_local + wait)
    arrival = _to_utc(arrival_local, zone, path, table["date"] + " " + table["vru_entry"])[keep]
    service_start = arrival + (service_local[keep] - arrival_local[keep])
    server = table["server"].to_numpy().astype(str)
    agent = np.where(np.isin(np.char.upper(server), ["NO_SERVER", ""]), "", server)
    excluded = {"phantom (a virtual call to be ignored)": int((outcome == "PHANTOM").sum()),
                "hung up in the voice menu before queueing":
                    int(((outcome == "HANG") & ~queued).sum())}
    return _log(arrival=arrival, wait=wait[keep],
                answered=answered[keep], service_start=service_start,
                handle=np.where(answered, ser_time, 0)[keep], agent=agent[keep],
                time_zone=zone, rows=rows, excluded=excluded)


def _csv_log(table, path: str, zone: str) -> CallLog:
    _require(table, ("arrival", "handle_seconds", "outcome"), path)
    if "wait_seconds" not in table.columns and "queue_exit" not in table.columns:
        raise ValueError(f"{path}: the header row must name a wait_seconds or a queue_exit "
                         f"column")
    outcome = table["outcome"].str.lower().to_numpy()
    unknown = ~np.isin(outcome, ["answered", "abandoned"])
    _refuse_missing(unknown, table["outcome"], path, "outcome", "is not answered or abandoned")
    answered = outcome == "answered"
    arrival = _iso_times(table["arrival"], path, "arrival", zone)
    if "wait_seconds" in table.columns:
        wait = _numbers(table["wait_seconds"], path, "wait_seconds")
    else:
        wait = (_iso_times(table["queue_exit"], path, "queue_exit", zone) - arrival).astype(float)
        _refuse_missing(wait < 0, table["queue_exit"], path, "queue_exit",
                        "is before the arrival")
    handle = np.zeros(len(table))
    handle[answered] = _numbers(table["handle_seconds"][answered], path, "handle_seconds")
    agent = (table["agent"].to_numpy().astype(str) if "agent" in table.columns
             else np.full(len(table), ""))
    return _log(arrival=arrival, wait=wait, answered=answered,
                service_start=arrival + np.round(wait).astype(np.int64),
                handle=np.where(answered, handle, 0.0), agent=agent, time_zone=zone,
                rows=len(table), excluded={})


def _log(*, arrival, wait, answered, service_start, handle, agent, time_zone, rows,
         excluded) -> CallLog:
    order = np.argsort(arrival, kind="stable")
    return CallLog(arrival=arrival[order], wait=np.asarray(wait, dtype=float)[order],
                   answered=answered[order], service_start=service_start[order],
                   handle=np.asarray(handle, dtype=float)[order], agent=agent[order],
                   time_zone=time_zone, rows=rows, excluded=excluded)


def _require(table, columns, path: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: the header row lacks the column"
                         f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}")


def _refuse_missing(bad: np.ndarray, column, path: str, name: str, problem: str) -> None:
    """Raise for the first row where `bad` holds, quoting its `name` value."""
    bad = np.asarray(bad)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{path} row {k + 2}: {name} {column.iloc[k]!r} {problem}")


def _clock_seconds(column, path: str, name: str) -> np.ndarray:
    """Seconds after midnight of H:MM:SS times."""
    parts = column.str.extract(r"^(\d{1,2}):([0-5]\d):([0-5]\d)$")
    bad = parts.isna().any(axis=1).to_numpy()
    _refuse_missing(bad, column, path, name, "is not a time H:MM:SS")
    h, m, s = (parts[k].astype(np.int64).to_numpy() for k in range(3))
    _refuse_missing(h > 23, column, path, name, "is not a time H:MM:SS")
    return h * 3600 + m * 60 + s


def _whole_seconds(column, path: str, name: str) -> np.ndarray:
    bad = ~column.str.fullmatch(r"\d+").to_numpy(dtype=bool)
    _refuse_missing(bad, column, path, name, "is not a whole number of seconds, 0 or more")
    return column.astype(np.int64).to_numpy()


def _numbers(column, path: str, name: str) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    _refuse_missing(~(np.isfinite(values) & (values >= 0)), column, path, name,
                    "is not a number of seconds, 0 or more")
    return values


def _iso_times(column, path: str, name: str, zone: str) -> np.ndarray:
    """Seconds since the epoch of ISO 8601 times; those without an offset are wall-clock
    times in `zone`."""
    import pandas as pd

    aware = column.str.contains(_OFFSET).to_numpy(dtype=bool)
    result = np.zeros(len(column), dtype=np.int64)
    bad = np.zeros(len(column), dtype=bool)
    if aware.any():
        t = pd.DatetimeIndex(pd.to_datetime(column[aware], format="ISO8601", utc=True,
                                            errors="coerce"))
        bad[aware] = t.isna()
        result[aware] = _epoch(t)
    if (~aware).any():
        t = pd.to_datetime(column[~aware], format="ISO8601", errors="coerce")
        bad[~aware] = t.isna().to_numpy()
        local = t.to_numpy().astype("datetime64[s]").astype(np.int64)
        local[bad[~aware]] = 0
        _refuse_missing(bad, column, path, name, "is not an ISO 8601 date and time")
        result[~aware] = _to_utc(local, zone, path, column[~aware])
    _refuse_missing(bad, column, path, name, "is not an ISO 8601 date and time")
    return result


def _to_utc(local_seconds: np.ndarray, zone: str, path: str, shown) -> np.ndarray:
    """Epoch seconds of wall-clock times in `zone` (given as if they were UTC). A time the
    clocks skip is refused, quoting `shown` of its row; one they pass twice is read as its
    first pass (the summer-time one)."""
    import pandas as pd

    index = pd.to_datetime(local_seconds, unit="s")
    aware = index.tz_localize(zone, ambiguous=np.ones(len(index), dtype=bool),
                              nonexistent="NaT")
    _refuse_missing(aware.isna(), shown, path, "time",
                    f"does not exist in {zone} (the clocks skipped it)")
    return _epoch(aware)


def _epoch(times) -> np.ndarray:
    """Epoch seconds of an index of aware pandas times."""
    return times.tz_convert("UTC").tz_localize(None).to_numpy().astype(
        "datetime64[s]").astype(np.int64)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as "
                         f"{BANK_ZONE})") from None


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
