"""Complaints API: the path from receipt to confirmed restoration of confidence, who may read
or change what (an agent sees their own; another team's leader gets a 404; an assessor reads
and every write is a 403), and refusals reported as 422 with the field named."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from serviceops.cases.services import case_create
from serviceops.complaints.models import Cause, Complaint, Letter
from serviceops.core.tokens import api_token_create


@pytest.fixture
def call(client):
    tokens = {}

    def _call(staff, method, path, body=None):
        if staff.pk not in tokens:
            tokens[staff.pk] = api_token_create(user=staff.user, name="test")[1]
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {tokens[staff.pk]}"}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(f"/api/complaints{path}", **kwargs)

    return _call


def _received(hours: int = 2) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def _log_body(**extra) -> dict:
    return {"regime": "general", "received_at": _received(), "channel": "email",
            "account": "My refund never arrived.", "desired_outcome": "The refund.", **extra}


def _fields(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {e["field"] for e in response.json()["errors"]}


def test_from_receipt_to_restored_confidence_through_the_api(call, org, billing_case):
    today = timezone.localdate()
    logged = call(org.leader, "post", "", _log_body(case_id=billing_case.pk, severity=3))
    assert logged.status_code == 201, logged.content
    complaint = logged.json()
    cid = complaint["id"]
    assert complaint["case_id"] == billing_case.pk and complaint["stage"] == "acknowledge"
    assert complaint["handler_id"] == org.leader.pk
    assert [d["key"] for d in complaint["deadlines"]] == ["acknowledge", "final"]
    assert all(d["state"] == "open" and d["seconds_left"] > 0 for d in complaint["deadlines"])

    acknowledged = call(org.leader, "post", f"/{cid}/acknowledge")
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["stage"] == "investigate"
    assert acknowledged.json()["deadlines"][0]["state"] == "met"
    assert [letter["kind"] for letter in acknowledged.json()["letters"]] == ["acknowledgement"]

    patched = call(org.leader, "patch", f"/{cid}", {
        "listened": True, "empathised": True, "apologised": True, "outcome_agreed": True,
        "next_steps_explained": True, "purchase_kind": "goods",
        "purchased_on": (today - timedelta(days=10)).isoformat()})
    assert patched.status_code == 200, patched.content
    assert patched.json()["listened"] and patched.json()["next_steps_explained"]
    remedies = call(org.leader, "get", f"/{cid}/remedies").json()
    assert [o["remedy"] for o in remedies["options"]][0] == "short_term_right_to_reject"

    whys = call(org.leader, "put", f"/{cid}/whys",
                {"answers": ["The refund was not issued", "", "The return was not logged"]})
    assert [w["position"] for w in whys.json()] == [1, 2]
    catalogue = call(org.leader, "get", "/causes?category=process").json()
    assert catalogue and {c["category"] for c in catalogue} == {"process"}
    chosen = call(org.leader, "post", f"/{cid}/causes",
                  {"cause_id": catalogue[0]["id"], "note": "Returns desk backlog"})
    assert chosen.status_code == 201, chosen.content

    action = call(org.leader, "post", f"/{cid}/actions", {
        "kind": "preventive", "description": "Log returns on receipt",
        "owner_id": org.leader.pk, "due_on": (today + timedelta(days=14)).isoformat()})
    assert action.status_code == 201, action.content
    aid = action.json()["id"]
    assert call(org.leader, "patch", f"/actions/{aid}", {"state": "done"}).json()["state"] == \
        "done"
    checked = call(org.leader, "post", f"/actions/{aid}/check", {"effect": "effective"})
    assert checked.status_code == 200 and checked.json()["effect"] == "effective"

    gesture = call(org.leader, "post", f"/{cid}/gestures",
                   {"kind": "goodwill_gift", "amount": "20.00", "note": "Flowers"})
    assert gesture.status_code == 201 and gesture.json()["amount"] == "20.00"
    preview = call(org.leader, "get", f"/{cid}/letters/preview?kind=holding").json()
    assert "{" not in preview["subject"] and str(billing_case.pk) in \
        preview["subject"] + preview["body"]
    assert call(org.leader, "post", f"/{cid}/holding").status_code == 201

    resolved = call(org.leader, "post", f"/{cid}/resolve", {
        "outcome": "upheld", "resolution": "Refund issued today.",
        "remedy": "Full refund and a £20 gift",
        "follow_up_due": (today + timedelta(days=7)).isoformat()})
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["stage"] == "follow_up"
    early = call(org.leader, "post", f"/{cid}/close")
    assert "follow_up_due" in _fields(early)
    followed = call(org.leader, "post", f"/{cid}/follow-up",
                    {"confidence_restored": True, "note": "Happy now"})
    assert followed.json()["confidence_restored"] is True
    closed = call(org.leader, "post", f"/{cid}/close")
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert body["stage"] == "closed" and body["closed_at"] is not None
    assert body["gestures_total"] == "20.00" and len(body["whys"]) == 2
    assert [c["cause_id"] for c in body["causes"]] == [catalogue[0]["id"]]
    assert sorted(letter["kind"] for letter in body["letters"]) == \
        ["acknowledgement", "final", "holding"]
    assert Letter.objects.filter(complaint_id=cid).count() == 3

    figures = call(org.leader, "get", f"/analysis?start={today - timedelta(days=1)}"
                                      f"&end={today}&by=team")
    assert figures.status_code == 200, figures.content
    result = figures.json()
    assert result["totals"]["volume"] == 1 and result["totals"]["uphold_rate"] == 1.0
    assert result["rows"][0]["label"] == "Billing"
    assert result["cause_pareto"][0]["cumulative_share"] == 1.0
    assert result["cost"]["total"] == "20.00"
    assert catalogue[0]["name"] in result["verdict"]
    drill = call(org.leader, "get", f"/analysis/complaints?start={today - timedelta(days=1)}"
                                    f"&end={today}&figure=gestures").json()
    assert [c["id"] for c in drill["items"]] == [cid]


def test_an_agent_logs_complaints_and_sees_only_their_own(call, org):
    mine = call(org.agent, "post", "", _log_body(subject="Refund missing",
                                                 team_id=org.billing.pk,
                                                 customer_id=org.customer.pk))
    assert mine.status_code == 201, mine.content
    assert mine.json()["handler_id"] is None and mine.json()["team_id"] == org.billing.pk
    other_case = case_create(by=org.leader.user, subject="Late delivery", team=org.billing)
    other = call(org.leader, "post", "", _log_body(case_id=other_case.pk)).json()

    listed = call(org.agent, "get", "").json()
    assert [c["id"] for c in listed["items"]] == [mine.json()["id"]]
    assert call(org.agent, "get", f"/{other['id']}").status_code == 404
    assert call(org.agent, "get", f"/{mine.json()['id']}").status_code == 200
    # Agents log and read; handling is for complaint handlers.
    assert call(org.agent, "post", f"/{mine.json()['id']}/acknowledge").status_code == 403
    leader_sees = {c["id"] for c in call(org.leader, "get", "").json()["items"]}
    assert leader_sees == {mine.json()["id"], other["id"]}


def test_another_teams_leader_gets_404_for_every_verb(call, org, tech_leader, billing_case):
    cid = call(org.leader, "post", "", _log_body(case_id=billing_case.pk)).json()["id"]
    assert call(tech_leader, "get", f"/{cid}").status_code == 404
    assert call(tech_leader, "post", f"/{cid}/acknowledge").status_code == 404
    assert call(tech_leader, "patch", f"/{cid}", {"listened": True}).status_code == 404
    assert call(tech_leader, "get", f"/{cid}/remedies").status_code == 404
    assert call(tech_leader, "get", "").json()["items"] == []
    # Nor can they log a complaint on Billing's case: it is not a case they can see.
    assert "case_id" in _fields(call(tech_leader, "post", "", _log_body(
        case_id=billing_case.pk)))
    assert Complaint.objects.filter(stage="acknowledge").count() == 1


def test_an_assessor_reads_everything_and_every_write_is_403(call, org, billing_case):
    cid = call(org.leader, "post", "", _log_body(case_id=billing_case.pk)).json()["id"]
    today = timezone.localdate()
    for path in (f"/{cid}", "", f"/{cid}/remedies", "/causes", "/settings/regimes",
                 "/settings/templates", "/settings/limits", "/actions?show=all",
                 f"/analysis?start={today - timedelta(days=1)}&end={today}"):
        assert call(org.assessor, "get", path).status_code == 200, path
    writes = [
        ("post", "", _log_body()), ("post", f"/{cid}/acknowledge", None),
        ("patch", f"/{cid}", {"listened": True}),
        ("post", f"/{cid}/gestures", {"kind": "apology"}),
        ("put", f"/{cid}/whys", {"answers": ["Because"]}),
        ("post", "/causes", {"category": "process", "name": "Unread post"}),
        ("put", "/settings/limits/agent", {"amount": "50"}),
        ("post", f"/{cid}/letters", {"kind": "holding"}),
    ]
    for method, path, body in writes:
        assert call(org.assessor, method, path, body).status_code == 403, path
    assert Letter.objects.count() == 0 and not Cause.objects.filter(name="Unread post").exists()


def test_settings_are_changed_by_managers_only(call, org):
    raised = call(org.manager, "put", "/settings/limits/team_leader", {"amount": "150"})
    assert raised.status_code == 200 and raised.json()["amount"] == "150.00"
    assert call(org.leader, "put", "/settings/limits/team_leader",
                {"amount": "1000"}).status_code == 403
    bad = call(org.manager, "put", "/settings/templates",
               {"kind": "holding", "regime": None, "subject": "Re {case_number}",
                "body": "Dear {customer_nmae}"})
    assert _fields(bad) == {"body"}
    made = call(org.manager, "post", "/settings/regimes",
                {"key": "quick", "name": "Quick", "final_days": 5, "acknowledge_days": 1})
    assert made.status_code == 201, made.content
    too_late = call(org.manager, "patch", f"/settings/regimes/{made.json()['id']}",
                    {"acknowledge_days": 9})
    assert _fields(too_late) == {"acknowledge_days"}


def test_bad_input_is_a_422_that_names_the_field(call, org, billing_case):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert _fields(call(org.leader, "post", "", _log_body(
        case_id=billing_case.pk, received_at=future))) == {"received_at"}
    assert "severity" in _fields(call(org.leader, "post", "", _log_body(severity="high")))
    cid = call(org.leader, "post", "", _log_body(case_id=billing_case.pk)).json()["id"]

    early = call(org.leader, "post", f"/{cid}/follow-up", {"confidence_restored": True})
    assert _fields(early) == {"stage"}
    assert "resolution" in early.json()["detail"]
    # A team leader may approve £100 on one complaint.
    over = call(org.leader, "post", f"/{cid}/gestures", {"kind": "refund", "amount": "150"})
    assert _fields(over) == {"amount"} and "approval limit" in over.json()["detail"]
    assert _fields(call(org.leader, "post", f"/{cid}/escalate",
                        {"to_id": org.agent.pk, "reason": "Threat of press"})) == {"to_id"}
    assert _fields(call(org.leader, "patch", f"/{cid}", {
        "purchased_on": (timezone.localdate() + timedelta(days=3)).isoformat()})) == \
        {"purchased_on"}

    call(org.leader, "post", f"/{cid}/resolve",
         {"outcome": "upheld", "resolution": "Refund issued."})
    refused = call(org.leader, "post", f"/{cid}/close")
    assert _fields(refused) == {"causes"} and "root cause" in refused.json()["detail"]
    assert Complaint.objects.get(pk=cid).stage == "resolve"


def test_the_register_filters_and_pages(call, org):
    ids = [call(org.leader, "post", "", _log_body(team_id=org.billing.pk,
                                                  received_at=_received(hours=h))).json()["id"]
           for h in (1, 30, 60)]
    first = call(org.leader, "get", "?limit=2").json()
    second = call(org.leader, "get", f"?limit=2&after={first['next']}").json()
    assert [c["id"] for c in first["items"] + second["items"]] == ids[::-1]
    assert second["next"] is None
    today = timezone.localdate()
    recent = call(org.leader, "get", f"?received_from={today}").json()["items"]
    assert ids[0] in {c["id"] for c in recent} and ids[2] not in {c["id"] for c in recent}
    assert call(org.leader, "get", "?stage=investigate").json()["items"] == []
    assert _fields(call(org.leader, "get", "?stage=pending")) == {"stage"}
    assert call(org.leader, "get", "?show=overdue").json()["items"] == []


def test_the_openapi_schema_builds_with_the_complaint_paths(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/complaints/{complaint_id}/resolve" in paths
    assert "/api/complaints/analysis" in paths
