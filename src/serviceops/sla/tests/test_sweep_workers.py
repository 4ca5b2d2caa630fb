"""The escalation sweep run by two real worker processes at once: every level is applied
exactly once, and each escalation's email reaches a real SMTP server on loopback. On
PostgreSQL the workers claim cases with SKIP LOCKED; on SQLite their transactions queue."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from serviceops.cases.choices import EventKind
from serviceops.cases.models import CaseEvent
from serviceops.cases.services import case_create
from serviceops.core.tests.test_jobs import _database_url_for_tests, smtp_server  # noqa: F401
from serviceops.sla.models import CaseEscalation, EscalationLevel, SlaPolicy
from serviceops.sla.services import policy_save, sla_recompute
from serviceops.sla.tasks import sla_sweep_once

CASES = 60


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_apply_each_escalation_exactly_once(org, smtp_server):  # noqa: F811
    policy = policy_save(policy=SlaPolicy(
        name="Email", business_time=False,
        targets={"3": {"first_response": 3600, "resolution": 8 * 3600}}), by=org.manager.user)
    EscalationLevel.objects.create(policy=policy, position=1, clock="first_response",
                                   percent_consumed=50, notify_roles=["team_leader"])
    EscalationLevel.objects.create(policy=policy, position=2, clock="first_response",
                                   minutes_after_breach=0, notify_roles=["manager"])
    started = timezone.now() - timedelta(hours=2)
    ids = [case_create(by=org.agent.user, subject=f"Card {n}", team=org.billing,
                       assignee=org.agent, now=started).pk for n in range(CASES)]
    sla_recompute(cases=ids)

    HUEY.immediate = False
    HUEY.flush()
    for _ in range(8):  # more sweeps than workers: they overlap
        sla_sweep_once()
    env = dict(os.environ, DATABASE_URL=_database_url_for_tests(), EMAIL_HOST="127.0.0.1",
               EMAIL_PORT=str(smtp_server.port), HUEY_NAME=HUEY.name)
    workers = [subprocess.Popen([sys.executable, "-m", "serviceops.cli", "manage", "run_huey",
                                 "--workers", "2", "--quiet"], env=env) for _ in range(2)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
                HUEY.pending_count() or len(smtp_server.received) < 2 * CASES):
            time.sleep(0.3)
        time.sleep(1)  # let any duplicate that would have been sent arrive
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    assert CaseEscalation.objects.count() == 2 * CASES
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == 2 * CASES
    assert len(smtp_server.received) == 2 * CASES
    # One email per case and level: to the team leader at 50 %, to the manager at the breach.
    sent = {(m["Subject"], m["To"]) for m in smtp_server.received}
    assert len(sent) == 2 * CASES
