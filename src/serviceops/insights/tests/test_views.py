"""The insight pages, their exports, the API and the CLI: figures, links and permissions."""

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook

from serviceops import cli
from serviceops.core.tokens import api_token_create
from serviceops.insights.models import KpiSetting, Objective, ObjectiveMeasure
from serviceops.insights.services import kpi_setting_save

PERIOD = "start=2026-03-01&end=2026-03-31"


@pytest.fixture
def scorecard(org):
    objective = Objective.objects.create(perspective="customer", name="Fix it first time")
    ObjectiveMeasure.objects.create(objective=objective, kpi_key="first_contact_resolution")
    ObjectiveMeasure.objects.create(objective=objective, kpi_key="reopen_rate")
    kpi_setting_save(key="first_contact_resolution", target=0.7, amber=0.4, owner=None,
                     by=org.manager.user)
    kpi_setting_save(key="reopen_rate", target=0.1, amber=0.2, owner=None,
                     by=org.manager.user)
    return objective


def _case_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/cases/(\d+)/"', html)}


def test_dashboard_shows_status_in_words_and_links_to_the_cases_behind(client, org, cases,
                                                                          scorecard):
    client.force_login(org.manager.user)
    page = client.get(f"/insights/?{PERIOD}").content.decode()
    assert "Near target" in page  # FCR 50 % against a 70 % target, amber from 40 %
    assert "Off target" in page  # reopen rate 25 % against 10 %, red beyond 20 %
    links = {name: url for url, name in re.findall(
        r'<a href="([^"]+)">Cases<span class="skip"> behind ([^<]+)</span>', page)}
    reopened = client.get(links["Reopen rate"].replace("&amp;", "&")).content.decode()
    assert _case_ids(reopened) == {cases[1].pk}
    assert "reopened at least once" in reopened
    fcr = client.get(links["First contact resolution"].replace("&amp;", "&")).content.decode()
    assert _case_ids(fcr) == {cases[0].pk, cases[3].pk}
    backlog = client.get(links["Backlog"].replace("&amp;", "&")).content.decode()
    assert _case_ids(backlog) == {cases[4].pk, cases[5].pk}


def test_breakdown_trends_control_pareto_and_compare_pages(client, org, cases):
    client.force_login(org.manager.user)
    by_team = client.get(f"/insights/?{PERIOD}&by=team").content.decode()
    assert "Billing" in by_team and "Technical" in by_team
    trends = client.get(f"/insights/trends/?{PERIOD}").content.decode()
    assert 'data-chart="trend-case_volume"' in trends
    control = client.get(f"/insights/control/?kpi=reopen_rate&{PERIOD}").content.decode()
    assert "p-chart" in control and 'data-chart="control-chart"' in control
    pareto = client.get(f"/insights/pareto/?measure=volume&dimension=team&{PERIOD}")
    assert re.search(r"Billing</a></th><td class=\"num\">4</td>", pareto.content.decode())
    # Resolved on 2 March: 4, 6 and 8 hours; on 3 March: 30 hours.
    compare = client.get("/insights/compare/?kpi=resolution_time_median&change=2026-03-03"
                         "&days=1").content.decode()
    assert "No significant change" in compare and "6.0 h" in compare
    assert "Few cases" in compare
    empty = client.get("/insights/compare/?kpi=resolution_time_median&change=2026-02-01"
                       "&days=7").content.decode()
    assert 'role="alert"' in empty


def test_scorecard_rolls_up_and_exports_csv_xlsx_and_pdf(client, org, cases, scorecard):
    client.force_login(org.assessor.user)
    page = client.get(f"/insights/scorecard/?{PERIOD}").content.decode()
    assert "Fix it first time" in page and "Off target" in page
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/insights/scorecard.csv?{PERIOD}").content.decode())))
    assert {r["kpi_key"]: r["status"] for r in rows if r["kpi_key"]} == {
        "first_contact_resolution": "Near target", "reopen_rate": "Off target"}
    assert rows[0]["objective_status"] == "Off target"  # as good as its worst measure
    book = load_workbook(io.BytesIO(client.get(f"/insights/scorecard.xlsx?{PERIOD}").content))
    assert book.active["C3"].value == "Fix it first time"
    pdf = client.get(f"/insights/scorecard.pdf?{PERIOD}")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert len(pdf.content) > 5000


def test_only_managers_edit_targets_and_wrong_way_limits_are_refused(client, org):
    client.force_login(org.assessor.user)
    assert client.get("/insights/targets/").status_code == 403
    assert client.post("/insights/targets/", {"action": "target", "key": "reopen_rate",
                                              "reopen_rate-key": "reopen_rate",
                                              "reopen_rate-target": "0.05"}).status_code == 403
    assert not KpiSetting.objects.exists()
    client.force_login(org.manager.user)
    post = {"action": "target", "key": "reopen_rate", "reopen_rate-key": "reopen_rate",
            "reopen_rate-target": "0.05", "reopen_rate-amber": "0.02"}
    page = client.post("/insights/targets/", post, follow=True).content.decode()
    assert "amber limit must be at or above the target" in page
    assert not KpiSetting.objects.exists()
    post["reopen_rate-amber"] = "0.08"
    client.post("/insights/targets/", post)
    assert KpiSetting.objects.get(key="reopen_rate").amber == 0.08


def test_api_and_cli_give_the_same_figures(client, org, cases, capsys):
    _, key = api_token_create(user=org.manager.user, name="test")
    response = client.get("/api/kpis?from=2026-03-01&to=2026-03-31&by=team",
                          HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    api = {(o["key"], o["group"]): o["value"] for o in response.json()}
    assert api["case_volume", "Billing"] == 4
    assert cli.main(["kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "team",
                     "--json"]) == 0
    printed = {(o["key"], o["group"]): o["value"] for o in json.loads(capsys.readouterr().out)}
    assert printed == api
    assert client.get("/api/kpis?from=2026-03-31&to=2026-03-01",
                      HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 422
    assert client.get("/api/kpis?from=2026-03-01&to=2026-03-31").status_code == 401


def test_cli_scopes_to_a_user_and_rejects_bad_input(org, cases, capsys):
    assert cli.main(["kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--as", "outsider",
                     "--json"]) == 0
    figures = {o["key"]: o["value"] for o in json.loads(capsys.readouterr().out)}
    assert figures["case_volume"] == 1
    assert cli.main(["kpi", "--from", "2026-03-31", "--to", "2026-03-01"]) == 2
    assert "ends before it starts" in capsys.readouterr().err
    assert cli.main(["kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--team",
                     "Nope"]) == 2


def test_charts_bundle_is_served_offline(client, org):
    client.force_login(org.agent.user)
    response = client.get("/insights/charts.js")
    assert response.status_code == 200 and b"drawCharts" in response.content
    assert len(response.content) > 500_000  # Vega, Vega-Lite and Vega-Embed themselves
