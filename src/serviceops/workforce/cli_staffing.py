"""`serviceops staffing`: agents needed for a queue, by Erlang C or, with --patience, Erlang A."""

from __future__ import annotations

import csv
import json
import math
import sys

import numpy as np

from serviceops.workforce.erlang import (
    AsaOf,
    ServiceLevelDefinition,
    Targets,
    Workload,
    evaluate,
    evaluate_intervals,
    rostered_heads,
    staff,
    staff_intervals,
)

OF_CALLS = {
    ServiceLevelDefinition.OFFERED.value: "of offered calls",
    ServiceLevelDefinition.ANSWERED.value: "of answered calls",
    ServiceLevelDefinition.EXCLUDING_SHORT_ABANDONS.value:
        "of offered calls less those abandoned within the threshold",
}
TARGET_OPTIONS = (("sl_target", "--sl-target"), ("asa_target", "--asa-target"),
                  ("max_abandon", "--max-abandon"), ("max_occupancy", "--max-occupancy"))


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "staffing", help="agents needed for a service level (Erlang C; Erlang A with --patience)")
    volume = p.add_mutually_exclusive_group(required=True)
    volume.add_argument("--volume", type=float, help="calls offered in the interval")
    volume.add_argument("--volume-file", metavar="FILE",
                        help="CSV with a header row and the columns interval_start,volume: one "
                             "result per interval (bad rows are reported by row number, the "
                             "header being row 1)")
    p.add_argument("--interval-minutes", type=float, required=True, metavar="M")
    p.add_argument("--aht", type=float, required=True, metavar="SECONDS",
                   help="average handling time")
    p.add_argument("--sl-target", type=float, metavar="SHARE",
                   help="share of calls answered within --sl-seconds, such as 0.8")
    p.add_argument("--sl-seconds", type=float, required=True, metavar="SECONDS",
                   help="service-level threshold")
    p.add_argument("--sl-definition", choices=[d.value for d in ServiceLevelDefinition],
                   default=ServiceLevelDefinition.OFFERED.value,
                   help="divide the calls answered in time by all offered calls, by the "
                        "answered calls, or by the offered calls less those abandoned within "
                        "the threshold (the same under Erlang C); default offered")
    p.add_argument("--asa-target", type=float, metavar="SECONDS", help="longest acceptable ASA")
    p.add_argument("--asa-of", choices=[a.value for a in AsaOf], default=AsaOf.ALL.value,
                   help="ASA of all callers or of served callers only (the same under "
                        "Erlang C); default all")
    p.add_argument("--patience", type=float, metavar="SECONDS",
                   help="callers' mean patience: use Erlang A, where callers hang up")
    p.add_argument("--max-abandon", type=float, metavar="SHARE",
                   help="highest acceptable share of callers hanging up (needs --patience)")
    p.add_argument("--max-occupancy", type=float, metavar="SHARE",
                   help="cap on occupancy (without it occupancy is not capped)")
    p.add_argument("--shrinkage", type=float, default=0.0, metavar="SHARE",
                   help="share of paid time off the phones; rostered = ceil(agents / "
                        "(1 - shrinkage)); default 0")
    p.add_argument("--agents", type=int, metavar="N",
                   help="evaluate N agents instead of meeting targets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        _check_arguments(args)
        if args.volume_file is not None:
            results = _interval_results(args, *_read_volumes(args.volume_file))
        else:
            results = _single_result(args)
    except ValueError as error:
        print(f"serviceops staffing: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=2))
    elif args.volume_file is not None:
        _print_table(args, results)
    else:
        _print_single(args, results)
    return 0


def _check_arguments(args) -> None:
    given = [flag for name, flag in TARGET_OPTIONS if getattr(args, name) is not None]
    if args.agents is not None:
        if given:
            raise ValueError(f"--agents evaluates a given staffing level and takes no targets "
                             f"(drop {', '.join(given)})")
        if args.agents < 0:
            raise ValueError(f"--agents must be 0 or more (got {args.agents})")
    elif args.sl_target is None:
        raise ValueError("give --sl-target (or --agents N to evaluate a staffing level)")
    if args.max_abandon is not None and args.patience is None:
        raise ValueError("--max-abandon needs --patience (abandonment is modelled by Erlang A)")
    if not (math.isfinite(args.interval_minutes) and args.interval_minutes > 0):
        raise ValueError(f"--interval-minutes must be above 0 (got {args.interval_minutes:g})")


def _targets(args) -> Targets:
    return Targets(service_level=args.sl_target, sl_seconds=args.sl_seconds,
                   asa_seconds=args.asa_target, max_abandon=args.max_abandon,
                   max_occupancy=args.max_occupancy,
                   sl_definition=ServiceLevelDefinition(args.sl_definition),
                   asa_of=AsaOf(args.asa_of))


def _single_result(args) -> dict:
    workload = Workload(volume=args.volume, interval_seconds=args.interval_minutes * 60,
                        aht_seconds=args.aht, patience_seconds=args.patience)
    if args.agents is None:
        staffing = staff(workload, _targets(args), shrinkage=args.shrinkage)
        agents, rostered, m = staffing.agents, staffing.rostered, staffing.metrics
    else:
        m = evaluate(workload, args.agents, sl_seconds=args.sl_seconds,
                     sl_definition=ServiceLevelDefinition(args.sl_definition),
                     asa_of=AsaOf(args.asa_of))
        agents, rostered = args.agents, rostered_heads(args.agents, args.shrinkage)
    return _result(m.model.value, agents, rostered, m.service_level, m.asa_seconds,
                   m.occupancy, m.p_wait, m.p_abandon)


def _interval_results(args, starts: list[str], volumes: np.ndarray) -> list[dict]:
    common = dict(interval_seconds=args.interval_minutes * 60, aht_seconds=args.aht,
                  patience_seconds=args.patience)
    if args.agents is None:
        staffing = staff_intervals(volumes, targets=_targets(args), shrinkage=args.shrinkage,
                                   **common)
        agents, rostered, m = staffing.agents, staffing.rostered, staffing.metrics
    else:
        m = evaluate_intervals(volumes, args.agents, sl_seconds=args.sl_seconds,
                               sl_definition=ServiceLevelDefinition(args.sl_definition),
                               asa_of=AsaOf(args.asa_of), **common)
        agents = m.agents
        rostered = np.array([rostered_heads(int(n), args.shrinkage) for n in agents])
    return [
        {"interval_start": start, "volume": int(volume) if volume.is_integer() else volume,
         **_result(m.model.value, int(agents[k]), int(rostered[k]), m.service_level[k],
                   m.asa_seconds[k], m.occupancy[k], m.p_wait[k],
                   None if m.p_abandon is None else m.p_abandon[k])}
        for k, (start, volume) in enumerate(zip(starts, volumes.tolist(), strict=True))
    ]


def _result(model: str, agents: int, rostered: int, service_level: float, asa: float,
            occupancy: float, p_wait: float, p_abandon: float | None) -> dict:
    """The JSON object of one result; an ASA that grows without limit is null."""
    result = {"model": model, "agents": agents, "rostered": rostered,
              "service_level": float(service_level),
              "asa_seconds": float(asa) if math.isfinite(asa) else None,
              "occupancy": float(occupancy), "p_wait": float(p_wait)}
    if p_abandon is not None:
        result["p_abandon"] = float(p_abandon)
    return result


def _read_volumes(path: str) -> tuple[list[str], np.ndarray]:
    """Return the interval starts and volumes of a CSV file with the header
    interval_start,volume; a bad row is refused with its row number (the header is row 1)."""
    starts, volumes = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not {"interval_start", "volume"} <= set(reader.fieldnames or ()):
                raise ValueError(f"{path}: the header row must name the columns "
                                 f"interval_start,volume")
            for row in reader:
                start = (row["interval_start"] or "").strip()
                text = (row["volume"] or "").strip()
                where = f"{path} row {reader.line_num}"
                if not start:
                    raise ValueError(f"{where}: interval_start is empty")
                try:
                    volume = float(text)
                except ValueError:
                    raise ValueError(f"{where}: volume {text!r} is not a number") from None
                if not (math.isfinite(volume) and volume >= 0):
                    raise ValueError(f"{where}: volume {text!r} must be 0 or more")
                starts.append(start)
                volumes.append(volume)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None
    if not volumes:
        raise ValueError(f"{path} has no intervals after its header row")
    return starts, np.array(volumes)


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def _asa(seconds: float | None) -> str:
    return "unbounded" if seconds is None else f"{seconds:.1f} s"


def _print_single(args, r: dict) -> None:
    load = args.volume * args.aht / (args.interval_minutes * 60)
    if args.patience is None:
        print("Model: Erlang C (callers wait as long as it takes)")
    else:
        print(f"Model: Erlang A (callers hang up after {args.patience:g} s on average)")
    print(f"Offered load: {load:.2f} Erlangs")
    print(f"Agents {'evaluated' if args.agents is not None else 'required'}: {r['agents']}")
    print(f"Rostered: {r['rostered']} (shrinkage {100 * args.shrinkage:g}%)")
    print(f"Service level: {_percent(r['service_level'])} answered within {args.sl_seconds:g} s "
          f"({OF_CALLS[args.sl_definition]})")
    asa = _asa(r["asa_seconds"])
    if r["asa_seconds"] is None:
        asa += ": the queue grows without limit (staff more agents than the offered load)"
    print(f"ASA ({args.asa_of} callers): {asa}")
    print(f"Occupancy: {_percent(r['occupancy'])}")
    print(f"P(wait): {_percent(r['p_wait'])}")
    if "p_abandon" in r:
        print(f"Abandonment: {_percent(r['p_abandon'])}")


def _print_table(args, rows: list[dict]) -> None:
    columns = ["interval_start", "volume", "agents", "rostered", "SL", "ASA", "occupancy",
               "P(wait)"] + (["abandon"] if args.patience is not None else [])
    lines = [columns]
    for r in rows:
        line = [r["interval_start"], f"{r['volume']:g}", str(r["agents"]), str(r["rostered"]),
                _percent(r["service_level"]), _asa(r["asa_seconds"]),
                _percent(r["occupancy"]), _percent(r["p_wait"])]
        if "p_abandon" in r:
            line.append(_percent(r["p_abandon"]))
        lines.append(line)
    widths = [max(len(line[k]) for line in lines) for k in range(len(columns))]
    for line in lines:
        print("  ".join(cell.ljust(w) if k == 0 else cell.rjust(w)
                        for k, (cell, w) in enumerate(zip(line, widths, strict=True))))
    print(f"SL: answered within {args.sl_seconds:g} s, {OF_CALLS[args.sl_definition]}; "
          f"ASA of {args.asa_of} callers.")
