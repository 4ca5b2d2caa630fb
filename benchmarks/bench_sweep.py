"""The escalation sweep with 1M open cases on PostgreSQL: time for one sweep by how many
cases are due (it must scale with the number due, not the number open).

    .venv/bin/python benchmarks/bench_sweep.py [--cases 1000000] \\
        [--postgres postgres://postgres@127.0.0.1:5432]

Creates the database `so_bench_sweep` (dropped first), migrates it, and writes the cases in
SQL: every case is open, timed by an elapsed-time policy and due far in the future, except
N cases whose first-response clock has used 90 % of its target (one escalation level each
is due). Each round makes a fresh set of N due cases and times `sla_sweep`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta

DUE_COUNTS = (0, 10, 100, 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    import psycopg

    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS so_bench_sweep")
        admin.execute("CREATE DATABASE so_bench_sweep")
    os.environ["DATABASE_URL"] = f"{args.postgres}/so_bench_sweep"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("SERVICEOPS_HOME", "/tmp/so-bench-sweep")
    os.environ["DJANGO_SETTINGS_MODULE"] = "serviceops.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from serviceops.people.services import staff_create_login
    from serviceops.sla.models import EscalationLevel, SlaPolicy
    from serviceops.sla.services import policy_save, sla_sweep

    manager = staff_create_login(username="bench", name="Bench", role="manager",
                                 password=None, email="", team_names=[])
    policy = policy_save(policy=SlaPolicy(name="Bench", business_time=False, targets={
        "3": {"first_response": 3600, "resolution": 86_400}}), by=manager.user)
    EscalationLevel.objects.create(policy=policy, position=1, clock="first_response",
                                   percent_consumed=75, notify_assignee=False)
    version = policy.versions.get()
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_case (id, subject, description, channel, status, impact, urgency,"
            " priority, external_ref, opened_at, updated_at) SELECT g, 'Card not arrived', '',"
            " 'email', 'open', 2, 2, 3, '', %s, %s FROM generate_series(1, %s) g",
            [now, now, args.cases])
        cursor.execute(
            "INSERT INTO cases_caseevent (case_id, kind, at, from_value, to_value, data)"
            " SELECT id, 'created', opened_at, '', 'new', '{}'::jsonb FROM cases_case")
        cursor.execute(
            "INSERT INTO sla_casesla (case_id, version_id, next_check_at, next_due_at, breached,"
            " computed_at) SELECT id, %s, %s, %s, false, %s FROM cases_case",
            [version.pk, now + timedelta(days=30), now + timedelta(hours=1), now])
        cursor.execute("ANALYZE")
    print(f"{args.cases:,} open cases written in {time.perf_counter() - started:.0f} s")

    next_id = 1
    for due in DUE_COUNTS:
        timings = []
        for _ in range(3):
            ids = list(range(next_id, next_id + due))
            next_id += due
            # These cases opened 54 minutes ago: 90 % of the 1 h first-response target.
            with connection.cursor() as cursor:
                cursor.execute("UPDATE cases_caseevent SET at = %s WHERE case_id = ANY(%s)",
                               [now - timedelta(minutes=54), ids])
                cursor.execute("UPDATE sla_casesla SET next_check_at = %s WHERE case_id ="
                               " ANY(%s)", [now - timedelta(minutes=1), ids])
            begin = time.perf_counter()
            applied = sla_sweep(now=now, limit=max(due, 1))
            timings.append(time.perf_counter() - begin)
            assert applied == due, (applied, due)
        print(f"due {due:>5}: sweep {statistics.median(timings) * 1000:8.1f} ms (median of 3),"
              f" {statistics.median(timings) / max(due, 1) * 1000:6.2f} ms per due case")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
