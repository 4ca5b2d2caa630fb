"""The real job path: a case assignment queues a job, a separate worker process runs it and
sends the email over SMTP to a server on loopback, and refreshes the case's derived rows.
Uses Redis when REDIS_URL is set, otherwise the embedded SQLite queue."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection
from huey.contrib.djhuey import HUEY

from serviceops.cases.models import CaseFact, CaseRefresh
from serviceops.cases.services import case_assign, case_create


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:  # a free port: aiosmtpd cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    controller.received = received
    yield controller
    controller.stop()


def _database_url_for_tests() -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
        return f"postgres://{auth}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"
    return f"sqlite://{settings['NAME']}"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_assignment_email_is_sent_by_a_separate_worker_over_smtp(org, smtp_server, tmp_path):
    worker_env = dict(
        os.environ,
        DATABASE_URL=_database_url_for_tests(),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        HUEY_NAME=HUEY.name,
    )
    HUEY.immediate = False
    HUEY.flush()
    case = case_create(by=org.leader.user, subject="Broken kettle", team=org.billing)
    case_assign(case=case, assignee=org.agent, by=org.leader.user)  # queued after commit
    queued = [HUEY.deserialize_task(data).name for data in HUEY.storage.enqueued_items()]
    assert sorted(queued) == ["case_notify_assignee", "derived_refresh_job"]
    assert CaseRefresh.objects.filter(case=case).exists()
    assert not CaseFact.objects.filter(case=case).exists()
    worker = subprocess.Popen(
        [sys.executable, "-m", "serviceops.cli", "manage", "run_huey", "--workers", "1",
         "--quiet"],
        env=worker_env,
    )
    try:
        deadline = time.monotonic() + 60
        while (not smtp_server.received or CaseRefresh.objects.exists()) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert smtp_server.received, "the worker did not send the assignment email"
    message = smtp_server.received[0]
    assert message["To"] == "agent@example.org"
    assert f"Case #{case.pk} assigned to you" in message["Subject"]
    assert HUEY.pending_count() == 0
    # The same worker recomputed the case's derived rows shortly after the change.
    assert CaseFact.objects.get(case=case).assignment_count == 1
    assert not CaseRefresh.objects.exists()
