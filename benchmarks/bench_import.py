"""Import the UCI ServiceNow incident log on SQLite and on PostgreSQL: wall time and peak RSS.

    .venv/bin/python benchmarks/bench_import.py [--postgres postgres://postgres@127.0.0.1:5432]

Each run is the real command (`serviceops import cases ... --mapping ...`) in a fresh
SERVICEOPS_HOME (and a fresh PostgreSQL database), so the time includes migrating.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT.parent / "shared" / "data" / "uci_incident_event_log" / "incident_event_log.csv.gz"
MAPPING = ROOT / "examples" / "mappings" / "servicenow-incident-log.yaml"


MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True)\n"
    "print(time.perf_counter() - start, "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def run(env_extra: dict) -> tuple[float, float]:
    """Return (seconds, peak RSS in MiB) of one import in a fresh home, measured by a small
    wrapper process so that each run's peak is its own."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, SERVICEOPS_HOME=home, **env_extra)
        env.pop("REDIS_URL", None)
        command = [sys.executable, "-m", "serviceops.cli", "import", "cases", str(LOG),
                   "--format", "csv", "--mapping", str(MAPPING), "--no-progress"]
        out = subprocess.run([sys.executable, "-c", MEASURE, *command], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
    return float(out[-2]), int(out[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="server URL without database name")
    args = parser.parse_args()
    results = [("SQLite", *run({"DATABASE_URL": ""}))]
    if args.postgres:
        name = f"bench_import_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        try:
            results.append(("PostgreSQL", *run({"DATABASE_URL": f"{args.postgres}/{name}"})))
        finally:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    print("| database | time (s) | peak RSS (MiB) |\n|---|---|---|")
    for database, seconds, rss in results:
        print(f"| {database} | {seconds:.1f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
