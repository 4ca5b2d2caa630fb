from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from serviceops.cases.filters import CaseFilter
from serviceops.cases.selectors import case_queue, case_search
from serviceops.cases.services import case_create, case_update


def test_search_matches_word_forms_across_subject_and_description_within_scope(org):
    refund = case_create(by=org.agent.user, subject="Where is my money?", team=org.billing,
                         description="I was promised refunds for both kettles")
    case_create(by=org.agent.user, subject="Password reset", team=org.billing)
    hidden = case_create(by=org.outsider.user, subject="Refund for router", team=org.technical)
    assert case_search(user=org.agent.user, query="refund") == [refund]
    assert set(case_search(user=org.manager.user, query="refund")) == {refund, hidden}
    assert case_search(user=org.agent.user, query=f"#{refund.pk}") == [refund]
    assert case_search(user=org.agent.user, query='"kettles (') == [refund]  # no syntax error


def test_search_index_follows_subject_changes(org):
    case = case_create(by=org.agent.user, subject="Broken toaster", team=org.billing)
    case_update(case=case, subject="Broken blender", by=org.agent.user)
    assert case_search(user=org.agent.user, query="toaster") == []
    assert case_search(user=org.agent.user, query="blender") == [case]


def test_keyset_pages_cover_every_case_once_even_with_equal_timestamps(org):
    moment = timezone.now() - timedelta(hours=1)
    made = {case_create(by=org.agent.user, subject=f"c{i}", team=org.billing,
                        now=moment if i % 2 else moment - timedelta(minutes=i)).pk
            for i in range(11)}
    seen, after, pages = [], None, 0
    while True:
        page = case_queue(user=org.agent.user, case_filter=CaseFilter(view="all"), after=after,
                          limit=4)
        seen += [c.pk for c in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == 3
    assert len(seen) == len(set(seen)) == 11 and set(seen) == made


def test_queue_filter_reports_unknown_values_and_applies_known_ones(org):
    urgent = case_create(by=org.agent.user, subject="u", team=org.billing, impact=1, urgency=1)
    case_create(by=org.agent.user, subject="n", team=org.billing)
    from django.http import QueryDict

    case_filter = CaseFilter.from_query(QueryDict("priority=1&status=bogus&view=all"))
    assert "status" in case_filter.errors
    page = case_queue(user=org.agent.user, case_filter=case_filter)
    assert [c.pk for c in page.items] == [urgent.pk]


def test_search_returns_the_newest_matches_whether_common_or_rare(org):
    from serviceops.cases import selectors

    start = timezone.now() - timedelta(days=1)
    common = [case_create(by=org.agent.user, subject=f"Card problem {i}", team=org.billing,
                          now=start + timedelta(minutes=i)) for i in range(6)]
    rare = case_create(by=org.agent.user, subject="Kettle descaling", team=org.billing,
                       now=start - timedelta(days=30))
    assert case_search(user=org.agent.user, query="card", limit=3) == common[:-4:-1]
    previous = selectors.RECENT_WINDOWS
    selectors.RECENT_WINDOWS = (2,)  # too small: the index fallback answers
    try:
        assert case_search(user=org.agent.user, query="card", limit=3) == common[:-4:-1]
        assert case_search(user=org.manager.user, query="card", limit=3) == common[:-4:-1]
        assert case_search(user=org.agent.user, query="descaling") == [rare]
        assert case_search(user=org.outsider.user, query="descaling") == []
    finally:
        selectors.RECENT_WINDOWS = previous


def test_a_word_rare_lately_but_common_long_ago_still_gives_the_newest_matches(org,
                                                                              monkeypatch):
    from serviceops.cases import selectors

    now = timezone.now()
    old = [case_create(by=org.agent.user, subject=f"Exchange rate query {i}", team=org.billing,
                       now=now - timedelta(days=240 + i)) for i in range(3)]
    recent = case_create(by=org.agent.user, subject="Exchange rate query", team=org.billing,
                         now=now - timedelta(days=7))
    for i in range(5):
        case_create(by=org.agent.user, subject=f"Card not arrived {i}", team=org.billing)
    monkeypatch.setattr(selectors, "RECENT_WINDOWS", (3,))  # the newest hold no match
    assert case_search(user=org.agent.user, query="exchange", limit=2) == [recent, old[0]]
    assert case_search(user=org.agent.user, query="exchange") == [recent, *old]
    # A date in the future (from an import) is past every month range, yet the newest.
    future = case_create(by=org.agent.user, subject="Exchange rate query", team=org.billing,
                         now=now + timedelta(days=90))
    assert case_search(user=org.agent.user, query="exchange", limit=2) == [future, recent]


def test_months_back_counts_utc_months_across_a_new_year():
    from serviceops.cases.selectors import months_back

    assert months_back(datetime(2026, 1, 15, tzinfo=UTC), 2) == [
        "202602", "202601", "202512", "202511"]


def test_on_postgresql_the_index_knows_each_cases_team_and_month(org):
    from django.db import connection

    from serviceops.cases.selectors import _text_matches, case_scope

    if connection.vendor != "postgresql":
        pytest.skip("the team and month lexemes are PostgreSQL's")
    june = case_create(by=org.agent.user, subject="Parcel lost", team=org.billing,
                       now=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # 1 July in London
    scoped = case_scope(org.manager.user)

    def found(team_ids, months):
        return list(_text_matches(scoped, "parcel", recent=None, team_ids=team_ids,
                                  months=months))

    assert found([org.billing.pk], ["202606"]) == [june]
    assert found([org.billing.pk], ["202607", "202605"]) == []
    assert found([org.technical.pk], ["202606"]) == []
    assert found([org.billing.pk], None) == [june]


def test_on_postgresql_a_word_the_teams_hold_less_than_a_page_of_is_found_without_months(
        org, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from serviceops.cases import selectors

    if connection.vendor != "postgresql":
        pytest.skip("the team and month lexemes are PostgreSQL's")
    now = timezone.now()
    long_ago = case_create(by=org.agent.user, subject="Kettle descaling", team=org.billing,
                           now=now - timedelta(days=500))
    lately = case_create(by=org.agent.user, subject="Kettle descaling", team=org.billing,
                         now=now - timedelta(days=3))
    case_create(by=org.outsider.user, subject="Router descaling", team=org.technical)
    for i in range(4):
        case_create(by=org.agent.user, subject=f"Card not arrived {i}", team=org.billing)
    monkeypatch.setattr(selectors, "RECENT_WINDOWS", (2,))  # the newest hold no match

    def searched(query, limit=50):
        with CaptureQueriesContext(connection) as statements:
            found = case_search(user=org.agent.user, query=query, limit=limit)
        months_asked = [q for q in statements.captured_queries if "~month:" in q["sql"]]
        return found, len(months_asked)

    assert searched("descaling") == ([lately, long_ago], 0)
    assert searched("router") == ([], 0)  # only another team's case holds it
    # More than a page: the month ranges find the newest page.
    assert searched("descaling", limit=1) == ([lately], 1)
