"""Complaint analysis for a year at 100,000 complaints, against pandas.

    .venv/bin/python benchmarks/bench_complaints.py --postgres [--sqlite [PATH]] \\
        [--complaints 100000] [--previous 90000] [--reuse] [--repeat 5]

`--postgres [SERVER_URL]` uses the database `so_bench_complaints` on the local server
(created if missing); `--sqlite [PATH]` a SQLite file (default
/tmp/so-bench-complaints/complaints.sqlite3). The schema is migrated as every `serviceops`
command does on start. Unless `--reuse` is given and the database already holds the data,
it is emptied and loaded: N complaints received over the analysed year (2025-12-01 to
2026-11-30, judged on 2026-12-01) and `--previous` complaints over the year before (the
comparison period), each on its own case, with a realistic mix: six teams, the shipped
categories and root causes (Zipf-like: a few account for most), twelve products, severity
mostly 2, outcomes on resolved complaints (a third upheld, a fifth partly upheld), 1-3 root
causes per upheld or partly upheld complaint, recovery gestures on about half of those,
40,000 customers of whom 4,000 complain often, acknowledgement and resolution delays drawn
from log-normal distributions against the general (2 / 20 business days) and FCA regimes'
deadlines. Then the tables are analysed (VACUUM ANALYZE on PostgreSQL, as autovacuum would).

Timed, R times each after one warm-up: `complaint_analysis` for the year as a manager (every
figure, the previous year beside it, the breakdown and both Paretos) by category, the same
by month, the same filtered to one team, and by category again inside a transaction (on
PostgreSQL the analysis's queries otherwise run side by side on three connections; inside a
transaction, one after another on one, as on SQLite). The baseline loads the rows the same figures
need with `pandas.read_sql` (the two years' complaints, their causes with the catalogue,
their gestures) and computes the same figures in pandas; its time is load + compute. Every
figure computed by both must agree (relative tolerance 1e-6) or the script exits 2.
Target: PostgreSQL < 1 s for the median analysis; "pandas/ours" is the baseline's median
time over ours (above 1: ours is faster). Beside the wall time, the CPU time of each of our
runs (this process and PostgreSQL's server processes for it, the helper connections and
parallel workers included) says how much work it was, which a busy shared machine does not
inflate the way it does wall time. Each database runs in a
child process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

WORK = Path("/tmp/so-bench-complaints")
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "so_bench_complaints"
SQLITE_DEFAULT = str(WORK / "complaints.sqlite3")
TARGETS = {"postgresql": 1.0, "sqlite": None}
TOLERANCE = 1e-6
FIRST, LAST = date(2025, 12, 1), date(2026, 11, 30)
PREVIOUS_FIRST = date(2024, 12, 1)
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # midnight in London too (GMT)
TEAMS = ("Cards", "Loans", "Savings", "Mortgages", "Insurance", "Digital")
PRODUCTS = ("Current account", "Credit card", "Personal loan", "Mortgage", "Savings account",
            "Mobile app", "Online banking", "Overdraft", "Home insurance", "Branch service",
            "Debit card", "ISA")
CUSTOMERS, FREQUENT = 40_000, 4_000
BATCH = 5_000


# --- the parent: options, one child per database, the table ------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", nargs="?", const=PG_SERVER, metavar="SERVER_URL",
                        help=f"benchmark PostgreSQL (database {PG_DB} on SERVER_URL)")
    parser.add_argument("--sqlite", nargs="?", const=SQLITE_DEFAULT, metavar="PATH",
                        help=f"benchmark SQLite (default {SQLITE_DEFAULT})")
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--previous", type=int, default=90_000)
    parser.add_argument("--reuse", action="store_true",
                        help="skip loading when the database already holds the complaints")
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
        config = {"vendor": vendor, "url": url, "complaints": args.complaints,
                  "previous": args.previous, "reuse": args.reuse, "repeat": args.repeat,
                  "server": args.postgres}
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
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    child = subprocess.run([sys.executable, __file__, "_child", json.dumps(config), path],
                           check=False)
    text = Path(path).read_text()
    os.unlink(path)
    return (json.loads(text) if text else None), child.returncode


def print_table(result: dict) -> None:
    target = result["target"]
    print(f"\n== {result['label']}: {result['rows']}; load {result['load']}")
    print(f"{'variant':<34}{'ours min/med/max (s)':>24}{'ours CPU med (s)':>18}"
          f"{'pandas min/med/max (s)':>26}{'pandas/ours':>13}  "
          + (f"target < {target:g} s" if target else "no target"))
    for row in result["variants"]:
        ours, theirs = row["ours"], row["pandas"]
        ratio = statistics.median(theirs) / statistics.median(ours)
        verdict = ("" if target is None else
                   "PASS" if statistics.median(ours) < target else "FAIL")
        cpu = f"{statistics.median(row['cpu']):.3f}" if row.get("cpu") else "-"
        print(f"{row['name']:<34}{_spread(ours):>24}{cpu:>18}{_spread(theirs):>26}"
              f"{ratio:>12.1f}x  {verdict}")
    print(f"queries per analysis: {result['queries']}")
    print(f"figures: {result['compared']} values compared with pandas, "
          f"{len(result['mismatches'])} mismatches")


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
    if vendor == "postgresql":
        _create_pg_database(config["server"])
    else:
        Path(url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    from serviceops.cli import setup_django

    setup_django()  # migrates
    from django.db import connection

    load_note = prepare(config)
    result = benchmark(config["repeat"])
    label = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[connection.vendor]
    result.update(label=f"{label} ({url})", load=load_note, target=TARGETS[vendor])
    Path(out_path).write_text(json.dumps(result))
    for mismatch in result["mismatches"][:20]:
        print(f"!!! MISMATCH {mismatch}", flush=True)
    return 2 if result["mismatches"] else 0


def _create_pg_database(server: str) -> None:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             [PG_DB]).fetchone():
            admin.execute(f"CREATE DATABASE {PG_DB}")


def prepare(config: dict) -> str:
    """Load the complaints unless `--reuse` finds them; analyse the tables either way."""
    from django.db import connection

    from serviceops.complaints.models import Complaint

    want = config["complaints"] + config["previous"]
    have = Complaint.objects.count()
    if config["reuse"] and have == want:
        note = f"reused ({have:,} complaints already there)"
    else:
        started = time.perf_counter()
        load(config["complaints"], config["previous"])
        note = f"loaded in {(time.perf_counter() - started) / 60:.1f} min"
    started = time.perf_counter()
    analyze = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(analyze)
    print(f"{analyze} took {time.perf_counter() - started:.1f} s", flush=True)
    return note


# --- the data -----------------------------------------------------------------------------

def _zipf(n: int, s: float = 1.1) -> list[float]:
    return [1 / (rank + 1) ** s for rank in range(n)]


def load(current: int, previous: int, seed: int = 7) -> None:
    """Empty the complaint tables and load `previous` complaints over the year before the
    analysed one and `current` over it (see the module docstring for the mix)."""
    from django.db import transaction

    from serviceops.cases.models import Case
    from serviceops.complaints.models import (
        Cause,
        Complaint,
        ComplaintCategory,
        Regime,
    )
    from serviceops.customers.models import Customer
    from serviceops.people.models import Staff, Team
    from serviceops.people.services import staff_create_login

    rng = random.Random(seed)
    print("Emptying complaints, their cases and the benchmark's customers", flush=True)
    Complaint.objects.all().delete()
    Case.objects.filter(subject="Complaint (benchmark)").delete()
    Customer.objects.filter(name__startswith="Bench customer ").delete()
    teams = [Team.objects.get_or_create(name=name)[0] for name in TEAMS]
    manager = (Staff.objects.filter(user__username="bench-manager").first() or
               staff_create_login(username="bench-manager", name="Bench Manager",
                                  role="manager", password=None))
    created = datetime(2024, 1, 1, tzinfo=UTC)
    customers = [c.pk for c in Customer.objects.bulk_create(
        [Customer(name=f"Bench customer {i}", created_at=created) for i in range(CUSTOMERS)],
        batch_size=BATCH)]
    regimes = {r.key: r for r in Regime.objects.filter(key__in=("general", "fca-disp"))}
    categories = [c.pk for c in ComplaintCategory.objects.filter(parent__isnull=False)] or [
        c.pk for c in ComplaintCategory.objects.all()]
    rng.shuffle(categories)
    causes = list(Cause.objects.values_list("pk", flat=True))
    rng.shuffle(causes)
    print(f"{len(teams)} teams, {len(customers):,} customers, {len(categories)} categories, "
          f"{len(causes)} causes", flush=True)
    context = {"rng": rng, "teams": [t.pk for t in teams], "customers": customers,
               "regimes": regimes, "categories": categories,
               "category_weights": _zipf(len(categories)), "causes": causes,
               "manager": manager.pk}
    start = datetime(PREVIOUS_FIRST.year, PREVIOUS_FIRST.month, PREVIOUS_FIRST.day,
                     tzinfo=UTC)
    middle = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC)
    for label, count, begin, end, falling in (("previous year", previous, start, middle, False),
                                              ("analysed year", current, middle, NOW, True)):
        # In the analysed year the three commonest causes are rarer: "are they falling?"
        weights = _zipf(len(causes))
        if falling:
            weights = [w * (0.6 if i < 3 else 1.0) for i, w in enumerate(weights)]
        context["cause_weights"] = weights
        seconds = int((end - begin).total_seconds())
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            moments = sorted(begin + timedelta(seconds=rng.randrange(seconds))
                             for _ in range(size))
            with transaction.atomic():
                _batch(moments, context)
            done += size
            print(f"\r{label}: {done:,}/{count:,}", end="", flush=True)
        print(flush=True)


def _batch(moments: list[datetime], ctx: dict) -> None:
    from serviceops.cases.models import Case
    from serviceops.complaints.models import Complaint, ComplaintCause, Gesture

    rng = ctx["rng"]
    rows = [_complaint_fields(received, ctx) for received in moments]
    cases = Case.objects.bulk_create([
        Case(subject="Complaint (benchmark)", channel=r["channel"], status="resolved"
             if r["resolved_at"] else "open", team_id=r["team_id"],
             customer_id=r["customer_id"], opened_at=r["received_at"],
             updated_at=r["received_at"]) for r in rows])
    complaints = Complaint.objects.bulk_create([
        Complaint(case_id=case.pk, account="(benchmark)", desired_outcome="(benchmark)", **r)
        for case, r in zip(cases, rows, strict=True)])
    links, gestures = [], []
    for complaint in complaints:
        if complaint.outcome not in ("upheld", "partly_upheld"):
            continue
        chosen = set()
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            chosen.add(rng.choices(ctx["causes"], ctx["cause_weights"])[0])
        links += [ComplaintCause(complaint_id=complaint.pk, cause_id=cause,
                                 received_at=complaint.received_at) for cause in chosen]
        for _ in range(rng.choices((0, 1, 2), (50, 40, 10))[0]):
            kind, low, high = rng.choices(
                (("apology", 0, 0), ("refund", 10, 300), ("credit", 5, 100),
                 ("goodwill_gift", 20, 50), ("expedited_fix", 0, 30),
                 ("fee_waiver", 5, 40)), (20, 25, 25, 10, 10, 10))[0]
            gestures.append(Gesture(
                complaint_id=complaint.pk, kind=kind,
                amount=Decimal(rng.randint(low * 100, high * 100)) / 100,
                approved_by_id=ctx["manager"], given_at=complaint.resolved_at,
                received_at=complaint.received_at))
    ComplaintCause.objects.bulk_create(links)
    Gesture.objects.bulk_create(gestures)


def _complaint_fields(received: datetime, ctx: dict) -> dict:
    rng = ctx["rng"]
    fca = rng.random() < 0.3
    regime = ctx["regimes"]["fca-disp" if fca else "general"]
    ack_due = received + timedelta(days=7 if fca else 2)
    final_due = received + timedelta(days=56 if fca else 28)

    def later(median_hours: float, sigma: float) -> datetime | None:
        moment = received + timedelta(seconds=int(
            3600 * median_hours * math.exp(rng.gauss(0, sigma))))
        return moment if moment <= NOW else None

    acknowledged = later(6, 1.2) if rng.random() < 0.97 else None
    resolved = later(9 * 24, 0.9) if rng.random() < 0.96 else None
    if resolved is not None and acknowledged is not None and acknowledged > resolved:
        acknowledged = resolved
    outcome = ""
    if resolved is not None:
        outcome = rng.choices(("upheld", "partly_upheld", "not_upheld", "withdrawn"),
                              (33, 20, 40, 7))[0]
    closed = resolved + timedelta(days=14) if resolved is not None else None
    customer = (rng.choice(ctx["customers"][:FREQUENT]) if rng.random() < 0.3
                else rng.choice(ctx["customers"]))
    return {
        "regime_id": regime.pk, "received_at": received,
        "channel": rng.choices(("email", "phone", "chat", "web"), (40, 35, 15, 10))[0],
        "category_id": rng.choices(ctx["categories"], ctx["category_weights"])[0],
        "product": rng.choices(PRODUCTS, _zipf(len(PRODUCTS), 0.8))[0],
        "severity": rng.choices((1, 2, 3, 4), (30, 45, 20, 5))[0],
        "vulnerable": rng.random() < 0.08,
        "team_id": rng.choices(ctx["teams"], (30, 20, 15, 15, 10, 10))[0],
        "customer_id": customer,
        "stage": "closed" if closed and closed <= NOW else
        "follow_up" if resolved else "investigate",
        "acknowledge_due": ack_due,
        "summary_due": received + timedelta(days=3) if fca else None,
        "final_due": final_due,
        "acknowledged_at": acknowledged,
        "resolved_at": resolved,
        "summary_resolution": bool(fca and resolved and resolved - received
                                   <= timedelta(days=3)),
        "outcome": outcome,
        "closed_at": closed if closed and closed <= NOW else None,
    }


# --- timing -------------------------------------------------------------------------------

def timed(run: Callable[[], object], repeat: int,
          cpu: list[float] | None = None) -> tuple[list[float], object]:
    """Run once to warm up, then `repeat` times; return the wall times and the last answer.
    Given `cpu`, append the CPU seconds of each run to it: this process's and, on
    PostgreSQL, its server process's (the work done, whatever else the machine runs)."""
    answer = run()
    times = []
    for _ in range(repeat):
        begin, begin_cpu = time.perf_counter(), time.process_time() + _backend_cpu()
        answer = run()
        times.append(time.perf_counter() - begin)
        if cpu is not None:
            cpu.append(time.process_time() + _backend_cpu() - begin_cpu)
    return times, answer


