"""`serviceops remedies`: Consumer Rights Act remedy guidance on the command line."""

from __future__ import annotations

import json
import sys

from serviceops.cli import iso_date
from serviceops.complaints.remedies import Kind, remedies


def register(subparsers) -> None:
    p = subparsers.add_parser("remedies", help="Consumer Rights Act 2015 remedies open to a "
                              "customer")
    p.add_argument("--kind", required=True, choices=[k.value for k in Kind])
    p.add_argument("--purchased", required=True, type=iso_date)
    p.add_argument("--delivered", type=iso_date)
    p.add_argument("--reported", required=True, type=iso_date)
    p.add_argument("--repairs-tried", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        guidance = remedies(kind=args.kind, purchased=args.purchased, delivered=args.delivered,
                            reported=args.reported, repairs_tried=args.repairs_tried)
    except ValueError as error:
        print(f"serviceops remedies: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{"remedy": o.remedy.value, "reason": o.reason}
                          for o in guidance.options], indent=2))
        return 0
    if not guidance.options:
        print("No statutory remedy is open.")
    for option in guidance.options:
        print(f"- {option.remedy.value.replace('_', ' ')}: {option.reason}")
    for note in guidance.notes:
        print(f"Note: {note}")
    return 0
