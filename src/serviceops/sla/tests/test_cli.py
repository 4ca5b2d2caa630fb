"""`serviceops businesstime` and `serviceops sla` on the command line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from serviceops import cli
from serviceops.cases.services import case_create
from serviceops.sla.models import CaseClock, CaseSla, SlaPolicy
from serviceops.sla.services import policy_save

OFFICE = {"timezone": "Europe/London",
          "hours": {"mon": [["09:00", "12:30"], ["13:30", "17:30"]],
                    **{d: [["09:00", "17:30"]] for d in ("tue", "wed", "thu", "fri")}},
          "holidays": "GB-ENG",
          "closures": ["2026-12-24", ["2026-12-31T15:00:00+00:00", "2026-12-31T17:30:00+00:00"]],
          "openings": {"2026-12-27": [["10:00", "14:00"]]}}


@pytest.fixture
def calendar_file(tmp_path):
    path = tmp_path / "office.json"
    path.write_text(json.dumps(OFFICE))
    return str(path)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_businesstime_add_prints_the_due_instant_with_its_offset(capsys, calendar_file):
    assert run(capsys, "businesstime", "add", "--calendar", calendar_file, "--start",
               "2026-11-20T16:00:00+00:00", "--duration", "4h30m") == (
        0, "2026-11-23T12:00:00+00:00", "")
    # Local start (no offset) in summer time; the answer keeps the zone's offset.
    assert run(capsys, "businesstime", "add", "--calendar", calendar_file, "--start",
               "2026-03-27T17:00", "--duration", "3600")[1] == "2026-03-30T09:30:00+01:00"


def test_businesstime_between_prints_seconds(capsys, calendar_file):
    assert run(capsys, "businesstime", "between", "--calendar", calendar_file, "--start",
               "2026-12-23T09:00:00Z", "--end", "2027-01-05T09:00:00Z") == (0, "154800", "")


@pytest.mark.parametrize(("argv", "message"), [
    (["--start", "2026-11-20T16:00", "--duration", "4 hours"], "is not a duration"),
    (["--start", "yesterday", "--duration", "1h"], "is not an ISO 8601 instant"),
])
def test_businesstime_refuses_bad_input_with_exit_code_2(capsys, calendar_file, argv, message):
    code, out, err = run(capsys, "businesstime", "add", "--calendar", calendar_file, *argv)
    assert code == 2 and out == "" and message in err


def test_businesstime_reports_a_bad_calendar_file(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**OFFICE, "timezone": "Europe/Narnia"}))
    code, _, err = run(capsys, "businesstime", "between", "--calendar", str(bad), "--start",
                       "2026-01-01T00:00Z", "--end", "2026-01-02T00:00Z")
    assert code == 2 and "unknown time zone 'Europe/Narnia'" in err
    code, _, err = run(capsys, "businesstime", "between", "--calendar", str(tmp_path / "no"),
                       "--start", "2026-01-01T00:00Z", "--end", "2026-01-02T00:00Z")
    assert code == 2 and "cannot read" in err


def test_sla_recompute_rematch_applies_a_new_policy_to_closed_history(capsys, org, monkeypatch):
    monkeypatch.setattr(cli, "setup_django", lambda: None)  # the test database is ready
    opened = timezone.now() - timedelta(days=3)
    case = case_create(by=org.agent.user, subject="Imported", team=org.billing, now=opened)
    from serviceops.cases.services import case_change_status

    case_change_status(case=case, status="closed", by=None, now=opened + timedelta(hours=2))
    code, out, _ = run(capsys, "sla", "recompute", "--quiet")
    assert code == 0 and "1 cases" in out
    assert CaseSla.objects.get(case=case).version is None  # no policy yet
    policy_save(policy=SlaPolicy(name="All", business_time=False,
                                 targets={"3": {"resolution": 3600}}), by=org.manager.user)
    run(capsys, "sla", "recompute", "--quiet")
    assert CaseSla.objects.get(case=case).version is None  # closed: kept as it was
    run(capsys, "sla", "recompute", "--rematch", "--quiet")
    clock = CaseClock.objects.get(case=case, kind="resolution")
    assert clock.state == "breached" and clock.elapsed_seconds == 2 * 3600
