"""The complaint lifecycle services: logging, stages, RCA, actions, recovery, letters and
settings, with every bad-input rule of issue 4 and who may do what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from serviceops.cases.choices import EventKind, MessageKind, Status
from serviceops.cases.models import CaseEvent, Message
from serviceops.complaints import services as s
from serviceops.complaints.deadlines import Rule, deadline
from serviceops.complaints.models import (
    Action,
    ApprovalLimit,
    Cause,
    Complaint,
    Letter,
    LetterKind,
    LetterTemplate,
    Regime,
    Stage,
)
from serviceops.complaints.selectors import (
    DeadlineState,
    actions_due,
    complaint_detail,
    complaint_remedies,
    complaint_scope,
    deadline_status,
)
from serviceops.sla.models import Notification


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


def _resolve(complaint, by, **extra):
    fields = {"outcome": "upheld", "resolution": "The refund file was sent late; we have "
                                                 "paid the refund today."}
    fields.update(extra)
    return s.complaint_resolve(by=by.user, complaint=complaint, **fields)


# -- logging ----------------------------------------------------------------------------------


def test_logging_on_a_case_copies_its_team_and_customer_and_computes_the_deadlines(
        org, complaint, general, billing_case):
    assert complaint.case == billing_case
    assert complaint.team == org.billing and complaint.customer == org.customer
    assert complaint.logged_by == org.leader and complaint.handler == org.leader
    assert complaint.stage == Stage.ACKNOWLEDGE
    assert complaint.acknowledge_due == deadline(complaint.received_at, Rule(days=2))
    assert complaint.final_due == deadline(complaint.received_at, Rule(days=20))
    assert complaint.summary_due is None and complaint.holding_due is None
    note = Message.objects.filter(case=billing_case, kind=MessageKind.NOTE).last()
    assert "Complaint logged under the General regime" in note.body
    assert CaseEvent.objects.filter(case=billing_case, kind=EventKind.INTERNAL_NOTE).exists()


def test_an_fca_complaint_gets_summary_and_eight_week_deadlines(log, fca):
    complaint = log(regime=fca)
    assert complaint.summary_due == deadline(complaint.received_at, Rule(days=3))
    eight_weeks = deadline(complaint.received_at, Rule(days=56, business_days=False))
    assert complaint.final_due == complaint.holding_due == eight_weeks


def test_an_agent_logs_a_complaint_without_a_case_and_sees_only_their_own(org, log):
    complaint = log(by=org.agent)
    assert complaint.case.team == org.billing and complaint.case.subject == "Refund missing"
    assert complaint.case.description == "My refund never arrived."
    assert complaint.logged_by == org.agent and complaint.handler is None
    assert list(complaint_scope(org.agent.user)) == [complaint]
    assert not complaint_scope(org.agent2.user).exists()
    assert complaint_scope(org.leader.user).filter(pk=complaint.pk).exists()
    with pytest.raises(PermissionDenied):
        s.complaint_acknowledge(by=org.agent.user, complaint=complaint)


def test_a_receipt_in_the_future_is_refused(log):
    with pytest.raises(ValidationError) as excinfo:
        log(received_at=timezone.now() + timedelta(hours=1))
    assert "cannot be received in the future" in errors_of(excinfo)["received_at"][0]
    assert not Complaint.objects.exists()


def test_a_case_has_at_most_one_complaint(log, complaint, billing_case):
    with pytest.raises(ValidationError) as excinfo:
        log(case=billing_case)
    assert f"Case #{billing_case.pk} already has a complaint" in errors_of(excinfo)["case"][0]


def test_what_went_wrong_and_what_they_want_are_required(log):
    with pytest.raises(ValidationError) as excinfo:
        log(account=" ", desired_outcome="")
    assert set(errors_of(excinfo)) == {"account", "desired_outcome"}


def test_another_teams_leader_can_neither_log_nor_work_a_billing_complaint(
        log, tech_leader, complaint, billing_case):
    with pytest.raises(PermissionDenied):
        log(by=tech_leader, case=billing_case)
    assert not complaint_scope(tech_leader.user).exists()
    with pytest.raises(PermissionDenied):
        s.complaint_acknowledge(by=tech_leader.user, complaint=complaint)
    with pytest.raises(PermissionDenied):
        s.gesture_add(by=tech_leader.user, complaint=complaint, kind="apology", amount=0)


def test_an_assessor_reads_every_complaint_and_changes_none(org, log, complaint, general):
    assessor = org.assessor.user
    assert complaint_scope(assessor).filter(pk=complaint.pk).exists()
    assert complaint_detail(assessor, complaint.pk) == complaint
    with pytest.raises(PermissionDenied):
        log(by=org.assessor)
    with pytest.raises(PermissionDenied):
        s.complaint_update(by=assessor, complaint=complaint, listened=True)
    with pytest.raises(PermissionDenied):
        s.regime_save(by=assessor, regime=general, final_days=10)
    with pytest.raises(PermissionDenied):
        s.approval_limit_set(by=assessor, role="agent", amount=1000)


# -- the whole path ---------------------------------------------------------------------------


def test_from_receipt_to_restored_confidence(org, complaint, billing_case):
    leader = org.leader.user
    s.complaint_acknowledge(by=leader, complaint=complaint)
    assert complaint.stage == Stage.INVESTIGATE and complaint.acknowledged_at is not None
    ack = Letter.objects.get(complaint=complaint, kind=LetterKind.ACKNOWLEDGEMENT)
    assert ack.message.kind == MessageKind.REPLY and ack.message.case == billing_case
    assert "Dear Ada Lovelace" in ack.body and f"case {billing_case.pk}" in ack.subject

    s.complaint_update(by=leader, complaint=complaint, listened=True, empathised=True,
                       apologised=True, outcome_agreed=True, next_steps_explained=True)
    s.whys_set(by=leader, complaint=complaint,
               answers=["The refund was late", "The payment file missed the cut-off", "",
                        "Nobody owns the file"])
    assert [w.answer for w in complaint.whys.all()] == [
        "The refund was late", "The payment file missed the cut-off", "Nobody owns the file"]
    cause = Cause.objects.get(category="systems", name="Payment file sent late")
    s.cause_add(by=leader, complaint=complaint, cause=cause, note="Cut-off 15:00")
    follow_up = timezone.localdate() + timedelta(days=14)
    _resolve(complaint, org.leader, remedy="A £20 credit for the trouble.",
             follow_up_due=follow_up)
    assert complaint.stage == Stage.FOLLOW_UP and complaint.resolved_at is not None
    final = Letter.objects.get(complaint=complaint, kind=LetterKind.FINAL)
    assert "upheld" in final.body and "A £20 credit for the trouble." in final.body
    assert "Leader Person" in final.body
    billing_case.refresh_from_db()
    assert billing_case.status == Status.RESOLVED

    s.complaint_follow_up(by=leader, complaint=complaint, confidence_restored=True,
                          note="Happy with the credit.")
    s.complaint_close(by=leader, complaint=complaint)
    assert complaint.stage == Stage.CLOSED and complaint.confidence_restored is True
    billing_case.refresh_from_db()
    assert billing_case.status == Status.CLOSED
    with pytest.raises(ValidationError, match="closed"):
        s.complaint_update(by=leader, complaint=complaint, product="Kettle")


def test_acknowledging_twice_is_refused(org, complaint):
    s.complaint_acknowledge(by=org.leader.user, complaint=complaint, send_letter=False)
    assert not Letter.objects.exists()
    with pytest.raises(ValidationError, match="already been acknowledged"):
        s.complaint_acknowledge(by=org.leader.user, complaint=complaint)


# -- the bad-input rules ----------------------------------------------------------------------


def test_an_upheld_complaint_cannot_close_without_a_root_cause(org, complaint, general):
    _resolve(complaint, org.leader, outcome="partly_upheld")
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_close(by=org.leader.user, complaint=complaint)
    assert "cannot close without at least one root cause" in errors_of(excinfo)["causes"][0]
    s.cause_add(by=org.leader.user, complaint=complaint, cause=Cause.objects.first())
    s.complaint_close(by=org.leader.user, complaint=complaint)
    assert complaint.stage == Stage.CLOSED


def test_a_not_upheld_complaint_or_a_regime_without_the_rule_closes_without_a_cause(
        org, log, complaint, manager_user=None):
    _resolve(complaint, org.leader, outcome="not_upheld")
    s.complaint_close(by=org.leader.user, complaint=complaint)
    relaxed = s.regime_save(by=org.manager.user, key="relaxed", name="Relaxed", final_days=10,
                            root_cause_required=False)
    other = log(regime=relaxed)
    _resolve(other, org.leader)
    s.complaint_close(by=org.leader.user, complaint=other)
    assert other.stage == Stage.CLOSED


def test_closing_needs_the_outcome_first(org, complaint):
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_close(by=org.leader.user, complaint=complaint)
    assert "Record the outcome" in errors_of(excinfo)["outcome"][0]


def test_a_scheduled_follow_up_must_be_recorded_before_closing(org, complaint):
    s.cause_add(by=org.leader.user, complaint=complaint, cause=Cause.objects.first())
    _resolve(complaint, org.leader, follow_up_due=timezone.localdate())
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_close(by=org.leader.user, complaint=complaint)
    assert "Record the follow-up" in errors_of(excinfo)["follow_up_due"][0]


def test_a_follow_up_before_the_resolution_is_refused(org, complaint):
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_follow_up(by=org.leader.user, complaint=complaint,
                              confidence_restored=True, note="Fine")
    assert "A follow-up comes after the resolution" in errors_of(excinfo)["stage"][0]


def test_a_gesture_over_the_approvers_limit_is_refused_naming_the_limit(org, complaint):
    s.gesture_add(by=org.leader.user, complaint=complaint, kind="refund", amount="60")
    with pytest.raises(ValidationError) as excinfo:
        s.gesture_add(by=org.leader.user, complaint=complaint, kind="credit", amount=50)
    message = errors_of(excinfo)["amount"][0]
    assert "£110.00" in message and "approval limit of £100.00" in message
    assert "team leader" in message
    # A manager may approve up to £500 in all.
    s.gesture_add(by=org.manager.user, complaint=complaint, kind="credit", amount=50)
    assert sum(g.amount for g in complaint.gestures.all()) == Decimal("110.00")
    with pytest.raises(ValidationError, match="negative"):
        s.gesture_add(by=org.manager.user, complaint=complaint, kind="credit", amount=-5)


def test_purchase_dates_in_the_future_or_out_of_order_are_refused(org, complaint):
    today = timezone.localdate()
    leader = org.leader.user
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_update(by=leader, complaint=complaint, purchase_kind="goods",
                           purchased_on=today + timedelta(days=1))
    assert "cannot be in the future" in errors_of(excinfo)["purchased_on"][0]
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_update(by=leader, complaint=complaint, purchased_on=today - timedelta(10),
                           delivered_on=today - timedelta(12))
    assert "cannot be before the purchase date" in errors_of(excinfo)["delivered_on"][0]
    s.complaint_update(by=leader, complaint=complaint, purchase_kind="goods",
                       purchased_on=today - timedelta(10), delivered_on=today - timedelta(8))
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_update(by=leader, complaint=complaint, fault_reported_on=today - timedelta(9))
    assert "before the delivery" in errors_of(excinfo)["fault_reported_on"][0]
    complaint.refresh_from_db()
    assert complaint.fault_reported_on is None
    guidance = complaint_remedies(complaint, today)
    assert guidance.options[0].remedy == "short_term_right_to_reject"


def test_unknown_fields_are_refused(org, complaint):
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_update(by=org.leader.user, complaint=complaint, final_due=timezone.now())
    assert "final_due" in errors_of(excinfo)


def test_a_summary_resolution_only_within_the_regimes_window(org, log, fca, complaint):
    with pytest.raises(ValidationError) as excinfo:
        _resolve(complaint, org.leader, summary=True)  # the general regime has none
    assert "no summary resolution" in errors_of(excinfo)["summary"][0]

    late = log(regime=fca, received_at=timezone.now() - timedelta(days=10))
    with pytest.raises(ValidationError) as excinfo:
        _resolve(late, org.leader, summary=True)
    assert "send a final response instead" in errors_of(excinfo)["summary"][0]

    quick = log(regime=fca, subject="Quick one")
    _resolve(quick, org.leader, outcome="upheld", summary=True)
    assert quick.summary_resolution and quick.stage == Stage.RESOLVE
    letter = Letter.objects.get(complaint=quick)
    assert letter.kind == LetterKind.SUMMARY
    assert "Financial Ombudsman Service" in letter.body


def test_a_follow_up_cannot_be_scheduled_in_the_past(org, complaint):
    with pytest.raises(ValidationError) as excinfo:
        _resolve(complaint, org.leader, follow_up_due=timezone.localdate() - timedelta(1))
    assert "follow_up_due" in errors_of(excinfo)


# -- escalation and the ombudsman -------------------------------------------------------------


def test_escalation_goes_to_a_senior_handler_who_is_told(org, complaint, tech_leader,
                                                         billing_case):
    leader = org.leader.user
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_escalate(by=leader, complaint=complaint, to=org.agent, reason="Angry")
    assert "cannot handle complaints" in errors_of(excinfo)["to"][0]
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_escalate(by=leader, complaint=complaint, to=tech_leader, reason="Angry")
    assert "cannot see cases of Billing" in errors_of(excinfo)["to"][0]
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_escalate(by=leader, complaint=complaint, to=org.manager, reason=" ")
    assert "reason" in errors_of(excinfo)

    s.complaint_escalate(by=leader, complaint=complaint, to=org.manager,
                         reason="Third contact, threatens to go to the press")
    assert complaint.escalated_to == org.manager and complaint.escalated_at
    event = CaseEvent.objects.get(case=billing_case, kind=EventKind.ESCALATED)
    assert event.data["reason"] == "Third contact, threatens to go to the press"
    assert Notification.objects.filter(recipient=org.manager, case=billing_case).count() == 1


def test_assigning_a_handler_needs_someone_who_handles_complaints(org, complaint):
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_assign(by=org.leader.user, complaint=complaint, handler=org.agent)
    assert "handler" in errors_of(excinfo)
    s.complaint_assign(by=org.leader.user, complaint=complaint, handler=org.manager)
    assert complaint.handler == org.manager
    assert Notification.objects.filter(recipient=org.manager).exists()


def test_referral_to_the_ombudsman_only_where_the_regime_names_one_and_in_time(
        org, log, fca, complaint, billing_case):
    leader = org.leader.user
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_refer_to_ombudsman(by=leader, complaint=complaint, reference="X1")
    assert "names no ombudsman" in errors_of(excinfo)["regime"][0]

    fresh = log(regime=fca)
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_refer_to_ombudsman(by=leader, complaint=fresh, reference="PNX-1")
    assert "once our final response has gone" in errors_of(excinfo)["at"][0]

    overdue = log(regime=fca, received_at=timezone.now() - timedelta(days=60))
    s.complaint_refer_to_ombudsman(by=leader, complaint=overdue, reference="PNX-2")
    assert overdue.ombudsman_reference == "PNX-2" and overdue.ombudsman_referred_at
    assert CaseEvent.objects.filter(case=overdue.case, kind=EventKind.ESCALATED,
                                    to_value="ombudsman").exists()
    with pytest.raises(ValidationError, match="already been referred"):
        s.complaint_refer_to_ombudsman(by=leader, complaint=overdue, reference="PNX-3")

    _resolve(fresh, org.leader)
    with pytest.raises(ValidationError) as excinfo:
        s.complaint_refer_to_ombudsman(by=leader, complaint=fresh, reference="PNX-4",
                                       at=timezone.now() + timedelta(days=1))
    assert "future" in errors_of(excinfo)["at"][0]
    s.complaint_refer_to_ombudsman(by=leader, complaint=fresh, reference="PNX-4")


# -- letters ----------------------------------------------------------------------------------


def test_the_fca_final_letter_gives_the_ombudsman_rights_and_deadline(org, log, fca):
    complaint = log(regime=fca)
    _resolve(complaint, org.leader, outcome="not_upheld")
    letter = Letter.objects.get(complaint=complaint, kind=LetterKind.FINAL)
    today = timezone.localdate()
    month = today.month + 6
    year, month = today.year + (month - 1) // 12, (month - 1) % 12 + 1
    assert "Financial Ombudsman Service" in letter.body
    assert "within 6 months" in letter.body
    assert f"{year}" in letter.body and today.replace(year=year, month=month, day=1).strftime(
        "%B") in letter.body
    assert "your complaint is not upheld" in letter.body
    assert "{" not in letter.body and letter.message.body == letter.body


def test_the_fca_holding_letter_says_the_customer_may_go_to_the_ombudsman_now(org, log, fca):
    complaint = log(regime=fca)
    letter = s.complaint_send_holding(by=org.leader.user, complaint=complaint)
    assert letter.kind == LetterKind.HOLDING
    assert "refer your complaint to the Financial Ombudsman Service now" in letter.body
    assert "6 months" in letter.body
    complaint.refresh_from_db()
    assert complaint.holding_sent_at == letter.sent_at


def test_every_shipped_template_renders_with_no_placeholder_left(org, log, fca, general):
    for regime in (general, fca):
        complaint = log(regime=regime, subject=f"Template check {regime.key}")
        for kind in LetterKind.values:
            subject, body = s.letter_render(complaint=complaint, kind=kind)
            assert subject and "{" not in subject and "{" not in body, (regime.key, kind)
            assert "Ada Lovelace" in body


def test_a_letter_can_be_edited_before_it_goes(org, complaint, billing_case):
    letter = s.letter_send(by=org.leader.user, complaint=complaint, kind="acknowledgement",
                           subject="Got it", body="Dear Ada, we have your complaint.")
    assert letter.body == "Dear Ada, we have your complaint."
    assert Message.objects.get(pk=letter.message_id).kind == MessageKind.REPLY
    complaint.refresh_from_db()
    assert complaint.acknowledged_at == letter.sent_at
    with pytest.raises(ValidationError) as excinfo:
        s.letter_send(by=org.leader.user, complaint=complaint, kind="holding", body=" ")
    assert "body" in errors_of(excinfo)


def test_template_placeholders_are_checked_when_saved(org, fca):
    manager = org.manager.user
    with pytest.raises(ValidationError) as excinfo:
        s.letter_template_save(by=manager, kind="acknowledgement", subject="Hello",
                               body="Dear {customer_nme}, thanks.")
    assert "{customer_nme}" in errors_of(excinfo)["body"][0]
    with pytest.raises(ValidationError) as excinfo:
        s.letter_template_save(by=manager, kind="final", regime=fca, subject="Final",
                               body="Dear {customer_name}, no.")
    assert "{ombudsman_name}" in errors_of(excinfo)["body"][0]
    with pytest.raises(PermissionDenied):
        s.letter_template_save(by=org.leader.user, kind="acknowledgement", subject="Hi",
                               body="Dear {customer_name}")
    template = s.letter_template_save(by=manager, kind="acknowledgement", subject="Hello",
                                      body="Dear {customer_name}, thanks.")
    assert template == LetterTemplate.objects.get(kind="acknowledgement", regime=None)
    template.body = "Dear {customer_name}, thank you."
    s.letter_template_save(by=manager, template=template)
    assert LetterTemplate.objects.get(pk=template.pk).body.endswith("thank you.")


# -- actions ----------------------------------------------------------------------------------


def test_actions_need_sane_dates_and_are_checked_only_when_done_and_due(org, complaint):
    leader = org.leader.user
    today = timezone.localdate()
    with pytest.raises(ValidationError) as excinfo:
        s.action_create(by=leader, kind="corrective", description="Fix", owner=org.agent,
                        due_on=today - timedelta(1), complaint=complaint)
    assert "past" in errors_of(excinfo)["due_on"][0]
    with pytest.raises(ValidationError) as excinfo:
        s.action_create(by=leader, kind="corrective", description="Fix", owner=org.agent,
                        due_on=today + timedelta(5), check_on=today, complaint=complaint)
    assert "check_on" in errors_of(excinfo)
    action = s.action_create(by=leader, kind="preventive", owner=org.agent,
                             description="Move the payment file cut-off to 14:00",
                             due_on=today, check_on=today, complaint=complaint)
    assert Notification.objects.filter(recipient=org.agent).exists()
    with pytest.raises(ValidationError, match="once it is done"):
        s.action_check(by=leader, action=action, effect="effective")
    # The owner records their own progress, but cannot move the due date.
    with pytest.raises(PermissionDenied):
        s.action_update(by=org.agent.user, action=action, due_on=today + timedelta(3))
    action = s.action_update(by=org.agent.user, action=action, state="done")
    assert action.done_at is not None
    action = s.action_check(by=org.agent.user, action=action, effect="effective",
                            note="No late files since")
    assert action.effect == "effective"
    with pytest.raises(ValidationError, match="already been recorded"):
        s.action_check(by=leader, action=action, effect="not_effective")


def test_an_effectiveness_check_waits_for_its_date(org, complaint):
    today = timezone.localdate()
    action = s.action_create(by=org.leader.user, kind="corrective", owner=org.leader,
                             description="Refund the fee", due_on=today,
                             check_on=today + timedelta(30), complaint=complaint)
    s.action_update(by=org.leader.user, action=action, state="done")
    with pytest.raises(ValidationError, match="record it then"):
        s.action_check(by=org.leader.user, action=action, effect="effective")


def test_actions_due_lists_what_needs_the_owner_and_the_handler(org, complaint):
    today = timezone.localdate()
    mine = s.action_create(by=org.leader.user, kind="corrective", owner=org.agent,
                           description="Call the customer back", due_on=today,
                           complaint=complaint)
    later = s.action_create(by=org.leader.user, kind="corrective", owner=org.agent,
                            description="Update the script", due_on=today + timedelta(7))
    assert list(actions_due(org.agent.user, today)) == [mine]
    assert list(actions_due(org.leader.user, today)) == [mine]
    assert set(actions_due(org.agent.user, today + timedelta(7))) == {mine, later}
    assert not actions_due(org.outsider.user, today).exists()


def test_an_action_links_to_an_improvement_initiative(org, complaint):
    from serviceops.insights.models import Initiative, Objective

    objective = Objective.objects.create(perspective="customer", name="Fewer repeat complaints")
    initiative = Initiative.objects.create(objective=objective, name="Payment file timing")
    action = s.action_create(by=org.leader.user, kind="preventive", owner=org.leader,
                             description="Automate the file", due_on=timezone.localdate(),
                             complaint=complaint)
    s.action_link(by=org.leader.user, action=action, initiative=initiative)
    assert Action.objects.get(pk=action.pk).initiative == initiative
    with pytest.raises(PermissionDenied):
        s.action_link(by=org.agent.user, action=action, initiative=None)


# -- root causes ------------------------------------------------------------------------------


def test_causes_are_chosen_once_and_the_catalogue_refuses_duplicates(org, complaint):
    leader = org.leader.user
    cause = s.cause_create(by=leader, category="process", name="Refund approval queue")
    s.cause_add(by=leader, complaint=complaint, cause=cause)
    with pytest.raises(ValidationError, match="already a root cause"):
        s.cause_add(by=leader, complaint=complaint, cause=cause)
    with pytest.raises(ValidationError) as excinfo:
        s.cause_create(by=leader, category="process", name="refund approval QUEUE")
    assert "already has the cause" in errors_of(excinfo)["name"][0]
    with pytest.raises(ValidationError):
        s.cause_create(by=leader, category="weather", name="Snow")
    s.cause_remove(by=leader, complaint=complaint, cause=cause)
    assert not complaint.causes.exists()
    with pytest.raises(ValidationError, match="is not a root cause"):
        s.cause_remove(by=leader, complaint=complaint, cause=cause)
    with pytest.raises(ValidationError, match="At most 10"):
        s.whys_set(by=leader, complaint=complaint, answers=[f"why {n}" for n in range(11)])


# -- deadlines on the page --------------------------------------------------------------------


def test_deadline_status_says_met_missed_or_open(org, log, fca):
    received = timezone.now() - timedelta(days=20)
    complaint = log(regime=fca, received_at=received)
    now = timezone.now()
    states = {d.key: d for d in deadline_status(complaint, now)}
    assert states["acknowledge"].state == DeadlineState.MISSED
    assert states["acknowledge"].time_left < timedelta(0)
    assert states["summary"].state == DeadlineState.LAPSED
    assert states["final"].state == DeadlineState.OPEN
    assert states["final"].time_left > timedelta(days=30)
    s.complaint_acknowledge(by=org.leader.user, complaint=complaint)
    _resolve(complaint, org.leader)
    states = {d.key: d for d in deadline_status(complaint, now)}
    assert states["acknowledge"].state == DeadlineState.MISSED  # acknowledged late
    assert states["final"].state == DeadlineState.MET
    assert states["holding"].state == DeadlineState.MET  # the final response made it moot
    assert [d.key for d in deadline_status(complaint, now)][0] == "summary"


# -- settings ---------------------------------------------------------------------------------


def test_the_shipped_regimes_and_limits(general, fca):
    assert (general.acknowledge_days, general.final_days, general.final_business_days) == \
        (2, 20, True)
    assert general.root_cause_required and not general.ombudsman_name
    assert (fca.summary_days, fca.summary_business_days) == (3, True)
    assert (fca.final_days, fca.final_business_days, fca.ombudsman_months) == (56, False, 6)
    assert fca.ombudsman_name == "Financial Ombudsman Service"
    limits = dict(ApprovalLimit.objects.values_list("role", "amount"))
    assert limits == {"agent": 25, "team_leader": 100, "manager": 500,
                      "head_of_service": 2000, "admin": 1_000_000}
    assert Cause.objects.values("category").distinct().count() == 8


def test_regimes_and_limits_are_for_managers_and_checked(org, general):
    manager = org.manager.user
    with pytest.raises(PermissionDenied):
        s.regime_save(by=org.leader.user, regime=general, final_days=15)
    with pytest.raises(ValidationError) as excinfo:
        s.regime_save(by=manager, regime=general, acknowledge_days=30)
    assert "acknowledge_days" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        s.regime_save(by=manager, key="ombuds", name="Ombuds", final_days=20,
                      ombudsman_months=6)
    assert "ombudsman_name" in errors_of(excinfo)
    s.regime_save(by=manager, regime=general, final_days=15)
    assert Regime.objects.get(pk=general.pk).final_days == 15
    with pytest.raises(ValidationError):
        s.approval_limit_set(by=manager, role="agent", amount=-1)
    with pytest.raises(ValidationError):
        s.approval_limit_set(by=manager, role="wizard", amount=10)
    s.approval_limit_set(by=manager, role="agent", amount="40")
    assert ApprovalLimit.objects.get(role="agent").amount == Decimal("40.00")
