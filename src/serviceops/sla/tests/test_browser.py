"""A manager defines an SLA policy in the browser, then follows a breach from the live
board to the case (Debian's chromium, Playwright)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from serviceops.cases.services import case_create
from serviceops.cases.tests.test_browser import PASSWORD, browser, page  # noqa: F401
from serviceops.cases.tests.test_browser import pytestmark as browser_marks
from serviceops.sla.services import sla_recompute

pytestmark = browser_marks


def test_manager_sets_a_target_and_follows_a_breach_from_the_board(org, page, live_server):  # noqa: F811
    org.manager.user.set_password(PASSWORD)
    org.manager.user.save()
    late = case_create(by=org.manager.user, subject="Card swallowed by ATM", channel="email",
                       team=org.billing, now=timezone.now() - timedelta(hours=2))
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/cases/**")

    page.goto(f"{live_server.url}/sla/policies/new/")
    page.get_by_label("Name").fill("Email")
    page.get_by_label("Business time").uncheck()
    page.get_by_label("Moderate: first response (hours)").fill("1")
    page.get_by_role("button", name="Save policy").click()
    page.get_by_text("Policy Email saved (version 1)").wait_for()

    sla_recompute(cases=[late.pk])  # the page's save times new events; history on demand
    page.get_by_role("link", name="Live board").click()
    billing = page.get_by_role("row", name="Billing")
    billing.get_by_role("link", name="1 breached").click()
    page.wait_for_url("**sla=breached**")
    row = page.get_by_role("row", name="Card swallowed by ATM")
    assert "Breached" in row.inner_text() and "overdue by 1 h" in row.inner_text()
    row.get_by_role("link", name="Card swallowed by ATM").click()
    page.get_by_text("First response: Breached").wait_for()
    page.get_by_text("Escalate by hand").click()
    page.get_by_label("Reason").fill("Customer is stranded abroad")
    page.get_by_role("button", name="Escalate").click()
    page.get_by_text("Case escalated.").wait_for()
    assert page.get_by_text("Customer is stranded abroad").count() >= 1
