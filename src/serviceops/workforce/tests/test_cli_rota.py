"""`serviceops rota`: the same services and permissions as the pages and the API."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest
from icalendar import Calendar

from serviceops import cli
from serviceops.people.services import staff_create_login
from serviceops.workforce.models import Rota, RotaShift

from .conftest import LAST_HISTORY_DAY

MONDAY = LAST_HISTORY_DAY + timedelta(days=1)


def test_solve_show_export_and_publish_as_a_leader(org, staffing_plan, patterns, capsys,
                                                   tmp_path):
    code = cli.main(["rota", "solve", "--plan", str(staffing_plan.pk), "--from", str(MONDAY),
                     "--days", "7", "--time-limit", "20", "--as", "leader"])
    out = capsys.readouterr().out
    assert code == 0, out
    rota = Rota.objects.get()
    assert rota.state == Rota.State.DRAFT and rota.created_by == org.leader
    assert f"Rota {rota.pk}: Billing, 7 days from {MONDAY} (draft)" in out
    assert f"solver: {rota.solver_status}, gap" in out and "coverage:" in out
    shifts = list(rota.shifts.select_related("staff"))
    assert f"{len(shifts)} shifts (UTC):" in out
    assert out.count("\n    ") == len(shifts)  # one line per shift

    csv_file, ics_file = tmp_path / "rota.csv", tmp_path / "rota.ics"
    assert cli.main(["rota", "show", str(rota.pk), "--csv", str(csv_file),
                     "--ics", str(ics_file), "--as", "assessor"]) == 0
    rows = list(csv.DictReader(csv_file.open(encoding="utf-8")))
    assert len(rows) == len(shifts)
    assert {r["staff"] for r in rows} == {s.staff.name for s in shifts}
    events = Calendar.from_ical(ics_file.read_bytes()).walk("VEVENT")
    assert sorted(e.decoded("dtstart") for e in events) == [s.start for s in shifts]

    capsys.readouterr()
    assert cli.main(["rota", "publish", str(rota.pk), "--as", "assessor"]) == 2
    assert "does not allow" in capsys.readouterr().err
    assert cli.main(["rota", "publish", str(rota.pk), "--as", "leader"]) == 0
    rota.refresh_from_db()
    assert rota.state == Rota.State.PUBLISHED and rota.published_by == org.leader
    assert cli.main(["rota", "publish", str(rota.pk), "--as", "leader"]) == 2
    assert "Only a draft is published" in capsys.readouterr().err


def test_solving_and_publishing_name_a_person(org, staffing_plan):
    for argv in (["rota", "publish", "1"],
                 ["rota", "solve", "--plan", str(staffing_plan.pk), "--from", str(MONDAY)]):
        with pytest.raises(SystemExit):
            cli.main(argv)
    assert not Rota.objects.exists()


def test_a_manager_solves_a_head_count_rota(org, staffing_plan, patterns, capsys):
    code = cli.main(["rota", "solve", "--plan", str(staffing_plan.pk), "--from", str(MONDAY),
                     "--days", "2", "--anonymous", "--time-limit", "10", "--json",
                     "--as", "manager"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    printed = json.loads(captured.out)
    assert printed["state"] == "draft" and printed["named"] is False
    assert printed["shifts"] and all(s["staff"] is None and s["agents"] >= 1
                                     for s in printed["shifts"])
    assert len(printed["shifts"]) == RotaShift.objects.count()
    assert printed["coverage"]["scheduled_agent_hours"] > 0
    # Without --as, the operator reads every rota.
    assert cli.main(["rota", "list"]) == 0
    assert f"{printed['id']:>5}  {MONDAY}     2  draft" in capsys.readouterr().out


def test_users_see_and_solve_only_their_teams_rotas(org, staffing_plan, patterns, capsys):
    staff_create_login(username="techlead", name="Tech Leader", role="team_leader",
                       password=None, email="t@example.org", team_names=["Technical"])
    Rota.objects.create(plan=staffing_plan, first_day=MONDAY, state=Rota.State.DRAFT)
    assert cli.main(["rota", "list", "--as", "techlead"]) == 0
    assert capsys.readouterr().out.strip() == "No rotas."
    assert cli.main(["rota", "list", "--as", "leader"]) == 0
    assert "draft" in capsys.readouterr().out
    rota = Rota.objects.get()
    assert cli.main(["rota", "show", str(rota.pk), "--as", "techlead"]) == 2
    assert f"no rota {rota.pk}" in capsys.readouterr().err
    assert cli.main(["rota", "solve", "--plan", str(staffing_plan.pk), "--from", str(MONDAY),
                     "--as", "techlead"]) == 2
    assert f"no staffing plan {staffing_plan.pk}" in capsys.readouterr().err
    assert cli.main(["rota", "solve", "--plan", str(staffing_plan.pk), "--from", str(MONDAY),
                     "--as", "agent"]) == 2  # an agent sees no plans
    assert cli.main(["rota", "solve", "--plan", str(staffing_plan.pk), "--from",
                     str(MONDAY + timedelta(days=5)), "--as", "leader"]) == 2
    assert "first_day: The forecast covers" in capsys.readouterr().err
    assert cli.main(["rota", "list", "--as", "nobody"]) == 2
    assert Rota.objects.count() == 1
