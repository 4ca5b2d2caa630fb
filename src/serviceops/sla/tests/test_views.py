"""SLA pages: settings with permissions and validation, clocks on cases and queues, the
board's counts and drill-downs, the compliance report and its CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from serviceops.cases.models import CaseEvent
from serviceops.cases.services import case_create, case_reply
from serviceops.sla.models import BusinessCalendar, CaseEscalation, ServiceStandard, SlaPolicy
from serviceops.sla.services import case_sla_refresh, policy_save

NOW = timezone.now()
CALENDAR = {"timezone": "Europe/London", "hours": {"mon": [["09:00", "17:00"]]},
            "holidays": "GB-SCT"}


def signed_in(client, staff):
    client.force_login(staff.user)
    return client


def email_policy(org):
    return policy_save(policy=SlaPolicy(name="Email", channels=["email"], business_time=False,
                                        targets={"3": {"first_response": 3600,
                                                       "resolution": 8 * 3600}}),
                       by=org.manager.user)


def timed_case(org, *, hours_ago, subject="Card not arrived", team=None):
    case = case_create(by=org.manager.user, subject=subject, channel="email",
                       team=team or org.billing, now=NOW - timedelta(hours=hours_ago))
    case_sla_refresh(case_id=case.pk, now=NOW)
    return case


def test_manager_imports_a_calendar_file_and_exports_it_back(client, org):
    signed_in(client, org.manager)
    upload = SimpleUploadedFile("office.json", json.dumps(CALENDAR).encode(),
                                content_type="application/json")
    response = client.post(reverse("sla:calendar_new"), {"name": "Glasgow office",
                                                          "upload": upload})
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Glasgow office")
    exported = client.get(reverse("sla:calendar_export", args=[calendar.pk]))
    assert json.loads(exported.content) == CALENDAR


def test_a_bad_calendar_is_refused_with_the_reason_and_nothing_is_saved(client, org):
    signed_in(client, org.manager)
    bad = {**CALENDAR, "hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}
    response = client.post(reverse("sla:calendar_new"), {"name": "Bad",
                                                          "definition": json.dumps(bad)})
    assert response.status_code == 400
    assert b"overlap" in response.content
    assert not BusinessCalendar.objects.exists()


def test_agents_and_assessors_cannot_change_sla_settings(client, org):
    assert signed_in(client, org.agent).get(reverse("sla:calendars")).status_code == 403
    signed_in(client, org.assessor)
    assert client.get(reverse("sla:calendars")).status_code == 200  # may read
    response = client.post(reverse("sla:calendar_new"), {"name": "X",
                                                          "definition": json.dumps(CALENDAR)})
    assert response.status_code == 403
    assert not BusinessCalendar.objects.exists()


def test_manager_defines_a_policy_with_a_targets_grid_and_an_escalation_level(client, org):
    signed_in(client, org.manager)
    calendar = BusinessCalendar.objects.create(name="Office", definition=CALENDAR)
    response = client.post(reverse("sla:policy_new"), {
        "name": "Priority email", "position": 1, "is_active": "on", "business_time": "on",
        "calendar": calendar.pk, "channels": ["email"], "priorities": ["1", "2"],
        "target_1_first_response": "0.5", "target_1_resolution": "4",
        "target_2_first_response": "1", "pause_resolution": ["pending_customer"]})
    assert response.status_code == 302, response.content
    policy = SlaPolicy.objects.get(name="Priority email")
    assert policy.targets == {"1": {"first_response": 1800, "resolution": 14400},
                              "2": {"first_response": 3600}}
    assert policy.pauses == {"resolution": ["pending_customer"]}
    assert policy.versions.count() == 1
    response = client.post(reverse("sla:level_add", args=[policy.pk]), {
        "position": 1, "clock": "first_response", "percent_consumed": 80,
        "notify_roles": ["team_leader"]})
    assert policy.levels.get().percent_consumed == 80
    both = client.post(reverse("sla:level_add", args=[policy.pk]), {
        "position": 2, "clock": "first_response", "percent_consumed": 80,
        "minutes_after_breach": 10}, follow=True)
    assert b"either a % of the target or a time after the breach" in both.content
    assert policy.levels.count() == 1


def test_a_business_time_policy_without_a_calendar_is_refused_on_the_form(client, org):
    signed_in(client, org.manager)
    response = client.post(reverse("sla:policy_new"), {
        "name": "No calendar", "position": 1, "business_time": "on",
        "target_3_resolution": "8"})
    assert response.status_code == 400
    assert b"needs a calendar" in response.content


def test_case_page_shows_clocks_in_words_and_an_untimed_case_says_so(client, org):
    email_policy(org)
    case = timed_case(org, hours_ago=2)
    page = signed_in(client, org.agent).get(reverse("cases:detail", args=[case.pk]))
    assert b"First response: Breached" in page.content
    assert b"Resolution: Running" in page.content and b"due in 5 h" in page.content
    letter = case_create(by=org.agent.user, subject="Letter", channel="letter", team=org.billing)
    case_sla_refresh(case_id=letter.pk, now=NOW)
    page = client.get(reverse("cases:detail", args=[letter.pk]))
    assert b"No SLA policy matches this case" in page.content


def test_queue_sorts_by_time_left_and_filters_breached(client, org):
    email_policy(org)
    older = timed_case(org, hours_ago=3, subject="Older")
    newer = timed_case(org, hours_ago=0.25, subject="Newer")
    signed_in(client, org.agent)
    page = client.get(reverse("cases:queue") + "?sort=due")
    items = list(page.context["page"].items)
    assert [c.pk for c in items] == [older.pk, newer.pk]
    breached = client.get(reverse("cases:queue") + "?sla=breached").context["page"].items
    assert [c.pk for c in breached] == [older.pk]
    assert b"Breached" in page.content and b"due in" in page.content


def test_the_queue_reads_the_same_number_of_queries_however_many_timed_cases(client, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    email_policy(org)
    signed_in(client, org.agent)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("cases:queue")).status_code == 200
        return len(captured)

    timed_case(org, hours_ago=1)
    client.get(reverse("cases:queue"))  # warm: the session and the user's teams
    one = queries()
    for hours in range(2, 7):
        timed_case(org, hours_ago=hours)
    assert queries() == one


def test_manual_escalation_from_the_case_page(client, org):
    email_policy(org)
    case = timed_case(org, hours_ago=0.1)
    signed_in(client, org.agent)
    client.post(reverse("sla:escalate", args=[case.pk]), {"reason": ""})
    assert not CaseEscalation.objects.exists()
    client.post(reverse("sla:escalate", args=[case.pk]),
                {"reason": "Customer says they are in hospital", "notify_roles": ["manager"]})
    escalation = CaseEscalation.objects.get()
    assert escalation.by == org.agent
    assert CaseEvent.objects.filter(case=case, kind="escalated").exists()
    signed_in(client, org.manager)
    inbox = client.get(reverse("sla:notifications"))
    assert b"escalated (by hand)" in inbox.content
    assert b"1 new" in inbox.content


def test_board_counts_open_work_per_team_and_refreshes_as_a_fragment(client, org):
    email_policy(org)
    timed_case(org, hours_ago=3)  # breached
    timed_case(org, hours_ago=0.5)  # first response due within the hour
    timed_case(org, hours_ago=0.1, team=org.technical)
    signed_in(client, org.manager)
    page = client.get(reverse("sla:board"))
    rows = {r["team__name"]: r for r in page.context["rows"]}
    assert rows["Billing"]["open"] == 2 and rows["Billing"]["unassigned"] == 2
    assert rows["Billing"]["breached"] == 1 and rows["Billing"]["due_hour"] == 1
    assert rows["Technical"]["open"] == 1
    fragment = client.get(reverse("sla:board"), HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b"Billing" in fragment.content
    assert b"sla=breached" in fragment.content  # drill-down to the cases
    # A team member sees only their team.
    rows = signed_in(client, org.agent).get(reverse("sla:board")).context["rows"]
    assert [r["team__name"] for r in rows] == ["Billing"]


def test_compliance_report_and_csv_agree(client, org):
    email_policy(org)
    met = timed_case(org, hours_ago=3)
    case_reply(case=met, body="Hello", by=org.manager.user, now=NOW - timedelta(hours=2.5))
    case_sla_refresh(case_id=met.pk, now=NOW)
    timed_case(org, hours_ago=3)  # breached
    signed_in(client, org.manager)
    today = timezone.localdate()
    query = {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat(),
             "by": "team"}
    page = client.get(reverse("sla:report"), query)
    first = next(r for r in page.context["rows"] if r.kind == "first_response")
    assert (first.group, first.met, first.breached, first.met_share) == ("Billing", 1, 1, 0.5)
    assert b"50%" in page.content
    assert len(page.context["breaches"]) == 1
    download = client.get(reverse("sla:report"), {**query, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    states = sorted(r["state"] for r in rows if r["clock"] == "first_response")
    assert states == ["breached", "met"]
    bad = client.get(reverse("sla:report"), {**query, "end": "2000-01-01"})
    assert bad.status_code == 400 and b"before the start" in bad.content


def test_manager_publishes_a_service_standard_in_plain_words(client, org):
    signed_in(client, org.manager)
    client.post(reverse("sla:standard_add"), {
        "channel": "email", "statement": "Emails replied within 4 business hours",
        "clock": "first_response", "target_hours": "4", "business_time": "on"})
    page = client.get(reverse("sla:calendars"))
    assert b"Emails replied within 4 business hours" in page.content
    assert b"4 business hours" in page.content
    client.post(reverse("sla:standard_add"), {
        "statement": "Never", "clock": "resolution", "target_hours": "-1"})

    assert list(ServiceStandard.objects.values_list("statement", flat=True)) == [
        "Emails replied within 4 business hours"]
    signed_in(client, org.agent)
    assert client.post(reverse("sla:standard_add"), {
        "statement": "X", "clock": "resolution", "target_hours": "1"}).status_code == 403
