"""Reads of cases: queues with keyset pagination, full-text search, one case in full."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

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
POSTGRES_MATCH_WITHIN = (
    "cases_case.search_vector @@ (websearch_to_tsquery('english', %s) && %s::tsquery)")
# How many of the newest cases in scope are checked first, and then how many months before
# the present one the index is asked about in turn, before all of them; see case_search.
RECENT_WINDOWS = (5_000,)
RECENT_MONTHS = (1, 5, 11)


def _text_matches(qs: QuerySet[Case], query: str, *, recent: int | None,
                  team_ids: list[int] | None,
                  months: list[str] | None = None) -> QuerySet[Case]:
    """Narrow `qs` to cases whose subject or description contain every word of `query`
    (`team_ids`: the teams `qs` is limited to, None for all), among its `recent` newest
    cases if given, or opened in one of `months` (UTC, as "202611") if given."""
    if connection.vendor == "postgresql":
        if recent:
            # The words are checked on the newest rows as they come off the newest-first
            # index, inside the subquery (its LIMIT keeps the planner from turning it into
            # "every match in scope, then the newest", slow for a common word).
            newest = (qs.order_by("-opened_at", "-id")
                      .extra(select={"vector": "cases_case.search_vector"})
                      .values("id", "vector")[:recent])
            sql, params = newest.query.sql_with_params()
            return qs.filter(id__in=RawSQL(
                f"SELECT newest.id FROM ({sql}) AS newest WHERE newest.vector @@ "
                "websearch_to_tsquery('english', %s)", (*params, query)))
        if team_ids is None:
            # Across all teams the planner's word statistics hold, so it chooses well
            # between the GIN index (rare words) and the newest-first index (common ones).
            return qs.extra(where=[POSTGRES_MATCH], params=[query])
        # Within teams it does not (a word common overall may be rare in one team), so the
        # GIN index answers "this word, this team (and these months)" alone: OFFSET 0 keeps
        # it apart.
        inner = qs.extra(where=[POSTGRES_MATCH_WITHIN],
                         params=[query, _scope_lexemes(team_ids, months)]).values("id")
        sql, params = inner.query.sql_with_params()
        return qs.filter(id__in=RawSQL(f"{sql} OFFSET 0", params))
    # SQLite FTS5: keep the words only and quote each, so that user input can never form
    # FTS syntax (or a syntax error); every word must match, as on PostgreSQL.
    match = " ".join(f'"{w}"' for w in re.findall(r"\w+", query))
    return qs.filter(id__in=RawSQL(
        "SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s", [match]))


def _every_match_if_few(query: str, team_ids: list[int], limit: int) -> list[int] | None:
    """The ids of every case in `team_ids` matching `query`, if there are no more than
    `limit`; else None. Only the GIN index is asked ("this word and one of these teams"),
    and its rows are read only until one more than `limit` has come: the materialised CTE
    keeps the planner from walking the team's cases in the hope of finding them soon."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH matches AS MATERIALIZED (SELECT id FROM cases_case "
            f"WHERE {POSTGRES_MATCH_WITHIN}) SELECT id FROM matches LIMIT %s",
            [query, _scope_lexemes(team_ids, None), limit + 1])
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= limit else None


def _scope_lexemes(team_ids: list[int], months: list[str] | None) -> str:
    """The tsquery "one of these teams (and one of these months)" over the lexemes that
    `cases.fts` adds to every case's vector."""
    teams = " | ".join(f"'~team:{int(t)}'" for t in team_ids)
    if not months:
        return f"({teams})"
    return f"({teams}) & (" + " | ".join(f"'~month:{int(m)}'" for m in months) + ")"


def months_back(now: datetime, back: int) -> list[str]:
    """The UTC month of `now` ("202611"), the `back` months before it and the one after it
    (a clock a little ahead)."""
    current = now.astimezone(UTC)
    index = current.year * 12 + current.month - 1
    return [f"{k // 12}{k % 12 + 1:02d}" for k in range(index + 1, index - back - 1, -1)]


def case_search(*, user, query: str, limit: int = 50) -> list[Case]:
    """Return up to `limit` cases the user may see whose subject or description matches
    `query` (all words, stemmed), newest first; a case number or an external reference
    finds that case.

    On PostgreSQL, common words are answered from the 5,000 newest cases in scope. Within
    teams, if none of those holds the word, the full-text index is asked whether the teams
    hold a page of matches at all: if not, those it lists are the answer (one statement for
    a word the teams hold rarely or never). Otherwise it is asked for the word in those
    teams over the last 2, 6 and 12 months, then over all, so that a word common in older
    cases is not read from all of them to find the newest: the first range holding a page
    of matches holds the newest page, since every case outside it is older.
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
    if team_ids is not None and not team_ids:
        return []  # in no team: nothing to see
    recent: list[Case] = []
    for window in RECENT_WINDOWS:
        recent = list(_with_related(_text_matches(scoped, query, recent=window,
                                                  team_ids=team_ids))
                      .order_by(*ordered)[:limit])
        if len(recent) == limit:
            return recent
    if team_ids is not None and not recent:
        # None of the newest cases holds the word: the teams may hold few or none at all.
        every = _every_match_if_few(query, team_ids, limit)
        if every is not None:
            return list(_with_related(scoped.filter(id__in=every)).order_by(*ordered))
    ranges = ([months_back(timezone.now(), back) for back in RECENT_MONTHS]
              if team_ids is not None else [])
    for months in [*ranges, None]:
        matches = _text_matches(scoped, query, recent=None, team_ids=team_ids, months=months)
        found = list(_with_related(matches).order_by(*ordered)[:limit])
        if len(found) == limit:
            break
    # Cases opened after the last month asked about (a date in the future, from an import)
    # are not in any range, but they are among the newest, so in the window's matches.
    merged = {case.pk: case for case in (*recent, *found)}
    return sorted(merged.values(), key=lambda case: (case.opened_at, case.pk),
                  reverse=True)[:limit]


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
