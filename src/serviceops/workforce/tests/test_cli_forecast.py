"""`serviceops forecast` on the command line: backtest table, forecast rows, JSON keys,
special days, case history and bad input."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from serviceops import cli
from serviceops.workforce import cli_forecast

FIRST = date(2026, 4, 6)  # a Monday; four weeks to Sunday 3 May, before a bank holiday
ROW_KEYS = {"interval_start", "forecast", "low_80", "high_80", "low_95", "high_95", "closed",
            "bank_holiday"}


def hourly_counts() -> np.ndarray:
    """Four weeks of hourly contacts: a daily shape, quiet weekends, a fixed random wobble."""
    rng = np.random.default_rng(11)
    hours = np.arange(24)
    daily = np.where((hours >= 8) & (hours < 18), 20 + 10 * np.sin(np.pi * (hours - 8) / 10), 1)
    week = np.concatenate([daily * f for f in (1.2, 1, 1, 1, 0.9, 0.4, 0.2)])
    return np.round(np.tile(week, 4) * rng.uniform(0.8, 1.2, 4 * 168))


@pytest.fixture
def arrivals(tmp_path):
    path = tmp_path / "arrivals.csv"
    lines = ["start,calls,aht"]
    for k, calls in enumerate(hourly_counts()):
        moment = datetime(FIRST.year, FIRST.month, FIRST.day) + timedelta(hours=int(k))
        lines.append(f"{moment:%Y-%m-%dT%H:%M},{calls:g},{300 + 10 * (k % 7)}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="serviceops")
    cli_forecast.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["forecast", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def common(path: str) -> list[str]:
    return ["--arrivals", path, "--time-column", "start", "--count-column", "calls",
            "--interval-minutes", "60", "--horizon-days", "1", "--origins", "1"]


def test_json_gives_the_backtest_of_every_model_and_a_day_of_forecasts(capsys, arrivals):
    code, out, _ = run(capsys, *common(arrivals), "--origins", "2", "--json")
    report = json.loads(out)
    assert code == 0 and set(report) == {"time_zone", "interval_minutes", "history", "volume"}
    assert report["history"] == {"first_day": "2026-04-06", "last_day": "2026-05-03",
                                 "contacts": float(hourly_counts().sum())}
    backtest = report["volume"]["backtest"]
    assert backtest["horizon_intervals"] == 24
    assert [m["model"] for m in backtest["models"]] == ["seasonal_naive", "ets", "mstl"]
    assert backtest["chosen"] == min(backtest["models"], key=lambda m: m["mean_wape"])["model"]
    assert report["volume"]["model"] == backtest["chosen"]
    assert [o["start"] for o in backtest["models"][0]["origins"]] == ["2026-05-02T00:00",
                                                                      "2026-05-03T00:00"]
    rows = report["volume"]["forecast"]
    assert len(rows) == 24 and set(rows[0]) == ROW_KEYS
    assert rows[0]["interval_start"] == "2026-05-04T00:00"
    for row in rows:
        assert 0 <= row["low_95"] <= row["low_80"] <= row["forecast"] <= row["high_80"] \
            <= row["high_95"]


def test_a_bank_holiday_is_forecast_as_sunday_and_a_closure_as_zero(capsys, arrivals):
    # Monday 4 May 2026 is England's early May bank holiday.
    code, out, _ = run(capsys, *common(arrivals), "--model", "seasonal_naive", "--json")
    part = json.loads(out)["volume"]
    assert code == 0 and part["model"] == "seasonal_naive"
    assert part["interval_source"] == "backtest"
    last_sunday = hourly_counts()[-24:]
    assert [row["forecast"] for row in part["forecast"]] == last_sunday.tolist()
    assert all(row["bank_holiday"] for row in part["forecast"])
    code, out, _ = run(capsys, *common(arrivals), "--holidays", "none", "--closed",
                       "2026-05-04", "--json")
    rows = json.loads(out)["volume"]["forecast"]
    assert all(row["closed"] and row["forecast"] == row["high_95"] == 0 for row in rows)
    assert not any(row["bank_holiday"] for row in rows)


def test_a_handle_column_adds_a_handle_time_forecast(capsys, arrivals):
    code, out, _ = run(capsys, *common(arrivals), "--handle-column", "aht", "--json")
    report = json.loads(out)
    assert code == 0 and len(report["handle_time"]["forecast"]) == 24
    assert all(250 <= row["forecast"] <= 410 for row in report["handle_time"]["forecast"]
               if not row["closed"])


def test_the_text_output_prints_the_backtest_table_and_the_forecast(capsys, arrivals):
    code, out, _ = run(capsys, *common(arrivals))
    assert code == 0
    assert "History: 2026-04-06 to 2026-05-03" in out
    assert "Backtest of contacts: 1 origin, forecasting 24 intervals ahead." in out
    table = out.split("Backtest of contacts")[1].split("Forecast of")[0]
    assert sum(line.rstrip().endswith("chosen") for line in table.splitlines()) == 1
    assert "mean WAPE" in table and "seasonal_naive" in table and "mstl" in table
    assert out.count("2026-05-04T") == 24 and "bank holiday" in out


def test_the_forecast_command_is_plugged_into_serviceops(capsys, arrivals):
    code = cli.main(["forecast", *common(arrivals), "--model", "ets", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["volume"]["model"] == "ets"


@pytest.mark.parametrize(("extra", "message"), [
    (["--interval-minutes", "20"], "the interval must be 15, 30 or 60 minutes (got 20)"),
    (["--horizon-days", "0"], "--horizon-days must be 1 or more (got 0)"),
    (["--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["--count-column", "volume"], "no column 'volume'"),
    (["--origins", "30"], "the first origin has"),
])
def test_bad_input_exits_2_with_a_message(capsys, arrivals, extra, message):
    code, out, err = run(capsys, *common(arrivals), *extra)
    assert code == 2 and out == ""
    assert err.startswith("serviceops forecast: ") and message in err


def test_arrivals_need_a_time_column(capsys, arrivals):
    code, _, err = run(capsys, "--arrivals", arrivals)
    assert code == 2 and "--arrivals needs --time-column" in err


def test_from_cases_counts_the_cases_opened_per_interval(capsys, org, monkeypatch):
    from serviceops.cases.models import Case

    monkeypatch.setattr(cli, "setup_django", lambda: None)  # the test database is ready
    opened = [datetime(2026, 4, 6, 9, 30, tzinfo=UTC) + timedelta(days=d, minutes=7 * k)
              for d in range(28) for k in range(3 if d % 7 < 5 else 1)]
    Case.objects.bulk_create([Case(subject=f"Case {k}", opened_at=moment, updated_at=moment,
                                   team=org.billing) for k, moment in enumerate(opened)])
    Case.objects.create(subject="Other team", opened_at=opened[0], updated_at=opened[0],
                        team=org.technical)
    code, out, err = run(capsys, "--from-cases", "--team", "Billing", "--to", "2026-05-03",
                         "--interval-minutes", "60", "--horizon-days", "1", "--origins", "1",
                         "--time-zone", "Europe/London", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["history"]["contacts"] == len(opened)
    assert report["history"]["last_day"] == "2026-05-03"
    rows = report["volume"]["forecast"]
    assert len(rows) == 24 and rows[0]["interval_start"] == "2026-05-04T00:00"
    code, _, err = run(capsys, "--from-cases", "--team", "Nobody")
    assert code == 2 and "no team 'Nobody'" in err
