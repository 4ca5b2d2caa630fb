"""`serviceops kpi`: every KPI for a period on the command line, as PRODUCT.md specifies."""

from __future__ import annotations

import json
import sys

from serviceops.cli import iso_date

BREAKDOWNS = ("priority", "team", "channel", "category")


def register(subparsers) -> None:
    p = subparsers.add_parser("kpi", help="KPIs for a period (from the case event log)")
    p.add_argument("--from", dest="first", type=iso_date, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="last", type=iso_date, help="last day, included")
    p.add_argument("--team", action="append", default=[], help="team name or id (repeatable)")
    p.add_argument("--by", choices=BREAKDOWNS, help="one figure per KPI and group")
    p.add_argument("--json", action="store_true")
    p.add_argument("--as", dest="as_user", metavar="USER",
                   help="compute what USER may see (their teams unless a manager)")
    p.add_argument("--rebuild", action="store_true",
                   help="recompute every case's facts from the event log, then stop")
    p.set_defaults(func=run)


def run(args) -> int:
    from serviceops.cli import setup_django

    setup_django()
    from django.contrib.auth import get_user_model

    from serviceops.cases.facts import case_facts_rebuild
    from serviceops.insights.kpis import display
    from serviceops.insights.selectors import kpi_report, kpi_scope, period_bounds
    from serviceops.people.models import Team

    if args.rebuild:
        print(f"Recomputed the facts of {case_facts_rebuild():,} cases.")
        return 0
    if not (args.first and args.last):
        print("serviceops kpi: give --from and --to (or --rebuild).", file=sys.stderr)
        return 2
    try:
        start, end = period_bounds(args.first, args.last)
    except ValueError as error:
        print(f"serviceops kpi: {error}", file=sys.stderr)
        return 2
    team_ids = []
    for name in args.team:
        team = (Team.objects.filter(pk=int(name)).first() if name.isdigit()
                else Team.objects.filter(name__iexact=name).first())
        if team is None:
            print(f"serviceops kpi: no team {name!r}.", file=sys.stderr)
            return 2
        team_ids.append(team.pk)
    user = None
    if args.as_user:
        user = get_user_model().objects.filter(username=args.as_user).first()
        if user is None:
            print(f"serviceops kpi: no user {args.as_user!r}.", file=sys.stderr)
            return 2
    scope = kpi_scope(user, start=start, end=end, team_ids=team_ids, by=args.by) if user \
        else _operator_scope(start, end, team_ids, args.by)
    rows = kpi_report(scope)
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
        return 0
    print(f"KPIs from {args.first} to {args.last}"
          + (f" by {args.by}" if args.by else "") + ":")
    for row in rows:
        label = f"{row.kpi.name}" + (f" — {row.group_label}" if args.by else "")
        target = f"target {display(row.target, row.kpi.unit)}" if row.target is not None \
            else ""
        print(f"  {label:<58} {display(row.value, row.kpi.unit):>14}  {target:<20} "
              f"{row.status.words}")
    return 0


def _operator_scope(start, end, team_ids, by):
    # Whoever runs the command can read the database: every team unless narrowed.
    from serviceops.insights.kpis import Scope

    return Scope(start=start, end=end, team_ids=tuple(team_ids) or None, by=by)
