"""`serviceops calibrate`: callers' patience from a call log, and how close Erlang C and
Erlang A come to each interval's observed service level and abandonment."""

from __future__ import annotations

import json
import math
import sys

from serviceops.workforce.calibration import (
    INTERVAL_MINUTES,
    AgentEstimate,
    LogFormat,
)

AGENTS_HELP = {
    AgentEstimate.BUSY_WHILE_QUEUED: "mean calls in service while someone waited",
    AgentEstimate.PEAK_BUSY: "most calls in service at once",
    AgentEstimate.SERVERS: "named agents who served in the interval",
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "calibrate", help="estimate callers' patience from a call log and compare Erlang C "
                          "and Erlang A with what was observed")
    p.add_argument("file", metavar="FILE", help="the call log")
    p.add_argument("--format", dest="log_format", choices=[f.value for f in LogFormat],
                   default=LogFormat.CSV.value,
                   help="anonymous-bank: the Technion Anonymous Bank file; csv (default): a "
                        "header row and arrival, wait_seconds or queue_exit, handle_seconds, "
                        "outcome (answered/abandoned) and optionally agent")
    p.add_argument("--interval-minutes", type=int, default=30, choices=INTERVAL_MINUTES,
                   metavar="M", help="15, 30 or 60; default 30")
    p.add_argument("--sl-seconds", type=float, default=20.0, metavar="SECONDS",
                   help="service-level threshold; default 20")
    p.add_argument("--agents-from", choices=[a.value for a in AgentEstimate],
                   default=AgentEstimate.BUSY_WHILE_QUEUED.value,
                   help="how the agents on duty are estimated: "
                        + "; ".join(f"{a.value}: {text}" for a, text in AGENTS_HELP.items())
                        + " (default busy-while-queued)")
    p.add_argument("--patience", type=float, metavar="SECONDS",
                   help="mean patience for Erlang A (default: the estimate from the log)")
    p.add_argument("--time-zone", metavar="ZONE",
                   help="time zone of times without an offset (default Asia/Jerusalem for "
                        "anonymous-bank, Europe/London for csv)")
    p.add_argument("--intervals", action="store_true",
                   help="print every interval too (JSON always has them)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    # Imported here: pandas and scipy load only when the command runs.
    from serviceops.workforce.calibration import calibrate, read_call_log

    try:
        if not (math.isfinite(args.sl_seconds) and args.sl_seconds >= 0):
            raise ValueError(f"--sl-seconds must be 0 or more (got {args.sl_seconds:g})")
        if args.patience is not None and not (math.isfinite(args.patience)
                                              and args.patience > 0):
            raise ValueError(f"--patience must be above 0 (got {args.patience:g})")
        log = read_call_log(args.file, log_format=args.log_format, time_zone=args.time_zone)
        result = calibrate(log, interval_minutes=args.interval_minutes,
                           sl_seconds=args.sl_seconds, agents_from=args.agents_from,
                           patience_seconds=args.patience)
    except ValueError as error:
        print(f"serviceops calibrate: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_document(log, result), indent=2))
    else:
        _print(args, log, result)
    return 0


def _share(value: float) -> float:
    return round(float(value), 6)


def _accuracy(a) -> dict:
    return {"observed": _share(a.observed), "predicted": _share(a.predicted),
            "mae": _share(a.mae), "bias": _share(a.bias)}


def _model(m) -> dict:
    return {"service_level": _accuracy(m.service_level), "abandonment": _accuracy(m.abandonment)}


def _seconds(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None


def _document(log, r) -> dict:
    p, iv = r.patience, r.intervals
    return {
        "calls": {"records": log.rows, "excluded": dict(log.excluded), "offered": log.offered,
                  "answered": log.offered - log.abandoned, "abandoned": log.abandoned,
                  "unstaffed": r.unstaffed_calls},
        "patience": {
            "mean_seconds": round(p.mean_seconds, 3), "low_95": round(p.low_95, 3),
            "high_95": round(p.high_95, 3), "abandoned": p.abandoned, "waited": p.waited,
            "exposure_seconds": p.exposure_seconds,
            "hazard": [{"from_seconds": b.start_seconds, "to_seconds": b.end_seconds,
                        "abandoned": b.abandoned, "exposure_seconds": b.exposure_seconds,
                        "mean_patience_seconds": b.mean_patience_seconds} for b in p.hazard],
            "survival": [{"seconds": s.seconds, "kaplan_meier": _share(s.kaplan_meier),
                          "exponential": _share(s.exponential)} for s in p.survival],
        },
        "interval_minutes": r.interval_minutes, "sl_seconds": r.sl_seconds,
        "agents_from": r.agents_from.value,
        "erlang_c_unstable_calls": r.erlang_c_unstable_calls,
        "erlang_c": _model(r.erlang_c), "erlang_a": _model(r.erlang_a),
        "by_hour": [{"hour": h.hour, "intervals": h.intervals, "offered": h.offered,
                     "erlang_c": _model(h.erlang_c), "erlang_a": _model(h.erlang_a)}
                    for h in r.by_hour],
        "intervals": [
            {"interval_start": iv.local_start[k], "offered": int(iv.offered[k]),
             "answered": int(iv.answered[k]), "abandoned": int(iv.abandoned[k]),
             "service_level": _share(iv.service_level[k]),
             "abandonment": _share(iv.abandonment[k]),
             "asa_seconds": _seconds(iv.asa_seconds[k]),
             "aht_seconds": _seconds(iv.aht_seconds[k]), "busy": _share(iv.busy[k]),
             "agents": _share(iv.agents[k]),
             "erlang_c": {"service_level": _share(iv.erlang_c_service_level[k]),
                          "asa_seconds": _seconds(iv.erlang_c_asa_seconds[k])},
             "erlang_a": {"service_level": _share(iv.erlang_a_service_level[k]),
                          "abandonment": _share(iv.erlang_a_abandonment[k]),
                          "asa_seconds": _seconds(iv.erlang_a_asa_seconds[k])}}
            for k in range(iv.offered.size)],
    }


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _points(share: float) -> str:
    return f"{100 * share:+.1f}"


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) if k == 0 else cell.rjust(w)
                        for k, (cell, w) in enumerate(zip(row, widths, strict=True))))


