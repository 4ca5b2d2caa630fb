"""KPIs of the real ServiceNow incident log (UCI) against an independent computation with
pandas straight from the CSV."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from serviceops.cases.importing import import_cases
from serviceops.cases.tests.test_importing import SERVICENOW
from serviceops.conftest import shared_data
from serviceops.insights.kpis import Scope
from serviceops.insights.selectors import kpi_values, period_bounds

STATUS = {"New": "new", "Active": "open", "Awaiting User Info": "pending_customer",
          "Awaiting Evidence": "pending_customer", "Awaiting Vendor": "pending_third_party",
          "Awaiting Problem": "on_hold", "Resolved": "resolved", "Closed": "closed"}


def _local(series: pd.Series) -> pd.Series:
    """Day-first local London times → UTC (an ambiguous hour is read as summer time, a
    skipped one as winter time, as Python's zoneinfo does with fold=0)."""
    naive = pd.to_datetime(series, format="%d/%m/%Y %H:%M")
    return naive.dt.tz_localize("Europe/London", ambiguous=np.ones(len(naive), dtype=bool),
                                nonexistent=pd.Timedelta(hours=1)).dt.tz_convert("UTC")


def expected_from_csv(path) -> pd.DataFrame:
    """One row per incident with its priority, reopened / reassigned flags, final status
    and resolution seconds, from the raw rows."""
    raw = pd.read_csv(path, na_values=["?"], keep_default_na=False, low_memory=False)
    raw["line"] = np.arange(len(raw))
    raw["opened"] = _local(raw["opened_at"])
    raw["updated"] = _local(raw["sys_updated_at"])
    raw["resolved_given"] = _local(raw["resolved_at"].fillna("01/01/1970 00:00")).where(
        raw["resolved_at"].notna())
    file_last = raw.groupby("number").tail(1).set_index("number")
    rows = raw.sort_values(["number", "updated", "sys_mod_count"], kind="stable").copy()
    by = rows.groupby("number", sort=False)
    rows["status"] = rows["incident_state"].map(STATUS)
    # A case is reassigned when given to an agent more than once or moved between teams.
    agent = rows["assigned_to"].fillna("")
    rows["assigned"] = (agent != by["assigned_to"].shift().fillna("")) & (agent != "")
    team = rows["assignment_group"]
    previous_team = by["assignment_group"].transform(lambda s: s.ffill().shift())
    rows["team_move"] = team.notna() & previous_team.notna() & (team != previous_team)
    # The log counts reopenings; a rise in the count is a reopening.
    previous_max = by["reopen_count"].transform(lambda s: s.cummax().shift().fillna(0))
    rows["reopen"] = rows["reopen_count"] > previous_max
    after = rows["status"].where(~(rows["reopen"] & rows["status"].isin(["open", "new"])),
                                 "reopened")
    # The state a row's status is compared with: the previous row's outcome, or "reopened"
    # when this row reopens the case.
    before = after.groupby(rows["number"]).shift().fillna("new").where(~rows["reopen"],
                                                                        "reopened")
    rows["resolved_event"] = (rows["status"] == "resolved") & (before != "resolved")
    rows["at"] = rows[["updated", "opened"]].max(axis=1)
    incidents = pd.DataFrame({
        "priority": file_last["priority"].str[0].astype(int),
        "opened": by["opened"].first(),
        "final": after.groupby(rows["number"]).last(),
        "reopened": by["reopen_count"].max() > 0,
        "reassigned": (by["assigned"].sum() > 1) | (by["team_move"].sum() > 0),
        "last_resolved_event": rows["at"].where(rows["resolved_event"]).groupby(
            rows["number"]).max(),
    })
    resolved = file_last["resolved_given"].fillna(incidents["last_resolved_event"]).fillna(
        file_last["updated"])
    done = incidents["final"].isin(["resolved", "closed"])
    incidents["resolution_seconds"] = ((resolved - incidents["opened"]).dt.total_seconds()
                                       .clip(lower=0).where(done))
    return incidents


@pytest.mark.django_db
def test_kpis_of_the_uci_log_match_pandas_on_the_csv():
    path = shared_data("uci_incident_event_log/incident_event_log.csv.gz")
    import_cases(path=path, fmt="csv", mapping_path=SERVICENOW)
    expected = expected_from_csv(path)
    start, end = period_bounds(date(2015, 1, 1), date(2018, 12, 31))
    ours = kpi_values(Scope(start=start, end=end, by="priority"))
    for priority, group in expected.groupby("priority"):
        done = group[group["resolution_seconds"].notna()]
        assert ours["case_volume", priority].value == len(group), priority
        assert ours["reassignment_rate", priority].value == pytest.approx(
            group["reassigned"].mean(), abs=1e-12), priority
        assert ours["reopen_rate", priority].value == pytest.approx(
            done["reopened"].mean(), abs=1e-12), priority
        assert ours["resolution_time_median", priority].value == pytest.approx(
            done["resolution_seconds"].median(), abs=1e-3), priority
        assert ours["resolution_time_p90", priority].value == pytest.approx(
            done["resolution_seconds"].quantile(0.9), abs=1e-3), priority
    overall = kpi_values(Scope(start=start, end=end))
    assert overall["case_volume", None].value == len(expected) == 24_918
    assert overall["reopen_rate", None].value == pytest.approx(
        expected.loc[expected["resolution_seconds"].notna(), "reopened"].mean())
