from django.urls import reverse

from serviceops.cases.choices import Status
from serviceops.cases.models import Case, CaseEvent, SavedFilter
from serviceops.cases.services import case_change_status, case_create


def signed_in(client, staff):
    client.force_login(staff.user)
    return client


def test_queue_lists_team_cases_and_pages_with_a_cursor(client, org):
    for i in range(55):
        case_create(by=org.agent.user, subject=f"Case {i:02d}", team=org.billing)
    page1 = signed_in(client, org.agent).get(reverse("cases:queue"))
    assert page1.status_code == 200
    assert page1.content.count(b'name="case"') == 0  # agents have no bulk actions
    assert b"Case 54" in page1.content and b"Case 04" not in page1.content
    next_link = page1.context["next_query"]
    page2 = client.get(reverse("cases:queue") + "?" + next_link)
    assert b"Case 04" in page2.content and b"Case 54" not in page2.content
    assert page2.context["next_query"] == ""


def test_another_teams_case_by_url_is_refused_with_a_403_page(client, billing_case, org):
    response = signed_in(client, org.outsider).get(reverse("cases:detail", args=[billing_case.pk]))
    assert response.status_code == 403
    assert b"team you are not in" in response.content
    reply = client.post(reverse("cases:reply", args=[billing_case.pk]),
                        {"kind": "reply", "body": "hello"})
    assert reply.status_code == 403
    assert not billing_case.messages.exists()


def test_case_page_shows_adjustments_prominently_and_hides_controls_from_assessor(
    client, billing_case, org
):
    page = signed_in(client, org.assessor).get(reverse("cases:detail", args=[billing_case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reasonable adjustments for Ada Lovelace" in html and "18pt" in html
    assert 'name="body"' not in html and "Change status" not in html
    forged = client.post(reverse("cases:status", args=[billing_case.pk]), {"status": "open"})
    assert forged.status_code == 403
    billing_case.refresh_from_db()
    assert billing_case.status == Status.NEW


def test_reply_then_status_and_invalid_transition_message(client, billing_case, org):
    signed_in(client, org.agent)
    url = reverse("cases:reply", args=[billing_case.pk])
    response = client.post(url, {"kind": "reply", "body": "Refund sent today.",
                                  "then_status": "pending_customer"})
    assert response.status_code == 302
    billing_case.refresh_from_db()
    assert billing_case.status == Status.PENDING_CUSTOMER
    bad = client.post(reverse("cases:status", args=[billing_case.pk]), {"status": "reopened"},
                      follow=True)
    assert "cannot become reopened" in bad.content.decode()
    billing_case.refresh_from_db()
    assert billing_case.status == Status.PENDING_CUSTOMER


def test_htmx_reply_returns_the_updated_thread_only(client, billing_case, org):
    signed_in(client, org.agent)
    response = client.post(reverse("cases:reply", args=[billing_case.pk]),
                           {"kind": "note", "body": "Checked with finance."},
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<div id="work">')
    assert "Internal note" in html and "Checked with finance." in html


def test_disallowed_attachment_is_refused_and_nothing_is_posted(client, billing_case, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    signed_in(client, org.agent)
    upload = SimpleUploadedFile("invoice.pdf", b"MZ\x90 not a pdf")
    response = client.post(reverse("cases:reply", args=[billing_case.pk]),
                           {"kind": "reply", "body": "see file", "attachments": upload})
    assert response.status_code == 422
    assert "does not contain what its name says" in response.content.decode()
    assert not billing_case.messages.exists()


def test_bulk_is_all_or_nothing_and_reports_the_refusing_case(client, org):
    ok = case_create(by=org.leader.user, subject="a", team=org.billing)
    done = case_create(by=org.leader.user, subject="b", team=org.billing)
    case_change_status(case=done, status=Status.RESOLVED, by=org.leader.user)
    signed_in(client, org.leader)
    response = client.post(reverse("cases:bulk"), {"case": [ok.pk, done.pk], "action": "status",
                                                   "value": "on_hold"}, follow=True)
    assert f"Nothing was changed. Case #{done.pk}" in response.content.decode()
    assert Case.objects.get(pk=ok.pk).status == Status.NEW
    client.post(reverse("cases:bulk"), {"case": [ok.pk], "action": "take"})
    assert Case.objects.get(pk=ok.pk).assignee == org.leader


def test_saved_filter_round_trip(client, org):
    signed_in(client, org.agent)
    client.post(reverse("cases:filter_save"), {"name": "Urgent", "query": "view=team&priority=1"})
    saved = SavedFilter.objects.get(owner=org.agent.user)
    assert saved.query == "view=team&priority=1"
    page = client.get(reverse("cases:queue"))
    assert b"Urgent" in page.content


def test_new_case_form_creates_a_case_with_its_created_event(client, org):
    signed_in(client, org.agent)
    response = client.post(reverse("cases:new"), {
        "subject": "Caller cannot log in", "channel": "phone", "team": org.billing.pk,
        "impact": 2, "urgency": 1, "description": "",
    })
    case = Case.objects.get(subject="Caller cannot log in")
    assert response.status_code == 302 and case.priority == 2
    assert CaseEvent.objects.filter(case=case, kind="created").exists()
    refused = client.post(reverse("cases:new"), {
        "subject": "x", "channel": "phone", "team": org.technical.pk, "impact": 2, "urgency": 2})
    assert refused.status_code == 422 and b"own teams" in refused.content


def test_search_page_finds_cases_and_customers(client, billing_case, org):
    page = signed_in(client, org.agent).get(reverse("cases:search"), {"q": "kettle"})
    assert f"#{billing_case.pk}".encode() in page.content
    people = client.get(reverse("cases:search"), {"q": "Ada"})
    assert b"Ada Lovelace" in people.content
