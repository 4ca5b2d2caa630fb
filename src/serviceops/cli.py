"""The `serviceops` command: set-up, demo, serving, import/export and the planning maths.

Commands that need the database set Django up themselves; the pure ones (remedies) start
without importing Django so that they answer instantly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import time
from datetime import date

# Modules that add their own sub-commands with `register(subparsers)`; they import no
# Django, so that they answer instantly.
PLUGGED_COMMANDS = (
    "serviceops.complaints.cli_remedies",
    "serviceops.insights.cli_kpi",
    "serviceops.sla.cli_businesstime",
    "serviceops.workforce.cli_calibrate",
    "serviceops.workforce.cli_forecast",
    "serviceops.workforce.cli_rota",
    "serviceops.workforce.cli_staffing",
)

DEMO_PASSWORD = "serviceops-demo"


def iso_date(text: str) -> date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def setup_django() -> None:
    """Configure Django and bring the database schema up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceops.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def _collectstatic() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


# On one machine the job worker yields the processors to the web server: a rota solve, a
# forecast or a refresh pass can wait a moment, a person at a page should not.
WORKER_NICENESS = 10


def _worker_priority() -> None:
    os.nice(WORKER_NICENESS)


def _run_processes(host: str, port: int, workers: int) -> int:
    """Run the web server and the job worker until SIGINT/SIGTERM; stop both cleanly."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="serviceops.settings")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "serviceops.wsgi:application",
         "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", "4",
         "--access-logfile", "-", "--graceful-timeout", "10"],
        env=env,
    )
    jobs = subprocess.Popen(
        [sys.executable, "-m", "serviceops.cli", "manage", "run_huey", "--workers", "2",
         "--quiet"],
        env=env, preexec_fn=_worker_priority,
    )
    stopping = False

    def stop(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while not stopping:
            for proc, name in ((web, "web server"), (jobs, "job worker")):
                if proc.poll() is not None:
                    print(f"The {name} stopped (exit {proc.returncode}).", file=sys.stderr)
                    stopping, code = True, 1
            time.sleep(0.5)
    finally:
        for proc in (web, jobs):
            if proc.poll() is None:
                proc.terminate()
        for proc in (web, jobs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print("ServiceOps stopped.")
    return code


def cmd_serve(args) -> int:
    setup_django()
    _collectstatic()
    print(f"ServiceOps is running at http://{args.host}:{args.port}/  (Ctrl+C stops it)")
    return _run_processes(args.host, args.port, args.workers)


def cmd_demo(args) -> int:
    setup_django()
    from serviceops.core.demo import DEMO_SIZES, demo_seed

    _collectstatic()
    summary = demo_seed(size=DEMO_SIZES[args.size], password=DEMO_PASSWORD, progress=True)
    print(summary)
    print(f"\nServiceOps demo: http://{args.host}:{args.port}/")
    print(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    from serviceops.core.demo import DEMO_LOGINS

    for username, role in DEMO_LOGINS:
        print(f"  {username:<12} {role}")
    if args.no_serve:
        return 0
    return _run_processes(args.host, args.port, args.workers)


def _check_operator(args) -> bool:
    """With --as USER, the same permission check as the pages and the API; without it the
    command runs as the server's operator (whoever can run it can read the database)."""
    if not args.as_user:
        return True
    from django.contrib.auth import get_user_model

    from serviceops.core.permissions import allowed
    from serviceops.core.roles import Perm

    user = get_user_model().objects.filter(username=args.as_user).first()
    if user is None or not allowed(user, Perm.IMPORT_EXPORT):
        print(f"{args.as_user!r} may not import or export (managers and admins may).",
              file=sys.stderr)
        return False
    return True


def cmd_import(args) -> int:
    setup_django()
    from serviceops.cases.importing import run_import_command

    return run_import_command(args) if _check_operator(args) else 2


def cmd_export(args) -> int:
    setup_django()
    from serviceops.cases.exporting import run_export_command

    return run_export_command(args) if _check_operator(args) else 2


def cmd_user(args) -> int:
    setup_django()
    from serviceops.people.services import staff_create_login

    staff = staff_create_login(
        username=args.username, name=args.name or args.username, email=args.email or "",
        role=args.role, team_names=args.team or [], password=args.password,
    )
    print(f"Created {staff.user.username} ({staff.get_role_display()}).")
    return 0


def cmd_audit(args) -> int:
    setup_django()
    from serviceops.core.audit import audit_verify

    check = audit_verify()
    if check.intact:
        print(f"Audit trail intact: {check.entries} entries.")
        return 0
    print(f"Audit trail BROKEN at entry {check.first_broken_id}.", file=sys.stderr)
    return 1


def cmd_sla(args) -> int:
    setup_django()
    from django.utils import timezone

    from serviceops.sla.services import sla_recompute, sla_sweep

    if args.action == "sweep":
        print(f"Applied {sla_sweep(now=timezone.now())} escalations.")
        return 0

    def progress(done: int, total: int) -> None:
        print(f"\r{done:,}/{total:,} cases", end="", file=sys.stderr, flush=True)

    count = sla_recompute(rematch=args.rematch, progress=None if args.quiet else progress)
    if not args.quiet:
        print(file=sys.stderr)
    print(f"Recomputed the SLA clocks of {count:,} cases.")
    return 0


def cmd_manage(args) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceops.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["serviceops manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serviceops", description="Run a customer service operation."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, func, text in (
        ("demo", cmd_demo, "load a demo organisation and start the web server and jobs"),
        ("serve", cmd_serve, "start the web server and the job worker"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--workers", type=int, default=2, help="web worker processes")
        if name == "demo":
            p.add_argument("--size", choices=("small", "large"), default="small")
            p.add_argument("--no-serve", action="store_true", help="load the data, then stop")
        p.set_defaults(func=func)

    p = sub.add_parser("import", help="import cases from CSV, Zendesk or Freshdesk exports")
    p.add_argument("what", choices=("cases",))
    p.add_argument("file")
    p.add_argument("--format", choices=("csv", "zendesk", "freshdesk"), default="csv")
    p.add_argument("--mapping", help="mapping file (YAML or JSON) for --format csv")
    p.add_argument("--dry-run", action="store_true", help="validate only; change nothing")
    p.add_argument("--errors", help="where to write rejected rows (CSV)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--as", dest="as_user", metavar="USER", help="check USER's permission")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export cases or case events to CSV")
    p.add_argument("what", choices=("cases", "events"))
    p.add_argument("--out", required=True)
    p.add_argument("--as", dest="as_user", metavar="USER", help="check USER's permission")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("user", help="create a staff login")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--team", action="append")
    p.add_argument("--password", required=True)
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("audit", help="check the audit trail's hash chain")
    p.add_argument("action", choices=("verify",))
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("sla", help="recompute SLA clocks, or run one escalation sweep")
    p.add_argument("action", choices=("recompute", "sweep"))
    p.add_argument("--rematch", action="store_true",
                   help="match closed cases to today's policies too (e.g. imported history)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_sla)

    p = sub.add_parser("manage", help="run a Django management command", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)

    for module_name in PLUGGED_COMMANDS:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
