import csv
import gzip
import shutil
from argparse import Namespace
from collections import Counter
from pathlib import Path

import pytest

from serviceops.cases.choices import EventKind, Status
from serviceops.cases.importing import ImportFailed, import_cases, run_import_command
from serviceops.cases.models import Case, CaseEvent
from serviceops.conftest import shared_data
from serviceops.customers.models import Customer

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[4]
SERVICENOW = str(ROOT / "examples" / "mappings" / "servicenow-incident-log.yaml")


def run(file, fmt="csv", mapping=None, dry_run=False, errors=None):
    return run_import_command(Namespace(file=str(file), format=fmt, mapping=mapping,
                                        dry_run=dry_run, errors=errors, no_progress=True))


def events(case):
    return [(e.kind, e.from_value, e.to_value) for e in case.events.order_by("at", "id")]


def test_event_log_rebuilds_each_case_and_its_history(db):
    outcome = import_cases(path=DATA / "eventlog.csv", fmt="csv", mapping_path=SERVICENOW)
    assert (outcome.cases, outcome.rows) == (2, 8)
    one = Case.objects.get(external_ref="INC1")
    kinds = [k for k, _, _ in events(one)]
    assert kinds[0] == EventKind.CREATED
    assert [(k, old, new) for k, old, new in events(one) if k == "status_changed"] == [
        ("status_changed", "new", "open"), ("status_changed", "open", "resolved"),
        ("status_changed", "resolved", "closed")]
    assert kinds.count(EventKind.TEAM_CHANGED) == 2 and kinds.count(EventKind.ASSIGNED) == 1
    assert (one.status, one.team.name, one.assignee.name) == ("closed", "Group 70", "Resolver 9")
    assert one.resolved_at.isoformat() == "2016-02-29T11:29:00+00:00"
    assert one.category.path == "Category 55 › Subcategory 170"
    assert one.subject == "Symptom 72 (Category 55 / Subcategory 170)"
    assert one.customer.name == "Caller 1" and one.channel == "phone"
    two = Case.objects.get(external_ref="INC2")
    statuses = [new for k, _, new in events(two) if k == "status_changed"]
    assert statuses == ["resolved", "reopened"]  # "-100" keeps the state; reopen_count rises
    assert two.status == Status.REOPENED and two.resolved_at is None
    assert [(old, new) for k, old, new in events(two) if k == "priority_changed"] == [("2", "1")]
    assert all(e.data["source"] == "import" and e.data["row"] >= 2
               for e in CaseEvent.objects.all())


def test_rejected_rows_are_reported_by_line_and_nothing_is_imported(db, tmp_path):
    report = tmp_path / "errors.csv"
    code = run(DATA / "bad.csv", mapping=str(DATA / "simple.yaml"), errors=str(report))
    assert code == 1
    assert Case.objects.count() == 0
    rows = list(csv.DictReader(report.open()))
    problems = {(r["line"], r["column"]) for r in rows}
    assert ("3", "title") in problems          # empty subject
    assert ("4", "opened") in problems         # date in the wrong format
    assert ("6", "state") in problems          # value not in the map
    assert any("duplicate case id (first on line 2)" in r["reason"] for r in rows)


def test_dry_run_validates_and_writes_nothing(db, tmp_path, capsys):
    assert run(DATA / "eventlog.csv", mapping=SERVICENOW, dry_run=True) == 0
    assert "Dry run: 8 rows, 2 cases" in capsys.readouterr().out
    assert Case.objects.count() == 0 and Customer.objects.count() == 0


def test_importing_the_same_file_twice_is_refused(db, tmp_path):
    assert run(DATA / "eventlog.csv", mapping=SERVICENOW) == 0
    report = tmp_path / "e.csv"
    assert run(DATA / "eventlog.csv", mapping=SERVICENOW, errors=str(report)) == 1
    assert Case.objects.count() == 2
    assert "already imported" in report.read_text()


def test_gzip_input_and_unknown_mapping_columns_and_bad_encoding(db, tmp_path, capsys):
    packed = tmp_path / "log.csv.gz"
    with open(DATA / "eventlog.csv", "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert import_cases(path=packed, fmt="csv", mapping_path=SERVICENOW).cases == 2
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("kind: cases\ncolumns: {subject: Title}\n")
    with pytest.raises(ImportFailed, match=r"does not have: \['Title'\]"):
        import_cases(path=DATA / "bad.csv", fmt="csv", mapping_path=str(wrong))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("ref,title,opened,state\nB1,Caf\xe9,2026-01-05 10:00:00,open\n"
                      .encode("latin-1"))
    assert run(latin, mapping=str(DATA / "simple.yaml")) == 2
    assert "not in the utf-8-sig encoding" in capsys.readouterr().err


def test_zendesk_ticket_export_imports_with_channels_and_statuses(db):
    path = shared_data("zendesk_api_samples/zendesk_api_v2_tickets_list.json")
    outcome = import_cases(path=path, fmt="zendesk")
    assert outcome.cases == 100 and Case.objects.count() == 100
    first = Case.objects.get(external_ref="1")
    assert first.channel == "web_form" and first.status == Status.PENDING_CUSTOMER
    assert first.priority == 2


def test_freshdesk_export_imports_with_the_builtin_mapping(db):
    path = shared_data("freshdesk_export_sample/freshdesk_tickets_export_sample.redacted.csv")
    outcome = import_cases(path=path, fmt="freshdesk")
    assert outcome.cases == 21
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert statuses[Status.RESOLVED] == 6 and statuses[Status.ON_HOLD] == 12


def test_the_real_servicenow_log_imports_and_matches_the_csv(db):
    path = shared_data("uci_incident_event_log/incident_event_log.csv.gz")
    last = {}
    with gzip.open(path, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            last[row["number"]] = row
    outcome = import_cases(path=path, fmt="csv", mapping_path=SERVICENOW)
    assert outcome.rows == 141_712 and outcome.cases == len(last) == 24_918
    expected_priority = Counter(int(r["priority"][0]) for r in last.values())
    assert Counter(Case.objects.values_list("priority", flat=True)) == expected_priority
    reopened = sum(int(r["reopen_count"]) > 0 for r in last.values())
    assert CaseEvent.objects.filter(kind="status_changed", to_value="reopened").values(
        "case_id").distinct().count() == reopened
    closed = sum(r["incident_state"] == "Closed" for r in last.values())
    assert Case.objects.filter(status="closed").count() == closed
