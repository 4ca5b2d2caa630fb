"""Web and API speed at real size, with django-helpdesk as the peer in the same run.

    .venv/bin/python benchmarks/bench_web.py \
        --ours postgres://postgres@127.0.0.1:5432/so_bench \
        --ours-200k postgres://postgres@127.0.0.1:5432/so_bench200 \
        --peer-db peer_bench --peer-python /tmp/peer-venv/bin/python

`--ours` must hold the large demo (`serviceops demo --size large --no-serve`, 1M cases);
`--ours-200k` is filled here with a 200,000-case demo if empty, and its cases are copied into
the peer's database. Each server is gunicorn with 4 workers on loopback, each with 4
threads as `serviceops serve` runs them (`--threads 1`: sync workers); ours runs
with its job worker (`--redis URL` for Redis-backed jobs, as in production), which keeps
SLA clocks and facts current behind the API's writes: the report says how far behind it
fell during the creation run and how soon after it caught up. Latency is measured with
sequential keep-alive requests (server-side time dominates on loopback); throughput with
wrk, 4 threads x 4 connections, for 20 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_DIR = Path(__file__).resolve().parent / "peer_helpdesk"
SEARCH_WORDS = ("card", "transfer", "refund", "cash", "pin", "exchange", "account", "top")


# --- preparation inside ServiceOps (run in a subprocess per database) ------------------

def prepare(db_url: str, seed_cases: int, export: str | None) -> None:
    """Print JSON with a session cookie, an API token, the team and a deep-page cursor."""
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceops.settings")
    from serviceops.cli import setup_django

    setup_django()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from serviceops.cases.filters import cursor_encode
    from serviceops.cases.models import Case
    from serviceops.core.demo import DemoSize, demo_seed
    from serviceops.core.tokens import api_token_create

    if seed_cases and not Case.objects.exists():
        demo_seed(size=DemoSize(agents_per_team=12, customers=10_000, cases=seed_cases,
                                days=240), password="serviceops-demo", progress=True)
    settle()
    user = get_user_model().objects.get(username="leader")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    _, token = api_token_create(user=user, name="benchmark")
    team = user.staff.teams.get()
    team_cases = Case.objects.filter(team=team).order_by("-opened_at", "-id")
    deep = team_cases[min(100_000, team_cases.count() - 1)]
    if export:
        import csv

        with open(export, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "subject", "status", "priority", "team", "opened_at"])
            for row in Case.objects.order_by("id").values_list(
                    "id", "subject", "status", "priority", "team__name", "opened_at"
            ).iterator(chunk_size=5000):
                writer.writerow([*row[:5], row[5].isoformat()])
    print(json.dumps({
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "token": token, "team_id": team.pk, "team_cases": team_cases.count(),
        "cases": Case.objects.count(), "deep_cursor": cursor_encode(deep.opened_at, deep.pk),
    }))


def settle() -> None:
    """Apply the escalations that have come due and the refreshes still owed, so that the
    job worker starts the measurements idle, as a running service's would be (a freshly
    loaded demo holds months of cases never swept)."""
    from django.utils import timezone
    from huey.contrib.djhuey import HUEY

    from serviceops.cases.derived import derived_refresh
    from serviceops.sla.services import sla_sweep

    HUEY.immediate = True  # their notifications go now, not to the worker being measured
    while sla_sweep(now=timezone.now(), limit=20_000):
        pass
    derived_refresh()


# --- servers and clients ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, name: str) -> None:
    """Return once something accepts connections on `port` (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{name} did not start")


class Server:
    """gunicorn with 4 workers of `threads` threads (1: sync workers); with `jobs`, also our
    job worker (as `serviceops serve` runs it: 2 threads, niceness 10), which keeps SLA
    clocks and facts current after each change."""

    def __init__(self, python: str, app: str, env: dict, cwd: Path | None = None,
                 jobs: bool = False, niceness: int = 10, threads: int = 4):
        self.port = free_port()
        env = {**os.environ, **env}
        self.procs = [subprocess.Popen(
            [python, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{self.port}",
             "--workers", "4", "--threads", str(threads), "--log-level", "warning"],
            env=env, cwd=cwd)]
        if jobs:
            self.procs.append(subprocess.Popen(
                [python, "-m", "serviceops.cli", "manage", "run_huey", "--workers", "2",
                 "--quiet"], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                preexec_fn=lambda: os.nice(niceness)))
        wait_for_port(self.port, app)

    def pause_jobs(self, paused: bool) -> None:
        """Freeze or thaw the job worker (to measure the web requests alone)."""
        self.procs[1].send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=30)


