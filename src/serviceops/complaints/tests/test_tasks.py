"""The reminder job: who is told when a deadline is near or missed, or an action overdue,
and that nobody is told the same thing twice."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from serviceops.complaints import services as s
from serviceops.complaints.deadlines import warning_from
from serviceops.complaints.models import Reminder
from serviceops.complaints.reminders import reminders_send
from serviceops.complaints.tasks import complaint_reminders_job
from serviceops.sla.models import Notification


def texts_for(staff) -> list[str]:
    return list(Notification.objects.filter(recipient=staff).values_list("text", flat=True))


def test_a_near_acknowledgement_reminds_the_handler_once(org, complaint):
    now = warning_from(complaint.acknowledge_due) + timedelta(minutes=1)
    assert reminders_send(now=now) == 1
    assert reminders_send(now=now + timedelta(minutes=15)) == 0
    [text] = texts_for(org.leader)
    assert "acknowledgement is due by" in text and f"#{complaint.case_id}" in text
    assert not texts_for(org.manager)  # near: only the handler


def test_nothing_is_sent_before_a_deadline_is_near(org, complaint):
    assert reminders_send(now=warning_from(complaint.acknowledge_due) - timedelta(hours=1)) == 0
    assert not Notification.objects.exists()


def test_a_missed_final_response_tells_the_handler_leaders_and_managers_once(
        org, log, tech_leader):
    complaint = log(received_at=timezone.now() - timedelta(days=40))  # the leader handles it
    now = timezone.now()
    # Acknowledgement and final response both missed: one reminder each.
    assert reminders_send(now=now) == 2
    assert reminders_send(now=now) == 0
    assert complaint_reminders_job.call_local() == 0  # the scheduled job: the same sweep
    assert Reminder.objects.filter(complaint=complaint).count() == 2
    assert len(texts_for(org.leader)) == 2 and len(texts_for(org.manager)) == 2
    assert any("Overdue complaint" in t and "final response" in t
               for t in texts_for(org.leader))
    assert not texts_for(tech_leader) and not texts_for(org.agent)


def test_an_unhandled_complaint_near_its_deadline_goes_to_the_team_leaders(org, log):
    complaint = log(by=org.agent)
    now = warning_from(complaint.acknowledge_due) + timedelta(minutes=1)
    reminders_send(now=now)
    assert len(texts_for(org.leader)) == 1


def test_resolved_and_acknowledged_complaints_need_no_reminder(org, log):
    resolved = log(received_at=timezone.now() - timedelta(days=40))
    s.complaint_acknowledge(by=org.leader.user, complaint=resolved, send_letter=False)
    s.complaint_resolve(by=org.leader.user, complaint=resolved, outcome="not_upheld",
                        resolution="The fee was in the terms.")
    Notification.objects.all().delete()
    assert reminders_send(now=timezone.now()) == 0
    assert not Notification.objects.exists()


def test_an_fca_complaint_gets_one_eight_week_reminder_naming_the_holding_response(
        org, log, fca):
    complaint = log(regime=fca, received_at=timezone.now() - timedelta(days=57))
    s.complaint_acknowledge(by=org.leader.user, complaint=complaint, send_letter=False)
    Notification.objects.all().delete()
    assert reminders_send(now=timezone.now()) == 1
    [text] = texts_for(org.leader)
    assert "final response (or a holding response explaining the delay)" in text


def test_overdue_actions_and_due_checks_remind_their_owners_once(org, complaint):
    today = timezone.localdate()
    overdue = s.action_create(by=org.leader.user, kind="corrective", owner=org.agent,
                              description="Call the customer back", due_on=today,
                              complaint=complaint)
    checked = s.action_create(by=org.leader.user, kind="preventive", owner=org.agent2,
                              description="Move the cut-off", due_on=today, check_on=today,
                              complaint=complaint)
    s.action_update(by=org.agent2.user, action=checked, state="done")
    s.complaint_acknowledge(by=org.leader.user, complaint=complaint, send_letter=False)
    Notification.objects.all().delete()
    tomorrow = timezone.now() + timedelta(days=1)
    # Tomorrow the first action is overdue; the check fell due today. The complaint's own
    # final response is weeks away.
    assert reminders_send(now=tomorrow) == 2
    assert reminders_send(now=tomorrow) == 0
    assert any("Overdue action" in t for t in texts_for(org.agent))
    assert any("Overdue action" in t for t in texts_for(org.leader))
    assert ["Check whether this action worked" in t for t in texts_for(org.agent2)] == [True]
    # A new due date is a new promise: missing it is reminded again.
    s.action_update(by=org.leader.user, action=overdue, due_on=today + timedelta(days=1))
    assert reminders_send(now=tomorrow + timedelta(days=1)) == 1