def _backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL server process and by the
    server processes that have ended (the helper connections of `read_together`, parallel
    workers: their time is added to the postmaster's children's time once they exit), read
    from /proc: the server is local. 0 on SQLite, which runs inside this process."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    # Fields after the command name: state is the first, the parent's pid the 2nd, utime
    # the 12th, stime the 13th, the ended children's cutime and cstime the 14th and 15th.
    fields = _stat(pid)
    postmaster = _stat(int(fields[1]))
    ticks = (int(fields[11]) + int(fields[12]) + int(postmaster[13]) + int(postmaster[14]))
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def benchmark(repeat: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from serviceops.complaints.analysis import Filters, complaint_analysis
    from serviceops.complaints.models import Complaint
    from serviceops.people.models import Team

    user = get_user_model().objects.get(username="bench-manager")
    team = Team.objects.get(name=TEAMS[0]).pk
    # Outside a transaction the analysis's queries run side by side on PostgreSQL; inside
    # one ("one connection") one after another, as on SQLite.
    variants = [("year by category", "category", Filters(), False),
                ("year by month", "month", Filters(), False),
                (f"year, team {TEAMS[0]}", "category", Filters(team_id=team), False),
                ("year by category, one connection", "category", Filters(), True)]
    out: dict = {"variants": [], "mismatches": [], "compared": 0}
    for name, by, filters, in_turn in variants:
        def ours(by=by, filters=filters, in_turn=in_turn):
            with transaction.atomic() if in_turn else contextlib.nullcontext():
                return complaint_analysis(user, first=FIRST, last=LAST, filters=filters,
                                          by=by, now=NOW)

        cpu: list[float] = []
        ours_times, analysis = timed(ours, repeat, cpu)
        pandas_times, theirs = timed(lambda by=by, filters=filters: pandas_analysis(
            by=by, team_id=filters.team_id), repeat)
        compared, mismatches = compare(flatten(analysis), theirs)
        out["compared"] += compared
        out["mismatches"] += [f"{name}: {m}" for m in mismatches]
        out["variants"].append({"name": name, "ours": ours_times, "pandas": pandas_times,
                                "cpu": cpu})
        print(f"{name}: ours {_spread(ours_times)} s (CPU {_spread(cpu)} s), "
              f"pandas {_spread(pandas_times)} s, "
              f"{compared} figures compared, {len(mismatches)} mismatches", flush=True)
        if name == "year by category":
            with CaptureQueriesContext(connection) as queries:
                ours(in_turn=True)  # all on this connection, so all counted
            out["queries"] = sum(q["sql"].startswith("SELECT") for q in queries)
            totals = analysis.totals
            print(f"year: {totals.volume:,} complaints, uphold rate "
                  f"{totals.uphold_rate:.3f}, acknowledge median "
                  f"{totals.acknowledge_median / 3600:.1f} h, resolve median "
                  f"{totals.resolve_median / 86400:.1f} d; {analysis.causes_verdict}",
                  flush=True)
    year = Complaint.objects.filter(received_at__gte=_midnight(FIRST)).count()
    out["rows"] = (f"{year:,} complaints in the year {FIRST}..{LAST}, "
                   f"{Complaint.objects.count() - year:,} in the year before")
    return out


def _midnight(day: date) -> datetime:
    from serviceops.insights.selectors import local_midnight

    return local_midnight(day)


def flatten(analysis) -> dict:
    """Every figure of an Analysis as {name: number or label}."""
    from serviceops.complaints.analysis import group_key

    out: dict = {}

    def figures(prefix, f):
        for name in ("volume", "decided", "upheld", "acknowledged", "resolved", "ack_judged",
                     "ack_on_time", "final_judged", "final_on_time", "summary", "open",
                     "open_overdue", "acknowledge_median", "acknowledge_p90",
                     "resolve_median", "resolve_p90"):
            out[f"{prefix}.{name}"] = getattr(f, name)

    figures("totals", analysis.totals)
    figures("previous", analysis.previous_totals)
    for row in analysis.rows:
        key = group_key(analysis.by, row.key)
        figures(f"group[{key}]", row.figures)
        out[f"group[{key}].previous_volume"] = row.previous_volume
    for prefix, r in (("repeats", analysis.repeats), ("previous_repeats",
                                                     analysis.previous_repeats)):
        out[f"{prefix}.customers"], out[f"{prefix}.complaints"] = r.customers, r.complaints
    for c in analysis.causes:
        out[f"cause[{c.key}]"] = (c.count, c.previous)
    for c in analysis.fishbone:
        out[f"fishbone[{c.key}]"] = (c.count, c.previous)
    for prefix, cost in (("cost", analysis.cost), ("previous_cost", analysis.previous_cost)):
        for kind, amount in cost.by_kind.items():
            out[f"{prefix}[{kind}]"] = float(amount)
        out[f"{prefix}.total"] = float(cost.total)
        out[f"{prefix}.gestures"] = cost.gestures
        out[f"{prefix}.per_complaint"] = (None if cost.per_complaint is None
                                          else float(cost.per_complaint))
    for name, rows in (("cause_pareto", analysis.cause_pareto),
                       ("category_pareto", analysis.category_pareto)):
        for i, r in enumerate(rows):
            out[f"{name}[{i}]"] = (r.label, r.count, r.cumulative_share, r.vital_few)
    return out


def compare(ours: dict, theirs: dict) -> tuple[int, list[str]]:
    mismatches = [f"{key}: ours {ours.get(key)!r}, pandas {theirs.get(key)!r}"
                  for key in sorted(set(ours) | set(theirs))
                  if not _same(ours.get(key), theirs.get(key))]
    return len(set(ours) | set(theirs)), mismatches


def _same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(
            a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-9)
    return a == b


# --- the pandas baseline ------------------------------------------------------------------

COLUMNS = ("c.id, c.received_at, c.team_id, c.customer_id, c.category_id, c.product, "
           "c.severity, c.outcome, c.acknowledge_due, c.final_due, c.acknowledged_at, "
           "c.resolved_at, c.summary_resolution, c.closed_at")
MOMENTS = ("received_at", "acknowledge_due", "final_due", "acknowledged_at", "resolved_at",
           "closed_at")


def pandas_analysis(*, by: str, team_id: int | None) -> dict:
    """The figures of `complaint_analysis` for the year (a manager sees everything), from
    rows read with `pandas.read_sql`, as `flatten` names them."""
    import pandas as pd
    from django.conf import settings
    from django.db import connection

    from serviceops.complaints.analysis import group_labels
    from serviceops.complaints.models import Fishbone, Gesture
    from serviceops.insights import spc

    mark = "%s" if connection.vendor == "postgresql" else "?"
    start = connection.ops.adapt_datetimefield_value(_midnight(PREVIOUS_FIRST))
    end = connection.ops.adapt_datetimefield_value(_midnight(LAST + timedelta(days=1)))
    team = f" AND c.team_id = {mark}" if team_id is not None else ""
    params = [start, end] + ([team_id] if team_id is not None else [])
    raw = connection.connection
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        complaints = pd.read_sql(
            f"SELECT {COLUMNS} FROM complaints_complaint c WHERE c.received_at >= {mark} "
            f"AND c.received_at < {mark}{team}", raw, params=params)
        causes = pd.read_sql(
            f"SELECT k.complaint_id, k.cause_id, k.received_at, a.category, a.name "
            f"FROM complaints_complaintcause k JOIN complaints_cause a ON a.id = k.cause_id "
            f"JOIN complaints_complaint c ON c.id = k.complaint_id "
            f"WHERE k.received_at >= {mark} AND k.received_at < {mark}{team}", raw,
            params=params)
        gestures = pd.read_sql(
            f"SELECT g.kind, g.amount, g.received_at FROM complaints_gesture g "
            f"JOIN complaints_complaint c ON c.id = g.complaint_id "
            f"WHERE g.received_at >= {mark} AND g.received_at < {mark}{team}", raw,
            params=params)
    for frame, columns in ((complaints, MOMENTS), (causes, ("received_at",)),
                           (gestures, ("received_at",))):
        for column in columns:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    boundary = pd.Timestamp(_midnight(FIRST))
    now = pd.Timestamp(NOW)
    current = complaints[complaints["received_at"] >= boundary]
    before = complaints[complaints["received_at"] < boundary]
    out: dict = {}
    _pandas_figures(out, "totals", current, now)
    _pandas_figures(out, "previous", before, now)

    def keys(frame):
        if by == "month":
            local = frame["received_at"].dt.tz_convert(settings.TIME_ZONE)
            return local.dt.strftime("%Y-%m-01")
        column = {"category": "category_id", "team": "team_id", "product": "product",
                  "severity": "severity"}[by]
        return frame[column].map(lambda v: "" if v is None or (isinstance(v, float)
                                                               and math.isnan(v))
                                 else str(int(v)) if isinstance(v, float) else str(v))

    current_keys, before_keys = keys(current), keys(before)
    previous_volumes = before_keys.value_counts()
    for key, rows in current.groupby(current_keys):
        _pandas_figures(out, f"group[{key}]", rows, now)
        out[f"group[{key}].previous_volume"] = int(previous_volumes.get(key, 0))

    for prefix, frame in (("repeats", current), ("previous_repeats", before)):
        per_customer = frame["customer_id"].dropna().value_counts()
        repeat = per_customer[per_customer >= 2]
        out[f"{prefix}.customers"], out[f"{prefix}.complaints"] = len(repeat), int(
            repeat.sum())

    fishbone = dict(Fishbone.choices)
    cause_counts = causes.groupby("cause_id").agg(
        n=("received_at", lambda s: int((s >= boundary).sum())),
        p=("received_at", lambda s: int((s < boundary).sum())),
        category=("category", "first"), name=("name", "first"))
    labels = {}
    for cause_id, row in cause_counts.iterrows():
        out[f"cause[{cause_id}]"] = (int(row["n"]), int(row["p"]))
        labels[cause_id] = f"{fishbone[row['category']]} › {row['name']}"
    for category in causes["category"].unique():
        mine = causes[causes["category"] == category]
        recent = mine["received_at"] >= boundary
        out[f"fishbone[{category}]"] = (int(mine[recent]["complaint_id"].nunique()),
                                        int(mine[~recent]["complaint_id"].nunique()))

    kinds = dict(Gesture.Kind.choices)
    gestures["amount"] = gestures["amount"].map(Decimal)
    for prefix, mask, volume in (("cost", gestures["received_at"] >= boundary, len(current)),
                                 ("previous_cost", gestures["received_at"] < boundary,
                                  len(before))):
        part = gestures[mask]
        total = Decimal(0)
        for kind, amounts in part.groupby("kind")["amount"]:
            amount = sum(amounts, Decimal(0))
            out[f"{prefix}[{kinds[kind]}]"] = float(amount)
            total += amount
        out[f"{prefix}.total"] = float(total)
        out[f"{prefix}.gestures"] = len(part)
        out[f"{prefix}.per_complaint"] = (float((total / volume).quantize(Decimal("0.01")))
                                          if volume else None)

    cause_rows = spc.pareto({labels[i]: int(row["n"]) for i, row in cause_counts.iterrows()
                             if row["n"]})
    category_volumes = current["category_id"].value_counts(dropna=False)
    # Category names in words come from the same helper as ours (one query on the catalogue).
    names = group_labels("category", [None if isinstance(k, float) and math.isnan(k)
                                      else int(k) for k in category_volumes.index])
    category_rows = spc.pareto({names[None if isinstance(k, float) and math.isnan(k)
                                      else int(k)]: int(n)
                                for k, n in category_volumes.items()})
    for name, rows in (("cause_pareto", cause_rows), ("category_pareto", category_rows)):
        for i, r in enumerate(rows):
            out[f"{name}[{i}]"] = (r.label, r.count, r.cumulative_share, r.vital_few)
    return out


def _pandas_figures(out: dict, prefix: str, rows, now) -> None:
    decided = rows["outcome"].isin(("upheld", "partly_upheld", "not_upheld"))
    upheld = rows["outcome"].isin(("upheld", "partly_upheld"))
    acknowledged = rows["acknowledged_at"].notna()
    resolved = rows["resolved_at"].notna()
    still_open = rows["resolved_at"].isna() & rows["closed_at"].isna()
    ack_judged = rows["acknowledge_due"].notna() & (acknowledged
                                                    | (rows["acknowledge_due"] < now))
    final_judged = resolved | (still_open & (rows["final_due"] < now))
    figures = {
        "volume": len(rows), "decided": decided.sum(), "upheld": upheld.sum(),
        "acknowledged": acknowledged.sum(), "resolved": resolved.sum(),
        "ack_judged": ack_judged.sum(),
        "ack_on_time": (ack_judged & (rows["acknowledged_at"] <= rows["acknowledge_due"])
                        ).sum(),
        "final_judged": final_judged.sum(),
        "final_on_time": (final_judged & (rows["resolved_at"] <= rows["final_due"])).sum(),
        "summary": (resolved & rows["summary_resolution"].astype(bool)).sum(),
        "open": still_open.sum(), "open_overdue": (still_open & (rows["final_due"] < now)
                                                   ).sum(),
    }
    for name, value in figures.items():
        out[f"{prefix}.{name}"] = int(value)
    for kind, column in (("acknowledge", "acknowledged_at"), ("resolve", "resolved_at")):
        seconds = (rows[column] - rows["received_at"]).dt.total_seconds().dropna()
        for suffix, q in (("median", 0.5), ("p90", 0.9)):
            out[f"{prefix}.{kind}_{suffix}"] = (float(seconds.quantile(q)) if len(seconds)
                                                else None)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_child":
        sys.exit(child(json.loads(sys.argv[2]), sys.argv[3]))
    sys.exit(main())
