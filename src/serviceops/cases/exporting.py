"""Export cases or case events to CSV, streaming (constant memory whatever the size)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from serviceops.cases.models import Case, CaseEvent, Category

CASE_COLUMNS = ["id", "external_ref", "subject", "channel", "status", "priority", "impact",
                "urgency", "category", "team", "assignee", "customer", "tags", "opened_at",
                "resolved_at", "closed_at"]
EVENT_COLUMNS = ["case_id", "event_id", "kind", "at", "actor", "from_value", "to_value", "data"]


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def export_cases(handle) -> int:
    """Write every case as one CSV row to `handle`; returns the number of rows."""
    writer = csv.writer(handle)
    writer.writerow(CASE_COLUMNS)
    categories = {c.pk: c.path for c in Category.objects.select_related("parent")}
    tags: dict[int, list[str]] = {}
    for case_id, name in Case.tags.through.objects.values_list("case_id", "tag__name"):
        tags.setdefault(case_id, []).append(name)
    rows = (Case.objects.order_by("id")
            .values_list("id", "external_ref", "subject", "channel", "status", "priority",
                         "impact", "urgency", "category_id", "team__name", "assignee__name",
                         "customer__name", "opened_at", "resolved_at", "closed_at"))
    count = 0
    for (pk, ref, subject, channel, status, priority, impact, urgency, category, team,
         assignee, customer, opened, resolved, closed) in rows.iterator(chunk_size=5000):
        writer.writerow([pk, ref, subject, channel, status, priority, impact, urgency,
                         categories.get(category, ""), team or "", assignee or "",
                         customer or "", ",".join(sorted(tags.get(pk, []))), _iso(opened),
                         _iso(resolved), _iso(closed)])
        count += 1
    return count


def export_events(handle) -> int:
    """Write every case event as one CSV row to `handle`, in log order; returns the count."""
    writer = csv.writer(handle)
    writer.writerow(EVENT_COLUMNS)
    rows = (CaseEvent.objects.order_by("case_id", "at", "id")
            .values_list("case_id", "id", "kind", "at", "actor__name", "from_value",
                         "to_value", "data"))
    count = 0
    for case_id, pk, kind, at, actor, old, new, data in rows.iterator(chunk_size=5000):
        writer.writerow([case_id, pk, kind, _iso(at), actor or "", old, new,
                         json.dumps(data, sort_keys=True)])
        count += 1
    return count


def run_export_command(args) -> int:
    """`serviceops export cases|events --out FILE.csv`."""
    out = Path(args.out)
    try:
        with open(out, "w", newline="", encoding="utf-8") as handle:
            count = export_cases(handle) if args.what == "cases" else export_events(handle)
    except OSError as error:
        print(f"Cannot write {out}: {error}", file=sys.stderr)
        return 2
    print(f"Exported {count:,} {args.what} to {out}.")
    return 0
