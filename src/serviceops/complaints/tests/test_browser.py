"""A team leader takes a complaint from a case to confirmed restoration of the customer's
confidence in the browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from serviceops.cases.tests.test_browser import PASSWORD, browser, page  # noqa: F401
from serviceops.cases.tests.test_browser import pytestmark as browser_marks
from serviceops.complaints.models import Complaint

pytestmark = browser_marks


@pytest.fixture
def shipped_defaults(transactional_db):
    """The regimes, letters, limits and causes of the data migration: browser tests run
    after others that flush the database, which empties them."""
    from importlib import import_module

    from django.apps import apps

    import_module("serviceops.complaints.migrations.0002_default_regimes_templates_limits_"
                  "causes").forward(apps, None)


def test_case_to_closed_complaint(org, billing_case, shipped_defaults, page, live_server):  # noqa: F811
    org.leader.user.set_password(PASSWORD)
    org.leader.user.save()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("leader")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/cases/**")

    page.goto(f"{live_server.url}/cases/{billing_case.pk}/")
    page.get_by_role("link", name="Record as a complaint").click()
    form = page.get_by_role("form", name="Complaint")
    form.get_by_label("What they want").fill("My money back and an apology.")
    form.get_by_role("button", name="Log complaint").click()
    page.get_by_role("heading", name="Deadlines").wait_for()
    assert "I returned the kettle two weeks ago." in page.content()

    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Acknowledged").first.wait_for()
    page.get_by_text("Add a root cause").click()
    causes = page.get_by_role("form", name="Add a root cause")
    causes.get_by_label("Root cause from the catalogue").select_option(index=1)
    causes.get_by_role("button", name="Add cause").click()
    page.get_by_text("Root cause added").wait_for()

    resolve = page.get_by_role("form", name="Resolve")
    resolve.get_by_label("Outcome").select_option("upheld")
    resolve.get_by_label("Resolution", exact=True).fill("Refund issued; returns desk retrained.")
    resolve.get_by_label("Follow up on").fill(
        (timezone.localdate() + timedelta(days=7)).isoformat())
    resolve.get_by_role("button", name="Resolve and send the final response").click()
    follow = page.get_by_role("form", name="Follow up")
    follow.get_by_label("Yes", exact=True).check()
    follow.get_by_label("What the customer said").fill("Thank you, all sorted.")
    follow.get_by_role("button", name="Record the follow-up").click()
    page.get_by_role("button", name="Close complaint").click()
    page.get_by_text("Complaint closed").wait_for()
    complaint = Complaint.objects.get()
    assert complaint.stage == "closed" and complaint.confidence_restored is True
    assert complaint.letters.filter(kind="final").exists()
