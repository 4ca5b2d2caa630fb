"""Case facts: kept current by every case change, and equal to a fresh computation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from serviceops.cases.facts import _FIELDS, case_facts_compute, case_facts_rebuild
from serviceops.cases.models import CaseFact
from serviceops.cases.services import (
    case_assign,
    case_change_status,
    case_create,
    case_customer_message,
    case_merge,
    case_reply,
    case_update,
)


def _row(fact: CaseFact) -> dict:
    return {name: getattr(fact, name if name not in ("team", "category") else f"{name}_id")
            for name in _FIELDS}


@pytest.fixture
def start():
    return timezone.now() - timedelta(days=2)


def test_facts_follow_every_change_and_equal_a_fresh_computation(
        org, start, django_capture_on_commit_callbacks):
    at = start
    with django_capture_on_commit_callbacks(execute=True):
        case = case_create(by=org.agent.user, subject="Refund", channel="email",
                           team=org.billing, assignee=org.agent, now=at)
    fact = CaseFact.objects.get(case=case)
    assert (fact.first_response_at, fact.resolved_at, fact.assignment_count) == (None, None, 1)
    with django_capture_on_commit_callbacks(execute=True):
        case_reply(case=case, body="On it", by=org.agent.user, now=at + timedelta(hours=2))
        case_change_status(case=case, status="resolved", by=org.agent.user,
                           now=at + timedelta(hours=5))
    fact.refresh_from_db()
    assert fact.first_response_seconds == 2 * 3600
    assert fact.resolution_seconds == 5 * 3600
    assert fact.first_contact_resolution is True and fact.reply_count == 1

    with django_capture_on_commit_callbacks(execute=True):
        case_customer_message(case=case, body="Still broken", now=at + timedelta(hours=6))
    fact.refresh_from_db()
    assert fact.reopen_count == 1 and fact.resolved_at is None
    assert fact.first_contact_resolution is None

    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, assignee=org.agent2, by=org.leader.user,
                    now=at + timedelta(hours=7))
        case_update(case=case, by=org.leader.user, impact=1, urgency=1,
                    now=at + timedelta(hours=7))
        case_change_status(case=case, status="resolved", by=org.agent2.user,
                           now=at + timedelta(hours=9))
    fact.refresh_from_db()
    assert fact.reassigned and fact.assignment_count == 2
    assert fact.priority == 1 and fact.resolution_seconds == 9 * 3600
    assert fact.first_contact_resolution is False  # reopened and reassigned

    with django_capture_on_commit_callbacks(execute=True):
        other = case_create(by=org.agent.user, subject="Same refund", team=org.billing,
                            now=at + timedelta(hours=1))
        target = case_create(by=org.agent.user, subject="Refund (main)", team=org.billing,
                             now=at + timedelta(hours=1))
        case_merge(source=other, target=target, by=org.leader.user, now=at + timedelta(hours=3))
    assert CaseFact.objects.get(case=other).merged is True
    assert CaseFact.objects.get(case=other).resolved_at is None

    stored = {f.case_id: _row(f) for f in CaseFact.objects.all()}
    fresh = {f.case_id: _row(f) for f in case_facts_compute(stored)}
    assert stored == fresh and len(stored) == 3


def test_rebuild_restores_lost_or_stale_facts(org, start, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = case_create(by=org.agent.user, subject="Refund", team=org.billing, now=start)
        case_reply(case=case, body="Done", by=org.agent.user, status="resolved",
                   now=start + timedelta(minutes=30))
    CaseFact.objects.filter(case=case).update(resolution_seconds=1, reply_count=9)
    CaseFact.objects.exclude(case=case).delete()
    assert case_facts_rebuild() == 1
    fact = CaseFact.objects.get(case=case)
    assert (fact.resolution_seconds, fact.reply_count) == (1800, 1)


def test_a_change_that_records_no_event_still_refreshes_the_facts(
        org, start, django_capture_on_commit_callbacks):
    # A change of channel is audited but is not an event of the case's history.
    with django_capture_on_commit_callbacks(execute=True):
        case = case_create(by=org.agent.user, subject="Card", channel="email",
                           team=org.billing, now=start)
    with django_capture_on_commit_callbacks(execute=True):
        case_update(case=case, channel="phone", by=org.agent.user,
                    now=start + timedelta(minutes=5))
    assert CaseFact.objects.get(case=case).channel == "phone"
