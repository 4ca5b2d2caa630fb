"""Calibration against history: the patience estimator on a simulated M/M/n+M queue, the
Anonymous Bank log, the `serviceops calibrate` command and bad input."""

from __future__ import annotations

import argparse
import heapq
import json

import numpy as np
import pytest

from serviceops.conftest import shared_data
from serviceops.workforce import cli_calibrate
from serviceops.workforce.calibration import (
    AgentEstimate,
    CallLog,
    calibrate,
    estimate_patience,
    kaplan_meier,
    read_call_log,
)

BANK = "anonymous_bank_callcenter/data_anonymous_bank_february.txt"
# The simulated queue: 10 agents, calls every 15 s on average, 180 s handling, 120 s patience:
# 12 Erlangs offered to 10 agents, so Erlang C has no steady state while Erlang A does.
AGENTS, ARRIVAL_GAP, AHT, PATIENCE = 10, 15.0, 180.0, 120.0
START = 1_767_225_600  # 2026-01-01T00:00:00Z


def simulate(*, hours: int, seed: int) -> CallLog:
    """A first-come-first-served M/M/n+M queue: exact, one caller at a time. Each caller
    takes the earliest agent to come free unless their patience runs out first; a caller who
    hangs up leaves the agents' free times as they were."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(ARRIVAL_GAP, int(hours * 3600 / ARRIVAL_GAP * 1.1)))
    arrivals = arrivals[arrivals < hours * 3600]
    patience = rng.exponential(PATIENCE, arrivals.size)
    handle = np.maximum(np.round(rng.exponential(AHT, arrivals.size)), 1.0)
    free = [0.0] * AGENTS
    wait, answered = np.empty(arrivals.size), np.zeros(arrivals.size, dtype=bool)
    for k, t in enumerate(arrivals):
        start = max(free[0], t)
        if start - t <= patience[k]:
            heapq.heapreplace(free, start + handle[k])
            wait[k], answered[k] = start - t, True
        else:
            wait[k] = patience[k]
    # Whole seconds, as a call log records them: times are floored, so that a service
    # starting as the one before it ends (handle times being whole) still starts at its end.
    arrival = START + np.floor(arrivals).astype(np.int64)
    service_start = START + np.floor(arrivals + wait).astype(np.int64)
    wait = np.where(answered, service_start - arrival, np.round(wait))
    return CallLog(arrival=arrival, wait=wait, answered=answered,
                   service_start=service_start,
                   handle=np.where(answered, handle, 0.0), agent=np.full(arrival.size, ""),
                   time_zone="UTC", rows=arrival.size, excluded={})


@pytest.fixture(scope="module")
def simulated() -> CallLog:
    return simulate(hours=240, seed=7)


@pytest.fixture(scope="module")
def bank() -> CallLog:
    return read_call_log(shared_data(BANK), log_format="anonymous-bank")


def write(tmp_path, text: str, name: str = "calls.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="serviceops")
    cli_calibrate.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["calibrate", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


# --- The estimator on a queue of known patience ---------------------------------------------


def test_patience_of_a_simulated_queue_is_recovered_within_three_percent(simulated):
    estimate = estimate_patience(simulated.wait, ~simulated.answered)

    assert estimate.abandoned > 5_000
    assert estimate.mean_seconds == pytest.approx(PATIENCE, rel=0.03)
    assert estimate.low_95 < PATIENCE < estimate.high_95


def test_served_waits_count_as_censored_exposure_not_as_hang_ups():
    # Two hang-ups after 10 s and 30 s; a served caller waited 60 s: 100 s of waiting, 2 events.
    estimate = estimate_patience(np.array([10.0, 30.0, 60.0, 0.0]),
                                 np.array([True, True, False, False]))

    assert estimate.mean_seconds == pytest.approx(50.0)
    assert (estimate.abandoned, estimate.waited, estimate.exposure_seconds) == (2, 3, 100.0)


def test_kaplan_meier_of_exponential_patience_follows_the_exponential_curve(simulated):
    estimate = estimate_patience(simulated.wait, ~simulated.answered)

    for check in estimate.survival:
        assert check.kaplan_meier == pytest.approx(np.exp(-check.seconds / PATIENCE), abs=0.02)
    # A constant hazard: every band with enough hang-ups implies about the same mean.
    implied = [b.mean_patience_seconds for b in estimate.hazard if b.abandoned > 200]
    assert len(implied) >= 3
    assert max(implied) / min(implied) < 1.1


def test_kaplan_meier_counts_hang_ups_before_censored_waits_at_a_tie():
    times, survival = kaplan_meier(np.array([5.0, 5.0, 8.0, 9.0]),
                                   np.array([True, False, True, False]))

    # At 5 s: 4 at risk, 1 hang-up -> 3/4; at 8 s: 2 at risk, 1 hang-up -> 3/8.
    assert times.tolist() == [5.0, 8.0]
    assert survival.tolist() == pytest.approx([0.75, 0.375])


def test_erlang_a_predicts_the_simulated_abandonment_and_erlang_c_has_no_steady_state(
        simulated):
    result = calibrate(simulated, interval_minutes=60, agents_from="busy-while-queued")

    observed = simulated.abandoned / simulated.offered
    assert result.erlang_a.abandonment.observed == pytest.approx(observed)
    assert result.erlang_a.abandonment.predicted == pytest.approx(observed, abs=0.01)
    assert result.erlang_a.service_level.predicted == pytest.approx(
        result.erlang_a.service_level.observed, abs=0.02)
    # 12 Erlangs on 10 agents: Erlang C's queue grows without limit in nearly every hour (a
    # few quiet ones excepted), where it predicts a service level of 0; and no abandonment.
    assert result.erlang_c_unstable_calls > 0.9 * simulated.offered
    assert result.erlang_c.service_level.predicted < 0.05
    assert result.erlang_c.abandonment.bias == pytest.approx(-observed)


def test_agents_busy_while_callers_wait_recover_the_agents_of_the_simulation(simulated):
    result = calibrate(simulated, interval_minutes=30)

    assert result.agents_from is AgentEstimate.BUSY_WHILE_QUEUED
    assert np.median(result.intervals.agents) == pytest.approx(AGENTS, abs=0.05)
    peak = calibrate(simulated, interval_minutes=30, agents_from="peak-busy").intervals.agents
    assert np.all(peak == AGENTS)
    # The mean in service (carried load) is below the agents, so it would understate them.
    assert result.intervals.busy.mean() < AGENTS - 0.3


# --- The Anonymous Bank, February 1999 ------------------------------------------------------


def test_bank_log_counts_offered_answered_and_abandoned_calls(bank):
    assert bank.rows == 33_344
    assert dict(bank.excluded) == {"phantom (a virtual call to be ignored)": 278,
                                   "hung up in the voice menu before queueing": 1_941}
    assert (bank.offered, bank.offered - bank.abandoned, bank.abandoned) == (
        31_125, 27_162, 3_963)
    # Calls that ran past midnight get the next day, so no wait or handle time is negative.
    assert bank.wait.min() >= 0 and bank.handle.min() >= 0
    # Service starts as the wait ends, up to the second or two by which the switch's clocks
    # differ (1.4% of the records disagree by more, none by a day).
    late = np.abs(bank.service_start - bank.arrival - bank.wait)[bank.answered]
    assert np.mean(late <= 2) > 0.98 and late.max() < 3_600


def test_bank_patience_is_minutes_and_shortest_among_the_callers_who_just_joined(bank):
    estimate = estimate_patience(bank.wait, ~bank.answered)

    assert 240 < estimate.mean_seconds < 480
    assert estimate.high_95 - estimate.low_95 < 0.1 * estimate.mean_seconds
    # Hang-ups per second of waiting fall as the wait grows: not quite exponential.
    first, *_, last = (b.mean_patience_seconds for b in estimate.hazard)
    assert first < estimate.mean_seconds < last


def test_bank_intervals_follow_israel_local_time_and_erlang_a_beats_erlang_c(bank):
    result = calibrate(bank, interval_minutes=30, sl_seconds=20)
    iv = result.intervals

    assert iv.local_start[0].startswith("1999-02-01T") and iv.local_start[0].endswith("+02:00")
    busiest = max(result.by_hour, key=lambda h: h.offered)
    assert busiest.hour == 10  # the mid-morning peak, in Israel's wall-clock time
    assert iv.offered.sum() + result.unstaffed_calls == bank.offered
    assert result.erlang_a.service_level.observed == pytest.approx(
        iv.answered_in_time.sum() / iv.offered.sum())
    assert result.erlang_a.abandonment.observed == pytest.approx(
        iv.abandoned.sum() / iv.offered.sum())
    for measure in ("service_level", "abandonment"):
        assert (getattr(result.erlang_a, measure).mae
                < getattr(result.erlang_c, measure).mae)


def test_bank_agent_estimates_are_ordered_busy_while_queued_below_peak_below_servers(bank):
    agents = {e: np.average(calibrate(bank, agents_from=e).intervals.agents,
                            weights=calibrate(bank, agents_from=e).intervals.offered)
              for e in AgentEstimate}

    assert (agents[AgentEstimate.BUSY_WHILE_QUEUED] < agents[AgentEstimate.PEAK_BUSY]
            < agents[AgentEstimate.SERVERS])


# --- Generic CSV and time zones -------------------------------------------------------------

CSV = """arrival,wait_seconds,handle_seconds,outcome,agent
2026-03-02T09:00:05,0,120,answered,ann
2026-03-02T09:01:00,40,100,answered,bob
2026-03-02T09:02:00,25,,abandoned,
2026-03-02T09:40:00,10,200,answered,ann
2026-03-02T09:41:00,35,,abandoned,
"""


def test_csv_log_reads_answered_and_abandoned_calls_in_local_time(tmp_path):
    log = read_call_log(write(tmp_path, CSV), time_zone="Europe/London")

    assert (log.offered, log.abandoned) == (5, 2)
    assert log.arrival[0] == 1_772_442_005  # 09:00:05 GMT on 2 March 2026
    assert log.wait.tolist() == [0, 40, 25, 10, 35]
    assert log.agent.tolist() == ["ann", "bob", "", "ann", ""]


def test_csv_queue_exit_gives_the_wait_and_offsets_are_honoured(tmp_path):
    text = ("arrival,queue_exit,handle_seconds,outcome\n"
            "2026-07-01T09:00:00+01:00,2026-07-01T08:00:30Z,60,answered\n"
            "2026-07-01T09:00:10,2026-07-01T09:01:10,,abandoned\n")
    log = read_call_log(write(tmp_path, text), time_zone="Europe/London")

    # 09:00 BST is 08:00 UTC, whether written with its offset or as London wall-clock time.
    assert log.arrival.tolist() == [1_782_892_800, 1_782_892_810]
    assert log.wait.tolist() == [30.0, 60.0]


def test_the_hour_the_clocks_go_back_gives_two_intervals(tmp_path):
    text = ("arrival,wait_seconds,handle_seconds,outcome\n"
            "2026-10-25T01:30:00+01:00,0,60,answered\n"
            "2026-10-25T01:35:00+01:00,30,,abandoned\n"
            "2026-10-25T01:30:00+00:00,0,60,answered\n")
    result = calibrate(read_call_log(write(tmp_path, text), time_zone="Europe/London"),
                       interval_minutes=60, agents_from="peak-busy")

    assert result.intervals.local_start == ("2026-10-25T01:00:00+01:00",
                                            "2026-10-25T01:00:00+00:00")
    assert result.intervals.offered.tolist() == [2, 1]


# --- The command ----------------------------------------------------------------------------


def test_command_prints_the_patience_and_the_comparison(capsys, tmp_path, simulated):
    rows = ["arrival,wait_seconds,handle_seconds,outcome"]
    for t, w, h, a in zip(simulated.arrival[:3000], simulated.wait[:3000],
                          simulated.handle[:3000], simulated.answered[:3000], strict=True):
        stamp = np.datetime64(int(t), "s").astype(str)
        rows.append(f"{stamp}Z,{w:g},{h:g},{'answered' if a else 'abandoned'}")
    path = write(tmp_path, "\n".join(rows) + "\n")

    code, out, err = run(capsys, path, "--interval-minutes", "60")

    estimate = estimate_patience(simulated.wait[:3000], ~simulated.answered[:3000])
    assert code == 0, err
    assert f"Mean patience: {estimate.mean_seconds:.0f} s" in out
    assert "service level" in out and "abandonment" in out and "By hour of day" in out

    code, out, _ = run(capsys, path, "--interval-minutes", "60", "--json")
    document = json.loads(out)
    assert code == 0
    assert document["calls"]["offered"] == 3000
    assert document["patience"]["mean_seconds"] == pytest.approx(estimate.mean_seconds,
                                                                 abs=1e-3)
    assert set(document["erlang_a"]) == {"service_level", "abandonment"}
    assert len(document["intervals"]) == sum(h["intervals"] for h in document["by_hour"])


def test_command_on_the_bank_file_reports_its_counts(capsys):
    path = str(shared_data(BANK))

    code, out, _ = run(capsys, path, "--format", "anonymous-bank", "--json")

    document = json.loads(out)
    assert code == 0
    assert document["calls"]["offered"] == 31_125 and document["calls"]["abandoned"] == 3_963
    assert document["intervals"][0]["interval_start"].endswith("+02:00")


def test_command_with_a_fixed_patience_uses_it_for_erlang_a(capsys, tmp_path):
    path = write(tmp_path, CSV)

    _, short, _ = run(capsys, path, "--patience", "5", "--json")
    _, long, _ = run(capsys, path, "--patience", "5000", "--json")

    short, long = json.loads(short), json.loads(long)
    assert (short["erlang_a"]["abandonment"]["predicted"]
            > long["erlang_a"]["abandonment"]["predicted"])


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("arrival,wait_seconds,handle_seconds\n2026-03-02T09:00:00,0,10\n",
     "lacks the column outcome"),
    ("arrival,handle_seconds,outcome\n2026-03-02T09:00:00,10,answered\n",
     "wait_seconds or a queue_exit"),
    ("arrival,wait_seconds,handle_seconds,outcome\n2026-03-02T09:00:00,0,10,answered\n"
     "2026-13-02T09:00:00,0,10,answered\n", "row 3: arrival '2026-13-02T09:00:00' is not"),
    ("arrival,wait_seconds,handle_seconds,outcome\n2026-03-02T09:00:00,-4,10,answered\n",
     "row 2: wait_seconds '-4' is not a number of seconds"),
    ("arrival,wait_seconds,handle_seconds,outcome\n2026-03-02T09:00:00,4,,answered\n",
     "row 2: handle_seconds '' is not a number"),
    ("arrival,wait_seconds,handle_seconds,outcome\n2026-03-02T09:00:00,4,10,lost\n",
     "row 2: outcome 'lost' is not answered or abandoned"),
    ("arrival,wait_seconds,handle_seconds,outcome\n2026-03-29T01:30:00,4,10,answered\n",
     "does not exist in Europe/London"),
])
def test_bad_csv_is_refused_with_the_row_and_the_problem(tmp_path, text, message):
    with pytest.raises(ValueError, match="calls.csv") as error:
        read_call_log(write(tmp_path, text), time_zone="Europe/London")
    assert message in str(error.value)


BANK_HEADER = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\t"
               "vru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\t"
               "server\n")
BANK_ROW = ("AA0101\t1\t0\t0\tPS\t990201\t{entry}\t7:02:56\t9\t7:02:56\t7:03:10\t14\t{outcome}"
            "\t7:03:10\t7:05:41\t151\tDORIT\n")


@pytest.mark.parametrize(("row", "message"), [
    (BANK_ROW.format(entry="7:61:47", outcome="AGENT"),
     "row 2: vru_entry '7:61:47' is not a time H:MM:SS"),
    (BANK_ROW.format(entry="7:02:47", outcome="BUSY"),
     "row 2: outcome 'BUSY' is not AGENT, HANG or PHANTOM"),
    (BANK_ROW.format(entry="7:02:47", outcome="AGENT").replace("990201", "990231"),
     "row 2: date '990231' is not a YYMMDD date"),
])
def test_bad_bank_rows_are_refused_with_the_row_and_the_problem(tmp_path, row, message):
    path = write(tmp_path, BANK_HEADER + row, "bank.txt")

    with pytest.raises(ValueError, match="bank.txt") as error:
        read_call_log(path, log_format="anonymous-bank")
    assert message in str(error.value)


def test_bank_file_without_its_columns_is_refused(tmp_path):
    path = write(tmp_path, "date\tvru_entry\n990201\t7:00:00\n", "bank.txt")

    with pytest.raises(ValueError, match="lacks the columns vru_exit, q_start"):
        read_call_log(path, log_format="anonymous-bank")


def test_command_reports_bad_input_and_exits_2(capsys, tmp_path):
    code, out, err = run(capsys, str(tmp_path / "absent.csv"))
    assert (code, out) == (2, "")
    assert err.startswith("serviceops calibrate: cannot read")

    path = write(tmp_path, "arrival,wait_seconds,handle_seconds,outcome\n"
                           "2026-03-02T09:00:00,0,10,answered\n")
    code, _, err = run(capsys, path)
    assert code == 2 and "no caller hung up while waiting" in err

    code, _, err = run(capsys, write(tmp_path, CSV), "--time-zone", "Mars/Olympus")
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in err
