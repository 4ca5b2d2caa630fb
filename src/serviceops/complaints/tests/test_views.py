"""The complaint pages: logging from a case, the whole handling path through the forms, the
refusals shown to the handler, and who may see or change what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from serviceops.complaints.models import Action, Cause, Complaint, Gesture, Letter, Regime


@pytest.fixture
def leader_client(client, org):
    client.force_login(org.leader.user)
    return client


def _log(client, case=None, **extra):
    data = {"regime": Regime.objects.get(key="general").pk,
            "received_at": (timezone.localtime() - timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"),
            "channel": "email", "account": "My refund never arrived.",
            "desired_outcome": "The refund, and an apology.", "severity": 2,
            "subject": "Refund missing", **extra}
    if case is not None:
        data["case"] = case.pk
    return client.post(reverse("complaints:new"), data)


def test_a_case_becomes_a_complaint_and_shows_its_deadlines(leader_client, org, billing_case):
    response = _log(leader_client, billing_case)
    complaint = Complaint.objects.get()
    assert response.url == reverse("complaints:detail", args=[complaint.pk])
    assert complaint.case == billing_case and complaint.team == org.billing
    page = leader_client.get(response.url).content.decode()
    assert "My refund never arrived." in page and "Deadlines (" in page
    assert "Acknowledge" in page
    case_page = leader_client.get(reverse("cases:detail", args=[billing_case.pk]))
    assert reverse("complaints:detail", args=[complaint.pk]) in case_page.content.decode()


def test_from_receipt_to_restored_confidence(leader_client, org, billing_case):
    _log(leader_client, billing_case)
    complaint = Complaint.objects.get()
    url = reverse("complaints:detail", args=[complaint.pk])

    def post(name, data=None):
        response = leader_client.post(reverse(f"complaints:{name}", args=[complaint.pk]),
                                      data or {}, follow=True)
        return response.content.decode()

    post("acknowledge")
    complaint.refresh_from_db()
    assert complaint.acknowledged_at is not None and complaint.stage == "investigate"
    assert Letter.objects.filter(complaint=complaint, kind="acknowledgement").exists()
    post("checklist", {"listened": "on", "empathised": "on", "apologised": "on",
                       "outcome_agreed": "on", "next_steps_explained": "on"})
    post("whys", {"why1": "The refund was not issued", "why2": "The return was not logged"})
    cause = Cause.objects.first()
    post("cause_add", {"cause": cause.pk, "note": "Returns desk backlog"})
    post("action_add", {"kind": "preventive", "description": "Log returns on receipt",
                        "owner": org.leader.pk,
                        "due_on": (timezone.localdate() + timedelta(days=14)).isoformat()})
    assert Action.objects.filter(complaint=complaint).count() == 1
    post("gesture_add", {"kind": "goodwill_gift", "amount": "20.00", "note": "Flowers"})
    assert Gesture.objects.filter(complaint=complaint).count() == 1
    page = post("resolve", {"outcome": "upheld", "resolution": "Refund issued today.",
                            "remedy": "Full refund and £20 gift",
                            "follow_up_due": (timezone.localdate() + timedelta(days=7))
                            .isoformat()})
    complaint.refresh_from_db()
    assert complaint.resolved_at is not None and complaint.outcome == "upheld"
    assert "Follow up" in page
    post("follow_up", {"confidence_restored": "yes", "note": "Happy now"})
    post("close")
    complaint.refresh_from_db()
    assert complaint.confidence_restored is True and complaint.stage == "closed"
    assert "Closed" in leader_client.get(url).content.decode()


def test_refusals_are_shown_on_the_page(leader_client, org, billing_case):
    _log(leader_client, billing_case)
    complaint = Complaint.objects.get()
    follow_up = leader_client.post(reverse("complaints:follow_up", args=[complaint.pk]),
                                   {"confidence_restored": "yes"}, follow=True)
    assert 'class="alert"' in follow_up.content.decode()
    leader_client.post(reverse("complaints:resolve", args=[complaint.pk]),
                       {"outcome": "upheld", "resolution": "Sorted."})
    closing = leader_client.post(reverse("complaints:close", args=[complaint.pk]), follow=True)
    complaint.refresh_from_db()
    assert complaint.stage != "closed" and "root cause" in closing.content.decode().lower()
    too_much = leader_client.post(reverse("complaints:gesture_add", args=[complaint.pk]),
                                  {"kind": "refund", "amount": "5000"}, follow=True)
    assert not Gesture.objects.exists() and "limit" in too_much.content.decode().lower()
    future = _log(leader_client, None, received_at=(
        timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    assert future.status_code == 200 and Complaint.objects.count() == 1


def test_remedy_guidance_on_the_complaint(leader_client, billing_case):
    _log(leader_client, billing_case)
    complaint = Complaint.objects.get()
    today = timezone.localdate()
    leader_client.post(reverse("complaints:details", args=[complaint.pk]), {
        "severity": 2, "purchase_kind": "goods",
        "purchased_on": (today - timedelta(days=10)).isoformat(),
        "fault_reported_on": today.isoformat(), "repairs_or_replacements": 0})
    page = leader_client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "Short term right to reject" in page and "s.22" in page


def test_who_sees_and_changes_what(client, org, billing_case):
    client.force_login(org.leader.user)
    _log(client, billing_case)
    complaint = Complaint.objects.get()
    url = reverse("complaints:detail", args=[complaint.pk])
    client.force_login(org.outsider.user)  # another team's agent
    assert client.get(url).status_code == 404
    client.force_login(org.assessor.user)
    page = client.get(url).content.decode()
    assert client.get(url).status_code == 200 and "Resolve and send" not in page
    client.post(reverse("complaints:acknowledge", args=[complaint.pk]))
    complaint.refresh_from_db()
    assert complaint.acknowledged_at is None
    client.force_login(org.agent.user)  # the agent logs, and sees their own
    unknown = _log(client, None, team=org.billing.pk, subject="Rude call",
                   customer_email="nobody@example.org")
    assert "No customer has this email" in unknown.content.decode()
    response = _log(client, None, team=org.billing.pk, subject="Rude call",
                    customer_email="ADA@example.org")
    mine = Complaint.objects.exclude(pk=complaint.pk).get()
    assert response.url == reverse("complaints:detail", args=[mine.pk])
    assert mine.customer == org.customer and mine.case.customer == org.customer
    listing = client.get(reverse("complaints:list"), {"show": "all"}).content.decode()
    assert "Rude call" in listing


def test_an_action_links_to_an_improvement_initiative(leader_client, org, billing_case):
    from serviceops.insights.models import Initiative, Objective

    objective = Objective.objects.create(perspective="process", name="Fewer repeat contacts")
    initiative = Initiative.objects.create(objective=objective, name="Returns desk redesign")
    _log(leader_client, billing_case)
    complaint = Complaint.objects.get()
    leader_client.post(reverse("complaints:action_add", args=[complaint.pk]), {
        "kind": "preventive", "description": "Log returns on receipt", "owner": org.leader.pk,
        "due_on": (timezone.localdate() + timedelta(days=14)).isoformat()})
    action = Action.objects.get()
    page = leader_client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "Returns desk redesign" in page
    leader_client.post(reverse("complaints:action_link", args=[action.pk]),
                       {"initiative": initiative.pk})
    action.refresh_from_db()
    assert action.initiative == initiative
    leader_client.force_login(org.outsider.user)
    assert leader_client.post(reverse("complaints:action_link", args=[action.pk]),
                              {"initiative": ""}).status_code == 404