class Backlog:
    """Samples, once a second, how many changes wait for their SLA clocks and facts and how
    long the oldest has waited (`cases_caserefresh`), straight from PostgreSQL."""

    def __init__(self, db_url: str):
        import psycopg

        self.conn = psycopg.connect(db_url, autocommit=True)
        self.samples: list[tuple[int, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def now(self) -> tuple[int, float]:
        count, age = self.conn.execute(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(queued_at)), 0) "
            "FROM cases_caserefresh").fetchone()
        return count, float(age)

    def _run(self) -> None:
        while not self.stopping.wait(1.0):
            self.samples.append(self.now())

    def stop(self) -> dict:
        """Stop sampling, wait until the backlog is empty (60 s at most), and report."""
        self.stopping.set()
        self.thread.join()
        started = time.monotonic()
        left = self.now()[0]
        while left and time.monotonic() - started < 60:
            time.sleep(0.2)
            left = self.now()[0]
        self.conn.close()
        return {"max_waiting": max(c for c, _ in self.samples),
                "max_wait_s": round(max(a for _, a in self.samples), 2),
                "cleared_after_s": round(time.monotonic() - started, 2), "left": left}


def latencies(port: int, paths: list[str], headers: dict, repeat: int) -> dict:
    """GET each path `repeat` times in turn (after a warm-up); return p50/p95 in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i in range(repeat + len(paths)):
        path = paths[i % len(paths)]
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path} -> {response.status}: {body[:300]!r}")
        if i >= len(paths):  # the first round warms caches and connections
            times.append(elapsed)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1],
            "n": len(times)}


def wrk_post(port: int, path: str, body: dict, headers: dict, seconds: int = 20) -> float:
    """Requests per second of POST `path` with 4 concurrent clients (wrk)."""
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(body))}",
             'wrk.headers["Content-Type"] = "application/json"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    lines.append("function response(status, headers, body) if status >= 300 then "
                 "io.stderr:write(status .. ' ' .. body .. '\\n') end end")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines))
    out = subprocess.run(["wrk", "-t4", "-c4", f"-d{seconds}s", "-s", script.name,
                          f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True)
    if "Non-2xx" in out.stdout:
        raise RuntimeError(f"wrk saw errors:\n{out.stdout}\n{out.stderr[:500]}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))


def ours(db_url: str, seed: int = 0, export: str | None = None,
         redis_url: str = "", niceness: int = 10, threads: int = 4) -> tuple[dict, Server]:
    """Prepare the database at `db_url` and start our server and job worker on it (jobs
    through Redis at `redis_url`, else the embedded queue); the home it used is in
    info["home"] so that another server can share its secret key (and sessions)."""
    # One home for both, so that the session is signed with the server's secret key.
    env = {"DATABASE_URL": db_url, "SERVICEOPS_HOME": tempfile.mkdtemp(),
           "REDIS_URL": redis_url, "HUEY_NAME": f"bench-{os.getpid()}"}
    out = subprocess.run([sys.executable, __file__, "_prepare", db_url, str(seed),
                          export or ""], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["home"] = env["SERVICEOPS_HOME"]
    return info, Server(sys.executable, "serviceops.wsgi:application", env, jobs=True,
                        niceness=niceness, threads=threads)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True)
    parser.add_argument("--ours-200k")
    parser.add_argument("--peer-db")
    parser.add_argument("--peer-python", default="/tmp/peer-venv/bin/python")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--peer-cases", type=int, default=200_000)
    parser.add_argument("--redis", default="", help="jobs through this Redis (else SQLite)")
    parser.add_argument("--worker-niceness", type=int, default=10,
                        help="the job worker's niceness (serviceops serve: 10)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per gunicorn worker (serviceops serve: 4; 1: sync)")
    args = parser.parse_args()
    report = {"worker_niceness": args.worker_niceness, "threads": args.threads,
              "jobs": "redis" if args.redis else "sqlite"}

    info, server = ours(args.ours, redis_url=args.redis, niceness=args.worker_niceness,
                        threads=args.threads)
    try:
        head = {"Cookie": info["cookie"]}
        report["ours_1m"] = {
            "cases": info["cases"], "team_cases": info["team_cases"],
            "team_queue_open": latencies(server.port, ["/cases/?view=team"], head,
                                         args.repeat),
            "team_queue_all_first": latencies(server.port, ["/cases/?view=team&state=any"],
                                              head, args.repeat),
            "team_queue_deep": latencies(
                server.port, [f"/cases/?view=team&state=any&after={info['deep_cursor']}"],
                head, args.repeat),
            "search": latencies(server.port, [f"/cases/search/?q={w}" for w in SEARCH_WORDS],
                                head, args.repeat),
        }
        create = ("/api/cases", {"subject": "Card not arrived", "team_id": info["team_id"],
                                 "channel": "phone"},
                  {"Authorization": f"Bearer {info['token']}"})
        # The whole service: web requests and the worker refreshing behind them.
        backlog = Backlog(args.ours)
        report["ours_1m"]["api_create_rps"] = wrk_post(server.port, *create)
        report["ours_1m"]["api_create_refresh"] = backlog.stop()
        # The web requests alone, the worker frozen; then how long it takes to catch up.
        backlog = Backlog(args.ours)
        server.pause_jobs(True)
        try:
            report["ours_1m"]["api_create_rps_worker_paused"] = wrk_post(server.port, *create)
        finally:
            server.pause_jobs(False)
        report["ours_1m"]["api_create_refresh_worker_paused"] = backlog.stop()
    finally:
        server.stop()
    print(json.dumps(report, indent=1), flush=True)

    if args.ours_200k and args.peer_db:
        export = tempfile.mktemp(suffix=".csv")
        info, server = ours(args.ours_200k, seed=args.peer_cases, export=export,
                            redis_url=args.redis, niceness=args.worker_niceness,
                            threads=args.threads)
        try:
            head = {"Cookie": info["cookie"]}
            report["ours_200k"] = {
                "cases": info["cases"],
                "list": latencies(server.port, ["/cases/?view=all&state=any"], head,
                                  args.repeat // 2),
                "create_rps": wrk_post(server.port, "/api/cases",
                                       {"subject": "Card not arrived",
                                        "team_id": info["team_id"], "channel": "phone"},
                                       {"Authorization": f"Bearer {info['token']}"}),
            }
        finally:
            server.stop()
        report["peer_200k"] = peer(args, export)
        report["ratios"] = {
            "list_time_ours_over_peer": report["ours_200k"]["list"]["p50"]
            / report["peer_200k"]["list"]["p50"],
            "create_rps_ours_over_peer": report["ours_200k"]["create_rps"]
            / report["peer_200k"]["create_rps"],
        }
    print(json.dumps(report, indent=1))


def peer(args, export: str) -> dict:
    env = {"PEER_DB": args.peer_db, "PYTHONPATH": str(PEER_DIR),
           "DJANGO_SETTINGS_MODULE": "peer_settings"}
    subprocess.run([args.peer_python, "-m", "django", "migrate", "-v0"],
                   env={**os.environ, **env}, check=True)
    subprocess.run([args.peer_python, str(PEER_DIR / "peer_load.py"), export],
                   env={**os.environ, **env}, check=True)
    server = Server(args.peer_python, "peer_urls_wsgi:application", env, cwd=PEER_DIR,
                    threads=args.threads)
    try:
        auth = "Basic " + b64encode(b"bench:bench-pass").decode()
        conn = http.client.HTTPConnection("127.0.0.1", server.port)
        cookie = _peer_login(conn)
        conn.request("GET", "/helpdesk/tickets/", headers={"Cookie": cookie})
        html = conn.getresponse().read().decode()
        data_url = re.search(r'"url": "([^"]*datatables[^"]*)"', html).group(1)
        table = f"{data_url}?draw=1&start=0&length=50&order[0][column]=0&order[0][dir]=desc"
        head = {"Cookie": cookie}
        page = latencies(server.port, ["/helpdesk/tickets/"], head, args.repeat // 2)
        rows = latencies(server.port, [table], head, args.repeat // 2)
        queue_id = _peer_queue(args, env)
        return {
            "page": page, "rows_json": rows,
            "list": {"p50": page["p50"] + rows["p50"], "p95": page["p95"] + rows["p95"]},
            "create_rps": wrk_post(server.port, "/helpdesk/api/tickets/",
                                   {"queue": queue_id, "title": "Card not arrived",
                                    "description": "x", "submitter_email": "c@example.org",
                                    "priority": 3}, {"Authorization": auth}),
        }
    finally:
        server.stop()


def _peer_login(conn: http.client.HTTPConnection) -> str:
    conn.request("GET", "/helpdesk/login/")
    response = conn.getresponse()
    html = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = f"username=bench&password=bench-pass&csrfmiddlewaretoken={token}"
    conn.request("POST", "/helpdesk/login/", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf_cookie}", "Referer": "http://127.0.0.1/helpdesk/login/"})
    response = conn.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie") or "")
    if not session:
        raise RuntimeError("could not sign in to the peer")
    return f"sessionid={session.group(1)}; csrftoken={csrf_cookie}"


def _peer_queue(args, env) -> int:
    out = subprocess.run(
        [args.peer_python, "-c", "import django; django.setup(); "
         "from helpdesk.models import Queue; print(Queue.objects.first().pk)"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_prepare":
        prepare(sys.argv[2], int(sys.argv[3]), sys.argv[4] or None)
    else:
        main()
