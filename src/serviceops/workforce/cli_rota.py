"""`serviceops rota`: list and show rotas (with CSV and iCalendar export), solve one for a
staffing plan there and then, and publish a draft.

Everything goes through the workforce services and selectors, as the pages and the API do.
`--as USER` acts as that user: their teams, their permission to plan. Without it, `list` and
`show` read as the server's operator (whoever can run the command can read the database, as
with `serviceops kpi`). `solve` and `publish` need `--as`: a rota records who asked for it and
who published it, and only someone who plans for the team may do either.
"""

from __future__ import annotations

import json
import sys
import time as clock
from zoneinfo import ZoneInfo

from serviceops.cli import iso_date

WAIT_SLACK_SECONDS = 120  # beyond the time limit, for a worker that took the job first


def register(subparsers) -> None:
    p = subparsers.add_parser("rota", help="list, show, solve and publish rotas")
    actions = p.add_subparsers(dest="rota_action", required=True, metavar="ACTION")

    a = actions.add_parser("list", help="rotas, newest first")
    a.add_argument("--state", help="only rotas in this state (draft, published...)")
    a.add_argument("--limit", type=int, default=50)
    _as_user(a)
    a.set_defaults(func=run_list)

    a = actions.add_parser("show", help="a rota's result and shifts; export them")
    a.add_argument("id", type=int)
    a.add_argument("--csv", metavar="FILE", help="write the shifts as CSV (local times)")
    a.add_argument("--ics", metavar="FILE", help="write the shifts as iCalendar")
    a.add_argument("--json", action="store_true")
    _as_user(a)
    a.set_defaults(func=run_show)

    a = actions.add_parser("solve", help="solve a rota for days of a staffing plan, now")
    a.add_argument("--plan", type=int, required=True, metavar="ID")
    a.add_argument("--from", dest="first_day", type=iso_date, required=True,
                   metavar="YYYY-MM-DD", help="first day (within the plan's forecast)")
    a.add_argument("--days", type=int, default=7)
    a.add_argument("--anonymous", action="store_true",
                   help="count the heads each shift needs instead of naming staff")
    a.add_argument("--time-limit", type=int, default=30, metavar="S",
                   help="seconds the optimiser may search; default 30")
    a.add_argument("--json", action="store_true")
    a.add_argument("--as", dest="as_user", metavar="USER", required=True,
                   help="who asks for the rota (needs to plan for the plan's team)")
    a.set_defaults(func=run_solve)

    a = actions.add_parser("publish", help="publish a draft: staff see their shifts")
    a.add_argument("id", type=int)
    a.add_argument("--as", dest="as_user", metavar="USER", required=True,
                   help="who publishes (needs to plan for the rota's team)")
    a.set_defaults(func=run_publish)


def _as_user(parser) -> None:
    parser.add_argument("--as", dest="as_user", metavar="USER",
                        help="act as USER (their teams and permissions)")


class _Refused(Exception):
    """A request the command turns down; the message is printed as it is."""


def _setup():
    from serviceops.cli import setup_django

    setup_django()


def _acting(args):
    """The user named by --as; None (the operator) without it."""
    if not args.as_user:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=args.as_user, is_active=True).first()
    if user is None:
        raise _Refused(f"no active user {args.as_user!r}")
    return user


def _rotas(user):
    from serviceops.workforce.models import Rota
    from serviceops.workforce.selectors import rota_scope

    if user is None:
        return Rota.objects.select_related("plan__forecast__team")
    return rota_scope(user)


def _run(action, args) -> int:
    """Set Django up, run `action(args)`; refusals go to stderr with exit status 2."""
    _setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    try:
        return action(args)
    except _Refused as refused:
        message = str(refused)
    except PermissionDenied as denied:
        message = str(denied) or "not allowed"
    except ValidationError as invalid:
        if hasattr(invalid, "error_dict"):
            message = "; ".join(f"{field}: {' '.join(texts)}"
                                for field, texts in invalid.message_dict.items())
        else:
            message = "; ".join(invalid.messages)
    print(f"serviceops rota {args.rota_action}: {message}", file=sys.stderr)
    return 2


# --- list -------------------------------------------------------------------------------


def run_list(args) -> int:
    return _run(_list, args)


def _list(args) -> int:
    from django.db.models import Count

    rotas = _rotas(_acting(args)).annotate(shift_count=Count("shifts"))
    if args.state:
        rotas = rotas.filter(state=args.state)
    rows = list(rotas.order_by("-id")[:max(1, args.limit)])
    if not rows:
        print("No rotas.")
        return 0
    print(f"{'id':>5}  {'from':<10} {'days':>4}  {'state':<10} {'team':<16} {'shifts':>6}  plan")
    for r in rows:
        team = r.plan.forecast.team.name if r.plan.forecast.team else "all teams"
        print(f"{r.pk:>5}  {r.first_day}  {r.days:>4}  {r.state:<10} {team:<16} "
              f"{r.shift_count:>6}  {r.plan.name} (#{r.plan_id})")
    return 0


# --- show -------------------------------------------------------------------------------


def run_show(args) -> int:
    return _run(_show, args)


