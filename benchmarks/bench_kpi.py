"""Every built-in KPI for a quarter (one dashboard load) at 1M cases, against pandas.

    .venv/bin/python benchmarks/bench_kpi.py --postgres [--sqlite [PATH]] \\
        [--cases 1000000] [--reuse] [--repeat 5]

`--postgres [URL]` uses the database `so_bench_kpi` on the local server (created if missing);
`--sqlite [PATH]` a SQLite file (default /tmp/so-bench-kpi/kpi.sqlite3). Each database is
filled with the product's own demo generator (`serviceops demo --size large --no-serve`,
1M cases over 365 days, or a smaller `DemoSize` in-process for `--cases` below 1M) unless
`--reuse` is given and it already holds N cases (99 % of N: the generator drops arrivals
after "now"). Without `--reuse` the database is dropped and loaded afresh. Loading 1M cases
with every case's SLA clocks takes 45-60 minutes, so load once and pass `--reuse`
afterwards. Before timing, pending migrations are applied (as every `serviceops` command
does on start) and the KPI tables are analysed (VACUUM ANALYZE on PostgreSQL, as autovacuum
would).

Timed, R times each after one warm-up: `kpi_values(Scope(start, end))` for the last full
calendar quarter inside the data, the same `by="team"`, and the same for one team only.
The baseline loads the same rows with `pandas.read_sql` (facts of the quarter's cohorts and
the backlog, SLA clocks joined to their case's facts, where ours reads the grouping fields
the clocks carry) and computes the same figures in pandas; its time is load + compute.
Every figure computed by both must agree (relative tolerance 1e-6) or the script exits 2.
Targets: PostgreSQL < 1 s, SQLite < 3 s for the median load; "pandas/ours" is the
baseline's median time over ours (above 1: ours is faster).
Each database runs in a child process of this script (Django has one database per process).
"""

from __future__ import annotations

import argparse
import calendar
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

WORK = Path("/tmp/so-bench-kpi")
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "so_bench_kpi"
SQLITE_DEFAULT = str(WORK / "kpi.sqlite3")
LARGE = 1_000_000
TARGETS = {"postgresql": 1.0, "sqlite": 3.0}
TOLERANCE = 1e-6
# The generator drops the arrivals of the last day that fall after "now", so a demo of N
# cases holds slightly fewer: a database with 99 % of N counts as holding N.
REUSE_SHARE = 0.99


# --- the parent: options, one child per database, the table ------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", nargs="?", const=PG_SERVER, metavar="SERVER_URL",
                        help=f"benchmark PostgreSQL (database {PG_DB} on SERVER_URL)")
    parser.add_argument("--sqlite", nargs="?", const=SQLITE_DEFAULT, metavar="PATH",
                        help=f"benchmark SQLite (default {SQLITE_DEFAULT})")
    parser.add_argument("--cases", type=int, default=LARGE)
    parser.add_argument("--reuse", action="store_true",
                        help="skip loading when the database already has >= N cases")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not (args.postgres or args.sqlite):
        parser.error("give --postgres and/or --sqlite")
    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    print(f"$ {command}", flush=True)
    runs = []
    if args.postgres:
        runs.append(("postgresql", f"{args.postgres.rstrip('/')}/{PG_DB}"))
    if args.sqlite:
        runs.append(("sqlite", f"sqlite://{Path(args.sqlite).resolve()}"))
    results, status = [], 0
    for vendor, url in runs:
        config = {"vendor": vendor, "url": url, "cases": args.cases, "reuse": args.reuse,
                  "repeat": args.repeat, "server": args.postgres}
        result, code = run_child(config)
        status = max(status, code)
        if result:
            results.append(result)
    print(f"\n$ {command}")
    for result in results:
        print_table(result)
    if status:
        print("\n!!! FIGURES DIFFER FROM PANDAS (or a run failed): see above !!!")
    return status


