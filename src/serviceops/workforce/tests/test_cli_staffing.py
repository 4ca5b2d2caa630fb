"""`serviceops staffing` on the command line: output, JSON keys, volume files, bad input."""

from __future__ import annotations

import argparse
import json

import pytest

from serviceops.workforce import cli_staffing

CLASSIC = ["--volume", "100", "--interval-minutes", "30", "--aht", "180", "--sl-seconds", "20"]
KEYS_C = {"model", "agents", "rostered", "service_level", "asa_seconds", "occupancy", "p_wait"}


def staffing(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="serviceops")
    cli_staffing.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["staffing", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_classic_example_prints_14_agents_20_heads_and_the_achieved_figures(capsys):
    code, out, _ = staffing(capsys, *CLASSIC, "--sl-target", "0.8", "--shrinkage", "0.3")
    assert code == 0
    assert "Agents required: 14" in out
    assert "Rostered: 20 (shrinkage 30%)" in out
    assert "Service level: 88.8% answered within 20 s" in out
    assert "Occupancy: 71.4%" in out and "P(wait): 17.4%" in out
    assert "ASA (all callers): 7.8 s" in out
    assert "Abandonment" not in out


def test_json_has_exactly_the_documented_keys_for_erlang_c(capsys):
    code, out, _ = staffing(capsys, *CLASSIC, "--sl-target", "0.8", "--json")
    result = json.loads(out)
    assert code == 0 and set(result) == KEYS_C
    assert (result["model"], result["agents"], result["rostered"]) == ("erlang_c", 14, 14)
    assert result["service_level"] == pytest.approx(0.88835, abs=1e-5)


def test_patience_switches_to_erlang_a_and_reports_abandonment(capsys):
    code, out, _ = staffing(capsys, *CLASSIC, "--sl-target", "0.8", "--patience", "120",
                            "--max-abandon", "0.03", "--json")
    result = json.loads(out)
    assert code == 0 and set(result) == KEYS_C | {"p_abandon"}
    assert result["model"] == "erlang_a" and result["p_abandon"] <= 0.03
    code, text, _ = staffing(capsys, *CLASSIC, "--sl-target", "0.8", "--patience", "120")
    assert "Erlang A" in text and "Abandonment: " in text


def test_an_asa_target_and_an_occupancy_cap_each_add_agents(capsys):
    def agents(*extra):
        return json.loads(staffing(capsys, *CLASSIC, "--sl-target", "0.8", "--json",
                                   *extra)[1])["agents"]

    assert agents("--asa-target", "5") == 15
    assert agents("--max-occupancy", "0.7") == 15
    assert agents() == 14


def test_the_service_level_definition_and_asa_of_change_erlang_a_figures(capsys):
    base = [*CLASSIC, "--agents", "11", "--patience", "60", "--json"]
    offered = json.loads(staffing(capsys, *base)[1])
    answered = json.loads(staffing(capsys, *base, "--sl-definition", "answered",
                                  "--asa-of", "served")[1])
    assert answered["service_level"] > offered["service_level"]
    assert answered["asa_seconds"] != offered["asa_seconds"]
    assert answered["p_wait"] == offered["p_wait"]


def test_agents_evaluates_a_given_level_and_an_overloaded_erlang_c_asa_is_null(capsys):
    code, out, _ = staffing(capsys, *CLASSIC, "--agents", "10", "--json")
    result = json.loads(out)
    assert code == 0 and result["agents"] == 10
    assert (result["service_level"], result["asa_seconds"], result["p_wait"]) == (0.0, None, 1.0)
    code, text, _ = staffing(capsys, *CLASSIC, "--agents", "10")
    assert "Agents evaluated: 10" in text and "unbounded" in text


def test_a_volume_file_gives_one_result_per_interval(capsys, tmp_path):
    path = tmp_path / "volumes.csv"
    path.write_text("interval_start,volume\n2026-03-02T08:00,120\n2026-03-02T08:15,0\n"
                    "2026-03-02T08:30,87.5\n")
    common = ["--volume-file", str(path), "--interval-minutes", "15", "--aht", "300",
              "--sl-seconds", "20"]
    code, out, _ = staffing(capsys, *common, "--sl-target", "0.8", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [(r["interval_start"], r["volume"]) for r in rows] == [
        ("2026-03-02T08:00", 120), ("2026-03-02T08:15", 0), ("2026-03-02T08:30", 87.5)]
    assert set(rows[0]) == KEYS_C | {"interval_start", "volume"}
    assert rows[1]["agents"] == 0 and rows[1]["service_level"] == 1.0
    single = json.loads(staffing(capsys, "--volume", "120", "--interval-minutes", "15", "--aht",
                                 "300", "--sl-seconds", "20", "--sl-target", "0.8",
                                 "--json")[1])
    assert rows[0] == {"interval_start": "2026-03-02T08:00", "volume": 120, **single}
    code, table, _ = staffing(capsys, *common, "--agents", "40", "--patience", "90")
    assert code == 0 and table.count("2026-03-02T08") == 3 and "abandon" in table


@pytest.mark.parametrize(("content", "message"), [
    ("interval_start,volume\n2026-03-02T08:00,12\n2026-03-02T08:15,lots\n",
     "row 3: volume 'lots' is not a number"),
    ("interval_start,volume\n2026-03-02T08:00,-4\n", "row 2: volume '-4' must be 0 or more"),
    ("interval_start,volume\n,4\n", "row 2: interval_start is empty"),
    ("start,calls\n2026-03-02T08:00,12\n", "header row must name the columns"),
    ("interval_start,volume\n", "no intervals"),
])
def test_bad_volume_files_are_refused_with_the_row_number(capsys, tmp_path, content, message):
    path = tmp_path / "volumes.csv"
    path.write_text(content)
    code, out, err = staffing(capsys, "--volume-file", str(path), "--interval-minutes", "15",
                              "--aht", "300", "--sl-seconds", "20", "--sl-target", "0.8")
    assert code == 2 and out == ""
    assert err.startswith("serviceops staffing: ") and message in err


@pytest.mark.parametrize(("extra", "message"), [
    (["--sl-target", "1.0"], "service-level target must be above 0 and below 1"),
    (["--sl-target", "1.5"], "service-level target must be above 0 and below 1"),
    (["--sl-target", "0.8", "--max-abandon", "1"], "--max-abandon needs --patience"),
    (["--sl-target", "0.8", "--patience", "60", "--max-abandon", "1"],
     "abandonment cap must be above 0 and below 1"),
    (["--sl-target", "0.8", "--max-occupancy", "1.0"], "occupancy cap must be above 0"),
    (["--sl-target", "0.8", "--shrinkage", "1"], "shrinkage must be at least 0 and below 1"),
    (["--sl-target", "0.8", "--agents", "12"], "takes no targets (drop --sl-target)"),
    ([], "give --sl-target"),
])
def test_bad_input_exits_2_with_a_clear_message(capsys, extra, message):
    code, out, err = staffing(capsys, *CLASSIC, *extra)
    assert code == 2 and out == ""
    assert err.startswith("serviceops staffing: ") and message in err
