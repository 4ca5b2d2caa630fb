"""read_together: calls side by side on PostgreSQL, on one snapshot; one after another on
SQLite and inside a transaction; a failing call's error reaches the caller."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection, transaction

from serviceops.core import snapshot
from serviceops.core.snapshot import read_together
from serviceops.people.models import Team


def _backend() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("connections side by side are for PostgreSQL")


def _other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(dbname=settings["NAME"], user=settings["USER"],
                           host=settings["HOST"], port=settings["PORT"] or None,
                           password=settings["PASSWORD"] or None, autocommit=True)


def _open_connections(expected: int | None = None) -> int:
    """Connections to the test database (Django's own opened first) besides the one
    asking; given `expected`, wait up to 5 s for it (a server process leaves the list a
    moment after its client closes)."""
    connection.ensure_connection()
    with _other_connection() as other:
        for _ in range(50):
            count = other.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()").fetchone()[0]
            if expected is None or count == expected:
                break
            time.sleep(0.1)
        return count


@pytest.mark.django_db(transaction=True)
def test_calls_run_side_by_side_and_all_read_the_snapshot_taken_at_the_start():
    _needs_postgres()
    Team.objects.create(name="Before")
    before = _open_connections()
    # Both calls must be running at once to pass the barrier, so they are on two
    # connections; a team committed meanwhile by a third is seen by neither.
    both_running = threading.Barrier(2, timeout=20)
    committed = threading.Event()

    def commit_a_team():
        with _other_connection() as other:
            other.execute("INSERT INTO people_team (name, email) VALUES ('Meanwhile', '')")
        committed.set()

    def first():
        both_running.wait()
        threading.Thread(target=commit_a_team).start()
        committed.wait(20)
        return _backend(), sorted(Team.objects.values_list("name", flat=True))

    def second():
        both_running.wait()
        committed.wait(20)
        return _backend(), sorted(Team.objects.values_list("name", flat=True))

    found = read_together({"first": first, "second": second})

    assert committed.is_set()
    assert found["first"][0] != found["second"][0]
    assert found["first"][1] == found["second"][1] == ["Before"]
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Before", "Meanwhile"]
    assert _open_connections(before) == before  # the helpers' connections are closed


@pytest.mark.django_db(transaction=True)
def test_a_failing_call_raises_in_the_caller_and_leaves_no_connection_open():
    _needs_postgres()
    before = _open_connections()

    def fails():
        Team.objects.count()
        raise ValueError("no such figure")

    calls = {"ok": lambda: Team.objects.count(), "fails": fails, "also": lambda: 1}
    with pytest.raises(ValueError, match="no such figure"):
        read_together(calls)
    assert _open_connections(before) == before
    assert read_together({"ok": lambda: Team.objects.count(), "one": lambda: 1}) == {
        "ok": 0, "one": 1}


@pytest.mark.django_db(transaction=True)
def test_helpers_that_cannot_connect_leave_the_work_to_this_connection(monkeypatch):
    _needs_postgres()
    from django.db import OperationalError
    from django.db.backends.base.base import BaseDatabaseWrapper

    ensure = BaseDatabaseWrapper.ensure_connection

    def refuse_helpers(self):
        if threading.current_thread().name.startswith("read-together"):
            raise OperationalError("too many clients already")
        ensure(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse_helpers)
    mine = _backend()
    found = read_together({"a": _backend, "b": _backend, "c": _backend})
    assert found == {"a": mine, "b": mine, "c": mine}


@pytest.mark.django_db(transaction=True)
def test_with_every_helper_place_taken_the_work_stays_on_this_connection(monkeypatch):
    _needs_postgres()
    places = threading.BoundedSemaphore(1)
    monkeypatch.setattr(snapshot, "HELPERS", places)
    mine = _backend()
    places.acquire()  # another report's helper holds the only place
    try:
        assert read_together({"a": _backend, "b": _backend}) == {"a": mine, "b": mine}
    finally:
        places.release()
    together = threading.Barrier(2, timeout=20)  # passed only by two lanes at once

    def meet():
        together.wait()
        return _backend()

    found = read_together({"a": meet, "b": meet})
    assert found["a"] != found["b"]  # with the place free, a helper reads


@pytest.mark.django_db(transaction=True)
def test_with_autocommit_off_calls_run_in_turn_on_this_connection():
    _needs_postgres()
    mine = _backend()
    connection.set_autocommit(False)
    try:
        assert read_together({"a": _backend, "b": _backend}) == {"a": mine, "b": mine}
    finally:
        connection.rollback()
        connection.set_autocommit(True)


@pytest.mark.django_db(transaction=True)
def test_calls_cannot_write():
    _needs_postgres()
    from django.db import InternalError

    def write():
        Team.objects.create(name="Not here")

    with pytest.raises(InternalError, match="read-only"):
        read_together({"write": write, "read": lambda: Team.objects.count()})
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_inside_a_transaction_or_on_sqlite_calls_run_in_turn_on_this_connection(monkeypatch):
    started = []
    monkeypatch.setattr(snapshot, "_helper_lane", lambda *args: started.append(args))
    mine = _backend()
    with transaction.atomic():
        Team.objects.create(name="Uncommitted")
        found = read_together({"a": _backend, "b": _backend,
                               "teams": lambda: Team.objects.filter(name="Uncommitted").count()})
    assert found == {"a": mine, "b": mine, "teams": 1}
    assert started == []