def run_child(config: dict) -> tuple[dict | None, int]:
    """Run one database's benchmark in a child process; return its result and exit code."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    child = subprocess.run([sys.executable, __file__, "_child", json.dumps(config), path],
                           check=False)
    text = Path(path).read_text()
    os.unlink(path)
    return (json.loads(text) if text else None), child.returncode


def print_table(result: dict) -> None:
    target = result["target"]
    print(f"\n== {result['label']}: {result['cases']:,} cases; quarter {result['period']}"
          f" ({result['rows']}); load {result['load']}")
    print(f"{'variant':<22}{'ours min/med/max (s)':>24}{'pandas min/med/max (s)':>26}"
          f"{'pandas/ours':>13}  target < {target:g} s")
    for row in result["variants"]:
        ours, theirs = row["ours"], row["pandas"]
        ratio = statistics.median(theirs) / statistics.median(ours)
        verdict = "PASS" if statistics.median(ours) < target else "FAIL"
        print(f"{row['name']:<22}{_spread(ours):>24}{_spread(theirs):>26}{ratio:>12.1f}x"
              f"  {verdict}")
    print("per source (median s, quarter): " + ", ".join(
        f"{name} {seconds:.3f}" for name, seconds in result["sources"].items()))
    print(f"figures: {result['compared']} values compared with pandas, "
          f"{len(result['mismatches'])} mismatches; only ours: "
          f"{', '.join(result['only_ours']) or 'none'}")


def _spread(times: list[float]) -> str:
    return f"{min(times):.3f}/{statistics.median(times):.3f}/{max(times):.3f}"


# --- the child: one database ------------------------------------------------------------

def child(config: dict, out_path: str) -> int:
    vendor, url = config["vendor"], config["url"]
    home = WORK / f"home-{vendor}"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(DATABASE_URL=url, SERVICEOPS_HOME=str(home),
                      DJANGO_SETTINGS_MODULE="serviceops.settings")
    os.environ.pop("REDIS_URL", None)
    load_note = prepare_database(config)
    from serviceops.cli import setup_django

    setup_django()
    from django.db import connection

    load_note = ensure_facts(load_note, loaded=not load_note.startswith("reused"))
    quarter = last_full_quarter()
    result = benchmark(quarter, config["repeat"])
    label = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[connection.vendor]
    result.update(label=f"{label} ({url})", load=load_note, target=TARGETS[vendor])
    Path(out_path).write_text(json.dumps(result))
    for mismatch in result["mismatches"]:
        print(f"!!! MISMATCH {mismatch}", flush=True)
    return 2 if result["mismatches"] else 0


def prepare_database(config: dict) -> str:
    """Make sure the database holds the demo with at least N cases; return how it got there
    (before Django is set up, so that a fresh database can be created first)."""
    cases = config["cases"]
    if config["vendor"] == "postgresql":
        import psycopg

        with psycopg.connect(f"{config['server'].rstrip('/')}/postgres",
                             autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   [PG_DB]).fetchone()
            if not exists:
                admin.execute(f"CREATE DATABASE {PG_DB}")
        have = _pg_cases(config["url"])
        if config["reuse"] and have >= cases * REUSE_SHARE:
            return f"reused ({have:,} cases already there)"
        if exists:  # load afresh
            with psycopg.connect(f"{config['server'].rstrip('/')}/postgres",
                                 autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {PG_DB} WITH (FORCE)")
                admin.execute(f"CREATE DATABASE {PG_DB}")
    else:
        path = Path(config["url"].removeprefix("sqlite://"))
        have = _sqlite_cases(path)
        if config["reuse"] and have >= cases * REUSE_SHARE:
            return f"reused ({have:,} cases already there)"
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    return load_demo(cases)


def _pg_cases(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT to_regclass('cases_case')").fetchone()[0]
        return conn.execute("SELECT COUNT(*) FROM cases_case").fetchone()[0] if found else 0


def _sqlite_cases(path: Path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'cases_case'").fetchone()
        return conn.execute("SELECT COUNT(*) FROM cases_case").fetchone()[0] if found else 0


def load_demo(cases: int) -> str:
    """Load the demo: the product's command for the large set, a smaller DemoSize otherwise."""
    if cases > LARGE:
        raise SystemExit(f"The demo generator makes at most {LARGE:,} cases.")
    started = time.perf_counter()
    if cases == LARGE:
        print(f"Loading {LARGE:,} cases: serviceops demo --size large --no-serve", flush=True)
        serviceops = Path(sys.executable).with_name("serviceops")
        done = subprocess.run([str(serviceops), "demo", "--size", "large", "--no-serve"],
                              check=False)
        if done.returncode:
            # Cases, facts and clocks are committed as they are written; say so and go on
            # with what is there (the checks below count it).
            print(f"!!! the demo command exited {done.returncode}: see its error above",
                  flush=True)
    else:
        from serviceops.cli import setup_django

        setup_django()
        from serviceops.core.demo import DemoSize, demo_seed

        size = DemoSize(agents_per_team=25, customers=max(2_000, min(50_000, cases // 20)),
                        cases=cases, days=365)
        print(f"Loading {size}", flush=True)
        print(demo_seed(size=size, password="serviceops-demo", progress=True), flush=True)
    minutes = (time.perf_counter() - started) / 60
    print(f"Loaded in {minutes:.1f} min", flush=True)
    return f"loaded in {minutes:.1f} min"


def ensure_facts(load_note: str, loaded: bool) -> str:
    """One facts row per case (rebuild otherwise), then fresh planner statistics: of the
    whole database after a load, of the two tables the KPIs read otherwise."""
    from django.db import connection

    from serviceops.cases.facts import case_facts_rebuild

    cases, facts = _count("cases_case"), _count("cases_casefact")
    print(f"{cases:,} cases, {facts:,} facts rows, {_count('sla_caseclock'):,} SLA clocks",
          flush=True)
    if cases != facts:
        loaded = True
        started = time.perf_counter()
        case_facts_rebuild(progress=lambda done, total: print(
            f"\rfacts {done:,}/{total:,}", end="", flush=True))
        load_note += f"; facts rebuilt in {(time.perf_counter() - started) / 60:.1f} min"
        print()
    started = time.perf_counter()
    # What autovacuum does on a live server: planner statistics and, on PostgreSQL, the
    # visibility map that lets the KPI queries read their covering indexes alone.
    analyze = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        for statement in ([analyze] if loaded else
                          [f"{analyze} cases_casefact", f"{analyze} sla_caseclock"]):
            cursor.execute(statement)
    print(f"{analyze} took {time.perf_counter() - started:.1f} s", flush=True)
    return load_note


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def last_full_quarter() -> tuple[date, date]:
    """The last calendar quarter that ends before the newest case's local date."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from serviceops.cases.models import CaseFact

    span = CaseFact.objects.aggregate(first=Min("opened_at"), last=Max("opened_at"))
    first, last = (timezone.localdate(span["first"]), timezone.localdate(span["last"]))
    this_quarter = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
    start_month = this_quarter.month - 3
    start = (date(this_quarter.year, start_month, 1) if start_month > 0
             else date(this_quarter.year - 1, start_month + 12, 1))
    end = date.fromordinal(this_quarter.toordinal() - 1)
    if start < first:
        raise SystemExit(f"The data ({first}..{last}) holds no full quarter.")
    return start, end


# --- timing -------------------------------------------------------------------------------

def timed(run: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Run once to warm up, then `repeat` times; return the timings and the last answer."""
    answer = run()
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - begin)
    return times, answer


def benchmark(quarter: tuple[date, date], repeat: int) -> dict:
    from serviceops.insights import kpis
    from serviceops.insights.kpis import Scope
    from serviceops.insights.selectors import kpi_values, period_bounds

    start, end = period_bounds(*quarter)
    team = _busiest_team(start, end)
    variants = [("quarter", Scope(start=start, end=end)),
                ("quarter by team", Scope(start=start, end=end, by="team")),
                (f"quarter, team {team}", Scope(start=start, end=end, team_ids=(team,)))]
    out: dict = {"period": f"{quarter[0]}..{quarter[1]}", "variants": [], "mismatches": [],
                 "compared": 0, "only_ours": []}
    only_ours: set[str] = set()
    for name, scope in variants:
        ours_times, ours = timed(lambda scope=scope: kpi_values(scope), repeat)
        pandas_times, theirs = timed(lambda scope=scope: pandas_kpis(scope), repeat)
        compared, mismatches, extra = compare(ours, theirs)
        out["compared"] += compared
        out["mismatches"] += [f"{name}: {m}" for m in mismatches]
        only_ours |= extra
        out["variants"].append({"name": name, "ours": ours_times, "pandas": pandas_times})
        print(f"{name}: ours {_spread(ours_times)} s, pandas {_spread(pandas_times)} s, "
              f"{compared} figures compared, {len(mismatches)} mismatches", flush=True)
    out["only_ours"] = sorted(only_ours)
    whole = variants[0][1]
    out["sources"] = {
        type(source).__name__: statistics.median(
            timed(lambda source=source: source.compute(whole), repeat)[0])
        for source in kpis.sources()}
    out["rows"] = _cohort_sizes(start, end)
    out["cases"] = _count("cases_case")
    return out


def _busiest_team(start: datetime, end: datetime) -> int:
    from django.db.models import Count

    from serviceops.cases.models import CaseFact

    return (CaseFact.objects.filter(opened_at__gte=start, opened_at__lt=end,
                                    team__isnull=False)
            .values("team").annotate(n=Count("pk")).order_by("-n", "team")[0]["team"])


def _cohort_sizes(start: datetime, end: datetime) -> str:
    from serviceops.cases.models import CaseFact
    from serviceops.sla.models import CaseClock

    opened = CaseFact.objects.filter(opened_at__gte=start, opened_at__lt=end).count()
    resolved = CaseFact.objects.filter(resolved_at__gte=start, resolved_at__lt=end).count()
    clocks = CaseClock.objects.filter(started_at__gte=start, started_at__lt=end).count()
    return f"{opened:,} opened, {resolved:,} resolved, {clocks:,} clocks started in it"


# --- the pandas baseline ------------------------------------------------------------------

FACT_COLUMNS = ("f.opened_at, f.resolved_at, f.team_id, f.merged, f.reassigned, "
                "f.reopen_count, f.first_contact_resolution, f.first_response_seconds, "
                "f.resolution_seconds")


def pandas_kpis(scope) -> dict:
    """The built-in KPIs for `scope` (period, team filter, by None or "team") computed in
    pandas from rows read with `pandas.read_sql`: {(key, group): (value, count)}."""
    import pandas as pd

    facts, clocks, costs = _read_rows(scope)
    facts = facts[~facts["merged"].astype(bool)]
    clocks = clocks[~clocks["merged"].astype(bool)]
    start, end = pd.Timestamp(scope.start), pd.Timestamp(scope.end)
    out: dict = {}

    opened = facts[(facts["opened_at"] >= start) & (facts["opened_at"] < end)]
    for group, rows in _groups(opened, scope):
        out["case_volume", group] = (float(len(rows)), len(rows))
        out["reassignment_rate", group] = _rate(rows["reassigned"], len(rows))
        _quantiles(out, "first_response_time", group, rows["first_response_seconds"])

    resolved = facts[(facts["resolved_at"] >= start) & (facts["resolved_at"] < end)]
    for group, rows in _groups(resolved, scope):
        out["reopen_rate", group] = _rate(rows["reopen_count"] > 0, len(rows))
        out["first_contact_resolution", group] = _rate(rows["first_contact_resolution"],
                                                       len(rows))
        _quantiles(out, "resolution_time", group, rows["resolution_seconds"])

    judged = clocks[clocks["state"].isin(("met", "breached"))]
    for (group, kind), rows in _groups(judged, scope, extra="kind"):
        out[f"sla_attainment_{kind}", group] = _rate(rows["state"] == "met", len(rows))
    replied = clocks[(clocks["kind"] == "first_response") & clocks["stopped"].astype(bool)
                     & (clocks["cycle"] == 0)]
    for group, rows in _groups(replied, scope):
        _quantiles(out, "first_response_time_business", group, rows["elapsed_seconds"])

    backlog = facts[(facts["opened_at"] < end)
                    & (facts["resolved_at"].isna() | (facts["resolved_at"] >= end))]
    for group, rows in _groups(backlog, scope):
        ages = (end - rows["opened_at"]).dt.total_seconds()
        out["backlog", group] = (float(len(rows)), len(rows))
        out["backlog_age_median", group] = (float(ages.quantile(0.5)), len(rows))

    _cost_per_contact(out, costs, scope)
    return out


def _read_rows(scope):
    """The facts of the period's cohorts and backlog, the clocks started in the period
    (with their case's team and merged flag) and the monthly costs."""
    import pandas as pd
    from django.db import connection

    def param(moment):
        return connection.ops.adapt_datetimefield_value(moment)

    mark = "%s" if connection.vendor == "postgresql" else "?"
    teams, team_params = "", []
    if scope.team_ids is not None:
        teams = f" AND f.team_id IN ({', '.join([mark] * len(scope.team_ids))})"
        team_params = list(scope.team_ids)
    start, end = param(scope.start), param(scope.end)
    facts_sql = (f"SELECT {FACT_COLUMNS} FROM cases_casefact f WHERE "
                 f"((f.opened_at >= {mark} AND f.opened_at < {mark}) "
                 f"OR (f.resolved_at >= {mark} AND f.resolved_at < {mark}) "
                 f"OR (f.opened_at < {mark} AND (f.resolved_at IS NULL "
                 f"OR f.resolved_at >= {mark}))){teams}")
    clocks_sql = (f"SELECT c.kind, c.state, c.cycle, c.elapsed_seconds, "
                  f"c.stopped_at IS NOT NULL AS stopped, f.team_id, f.merged "
                  f"FROM sla_caseclock c JOIN cases_casefact f ON f.case_id = c.case_id "
                  f"WHERE c.started_at >= {mark} AND c.started_at < {mark}{teams}")
    raw = connection.connection  # the driver's connection: what read_sql takes
    with warnings.catch_warnings():  # pandas prefers SQLAlchemy but takes DB-API too
        warnings.simplefilter("ignore", UserWarning)
        facts = pd.read_sql(facts_sql, raw, params=[start, end, start, end, end, end,
                                                    *team_params])
        clocks = pd.read_sql(clocks_sql, raw, params=[start, end, *team_params])
        costs = pd.read_sql("SELECT month, team_id, amount FROM insights_monthlycost", raw)
    for column in ("opened_at", "resolved_at"):
        facts[column] = pd.to_datetime(facts[column], utc=True, format="ISO8601")
    return facts, clocks, costs


def _groups(rows, scope, extra: str | None = None):
    """(group, rows) pairs: one group None for the whole, or one per team (plus `extra`)."""
    if scope.by is None:
        if extra is None:
            return [(None, rows)] if len(rows) else []
        return [((None, key), part) for key, part in rows.groupby(extra)]
    if scope.by != "team":
        raise ValueError(f"the baseline groups by team only, not {scope.by}")
    keys = ["team_id", extra] if extra else ["team_id"]
    out = []
    for key, part in rows.groupby(keys, dropna=False):
        team = key[0]
        team = None if team is None or (isinstance(team, float) and math.isnan(team)) else (
            int(team))
        out.append(((team, key[1]) if extra else team, part))
    return out


def _rate(hits, total: int) -> tuple[float | None, int]:
    met = int((hits == True).sum())  # noqa: E712 - booleans come as bool, 0/1 or None
    return (met / total if total else None), total


def _quantiles(out: dict, key: str, group, values) -> None:
    values = values.dropna().astype(float)
    if len(values):
        out[f"{key}_median", group] = (float(values.quantile(0.5)), len(values))
        out[f"{key}_p90", group] = (float(values.quantile(0.9)), len(values))


def _cost_per_contact(out: dict, costs, scope) -> None:
    """Monthly costs pro rata to the days of each month inside the period, ÷ case volume."""
    if scope.team_ids is not None:
        costs = costs[costs["team_id"].isin(scope.team_ids)]
    first, end = scope.start.date(), scope.end.date()
    spent: dict = {}
    for month, team, amount in costs.itertuples(index=False):
        month = month if isinstance(month, date) else date.fromisoformat(str(month))
        days = calendar.monthrange(month.year, month.month)[1]
        month_end = date(month.year, month.month, days).toordinal() + 1
        inside = max(0, min(month_end, end.toordinal())
                     - max(month.toordinal(), first.toordinal()))
        if not inside:
            continue
        group = None if scope.by is None or team is None or team != team else int(team)
        spent[group] = spent.get(group, 0.0) + float(amount) * inside / days
    for group, amount in spent.items():
        volume = out.get(("case_volume", group))
        if volume and volume[1]:
            out["cost_per_contact", group] = (amount / volume[1], volume[1])


def compare(ours: dict, theirs: dict) -> tuple[int, list[str], set[str]]:
    """Compare every (key, group) both computed: value and count (where ours has one)."""
    mismatches = []
    for key in sorted(set(ours) | set(theirs), key=str):
        if key[0] in {k for k, _ in ours} - {k for k, _ in theirs}:
            continue  # a KPI the baseline does not compute (manual or registered by an app)
        mine, other = ours.get(key), theirs.get(key)
        if mine is None or other is None:
            mismatches.append(f"{key}: ours {mine}, pandas {other}")
            continue
        counted = mine.count is None or _same(mine.count, other[1])  # cost: no count
        if not (_same(mine.value, other[0]) and counted):
            mismatches.append(f"{key}: ours {mine.value!r} (n={mine.count}), "
                              f"pandas {other[0]!r} (n={other[1]})")
    only_ours = {k for k, _ in ours} - {k for k, _ in theirs}
    compared = sum(1 for key in ours if key in theirs)
    return compared, mismatches, only_ours


def _same(a, b) -> bool:
    def missing(x) -> bool:
        return x is None or (isinstance(x, float) and math.isnan(x))

    if missing(a) or missing(b):
        return missing(a) and missing(b)
    return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=1e-9)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        sys.exit(child(json.loads(sys.argv[2]), sys.argv[3]))
    sys.exit(main())