def _show(args) -> int:
    from serviceops.workforce import exports

    rota = _rotas(_acting(args)).filter(pk=args.id).first()
    if rota is None:
        raise _Refused(f"no rota {args.id}")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as out:
            out.write(exports.rota_csv(rota))
    if args.ics:
        shifts = rota.shifts.select_related("staff", "rota__plan__forecast__team")
        with open(args.ics, "wb") as out:
            out.write(exports.shifts_ics(shifts, name=f"Rota from {rota.first_day}"))
    _print_rota(rota, as_json=args.json)
    if args.csv or args.ics:
        written = " and ".join(f for f in (args.csv, args.ics) if f)
        print(f"Wrote {written}.", file=sys.stderr)
    return 0


# --- solve ------------------------------------------------------------------------------


def run_solve(args) -> int:
    return _run(_solve, args)


def _solve(args) -> int:
    from serviceops.workforce import services
    from serviceops.workforce.models import Rota
    from serviceops.workforce.selectors import plan_scope

    user = _acting(args)
    staffing_plan = plan_scope(user).filter(pk=args.plan).first()
    if staffing_plan is None:
        raise _Refused(f"no staffing plan {args.plan}")
    # rota_create also queues the solving job (for the web pages); whichever of the job and
    # this command claims the rota first solves it, and the other finds nothing to do.
    rota = services.rota_create(by=user, staffing_plan=staffing_plan,
                                first_day=args.first_day, days=args.days,
                                named=not args.anonymous, time_limit_seconds=args.time_limit)
    if not args.json:
        print(f"Solving rota {rota.pk} ({args.days} days from {args.first_day}, at most "
              f"{args.time_limit} s)...", file=sys.stderr)
    if not services.rota_solve(rota.pk):
        deadline = clock.monotonic() + args.time_limit + WAIT_SLACK_SECONDS
        while Rota.objects.filter(pk=rota.pk, state__in=(Rota.State.QUEUED,
                                                         Rota.State.SOLVING)).exists():
            if clock.monotonic() > deadline:
                raise _Refused(f"rota {rota.pk} is still being solved by the job worker; "
                               f"see it later with `serviceops rota show {rota.pk}`")
            clock.sleep(0.5)
    rota.refresh_from_db()
    _print_rota(rota, as_json=args.json)
    return 0 if rota.state == Rota.State.DRAFT else 1


# --- publish ----------------------------------------------------------------------------


def run_publish(args) -> int:
    return _run(_publish, args)


def _publish(args) -> int:
    from serviceops.workforce import services

    user = _acting(args)
    rota = _rotas(user).filter(pk=args.id).first()
    if rota is None:
        raise _Refused(f"no rota {args.id}")
    rota = services.rota_publish(by=user, draft=rota)
    print(f"Published rota {rota.pk} ({rota.first_day}, {rota.days} days): "
          f"{rota.shifts.exclude(staff=None).values('staff').distinct().count()} people "
          f"will see their shifts.")
    return 0


# --- output -----------------------------------------------------------------------------


def _print_rota(rota, *, as_json: bool) -> None:
    from serviceops.workforce import exports

    forecast = rota.plan.forecast
    zone = ZoneInfo(forecast.time_zone)
    shifts = list(rota.shifts.select_related("staff"))
    summary = (exports.coverage_summary(rota.coverage,
                                        interval_minutes=forecast.interval_minutes)
               if rota.coverage else None)
    if as_json:
        print(json.dumps({
            "id": rota.pk, "plan_id": rota.plan_id, "first_day": rota.first_day.isoformat(),
            "days": rota.days, "named": rota.named, "state": rota.state,
            "solver_status": rota.solver_status, "gap": rota.gap,
            "objective": rota.objective, "solve_seconds": rota.solve_seconds,
            "message": rota.message, "coverage": summary,
            "shifts": [{"staff": s.staff.name if s.staff else None, "agents": s.agents,
                        "template": s.template, "start": s.start.isoformat(),
                        "end": s.end.isoformat(), "paid_minutes": exports.paid_minutes(s),
                        "breaks": s.breaks} for s in shifts]}, indent=2))
        return
    team = forecast.team.name if forecast.team else "all teams"
    print(f"Rota {rota.pk}: {team}, {rota.days} days from {rota.first_day} "
          f"({rota.get_state_display().lower()}), plan {rota.plan.name!r} (#{rota.plan_id})")
    if rota.solver_status:
        gap = f"{100 * rota.gap:.2f} %" if rota.gap is not None else "n/a"
        seconds = f"{rota.solve_seconds:.1f} s" if rota.solve_seconds is not None else "n/a"
        print(f"  solver: {rota.solver_status}, gap {gap}, solved in {seconds}")
    if rota.message:
        print(f"  {rota.message}")
    if summary:
        lowest = summary["lowest_service_level"]
        print(f"  coverage: {summary['scheduled_agent_hours']:g} of "
              f"{summary['required_agent_hours']:g} agent-hours required; "
              f"{summary['short_intervals']} intervals short by "
              f"{summary['shortfall_agent_hours']:g} agent-hours in all; lowest service level "
              + ("n/a" if lowest is None else f"{100 * lowest:.1f} %"))
    if not shifts:
        return
    print(f"  {len(shifts)} shifts ({forecast.time_zone}):")
    for s in shifts:
        start, end = s.start.astimezone(zone), s.end.astimezone(zone)
        who = s.staff.name if s.staff else f"{s.agents} agent{'s' if s.agents != 1 else ''}"
        breaks = exports.breaks_text(s, zone)
        print(f"    {start:%a %d %b %H:%M}-{end:%H:%M}  {s.template:<12} {who:<24}"
              + (f" breaks {breaks}" if breaks else ""))
