"""A team leader goes from case history to a published rota in the browser, and an agent
then finds their shifts."""

from __future__ import annotations

from serviceops.cases.tests.test_browser import PASSWORD, browser, page  # noqa: F401
from serviceops.cases.tests.test_browser import pytestmark as browser_marks

from .conftest import LAST_HISTORY_DAY

pytestmark = browser_marks


def _sign_in(page, live_server, username: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/cases/**")


def test_history_to_published_rota(org, history, patterns, page, live_server):  # noqa: F811
    for person in (org.leader, org.agent):
        person.user.set_password(PASSWORD)
        person.user.save()
    _sign_in(page, live_server, "leader")
    page.get_by_role("link", name="Workforce").click()
    page.get_by_role("link", name="New forecast").click()
    page.get_by_label("Name").fill("Billing, week of 4 May")
    page.get_by_label("Team").select_option(label="Billing")
    page.get_by_label("Last day of history").fill(LAST_HISTORY_DAY.isoformat())
    page.get_by_label("Interval minutes").select_option("60")
    page.get_by_label("Days to forecast").fill("7")
    page.get_by_label("Backtest origins").fill("1")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Holidays").fill("none")
    page.get_by_role("button", name="Start forecast").click()
    page.get_by_role("heading", name="Backtest").wait_for(timeout=60_000)
    page.locator("#forecast-chart[data-ready='1'] svg").wait_for(timeout=60_000)

    plan_form = page.get_by_role("form", name="New staffing plan")
    plan_form.get_by_label("AHT (seconds)").fill("600")
    plan_form.get_by_role("button", name="Make the plan").click()
    page.get_by_role("heading", name="Scenarios side by side").wait_for()
    page.get_by_text("Add a scenario").click()
    scenario = page.get_by_role("form", name="New scenario")
    scenario.get_by_label("Name").fill("Busier")
    scenario.get_by_label("Volume ×").fill("1.2")
    scenario.get_by_role("button", name="Add scenario").click()
    assert "volume × 1.2" in page.get_by_role("row", name="Busier").inner_text()

    rota_form = page.get_by_role("form", name="New rota")
    rota_form.get_by_label("Time limit (seconds)").fill("20")
    rota_form.get_by_role("button", name="Build rota").click()
    page.get_by_role("button", name="Publish rota").wait_for(timeout=90_000)
    page.locator("#coverage-chart[data-ready='1'] svg").wait_for(timeout=60_000)
    assert page.get_by_role("row", name=org.agent.name).count() == 1
    page.get_by_role("button", name="Publish rota").click()
    page.get_by_text("Rota published").wait_for()

    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, live_server, "agent")
    page.get_by_role("link", name="My shifts").first.click()
    page.get_by_label("From").fill("2026-05-04")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_role("row").count() > 1
    assert "No published shifts" not in page.content()
