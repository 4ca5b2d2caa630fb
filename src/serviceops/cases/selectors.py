"""Reads of cases: queues with keyset pagination, full-text search, one case in full."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from serviceops.cases.filters import CaseFilter, cursor_decode, cursor_encode
from serviceops.cases.models import Case, CaseEvent
from serviceops.core.permissions import case_scope, staff_of


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def _with_related(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("customer", "team", "assignee", "category")


def case_queue(*, user, case_filter: CaseFilter, after: str | None = None,
               limit: int = 50) -> Page:
    """Return one page of the user's queue, newest first, continuing after `after`.

    Keyset pagination on (opened_at, id): a deep page costs the same as the first.
    """
    qs = case_filter.apply(case_scope(user), staff=staff_of(user))
    if after:
        opened_at, pk = cursor_decode(after)
        # (opened_at, id) < (cursor): written so that the index range on opened_at is used.
        qs = qs.filter(opened_at__lte=opened_at).exclude(opened_at=opened_at, id__gte=pk)
    rows = list(_with_related(qs).prefetch_related("tags")
                .order_by("-opened_at", "-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursor_encode(rows[-1].opened_at, rows[-1].pk)
    return Page(items=rows, next_cursor=next_cursor)


def _search_ids_sql(query: str) -> tuple[str, list]:
    """Return SQL selecting the ids of cases matching `query`, best first, on this database."""
    if connection.vendor == "postgresql":
        return (
            "SELECT id FROM cases_case WHERE to_tsvector('english', subject || ' ' || "
            "description) @@ websearch_to_tsquery('english', %s)",
            [query],
        )
    # SQLite FTS5: keep the words only and quote each, so that user input can never form
    # FTS syntax (or a syntax error); every word must match, as on PostgreSQL.
    words = re.findall(r"\w+", query)
    match = " ".join(f'"{w}"' for w in words)
    return ("SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s", [match])


def case_search(*, user, query: str, limit: int = 50) -> list[Case]:
    """Return up to `limit` cases the user may see whose subject or description matches
    `query` (all words, stemmed on PostgreSQL), newest first; a number finds that case."""
    query = query.strip()
    if not query:
        return []
    scoped = case_scope(user)
    if query.lstrip("#").isdigit():
        number = int(query.lstrip("#"))
        exact = list(_with_related(scoped.filter(Q(pk=number) | Q(external_ref=query))))
        if exact:
            return exact
    if not any(ch.isalnum() for ch in query):
        return []
    sql, params = _search_ids_sql(query)
    matches = scoped.filter(Q(id__in=RawSQL(sql, params)) | Q(external_ref=query))
    return list(_with_related(matches).order_by("-opened_at", "-id")[:limit])


def case_detail(*, user, case_id: int) -> Case:
    """Return the case with everything its page shows, or raise Case.DoesNotExist /
    PermissionDenied (another team's case by URL)."""
    from django.core.exceptions import PermissionDenied

    case = (
        _with_related(Case.objects.filter(pk=case_id))
        .select_related("customer__organisation", "merged_into")
        .prefetch_related("tags", "customer__adjustments")
        .get()
    )
    if not case_scope(user).filter(pk=case.pk).exists():
        raise PermissionDenied("This case belongs to a team you are not in.")
    return case


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("at", "id")


def customer_cases(*, user, customer_id: int, limit: int = 200) -> list[Case]:
    """Return the customer's cases that `user` may see, newest first (their timeline)."""
    qs = case_scope(user).filter(customer_id=customer_id)
    return list(_with_related(qs).order_by("-opened_at", "-id")[:limit])
