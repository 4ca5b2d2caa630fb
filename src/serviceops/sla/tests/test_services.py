"""SLA policies on real cases: matching, clocks kept current, versioning and escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from serviceops.cases.choices import EventKind
from serviceops.cases.models import CaseEvent
from serviceops.cases.services import case_change_status, case_create, case_reply
from serviceops.sla import services
from serviceops.sla.models import (
    BusinessCalendar,
    CaseClock,
    CaseEscalation,
    CaseSla,
    EscalationLevel,
    Notification,
    SlaPolicy,
)
from serviceops.sla.services import (
    calendar_save,
    case_escalate,
    case_sla_refresh,
    policy_save,
    sla_sweep,
)

HOUR = 3600
NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def policy(org):
    """Elapsed-time email policy for moderate priority (the default impact × urgency)."""
    return policy_save(policy=SlaPolicy(
        name="Email", channels=["email"], business_time=False,
        targets={"3": {"first_response": 4 * HOUR, "resolution": 24 * HOUR}},
        pauses={"resolution": ["pending_customer"]}), by=org.manager.user)


def clocks_of(case):
    return {(c.kind, c.cycle): c for c in CaseClock.objects.filter(case=case)}


def open_case(org, *, hours_ago: float, channel="email"):
    return case_create(by=org.agent.user, subject="Card not arrived", channel=channel,
                       customer=org.customer, team=org.billing, assignee=org.agent,
                       now=NOW - timedelta(hours=hours_ago))


def test_case_events_keep_the_clocks_current(org, policy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = case_create(by=org.agent.user, subject="Card not arrived", channel="email",
                           team=org.billing)
    first = clocks_of(case)[("first_response", 0)]
    assert first.state == "running" and first.target_seconds == 4 * HOUR
    with django_capture_on_commit_callbacks(execute=True):
        case_reply(case=case, body="It is on its way.", by=org.agent.user)
    assert clocks_of(case)[("first_response", 0)].state == "met"
    assert CaseSla.objects.get(case=case).version.policy == policy


def test_a_case_no_policy_matches_is_marked_untimed(org, policy):
    case = case_create(by=org.agent.user, subject="Letter", channel="letter", team=org.billing)
    sla = case_sla_refresh(case_id=case.pk, now=NOW)
    assert sla.version is None and not CaseClock.objects.filter(case=case).exists()


def test_breach_is_recorded_at_the_due_instant(org, policy):
    case = open_case(org, hours_ago=5)
    case_sla_refresh(case_id=case.pk, now=NOW)
    first = clocks_of(case)[("first_response", 0)]
    assert first.state == "breached"
    assert first.breached_at == NOW - timedelta(hours=1)
    assert CaseSla.objects.get(case=case).breached


def test_editing_a_policy_never_rewrites_a_closed_case(org, policy):
    case = open_case(org, hours_ago=10)
    case_reply(case=case, body="Sorry for the wait.", by=org.agent.user,
               now=NOW - timedelta(hours=5))
    for status, hours_ago in (("resolved", 4), ("closed", 3)):
        case_change_status(case=case, status=status, by=org.agent.user,
                           now=NOW - timedelta(hours=hours_ago))
    case_sla_refresh(case_id=case.pk, now=NOW)
    assert clocks_of(case)[("first_response", 0)].state == "breached"  # 5 h against 4 h

    policy.targets = {"3": {"first_response": 8 * HOUR, "resolution": 24 * HOUR}}
    policy_save(policy=policy, by=org.manager.user)
    case_sla_refresh(case_id=case.pk, now=NOW)
    assert clocks_of(case)[("first_response", 0)].state == "breached"
    assert CaseSla.objects.get(case=case).version.number == 1

    fresh = open_case(org, hours_ago=5)
    case_sla_refresh(case_id=fresh.pk, now=NOW)
    assert clocks_of(fresh)[("first_response", 0)].state == "running"  # new terms: 8 h


def test_sweep_applies_each_level_once_and_escalates_up_the_hierarchy(
        org, policy, django_capture_on_commit_callbacks):
    EscalationLevel.objects.create(policy=policy, position=1, clock="first_response",
                                   percent_consumed=75, notify_roles=["team_leader"])
    EscalationLevel.objects.create(policy=policy, position=2, clock="first_response",
                                   minutes_after_breach=30, notify_roles=["manager"],
                                   reassign_team=org.technical, raise_priority=True)
    case = open_case(org, hours_ago=3.5)  # 87.5 % of 4 h used
    untouched = open_case(org, hours_ago=1)  # 25 %
    case_sla_refresh(case_id=case.pk, now=NOW)
    case_sla_refresh(case_id=untouched.pk, now=NOW)
    assert CaseSla.objects.get(case=case).next_check_at == NOW

    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=NOW) == 1
        assert sla_sweep(now=NOW) == 0  # already applied: nothing twice
    escalation = CaseEscalation.objects.get(case=case)
    assert escalation.level.position == 1
    assert set(Notification.objects.filter(case=case).values_list("recipient__name", flat=True)
               ) == {"Agent Person", "Leader Person"}
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"agent@example.org", "leader@example.org"}
    assert not CaseEscalation.objects.filter(case=untouched).exists()
    # The next check is the breach (at 4 h), then 30 minutes after it.
    assert CaseSla.objects.get(case=case).next_check_at == NOW + timedelta(minutes=30)

    later = NOW + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=later) == 1
    case.refresh_from_db()
    assert case.team == org.technical and case.priority == 2
    events = CaseEvent.objects.filter(case=case, kind=EventKind.ESCALATED)
    assert events.count() == 2
    assert "moved to Technical" in events.last().data["actions"]
    assert "manager@example.org" in mail.outbox[-1].to
    # Hours later only the other case, now past its own breach, escalates (both levels).
    assert sla_sweep(now=later + timedelta(hours=5)) == 2
    assert CaseEscalation.objects.filter(case=case).count() == 2
    assert CaseEscalation.objects.filter(case=untouched).count() == 2


def test_the_sweep_works_in_batches_each_in_its_own_transaction_up_to_its_limit(
        org, policy, monkeypatch):
    """Each batch commits before the next, so on SQLite the write lock is let go between
    batches and people signing in or replying wait for one batch, not the whole sweep."""
    EscalationLevel.objects.create(policy=policy, position=1, clock="first_response",
                                   percent_consumed=75)
    for _ in range(5):
        case_sla_refresh(case_id=open_case(org, hours_ago=3.5).pk, now=NOW)
    transactions = []
    escalate = services._escalate_due

    def spy(case_id, now, book):
        transactions.append(connection.atomic_blocks[-1])
        return escalate(case_id, now, book)

    monkeypatch.setattr(services, "_escalate_due", spy)
    assert sla_sweep(now=NOW, limit=4, batch=2) == 4
    distinct = list({id(t): t for t in transactions}.values())
    assert [sum(t is block for t in transactions) for block in distinct] == [2, 2]
    assert sla_sweep(now=NOW, batch=2) == 1  # the fifth, left by the limit
    assert CaseEscalation.objects.count() == 5


def test_notify_only_mode_reports_what_it_would_do(org, policy):
    policy.notify_only = True
    policy_save(policy=policy, by=org.manager.user)
    EscalationLevel.objects.create(policy=policy, position=1, clock="first_response",
                                   minutes_after_breach=0, reassign_team=org.technical,
                                   raise_priority=True)
    case = open_case(org, hours_ago=5)
    case_sla_refresh(case_id=case.pk, now=NOW)
    assert sla_sweep(now=NOW) == 1
    case.refresh_from_db()
    assert case.team == org.billing and case.priority == 3
    actions = CaseEscalation.objects.get(case=case).actions
    assert "would move to Technical (notify-only)" in actions


def test_a_paused_clock_does_not_escalate_and_the_sweep_skips_it(org, policy):
    EscalationLevel.objects.create(policy=policy, position=1, clock="resolution",
                                   percent_consumed=50)
    case = open_case(org, hours_ago=2)
    case_change_status(case=case, status="pending_customer", by=org.agent.user,
                       now=NOW - timedelta(hours=1))
    sla = case_sla_refresh(case_id=case.pk, now=NOW)
    assert clocks_of(case)[("resolution", 0)].state == "paused"
    # Only the first-response clock (running) can come due; the resolution level cannot.
    assert sla.next_check_at == NOW + timedelta(hours=2)
    assert sla_sweep(now=NOW + timedelta(hours=30)) == 0


def test_manual_escalation_needs_a_reason_and_a_right_to_work_the_case(org, policy):
    case = open_case(org, hours_ago=1)
    with pytest.raises(ValidationError, match="why"):
        case_escalate(case=case, reason="  ", by=org.agent.user)
    with pytest.raises(PermissionDenied):
        case_escalate(case=case, reason="Customer is vulnerable", by=org.assessor.user)
    with pytest.raises(PermissionDenied):
        case_escalate(case=case, reason="Customer is vulnerable", by=org.outsider.user)
    escalation = case_escalate(case=case, reason="Customer is vulnerable", by=org.agent.user,
                               to_team=org.technical)
    assert escalation.by == org.agent and escalation.reason == "Customer is vulnerable"
    event = CaseEvent.objects.get(case=case, kind=EventKind.ESCALATED)
    assert event.actor == org.agent and event.data["reason"] == "Customer is vulnerable"
    case.refresh_from_db()
    assert case.team == org.technical


@pytest.mark.parametrize(("fields", "message"), [
    ({"business_time": True}, "needs a calendar"),
    ({"targets": {"3": {"first_response": -5}}}, "positive"),
    ({"targets": {"9": {"first_response": 60}}}, "Unknown priority"),
    ({"targets": {}}, "at least one target"),
    ({"pauses": {"resolution": ["asleep"]}}, "Pauses map"),
])
def test_bad_policies_are_refused_at_save_time(org, fields, message):
    values = {"name": "Bad", "business_time": False,
              "targets": {"3": {"first_response": 60}}, **fields}
    with pytest.raises(ValidationError, match=message):
        policy_save(policy=SlaPolicy(**values), by=org.manager.user)


def test_bad_calendars_are_refused_and_only_managers_save_them(org):
    with pytest.raises(ValidationError, match="unknown time zone"):
        calendar_save(calendar=BusinessCalendar(name="X", definition={"timezone": "Mars/Base"}),
                      by=org.manager.user)
    with pytest.raises(PermissionDenied):
        calendar_save(calendar=BusinessCalendar(name="X", definition={"timezone": "UTC"}),
                      by=org.agent.user)


def test_a_calendar_edit_gives_its_policies_a_new_version(org):
    calendar = calendar_save(calendar=BusinessCalendar(name="Office", definition={
        "timezone": "Europe/London", "hours": {"mon": [["09:00", "17:00"]]}}),
        by=org.manager.user)
    policy = policy_save(policy=SlaPolicy(name="Office hours", calendar=calendar,
                                          targets={"3": {"resolution": 8 * HOUR}}),
                         by=org.manager.user)
    calendar.definition = {"timezone": "Europe/London", "hours": {"mon": [["08:00", "18:00"]]}}
    calendar_save(calendar=calendar, by=org.manager.user)
    latest = policy.versions.first()
    assert latest.number == 2 and latest.calendar_definition["hours"]["mon"] == [["08:00",
                                                                                 "18:00"]]


def test_a_business_time_policy_on_a_calendar_with_no_hours_is_refused(org):
    closed = calendar_save(calendar=BusinessCalendar(name="Closed", definition={
        "timezone": "Europe/London", "hours": {}}), by=org.manager.user)
    with pytest.raises(ValidationError, match="no opening hours"):
        policy_save(policy=SlaPolicy(name="Never", calendar=closed,
                                     targets={"3": {"resolution": 3600}}), by=org.manager.user)
