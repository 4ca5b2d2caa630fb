"""A manager reads the KPI dashboard in the browser: charts drawn offline within the
Content-Security-Policy, status in words, and a click from a figure to its cases."""

from __future__ import annotations

from serviceops.cases.tests.test_browser import PASSWORD, browser, page  # noqa: F401
from serviceops.cases.tests.test_browser import pytestmark as browser_marks
from serviceops.insights.services import kpi_setting_save

pytestmark = browser_marks


def test_dashboard_draws_charts_and_drills_down_to_cases(org, cases, page, live_server):  # noqa: F811
    kpi_setting_save(key="reopen_rate", target=0.1, amber=0.2, owner=org.manager,
                     by=org.manager.user)
    org.manager.user.set_password(PASSWORD)
    org.manager.user.save()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "eval" in m.text else None)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/cases/**")

    page.get_by_role("link", name="KPIs").click()
    page.get_by_label("From").fill("2026-03-01")
    page.get_by_label("To (included)").fill("2026-03-31")
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("row", name="Reopen rate")
    assert "25.0 %" in row.inner_text() and "Off target" in row.inner_text()
    # Charts are drawn by the bundled Vega (no CDN), as SVG, without 'unsafe-eval'.
    page.locator("#trend-case_volume[data-ready='1'] svg").wait_for(timeout=60_000)
    page.locator("#chart-channels[data-ready='1'] svg").wait_for(timeout=60_000)
    assert blocked == []

    row.get_by_role("link", name="Cases behind Reopen rate").click()
    page.wait_for_url("**fact=reopened**")
    page.get_by_text("Cases behind the figure").wait_for()
    assert page.get_by_role("row", name="Case 1").count() == 1
    assert page.get_by_role("row", name="Case 0").count() == 0
