"""The `serviceops` command as a user runs it: a fresh SERVICEOPS_HOME, real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serviceops(*args: str, home, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SERVICEOPS_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "serviceops.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, **kwargs)


def test_user_command_creates_a_login_and_audit_verify_reports_the_chain(tmp_path):
    made = _serviceops("user", "mo", "--role", "manager", "--team", "Billing",
                       "--password", "a-long-Passphrase-42", home=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Created mo (Manager)" in made.stdout
    dup = _serviceops("user", "mo", "--role", "manager", "--password", "a-long-Passphrase-42",
                      home=tmp_path)
    assert dup.returncode != 0 and "taken" in dup.stderr
    verify = _serviceops("audit", "verify", home=tmp_path)
    assert verify.returncode == 0 and "intact" in verify.stdout


def test_export_as_a_user_applies_the_same_permission_rules(tmp_path):
    for name, role in (("mo", "manager"), ("ali", "agent")):
        made = _serviceops("user", name, "--role", role, "--password", "a-long-Passphrase-42",
                           home=tmp_path)
        assert made.returncode == 0, made.stderr
    out = tmp_path / "cases.csv"
    refused = _serviceops("export", "cases", "--out", str(out), "--as", "ali", home=tmp_path)
    assert refused.returncode == 2 and "may not import or export" in refused.stderr
    assert not out.exists()
    allowed = _serviceops("export", "cases", "--out", str(out), "--as", "mo", home=tmp_path)
    assert allowed.returncode == 0 and out.read_text().startswith("id,external_ref")


@pytest.mark.services
def test_serve_starts_web_and_worker_on_a_fresh_home_and_stops_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SERVICEOPS_HOME"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "serviceops.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert body is not None and '"status": "ok"' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
            assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "ServiceOps stopped." in output
    assert (tmp_path / "serviceops.sqlite3").exists()


def test_the_web_server_imports_every_view_as_it_starts_a_worker(tmp_path):
    """Not on the first request: the first person served by each worker would wait."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SERVICEOPS_HOME"] = str(tmp_path)
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, serviceops.wsgi; "
         "print(sorted(m for m in sys.modules if m.startswith('serviceops.')"
         " and m.endswith(('.views', '.api'))))"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    for module in ("serviceops.cases.views", "serviceops.cases.api",
                   "serviceops.insights.views", "serviceops.workforce.views"):
        assert module in loaded
