"""Calibration against history: reading a call log into the calls offered to the agents' queue.

Two layouts (`LogFormat`): the Technion "Anonymous Bank" file (tab-separated, local times
without an offset, one record per call including those that never reached the queue) and a
CSV with a header row. `read_call_log` returns a `CallLog` sorted by arrival, or raises a
ValueError naming the file, the row and the problem. pandas is imported inside the readers, so
that the `serviceops` command starts without it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

BANK_ZONE = "Asia/Jerusalem"
DEFAULT_ZONE = "Europe/London"
BANK_COLUMNS = ("date", "vru_entry", "vru_exit", "q_start", "q_time", "outcome", "ser_start",
                "ser_time", "server")
_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)
_HALF_DAY = 12 * 3600


class LogFormat(Enum):
    """The layout of a call log file."""

    ANONYMOUS_BANK = "anonymous-bank"
    CSV = "csv"


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
