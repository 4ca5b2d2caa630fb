"""Independent reads run side by side on PostgreSQL, all seeing one snapshot.

A report made of several aggregate queries (the complaint analysis runs eight or nine)
spends its time in the database, one query after another on one connection, so one server
core works while the others wait. `read_together` runs such queries on a few connections at
once. Every connection reads the snapshot of the first (`pg_export_snapshot`), so the
results agree as if one query had computed them all, as they do when run one after another
in one repeatable-read transaction.

It falls back to running the calls one after another on this thread's connection where
other connections could not help or could not see the same rows: on SQLite, and inside a
transaction already open or with autocommit off (its uncommitted rows are invisible to other
connections; a test that runs in a transaction reads this way). Helper connections are few
per process (`HELPERS`) and closed when their work is done.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

# Connections reading at once, this thread's included: each query keeps a server core busy,
# and PostgreSQL may add parallel workers to a large scan.
LANES = 3
# Helper connections open at once in this process, whatever the number of requests: under
# a threaded server the reports beyond it read on fewer connections (or on their own) rather
# than take the database's last free connections.
HELPERS = threading.BoundedSemaphore(4)

_BEGIN = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def read_together(calls: dict[str, Callable[[], Any]], *, lanes: int = LANES) -> dict[str, Any]:
    """Run the read-only `calls` (given longest first) and return their results by name.

    Each call must only read, and must not share a cursor or an open result with another.
    An exception in any call is raised here once every lane has stopped."""
    if (connection.vendor != "postgresql" or connection.in_atomic_block or lanes < 2
            or len(calls) < 2 or not connection.get_autocommit()):
        return {name: call() for name, call in calls.items()}
    work: queue.SimpleQueue = queue.SimpleQueue()
    for item in calls.items():
        work.put(item)
    results: dict[str, Any] = {}
    errors: list[BaseException] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_BEGIN)
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        helpers = [threading.Thread(target=_helper_lane, args=(snapshot, work, results, errors),
                                    name=f"read-together-{n}", daemon=True)
                   for n in range(min(lanes, len(calls)) - 1)]
        for helper in helpers:
            helper.start()
        try:
            _lane(work, results)  # the snapshot lives as long as this transaction
        except BaseException as error:  # noqa: BLE001 - raised below, after the helpers
            errors.append(error)
            _drain(work)
        for helper in helpers:
            helper.join()
        if errors:
            raise errors[0]  # inside the transaction, which is rolled back
    return results


def _lane(work: queue.SimpleQueue, results: dict[str, Any]) -> None:
    while True:
        try:
            name, call = work.get_nowait()
        except queue.Empty:
            return
        results[name] = call()


def _drain(work: queue.SimpleQueue) -> None:
    """Drop the calls not yet started: one has failed, so the result is lost anyway."""
    while True:
        try:
            work.get_nowait()
        except queue.Empty:
            return


def _helper_lane(snapshot: str, work: queue.SimpleQueue, results: dict[str, Any],
                 errors: list[BaseException]) -> None:
    """A lane on its own connection, in a read-only transaction on `snapshot`; the
    connection is closed when the work runs out (the thread ends with it). A lane that
    finds no work left, no free helper place (`HELPERS`) or no connection (the server's
    all taken, say) leaves its share to the others."""
    if work.empty() or not HELPERS.acquire(blocking=False):
        return
    try:
        _helper_work(snapshot, work, results, errors)
    finally:
        HELPERS.release()


def _helper_work(snapshot: str, work: queue.SimpleQueue, results: dict[str, Any],
                 errors: list[BaseException]) -> None:
    try:
        connection.ensure_connection()
    except DatabaseError as error:
        logger.warning("A helper connection could not open (%s); the others read for it.",
                       error)
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_BEGIN)
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            _lane(work, results)
    except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
        errors.append(error)
        _drain(work)
    finally:
        connection.close()
