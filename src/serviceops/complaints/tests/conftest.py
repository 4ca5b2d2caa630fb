"""Complaint fixtures, built through the services: the shipped regimes, a leader of another
team, and a complaint on the shared Billing case logged by the Billing team leader."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from serviceops.complaints.models import Regime


@pytest.fixture
def general(db) -> Regime:
    return Regime.objects.get(key="general")


@pytest.fixture
def fca(db) -> Regime:
    return Regime.objects.get(key="fca-disp")


@pytest.fixture
def tech_leader(org):
    """A team leader of Technical: handles complaints, but not Billing's."""
    from serviceops.people.services import staff_create_login

    return staff_create_login(username="techlead", name="Tech Leader", role="team_leader",
                              password=None, email="techlead@example.org",
                              team_names=["Technical"])


@pytest.fixture
def log(org, general):
    """Log a complaint through the service (by the Billing leader unless told otherwise)."""
    from serviceops.complaints.services import complaint_log

    def make(*, by=None, regime=None, received_at=None, **extra):
        fields = {"channel": "email", "account": "My refund never arrived.",
                  "desired_outcome": "The refund, and an apology."}
        fields.update(extra)
        if "case" not in fields:
            fields.setdefault("team", org.billing)
            fields.setdefault("customer", org.customer)
            fields.setdefault("subject", "Refund missing")
        return complaint_log(
            by=(by or org.leader).user, regime=regime or general,
            received_at=received_at or timezone.now() - timedelta(hours=2), **fields)

    return make


@pytest.fixture
def complaint(log, billing_case):
    return log(case=billing_case)
