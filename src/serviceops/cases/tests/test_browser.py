"""Real browser tests: Debian's chromium driven by Playwright against a live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "a-long-Passphrase-42"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError("/usr/bin/chromium is required in CI (apt-get install chromium)")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desk(org, billing_case):
    for staff in (org.agent, org.assessor):
        staff.user.set_password(PASSWORD)
        staff.user.save()
    return org, billing_case


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/cases/**")


def test_agent_opens_queue_and_case_replies_and_changes_status(page, live_server, desk):
    org, case = desk
    sign_in(page, live_server, "agent")
    page.get_by_role("link", name="Team").click()
    page.get_by_role("link", name="Refund not received").click()
    assert page.get_by_role("heading", name="Reasonable adjustments for Ada Lovelace").is_visible()
    page.get_by_label("Message").fill("We have issued your refund today.")
    page.get_by_role("button", name="Send").click()
    thread = page.locator("#work .thread")
    thread.get_by_text("We have issued your refund today.").wait_for()
    assert "Public reply" in thread.inner_text()
    page.get_by_label("Status", exact=True).select_option("resolved")
    page.get_by_role("button", name="Change status").click()
    page.get_by_text("Resolved", exact=True).first.wait_for()
    case.refresh_from_db()
    assert case.status == "resolved"
    page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "ui-case.png"),
                    full_page=True)


def test_assessor_sees_the_case_but_can_change_nothing(page, live_server, desk):
    org, case = desk
    sign_in(page, live_server, "assessor")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert page.get_by_role("heading", name=f"Case #{case.pk}: Refund not received").is_visible()
    assert page.get_by_label("Message").count() == 0
    assert page.get_by_role("button", name="Change status").count() == 0
    token = page.evaluate("() => document.cookie.split('; ').find(c => "
                          "c.startsWith('csrftoken=')).split('=')[1]")
    response = page.request.post(f"{live_server.url}/cases/{case.pk}/status/",
                                 form={"status": "open"}, headers={"X-CSRFToken": token})
    assert response.status == 403
    case.refresh_from_db()
    assert case.status == "new"
