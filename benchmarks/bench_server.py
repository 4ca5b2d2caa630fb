"""gunicorn or granian? Both serve ServiceOps' WSGI app on loopback; wrk measures them.

    python3 -m venv /tmp/gr && /tmp/gr/bin/pip install granian -e .   # granian kept out of
    /tmp/gr/bin/python benchmarks/bench_server.py --db postgres://...  # the project's deps

Same database, same worker count (4 processes), 4 wrk connections for 15 s per page:
`/health/` (one query), the sign-in page (a template), and the team queue (a real page).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_web import Server, free_port, ours, wait_for_port  # noqa: E402


def wrk(port: int, path: str, cookie: str) -> dict:
    out = subprocess.run(["wrk", "-t4", "-c4", "-d15s", "--latency", "-H", f"Cookie: {cookie}",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p99_ms": float(p99.group(1)) * scale}


class Granian(Server):
    def __init__(self, env: dict):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", "4", "--log-level", "warning",
             "serviceops.wsgi:application"], env={**os.environ, **env})
        wait_for_port(self.port, "granian")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    info, gunicorn = ours(args.db)
    env = {"DATABASE_URL": args.db, "SERVICEOPS_HOME": info["home"]}
    results = {}
    pages = ("/health/", "/login/", "/cases/?view=team")
    try:
        results["gunicorn"] = {p: wrk(gunicorn.port, p, info["cookie"]) for p in pages}
    finally:
        gunicorn.stop()
    granian = Granian(env)
    try:
        results["granian"] = {p: wrk(granian.port, p, info["cookie"]) for p in pages}
    finally:
        granian.stop()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
