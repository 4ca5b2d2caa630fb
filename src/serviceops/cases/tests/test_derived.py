"""Derived rows (SLA clocks, facts) owed by every change and recomputed in passes."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from huey.contrib.djhuey import HUEY

from serviceops.cases import derived
from serviceops.cases.derived import derived_backlog, derived_lock, derived_refresh, refresh_soon
from serviceops.cases.models import CaseFact, CaseRefresh
from serviceops.cases.services import case_change_status, case_create, case_reply
from serviceops.sla.models import CaseClock, CaseSla, SlaPolicy
from serviceops.sla.services import policy_save


@pytest.fixture
def policy(org):
    return policy_save(policy=SlaPolicy(
        name="Email replies", channels=["email"], business_time=False,
        targets={"3": {"first_response": 4 * 3600, "resolution": 24 * 3600}}),
        by=org.manager.user)


def _open(org, subject="Card not arrived"):
    return case_create(by=org.agent.user, subject=subject, channel="email", team=org.billing,
                       assignee=org.agent)


def _owed(case) -> int:
    return CaseRefresh.objects.filter(case=case).count()


# Plain tests run inside one transaction that never commits, so nothing is refreshed until a
# test asks: the rows a change owes can be inspected.

def test_a_change_owes_one_refresh_per_transaction_and_a_rolled_back_one_owes_none(org):
    case = _open(org)  # created, then assigned: two events, one transaction
    assert _owed(case) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        doomed = _open(org, "Rolled back")
        raise RuntimeError
    assert not CaseRefresh.objects.filter(case_id=doomed.pk).exists()
    assert derived_backlog()[0] == 1


def test_a_pass_computes_clocks_and_facts_and_clears_what_was_owed(org, policy):
    first, second = _open(org), _open(org, "PIN locked")
    assert not CaseSla.objects.exists() and not CaseFact.objects.exists()
    assert derived_refresh() == 2
    assert set(CaseSla.objects.values_list("case_id", flat=True)) == {first.pk, second.pk}
    assert CaseSla.objects.get(case=first).version.policy == policy
    assert CaseClock.objects.filter(case=first, kind="first_response").exists()
    assert CaseFact.objects.get(case=second).assignment_count == 1
    assert derived_backlog() == (0, None)
    assert derived_refresh() == 0


def test_asking_for_some_cases_refreshes_only_those(org, policy):
    wanted, other = _open(org), _open(org, "PIN locked")
    assert derived_refresh(case_ids=[wanted.pk]) == 1
    assert CaseSla.objects.filter(case=wanted).exists()
    assert not CaseSla.objects.filter(case=other).exists() and _owed(other) == 1
    assert derived_refresh(case_ids=[wanted.pk]) == 0  # nothing owed: no pass at all


def test_a_change_committed_during_a_pass_is_left_to_the_next_one(org, monkeypatch):
    case = _open(org)
    real = derived._recompute_all
    calls = []

    def recompute_while_the_case_changes(ids, now):
        real(ids, now)
        calls.append(ids)
        # The case changes again after this pass has read its events.
        CaseRefresh.objects.create(case=case, queued_at=now)

    monkeypatch.setattr(derived, "_recompute_all", recompute_while_the_case_changes)
    assert derived_refresh() == 1  # the pass ends although a change keeps coming
    assert calls == [[case.pk]] and _owed(case) == 1  # the new change is still owed
    derived_refresh()
    assert calls == [[case.pk], [case.pk]] and _owed(case) == 1


def test_a_case_that_fails_stays_owed_without_holding_up_the_others(org, monkeypatch, caplog):
    good, bad = _open(org), _open(org, "Broken")
    from serviceops.sla import services as sla_services

    real = sla_services.sla_recompute

    def fail_for_bad(*, cases, **kwargs):
        if bad.pk in cases:
            raise ValueError("a policy the code cannot read")
        return real(cases=cases, **kwargs)

    monkeypatch.setattr(sla_services, "sla_recompute", fail_for_bad)
    assert derived_refresh() == 1
    assert CaseSla.objects.filter(case=good).exists() and _owed(good) == 0
    assert not CaseSla.objects.filter(case=bad).exists() and _owed(bad) == 1
    assert f"Refreshing case {bad.pk} failed" in caplog.text


def test_the_case_page_refreshes_an_owed_case_before_showing_its_clocks(org, policy, client):
    case = _open(org)
    client.force_login(org.agent.user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Email replies" in page and "Not timed yet" not in page
    assert _owed(case) == 0


def test_the_health_check_reports_the_backlog_for_monitoring(org, client):
    _open(org)
    waiting = client.get("/health/").json()
    assert waiting["status"] == "ok" and waiting["refresh_backlog"] == 1
    assert waiting["refresh_oldest_seconds"] >= 0
    derived_refresh()
    done = client.get("/health/").json()
    assert (done["refresh_backlog"], done["refresh_oldest_seconds"]) == (0, None)


def test_after_commit_the_owed_refresh_runs(org, policy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # jobs run at once in tests
        case = _open(org)
        case_reply(case=case, body="We have sent a new card.", by=org.agent.user)
        case_change_status(case=case, status="pending_customer", by=org.agent.user)
    assert _owed(case) == 0
    assert CaseFact.objects.get(case=case).reply_count == 1
    assert CaseClock.objects.get(case=case, kind="first_response").stopped_at is not None


def test_one_pass_waits_at_a_time_across_processes(db, monkeypatch):
    HUEY.immediate = False
    HUEY.flush()
    clock = [1000.0]
    monkeypatch.setattr(derived.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(derived, "_scheduled_until", 0.0)

    def queued():
        tasks = [HUEY.deserialize_task(data) for data in HUEY.storage.enqueued_items()]
        assert all(task.eta is not None for task in tasks)  # each waits DELAY to start
        return len(tasks)

    try:
        refresh_soon()
        clock[0] += derived.DELAY / 2
        refresh_soon()  # this process's pass starts after this commit
        assert queued() == 1
        clock[0] += derived.DELAY
        monkeypatch.setattr(derived, "_scheduled_until", 0.0)  # as another process
        refresh_soon()  # the pass waiting to start will read this commit's cases
        assert queued() == 1
        derived.derived_pass()  # the pass starts: the next commit schedules another
        refresh_soon()
        assert queued() == 2
    finally:
        HUEY.flush()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's advisory lock")
@pytest.mark.django_db(transaction=True)
def test_passes_take_turns_on_postgresql(org):
    case = _open(org)  # refreshed on commit (jobs run at once in tests): owe it again
    CaseRefresh.objects.create(case=case, queued_at=case.opened_at)
    holding, release = threading.Event(), threading.Event()

    def another_pass():
        try:
            with transaction.atomic():
                derived_lock()
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=another_pass)
    thread.start()
    assert holding.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    assert derived_refresh() == 1
    waited = time.monotonic() - started
    thread.join()
    assert waited >= 0.4 and _owed(case) == 0
