"""Case facts: one row per case summarising its event log (see `CaseFact`).

The definitions here are the ones `docs/kpis.md` states; change one and the doc with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Min, Q

from serviceops.cases.choices import EventKind, Status
from serviceops.cases.models import Case, CaseEvent, CaseFact

BATCH = 2000
_FIELDS = [
    "opened_at", "channel", "priority", "team", "category", "merged", "first_response_at",
    "first_response_seconds", "resolved_at", "resolution_seconds", "reply_count",
    "reopen_count", "assignment_count", "team_move_count", "reassigned",
    "first_contact_resolution",
]


def case_facts_compute(case_ids: Iterable[int]) -> list[CaseFact]:
    """Return the facts of the given cases computed from the cases and their events now
    (unsaved rows; ids of cases that no longer exist are skipped).

    - first response: the first public reply;
    - resolution: the case's final resolution (a reopened case counts from its opening to
      its last resolution); a case merged into another has none;
    - reassigned: given to an agent more than once, or moved from one team to another;
    - first-contact resolution: resolved, never reopened, never reassigned, with at most one
      public reply.
    """
    ids = list(case_ids)
    events = {
        row["case_id"]: row
        for row in CaseEvent.objects.filter(case_id__in=ids).values("case_id").annotate(
            first_reply=Min("at", filter=Q(kind=EventKind.PUBLIC_REPLY)),
            replies=Count("id", filter=Q(kind=EventKind.PUBLIC_REPLY)),
            reopens=Count("id", filter=Q(kind=EventKind.STATUS_CHANGED,
                                         to_value=Status.REOPENED)),
            assignments=Count("id", filter=Q(kind=EventKind.ASSIGNED) & ~Q(to_value="")),
            team_moves=Count("id", filter=Q(kind=EventKind.TEAM_CHANGED) & ~Q(from_value="")),
        ).order_by()
    }
    facts = []
    cases = Case.objects.filter(pk__in=ids).values_list(
        "pk", "opened_at", "channel", "priority", "team_id", "category_id", "merged_into_id",
        "status", "resolved_at",
    )
    for pk, opened, channel, priority, team, category, merged_into, status, resolved in cases:
        row = events.get(pk, {})
        merged = merged_into is not None
        first_reply = row.get("first_reply")
        if merged or status not in (Status.RESOLVED, Status.CLOSED):
            resolved = None
        reassigned = row.get("assignments", 0) > 1 or row.get("team_moves", 0) > 0
        facts.append(CaseFact(
            case_id=pk, opened_at=opened, channel=channel, priority=priority, team_id=team,
            category_id=category, merged=merged, first_response_at=first_reply,
            first_response_seconds=_seconds(opened, first_reply),
            resolved_at=resolved, resolution_seconds=_seconds(opened, resolved),
            reply_count=row.get("replies", 0), reopen_count=row.get("reopens", 0),
            assignment_count=row.get("assignments", 0),
            team_move_count=row.get("team_moves", 0), reassigned=reassigned,
            first_contact_resolution=None if resolved is None else (
                row.get("reopens", 0) == 0 and not reassigned and row.get("replies", 0) <= 1),
        ))
    return facts


def _seconds(start, end) -> float | None:
    # An event recorded before the opening (clock skew in imported logs) counts as zero.
    return None if end is None else max((end - start).total_seconds(), 0.0)


def case_facts_refresh(case_ids: Iterable[int], *, batch: int = BATCH, progress=None) -> int:
    """Recompute and store the facts of the given cases. Safe to repeat. Returns how many
    cases were processed."""
    ids = list(case_ids)
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        facts = case_facts_compute(chunk)
        with transaction.atomic():
            CaseFact.objects.bulk_create(facts, update_conflicts=True, unique_fields=["case"],
                                         update_fields=_FIELDS)
        if progress:
            progress(min(start + batch, len(ids)), len(ids))
    return len(ids)


def case_facts_rebuild(*, progress=None) -> int:
    """Recompute the facts of every case (after a restore or a change of definition)."""
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    return case_facts_refresh(ids, progress=progress)

