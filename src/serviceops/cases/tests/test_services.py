from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from serviceops.cases.attachments import attachment_check
from serviceops.cases.choices import EventKind, Status
from serviceops.cases.models import CannedResponse, Case, CaseEvent
from serviceops.cases.services import (
    canned_render,
    case_assign,
    case_assign_by_skill,
    case_assign_round_robin,
    case_bulk,
    case_change_status,
    case_create,
    case_customer_message,
    case_merge,
    case_note,
    case_reply,
    case_update,
)
from serviceops.cases.tasks import cases_autoclose
from serviceops.core.audit import audit_for, audit_verify
from serviceops.core.models import AuditEntry


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


def test_case_create_records_a_created_event_and_derives_priority_from_the_matrix(org):
    case = case_create(by=org.agent.user, subject="Card blocked", team=org.billing,
                       impact=1, urgency=1)
    assert case.priority == 1
    assert kinds(case) == [EventKind.CREATED]


def test_reply_on_a_new_case_opens_it_and_logs_reply_then_status(billing_case, org):
    case_reply(case=billing_case, body="We are on it.", by=org.agent.user)
    billing_case.refresh_from_db()
    assert billing_case.status == Status.OPEN
    assert kinds(billing_case) == [EventKind.CREATED, EventKind.PUBLIC_REPLY,
                                   EventKind.STATUS_CHANGED]


def test_lifecycle_refuses_transitions_that_are_not_allowed(billing_case, org):
    with pytest.raises(ValidationError, match="cannot become"):
        case_change_status(case=billing_case, status=Status.REOPENED, by=org.agent.user)
    case_change_status(case=billing_case, status=Status.RESOLVED, by=org.agent.user)
    case_change_status(case=billing_case, status=Status.CLOSED, by=org.agent.user)
    with pytest.raises(ValidationError):
        case_change_status(case=billing_case, status=Status.OPEN, by=org.agent.user)
    billing_case.refresh_from_db()
    assert billing_case.status == Status.CLOSED and billing_case.closed_at is not None


def test_customer_reply_reopens_a_resolved_case(billing_case, org):
    case_change_status(case=billing_case, status=Status.RESOLVED, by=org.agent.user)
    case_customer_message(case=billing_case, body="Still no refund!")
    billing_case.refresh_from_db()
    assert billing_case.status == Status.REOPENED
    assert billing_case.resolved_at is None


def test_agent_cannot_touch_another_teams_case_and_assessor_cannot_change_anything(
    billing_case, org
):
    with pytest.raises(PermissionDenied):
        case_reply(case=billing_case, body="hi", by=org.outsider.user)
    for action in (
        lambda: case_reply(case=billing_case, body="hi", by=org.assessor.user),
        lambda: case_note(case=billing_case, body="hi", by=org.assessor.user),
        lambda: case_change_status(case=billing_case, status=Status.OPEN, by=org.assessor.user),
    ):
        with pytest.raises(PermissionDenied):
            action()
    assert kinds(billing_case) == [EventKind.CREATED]


def test_agent_may_take_a_case_but_only_leaders_assign_others(billing_case, org):
    with pytest.raises(PermissionDenied):
        case_assign(case=billing_case, assignee=org.agent2, by=org.agent.user)
    case_assign(case=billing_case, assignee=org.agent, by=org.agent.user)
    case_assign(case=billing_case, assignee=org.agent2, by=org.leader.user)
    billing_case.refresh_from_db()
    assert billing_case.assignee == org.agent2
    assert billing_case.status == Status.OPEN


def test_assignee_must_belong_to_the_cases_team(billing_case, org):
    with pytest.raises(ValidationError, match="not in the team"):
        case_assign(case=billing_case, assignee=org.outsider, by=org.manager.user)


def test_round_robin_gives_each_case_to_whoever_waited_longest(org):
    cases = [case_create(by=org.leader.user, subject=f"c{i}", team=org.billing)
             for i in range(3)]
    chosen = [case_assign_round_robin(case=c, by=org.leader.user).assignee for c in cases]
    assert len(set(chosen)) == 3  # agent, agent2 and leader each get one
    fourth = case_create(by=org.leader.user, subject="c4", team=org.billing)
    assert case_assign_round_robin(case=fourth, by=org.leader.user).assignee == chosen[0]


def test_skill_routing_picks_a_team_member_with_the_categorys_skill(org):
    org.refunds_parent.skill = org.welsh
    org.refunds_parent.save()
    org.agent2.skills.add(org.welsh)
    case = case_create(by=org.leader.user, subject="Ad-daliad", team=org.billing,
                       category=org.refunds)
    assert case_assign_by_skill(case=case, by=org.leader.user).assignee == org.agent2


