"""Processor time of one `POST /api/cases` inside one process, and its queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/so_bench \
        .venv/bin/python benchmarks/bench_api_cpu.py [--requests 1000]

Throughput on loopback (`bench_web.py`) depends on how busy the machine's two cores are;
the processor time one request takes in Django is steadier, so this is how two revisions
are compared: run it against each (`PYTHONPATH=/path/to/other/src`) on the same database,
alternating. Requests go through Django's WSGI handler, as gunicorn calls it, signed with
an API token of the Cards team leader, and create real cases in that database (as
`bench_web.py` does). Reports the processor and wall milliseconds per request, the
processor the PostgreSQL backend serving it spent per request (read from /proc when the
server runs on this machine) and the queries one request makes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warm-up", type=int, default=50)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceops.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    import serviceops
    from serviceops.core.tokens import api_token_create

    user = get_user_model().objects.get(username="leader")
    _, token = api_token_create(user=user, name="bench_api_cpu")
    body = json.dumps({"subject": "Card not arrived", "team_id": user.staff.teams.get().pk,
                       "channel": "phone"}).encode()
    application = WSGIHandler()

    def create() -> None:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/cases", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {token}",
        }
        status = []
        b"".join(application(environ, lambda s, headers, exc_info=None: status.append(s)))
        if not status[0].startswith("201"):
            raise RuntimeError(f"POST /api/cases -> {status[0]}")

    for _ in range(args.warm_up):
        create()
    query_count = 0

    def count(execute, sql, params, many, context):
        nonlocal query_count
        query_count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        create()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    started_db = _processor_seconds(backend)
    started_cpu, started = time.process_time(), time.perf_counter()
    for _ in range(args.requests):
        create()
    cpu = time.process_time() - started_cpu
    wall = time.perf_counter() - started
    db = _processor_seconds(backend)
    print(json.dumps({
        "code": os.path.dirname(serviceops.__file__), "requests": args.requests,
        "queries": query_count, "cpu_ms": round(1000 * cpu / args.requests, 2),
        "postgres_cpu_ms": (round(1000 * (db - started_db) / args.requests, 2)
                            if db is not None and started_db is not None else None),
        "wall_ms": round(1000 * wall / args.requests, 2),
    }))


def _processor_seconds(pid: int) -> float | None:
    """User and system time of a local process (the PostgreSQL backend serving this
    connection), or None where /proc does not show it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
