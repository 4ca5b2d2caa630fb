import json

import pytest

from serviceops.cases.models import Case, CaseEvent
from serviceops.cases.services import case_create
from serviceops.core.tokens import api_token_create, api_token_revoke


@pytest.fixture
def call(client):
    def _call(staff, method, path, body=None, token=None):
        if token is None:
            _, token = api_token_create(user=staff.user, name="test")
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if body is not None:
            kwargs.update(data=body if isinstance(body, str) else json.dumps(body),
                          content_type="application/json")
        return getattr(client, method)(f"/api{path}", **kwargs)

    return _call


def test_list_is_scoped_filtered_and_paged_with_a_keyset_cursor(call, org):
    for i in range(5):
        case_create(by=org.agent.user, subject=f"b{i}", team=org.billing,
                    impact=1 if i == 0 else 2, urgency=1 if i == 0 else 2)
    hidden = case_create(by=org.outsider.user, subject="tech", team=org.technical)
    first = call(org.agent, "get", "/cases?limit=3").json()
    assert len(first["items"]) == 3 and first["next"]
    second = call(org.agent, "get", f"/cases?limit=3&after={first['next']}").json()
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 5 and hidden.pk not in ids and second["next"] is None
    urgent = call(org.agent, "get", "/cases?priority=1").json()["items"]
    assert [c["subject"] for c in urgent] == ["b0"]
    bad = call(org.agent, "get", "/cases?status=bogus")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_create_returns_201_and_records_the_created_event(call, org):
    response = call(org.agent, "post", "/cases", {
        "subject": "Card swallowed", "team_id": org.billing.pk, "customer_id": org.customer.pk,
        "channel": "phone", "impact": 1, "urgency": 2, "tags": ["ATM", " atm ", "Cash"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["priority"] == 2 and body["tags"] == ["atm", "cash"]
    assert body["customer_adjustments"] == [{"kind": "large_print", "detail": "18pt"}]
    assert CaseEvent.objects.filter(case_id=body["id"], kind="created").exists()
    # The answer is built from what was written, and says what reading the case back says.
    assert call(org.agent, "get", f"/cases/{body['id']}").json() == body


def test_creating_a_case_through_the_api_takes_a_fixed_few_queries(
        call, org, django_assert_max_num_queries):
    _, token = api_token_create(user=org.agent.user, name="count")
    # The token (and its first use), the team, the membership check, the transaction around
    # the case, its event and the refresh it owes; nothing read back for the answer.
    with django_assert_max_num_queries(9):
        response = call(org.agent, "post", "/cases", {
            "subject": "Card swallowed", "team_id": org.billing.pk}, token=token)
    assert response.status_code == 201


def test_patch_is_all_or_nothing_and_names_the_refused_field(call, org, billing_case):
    response = call(org.agent, "patch", f"/cases/{billing_case.pk}",
                    {"subject": "Changed", "status": "reopened"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    billing_case.refresh_from_db()
    assert billing_case.subject == "Refund not received" and billing_case.status == "new"
    ok = call(org.agent, "patch", f"/cases/{billing_case.pk}",
              {"status": "open", "assignee_id": org.agent.pk, "tags": ["refund"]})
    assert ok.status_code == 200 and ok.json()["assignee_id"] == org.agent.pk


def test_tokens_that_are_missing_forged_or_revoked_get_401(client, call, org):
    assert client.get("/api/cases").status_code == 401
    assert call(org.agent, "get", "/cases", token="so_forged").status_code == 401
    token, key = api_token_create(user=org.agent.user, name="x")
    api_token_revoke(token=token)
    response = call(org.agent, "get", "/cases", token=key)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_another_teams_case_is_403_and_assessor_cannot_change_anything(call, org, billing_case):
    assert call(org.outsider, "get", f"/cases/{billing_case.pk}").status_code == 403
    assert call(org.assessor, "get", f"/cases/{billing_case.pk}").status_code == 200
    for method, path, body in (
        ("post", f"/cases/{billing_case.pk}/replies", {"body": "hi"}),
        ("patch", f"/cases/{billing_case.pk}", {"status": "open"}),
        ("post", "/cases", {"subject": "x", "team_id": org.billing.pk}),
        ("patch", f"/customers/{org.customer.pk}", {"name": "X"}),
    ):
        assert call(org.assessor, method, path, body).status_code == 403, path
    assert not billing_case.messages.exists()
    assert Case.objects.count() == 1


def test_replies_notes_messages_and_event_log(call, org, billing_case):
    reply = call(org.agent, "post", f"/cases/{billing_case.pk}/replies",
                 {"body": "Refund issued", "status": "pending_customer"})
    assert reply.status_code == 201 and reply.json()["kind"] == "reply"
    assert call(org.analyst, "post", f"/cases/{billing_case.pk}/notes",
                {"body": "Good tone"}).status_code == 201
    kinds = [m["kind"] for m in call(org.agent, "get",
                                     f"/cases/{billing_case.pk}/messages").json()]
    assert kinds == ["reply", "note"]
    log = call(org.agent, "get", f"/cases/{billing_case.pk}/events").json()
    assert [e["kind"] for e in log] == ["created", "public_reply", "status_changed",
                                        "internal_note"]
    assert log[2]["from_value"] == "new" and log[2]["to_value"] == "pending_customer"


def test_bad_json_and_wrong_types_are_422_with_field_names(call, org):
    broken = call(org.agent, "post", "/cases", "{not json")
    assert broken.status_code in (400, 422)
    assert "detail" in broken.json()
    wrong = call(org.agent, "post", "/cases", {"subject": "x", "impact": "very"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "impact"
    unknown_team = call(org.agent, "post", "/cases", {"subject": "x", "team_id": 999})
    assert unknown_team.status_code == 422
    assert unknown_team.json()["errors"][0]["field"] == "team_id"


def test_customers_crud_and_adjustments(call, org):
    made = call(org.agent, "post", "/customers", {"name": "Grace", "email": "g@example.org"})
    assert made.status_code == 201
    cid = made.json()["id"]
    adj = call(org.agent, "post", f"/customers/{cid}/adjustments", {"kind": "braille"})
    assert adj.status_code == 201
    assert call(org.agent, "get", f"/customers/{cid}").json()["adjustments"][0]["kind"] == \
        "braille"
    assert call(org.agent, "delete",
                f"/customers/{cid}/adjustments/{adj.json()['id']}").status_code == 204
    bad = call(org.agent, "patch", f"/customers/{cid}", {"email": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    page = call(org.agent, "get", "/customers?q=Grace").json()
    assert [c["name"] for c in page["items"]] == ["Grace"]


def test_openapi_schema_lists_the_paths(client, db):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/cases", "/api/cases/{case_id}/events", "/api/customers"} <= set(
        schema["paths"])


def test_missing_case_is_404_json(call, org):
    response = call(org.manager, "get", "/cases/999999")
    assert response.status_code == 404 and "999999" in response.json()["detail"]
