"""`serviceops forecast`: contacts (and handle time) per interval for the days ahead, from an
arrivals CSV or from the cases in the database, with a backtest of every model."""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from serviceops.cli import iso_date
from serviceops.workforce.forecast import (
    ENGLAND,
    HISTORY_WEEKS,
    LEVELS,
    Backtest,
    Demand,
    Forecast,
    ForecastModel,
    IntervalSeries,
    SpecialDays,
    backtest,
    forecast,
    public_holidays,
    read_arrivals_csv,
)

DEFAULT_ZONE = "Europe/London"
WHAT = {"volume": "contacts", "handle_time": "handle time (seconds)"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "forecast", help="forecast contacts per interval (backtested models, prediction "
                         "intervals)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--arrivals", metavar="FILE",
                        help="CSV with a header row: one row per arrival, or a count per row "
                             "with --count-column")
    source.add_argument("--from-cases", action="store_true",
                        help="count the cases opened per interval in the database")
    p.add_argument("--time-column", metavar="C",
                   help="with --arrivals: the column of ISO 8601 arrival times (local "
                        "wall-clock time when they have no offset)")
    p.add_argument("--count-column", metavar="N",
                   help="with --arrivals: the column of arrivals at that time")
    p.add_argument("--handle-column", metavar="H",
                   help="with --arrivals: the column of mean handle seconds of the row's "
                        "contacts; forecasts the AHT too")
    p.add_argument("--team", help="with --from-cases: only this team's cases (name or id)")
    p.add_argument("--to", dest="last_day", type=iso_date, metavar="DATE",
                   help="last day of history (default: the last day in the file; with "
                        "--from-cases, yesterday)")
    p.add_argument("--interval-minutes", type=int, default=30, metavar="M",
                   help="15, 30 or 60; default 30")
    p.add_argument("--horizon-days", type=int, default=7, metavar="D",
                   help="days to forecast (and to score in the backtest); default 7")
    p.add_argument("--model", choices=["auto", *(m.value for m in ForecastModel)],
                   default="auto", help="auto (default) takes the lowest backtest WAPE")
    p.add_argument("--origins", type=int, default=4, metavar="K",
                   help="backtest origins, one horizon apart; default 4")
    p.add_argument("--time-zone", metavar="ZONE",
                   help=f"local time of the intervals (default {DEFAULT_ZONE}; with "
                        "--from-cases, the server's TIME_ZONE)")
    p.add_argument("--holidays", default=ENGLAND, metavar="REGION",
                   help=f"bank holidays, forecast as the Sunday of their week (default "
                        f"{ENGLAND}; 'none' for none)")
    p.add_argument("--closed", action="append", type=iso_date, default=[], metavar="DATE",
                   help="a day the centre is closed: forecast 0, not fitted (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        _check_arguments(args)
        demand = _cases(args) if args.from_cases else read_arrivals_csv(
            args.arrivals, time_column=args.time_column, count_column=args.count_column,
            handle_column=args.handle_column, interval_minutes=args.interval_minutes,
            time_zone=args.time_zone or DEFAULT_ZONE, last_day=args.last_day)
        results = forecast_demand(demand, horizon_days=args.horizon_days, origins=args.origins,
                                  model=args.model, holidays=args.holidays,
                                  closures=args.closed)
    except ValueError as error:
        print(f"serviceops forecast: {error}", file=sys.stderr)
        return 2
    document = report(demand, results)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        _print(document)
    return 0


def _check_arguments(args) -> None:
    if args.arrivals is not None and not args.time_column:
        raise ValueError("--arrivals needs --time-column")
    if args.from_cases and (args.count_column or args.handle_column or args.time_column):
        raise ValueError("--time-column, --count-column and --handle-column go with --arrivals")
    if args.horizon_days < 1:
        raise ValueError(f"--horizon-days must be 1 or more (got {args.horizon_days})")
    if args.origins < 1:
        raise ValueError(f"--origins must be 1 or more (got {args.origins})")


def _cases(args) -> Demand:
    from serviceops.cli import setup_django

    setup_django()
    from django.conf import settings

    from serviceops.people.models import Team
    from serviceops.workforce.selectors import case_demand

    zone_name = args.time_zone or settings.TIME_ZONE
    last = args.last_day or datetime.now(ZoneInfo(zone_name)).date() - timedelta(days=1)
    team = None
    if args.team:
        team = (Team.objects.filter(pk=int(args.team)).first() if args.team.isdigit()
                else Team.objects.filter(name__iexact=args.team).first())
        if team is None:
            raise ValueError(f"no team {args.team!r}")
    return case_demand(team, last_day=last, interval_minutes=args.interval_minutes,
                       time_zone=zone_name,
                       days=7 * HISTORY_WEEKS + args.origins * args.horizon_days)


def forecast_demand(demand: Demand, *, horizon_days: int, origins: int, model: str = "auto",
                    holidays: str = ENGLAND, closures=()) -> dict[str, tuple[Backtest, Forecast]]:
    """Backtest every model on the volume (and handle time, when known) and forecast each
    with `model` ("auto": the lowest backtest WAPE) for `horizon_days`."""
    results = {"volume": _forecast(demand.volume, horizon_days, origins, model, holidays,
                                   closures)}
    if demand.handle_time is not None:
        results["handle_time"] = _forecast(demand.handle_time, horizon_days, origins, model,
                                           holidays, closures)
    return results


def _forecast(series: IntervalSeries, horizon_days: int, origins: int, model: str,
              holidays: str, closures) -> tuple[Backtest, Forecast]:
    horizon = horizon_days * series.per_day
    last = series.first_day + timedelta(days=len(series) // series.per_day - 1)
    bank_holidays = frozenset() if holidays.lower() == "none" else public_holidays(
        series.first_day, last + timedelta(days=horizon_days), holidays)
    special = SpecialDays(bank_holidays=bank_holidays, closures=frozenset(closures))
    scores = backtest(series, horizon=horizon, origins=origins, special_days=special)
    chosen = scores.chosen if model == "auto" else ForecastModel(model)
    return scores, forecast(series, model=chosen, horizon=horizon, special_days=special,
                            backtested=scores)


def _number(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None


def report(demand: Demand, results: dict[str, tuple[Backtest, Forecast]]) -> dict:
    """The JSON document of `--json` (also what a saved forecast keeps); the text output
    prints the same figures."""
    volume = demand.volume
    days = len(volume) // volume.per_day
    report = {
        "time_zone": volume.time_zone, "interval_minutes": volume.interval_minutes,
        "history": {"first_day": volume.first_day.isoformat(),
                    "last_day": (volume.first_day + timedelta(days=days - 1)).isoformat(),
                    "contacts": _number(volume.values.sum())},
    }
    for measure, (scores, result) in results.items():
        report[measure] = {
            "backtest": {
                "horizon_intervals": scores.horizon, "chosen": scores.chosen.value,
                "models": [{"model": r.model.value, "mean_wape": _number(r.mean_wape),
                            "mean_mase": _number(r.mean_mase),
                            "origins": [{"start": o.start.isoformat(timespec="minutes"),
                                         "wape": _number(o.wape), "mase": _number(o.mase)}
                                        for o in r.origins]}
                           for r in scores.results]},
            "model": result.model.value, "interval_source": result.interval_source,
            "forecast": [_row(result, k) for k in range(result.mean.size)],
        }
    return report


def _row(result: Forecast, k: int) -> dict:
    row = {"interval_start": result.starts[k].isoformat(timespec="minutes"),
           "forecast": _number(result.mean[k])}
    for level in LEVELS:
        row[f"low_{round(100 * level)}"] = _number(result.lower[level][k])
        row[f"high_{round(100 * level)}"] = _number(result.upper[level][k])
    row["closed"] = bool(result.closed[k])
    row["bank_holiday"] = bool(result.bank_holiday[k])
    return row


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _table(lines: list[list[str]]) -> None:
    widths = [max(len(line[k]) for line in lines) for k in range(len(lines[0]))]
    for line in lines:
        print("  ".join(cell.ljust(w) if k == 0 else cell.rjust(w)
                        for k, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip())


def _print(report: dict) -> None:
    history = report["history"]
    print(f"History: {history['first_day']} to {history['last_day']}, "
          f"{history['contacts']:,.0f} contacts, {report['interval_minutes']}-minute "
          f"intervals in {report['time_zone']}.")
    for measure in ("volume", "handle_time"):
        if measure not in report:
            continue
        part, what = report[measure], WHAT[measure]
        bt = part["backtest"]
        origins = len(bt["models"][0]["origins"])
        each = "1 origin," if origins == 1 else f"{origins} origins, each"
        print(f"\nBacktest of {what}: {each} forecasting {bt['horizon_intervals']} intervals "
              "ahead.")
        lines = [["model", "mean WAPE", "mean MASE", "WAPE per origin", ""]]
        for m in bt["models"]:
            mase = "-" if m["mean_mase"] is None else f"{m['mean_mase']:.3f}"
            lines.append([m["model"], _percent(m["mean_wape"]), mase,
                          " ".join(_percent(o["wape"]) for o in m["origins"]),
                          "chosen" if m["model"] == bt["chosen"] else ""])
        _table(lines)
        source = ("the model" if part["interval_source"] == "model"
                  else "the backtest errors")
        print(f"\nForecast of {what} by {part['model']} (intervals from {source}):")
        levels = [round(100 * level) for level in LEVELS]
        lines = [["interval_start", "forecast"]
                 + [f"{p}% {side}" for p in levels for side in ("low", "high")] + [""]]
        for row in part["forecast"]:
            note = "closed" if row["closed"] else "bank holiday" if row["bank_holiday"] else ""
            lines.append([row["interval_start"], f"{row['forecast']:.1f}"]
                         + [f"{row[f'{side}_{p}']:.1f}" for p in levels
                            for side in ("low", "high")] + [note])
        _table(lines)
