import csv
import io
import json

from serviceops.cases.exporting import export_cases, export_events
from serviceops.cases.services import case_change_status, case_set_tags


def test_export_cases_and_events_as_csv_with_utc_times(billing_case, org):
    case_set_tags(case=billing_case, tags=["refund", "vip"], by=org.agent.user)
    case_change_status(case=billing_case, status="resolved", by=org.agent.user)
    out = io.StringIO()
    assert export_cases(out) == 1
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["id"], row["status"], row["tags"]) == (str(billing_case.pk), "resolved",
                                                       "refund,vip")
    assert row["category"] == "Billing › Refunds" and row["resolved_at"].endswith("+00:00")
    out = io.StringIO()
    assert export_events(out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["kind"] for r in rows] == ["created", "tags_changed", "status_changed"]
    assert json.loads(rows[1]["data"]) == {"from": [], "to": ["refund", "vip"]}