def _print(args, log, r) -> None:
    p = r.patience
    excluded = "".join(f", {n:,} {why}" for why, n in log.excluded.items() if n)
    print(f"Calls: {log.rows:,} records{excluded}; {log.offered:,} offered to agents, "
          f"{log.offered - log.abandoned:,} answered, {log.abandoned:,} abandoned")
    print(f"Mean patience: {p.mean_seconds:.0f} s (95% {p.low_95:.0f}-{p.high_95:.0f} s): "
          f"{p.abandoned:,} abandonments over {p.exposure_seconds / 3600:,.1f} hours of "
          f"waiting by {p.waited:,} callers who waited")
    print("Patience by wait (mean implied by each band's hang-ups per second of waiting):")
    _table([["wait", "abandoned", "implied mean"]] + [
        [f"{b.start_seconds:g}-{b.end_seconds:g} s" if b.end_seconds is not None
         else f"{b.start_seconds:g} s+", f"{b.abandoned:,}",
         "-" if b.mean_patience_seconds is None else f"{b.mean_patience_seconds:.0f} s"]
        for b in p.hazard])
    print("P(patience > t): " + ", ".join(
        f"{s.seconds:g} s {_pct(s.kaplan_meier)} (exponential {_pct(s.exponential)})"
        for s in p.survival))
    print()
    print(f"Intervals of {r.interval_minutes} min compared: {r.intervals.offered.size:,} "
          f"({r.unstaffed_calls:,} calls in intervals with no agent estimated left out); "
          f"agents on duty: {AGENTS_HELP[r.agents_from]}; Erlang A patience "
          f"{args.patience if args.patience is not None else p.mean_seconds:.0f} s")
    print(f"Erlang C has no steady state (load >= agents) for "
          f"{r.erlang_c_unstable_calls:,} calls; it predicts no abandonment.")
    print(f"Service level: answered within {r.sl_seconds:g} s of offered calls; errors in "
          f"percentage points, weighted by calls.")
    _table([["", "observed", "Erlang C", "MAE", "bias", "Erlang A", "MAE", "bias"],
            _summary_row("service level", r.erlang_c.service_level, r.erlang_a.service_level),
            _summary_row("abandonment", r.erlang_c.abandonment, r.erlang_a.abandonment)])
    print()
    print("By hour of day (local):")
    rows = [["hour", "calls", "SL obs", "C", "A", "abandon obs", "A"]]
    for h in r.by_hour:
        rows.append([f"{h.hour:02d}", f"{h.offered:,}", _pct(h.erlang_c.service_level.observed),
                     _pct(h.erlang_c.service_level.predicted),
                     _pct(h.erlang_a.service_level.predicted),
                     _pct(h.erlang_a.abandonment.observed),
                     _pct(h.erlang_a.abandonment.predicted)])
    _table(rows)
    if args.intervals:
        print()
        iv = r.intervals
        rows = [["interval_start", "calls", "agents", "AHT", "SL obs", "C", "A",
                 "abandon obs", "A"]]
        for k in range(iv.offered.size):
            rows.append([iv.local_start[k], str(iv.offered[k]), f"{iv.agents[k]:.1f}",
                         f"{iv.aht_seconds[k]:.0f}", _pct(iv.service_level[k]),
                         _pct(iv.erlang_c_service_level[k]), _pct(iv.erlang_a_service_level[k]),
                         _pct(iv.abandonment[k]), _pct(iv.erlang_a_abandonment[k])])
        _table(rows)


def _summary_row(name: str, c, a) -> list[str]:
    return [name, _pct(c.observed), _pct(c.predicted), f"{100 * c.mae:.1f}", _points(c.bias),
            _pct(a.predicted), f"{100 * a.mae:.1f}", _points(a.bias)]
