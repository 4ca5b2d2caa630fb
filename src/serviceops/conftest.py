"""Shared test fixtures: a small organisation with named users in every role.

`agent` and `leader` work in Billing, `outsider` in Technical; `manager`, `assessor`,
`analyst` and `trainer` are in no team.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Return a file of ../shared/data, skipping the test when it is absent (a user's clone),
    or failing when SERVICEOPS_REQUIRE_SHARED_DATA=1 (CI)."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("SERVICEOPS_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"{path} is required (SERVICEOPS_REQUIRE_SHARED_DATA=1) but missing")
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(autouse=True)
def _jobs_run_inline(settings):
    """Jobs run immediately inside tests (a separate test exercises the real worker)."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    """Two teams, one person per role, a customer with an adjustment, and categories."""
    from django.utils import timezone

    from serviceops.cases.models import Category
    from serviceops.customers.models import Adjustment, Customer
    from serviceops.people.models import Skill, Team
    from serviceops.people.services import staff_create_login

    class Org:
        pass

    o = Org()
    o.billing = Team.objects.create(name="Billing")
    o.technical = Team.objects.create(name="Technical")
    o.welsh = Skill.objects.create(name="Welsh")

    def person(username, role, teams=()):
        staff = staff_create_login(username=username, name=username.title() + " Person",
                                   role=role, password=None, email=f"{username}@example.org",
                                   team_names=[t.name for t in teams])
        return staff

    o.agent = person("agent", "agent", [o.billing])
    o.agent2 = person("agent2", "agent", [o.billing])
    o.leader = person("leader", "team_leader", [o.billing])
    o.outsider = person("outsider", "agent", [o.technical])
    o.manager = person("manager", "manager")
    o.assessor = person("assessor", "assessor")
    o.analyst = person("analyst", "quality_analyst")
    o.trainer = person("trainer", "trainer", [o.billing])
    now = timezone.now()
    o.customer = Customer.objects.create(name="Ada Lovelace", email="ada@example.org",
                                         created_at=now)
    Adjustment.objects.create(customer=o.customer, kind="large_print", detail="18pt",
                              recorded_at=now)
    o.refunds_parent = Category.objects.create(name="Billing")
    o.refunds = Category.objects.create(name="Refunds", parent=o.refunds_parent)
    return o


@pytest.fixture
def billing_case(org):
    from serviceops.cases.services import case_create

    return case_create(by=org.agent.user, subject="Refund not received",
                       description="I returned the kettle two weeks ago.", channel="email",
                       customer=org.customer, team=org.billing, category=org.refunds)