def test_priority_change_is_an_event_and_an_audited_change(billing_case, org):
    case_update(case=billing_case, impact=1, urgency=1, by=org.agent.user)
    event = CaseEvent.objects.get(case=billing_case, kind=EventKind.PRIORITY_CHANGED)
    assert (event.from_value, event.to_value) == ("3", "1")
    fields = set(audit_for(billing_case).values_list("field", flat=True))
    assert {"impact", "urgency", "priority"} <= fields


def test_audit_chain_detects_an_edited_entry(billing_case, org):
    case_update(case=billing_case, subject="Refund still missing", by=org.agent.user)
    case_change_status(case=billing_case, status=Status.ON_HOLD, by=org.agent.user)
    assert audit_verify().intact
    entry = AuditEntry.objects.filter(field="subject").get()
    AuditEntry.objects.filter(pk=entry.pk).update(new_value="Nothing to see")
    check = audit_verify()
    assert not check.intact and check.first_broken_id == entry.pk


def test_merge_closes_the_source_and_copies_its_thread_into_the_target(billing_case, org):
    other = case_create(by=org.agent.user, subject="Refund again", team=org.billing,
                        description="Second email about the kettle")
    case_merge(source=other, target=billing_case, by=org.leader.user)
    other.refresh_from_db()
    assert other.status == Status.CLOSED and other.merged_into == billing_case
    assert "Second email about the kettle" in billing_case.messages.get().body
    assert EventKind.MERGED_FROM in kinds(billing_case)
    with pytest.raises(PermissionDenied):
        case_merge(source=billing_case, target=other, by=org.agent.user)


def test_bulk_action_is_all_or_nothing(org):
    ok = case_create(by=org.leader.user, subject="a", team=org.billing)
    done = case_create(by=org.leader.user, subject="b", team=org.billing)
    case_change_status(case=done, status=Status.RESOLVED, by=org.leader.user)
    with pytest.raises(ValidationError, match=f"Case #{done.pk}"):
        case_bulk(cases=[ok, done], action="status", value=Status.ON_HOLD, by=org.leader.user)
    ok.refresh_from_db()
    assert ok.status == Status.NEW
    with pytest.raises(PermissionDenied):
        case_bulk(cases=[ok], action="status", value=Status.ON_HOLD, by=org.agent.user)


def test_attachments_are_refused_when_too_big_or_not_what_they_claim(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="limit"):
        attachment_check(name="a.txt", content=b"x" * 11)
    with pytest.raises(ValidationError, match="does not contain"):
        attachment_check(name="invoice.pdf", content=b"MZ\x90\x00")
    with pytest.raises(ValidationError, match="not accepted"):
        attachment_check(name="run.exe", content=b"MZ")
    assert attachment_check(name="../../x.txt", content=b"hello").name == "x.txt"


def test_reply_with_attachment_stores_the_file(billing_case, org):
    checked = attachment_check(name="receipt.pdf", content=b"%PDF-1.4 test")
    message = case_reply(case=billing_case, body="See receipt", by=org.agent.user,
                         attachments=[checked])
    attachment = message.attachments.get()
    assert attachment.file.read() == b"%PDF-1.4 test"
    assert EventKind.ATTACHMENT_ADDED in kinds(billing_case)


def test_canned_response_fills_placeholders(billing_case, org):
    response = CannedResponse(title="t", body="Dear {{ customer.first_name }}, case "
                              "{{case.number}} is with {{ agent.name }}. {{ nope.x }}")
    text = canned_render(response=response, case=billing_case, agent=org.agent)
    assert text == f"Dear Ada, case {billing_case.pk} is with Agent Person. {{{{ nope.x }}}}"


def test_autoclose_closes_old_resolved_cases_once(billing_case, org, settings):
    settings.CASE_AUTOCLOSE_DAYS = 7
    case_change_status(case=billing_case, status=Status.RESOLVED, by=org.agent.user,
                       now=timezone.now() - timedelta(days=8))
    assert cases_autoclose(now=timezone.now()) == 1
    assert cases_autoclose(now=timezone.now()) == 0
    assert Case.objects.get(pk=billing_case.pk).status == Status.CLOSED


def test_autoclose_leaves_a_case_the_customer_reopened(billing_case, org, settings,
                                                      monkeypatch):
    settings.CASE_AUTOCLOSE_DAYS = 7
    case_change_status(case=billing_case, status=Status.RESOLVED, by=org.agent.user,
                       now=timezone.now() - timedelta(days=8))
    stale = Case.objects.get(pk=billing_case.pk)  # what the sweep read, still resolved
    case_customer_message(case=billing_case, body="It broke again")
    original = Case.objects.filter
    monkeypatch.setattr(Case.objects, "filter",
                        lambda **kw: [stale] if "pk__in" in kw else original(**kw))
    assert cases_autoclose(now=timezone.now()) == 0
    assert Case.objects.get(pk=billing_case.pk).status == Status.REOPENED
