"""Reads of cases: queues with keyset pagination, full-text search, one case in full."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from serviceops.cases.filters import CaseFilter, cursor_decode, cursor_encode
from serviceops.cases.models import Case, CaseEvent
from serviceops.core.permissions import allowed, case_scope, staff_of, team_ids_of
from serviceops.core.roles import Perm


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def _with_related(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("customer", "team", "assignee", "category", "sla")


def case_queue(*, user, case_filter: CaseFilter, after: str | None = None,
               limit: int = 50) -> Page:
    """Return one page of the user's queue, newest first, continuing after `after`.

    Keyset pagination on (opened_at, id): a deep page costs the same as the first.
    """
    qs = case_filter.apply(case_scope(user), staff=staff_of(user))
    if case_filter.sort == "due":
        return _queue_by_due(qs, after, limit)
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


def _queue_by_due(qs: QuerySet[Case], after: str | None, limit: int) -> Page:
    """Cases with a running SLA clock, soonest due first; keyset on (next_due_at, id)."""
    if after:
        due_at, pk = cursor_decode(after)
        qs = qs.filter(sla__next_due_at__gte=due_at).exclude(sla__next_due_at=due_at,
                                                            id__lte=pk)
    rows = list(_with_related(qs).prefetch_related("tags")
                .order_by("sla__next_due_at", "id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursor_encode(rows[-1].sla.next_due_at, rows[-1].pk)
    return Page(items=rows, next_cursor=next_cursor)


POSTGRES_MATCH = "cases_case.search_vector @@ websearch_to_tsquery('english', %s)"
POSTGRES_MATCH_IN_TEAMS = (
    "cases_case.search_vector @@ (websearch_to_tsquery('english', %s) && "
    "(SELECT string_agg(quote_literal('~team:' || t), ' | ')::tsquery "
    "FROM unnest(%s::bigint[]) AS t))"
)
# How many of the newest cases in scope are checked, in turn, before the index; see
# case_search.
RECENT_WINDOWS = (5_000, 50_000)


def _text_matches(qs: QuerySet[Case], query: str, *, recent: int | None,
                  team_ids: list[int] | None) -> QuerySet[Case]:
    """Narrow `qs` to cases whose subject or description contain every word of `query`
    (`team_ids`: the teams `qs` is limited to, None for all), among its `recent` newest
    cases if given."""
    if connection.vendor == "postgresql":
        if recent:
            newest = qs.order_by("-opened_at", "-id").values("id")[:recent]
            return qs.filter(id__in=newest).extra(where=[POSTGRES_MATCH], params=[query])
        if team_ids is None:
            # Across all teams the planner's word statistics hold, so it chooses well
            # between the GIN index (rare words) and the newest-first index (common ones).
            return qs.extra(where=[POSTGRES_MATCH], params=[query])
        # Within teams it does not (a word common overall may be rare in one team), so the
        # GIN index answers "this word and this team" alone: OFFSET 0 keeps it apart.
        inner = qs.extra(where=[POSTGRES_MATCH_IN_TEAMS], params=[query, team_ids]).values("id")
        sql, params = inner.query.sql_with_params()
        return qs.filter(id__in=RawSQL(f"{sql} OFFSET 0", params))
    # SQLite FTS5: keep the words only and quote each, so that user input can never form
    # FTS syntax (or a syntax error); every word must match, as on PostgreSQL.
    match = " ".join(f'"{w}"' for w in re.findall(r"\w+", query))
    return qs.filter(id__in=RawSQL(
        "SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s", [match]))


def case_search(*, user, query: str, limit: int = 50) -> list[Case]:
    """Return up to `limit` cases the user may see whose subject or description matches
    `query` (all words, stemmed), newest first; a case number or an external reference
    finds that case.

    On PostgreSQL, common words are answered from the newest cases in scope (5,000, then
    50,000); only when those hold too few matches is the whole scope searched through the
    full-text index, where a rare word's matches are few.
    """
    query = query.strip()
    if not query:
        return []
    scoped = case_scope(user)
    exact = Q(external_ref=query)
    if query.lstrip("#").isdigit():
        exact |= Q(pk=int(query.lstrip("#")))
    found = list(_with_related(scoped.filter(exact))[:limit])
    if found or not any(ch.isalnum() for ch in query):
        return found
    ordered = ("-opened_at", "-id")
    team_ids = None if allowed(user, Perm.VIEW_ALL_TEAMS) else team_ids_of(user)
    if connection.vendor != "postgresql":
        return list(_with_related(_text_matches(scoped, query, recent=None, team_ids=None))
                    .order_by(*ordered)[:limit])
    # Across all teams one window is enough: the planner then chooses well by itself.
    for window in RECENT_WINDOWS if team_ids is not None else RECENT_WINDOWS[:1]:
        recent = list(_with_related(_text_matches(scoped, query, recent=window,
                                                  team_ids=team_ids))
                      .order_by(*ordered)[:limit])
        if len(recent) == limit:
            return recent
    matches = _text_matches(scoped, query, recent=None, team_ids=team_ids)
    return list(_with_related(matches).order_by(*ordered)[:limit])


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
