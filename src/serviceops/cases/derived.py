"""Keeping what is derived from each case up to date: its SLA clocks (with the policy version
it matches) and its fact row, both computed from the case and its event log.

A change does not recompute them in the request. It records the case in `CaseRefresh`, in
the change's own transaction, so no change commits without the refresh it owes; the job
worker then recomputes the owed cases in batches (about 1 ms a case instead of 15 ms one
at a time), half a second to two seconds after the change (`refresh_soon`, one pass
waiting at a time however many processes write), and every minute as a backstop
(`cases.tasks`). A page that shows one case's clocks refreshes that
case first if it is owed (`derived_refresh(case_ids=...)`), so the case page is never
behind; lists and KPIs may be a second or two behind a burst of changes.

Passes are serialised: on PostgreSQL by a transaction-level advisory lock, on SQLite by the
write lock every transaction takes at BEGIN. A pass takes the rows owed when it starts; for
each batch it reads them, then the events, then writes and deletes exactly the rows it
read, so a change that commits meanwhile leaves a row the next pass picks up, and the last
pass to write always read the latest events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from serviceops.cases.models import CaseRefresh
from serviceops.core.rows import row_insert
from serviceops.core.transactions import on_commit_once, waiting_on_commit

logger = logging.getLogger(__name__)

# Cases per pass transaction. On SQLite a transaction holds the one write lock, so people
# signing in or replying wait for at most a small batch.
BATCH = {"postgresql": 200, "sqlite": 50}
DELAY = 0.5  # seconds between a change's commit and the pass that refreshes it
_LOCK_KEY = 0x5E41_0D1F  # the advisory lock passes share (PostgreSQL)
_SCHEDULED = "cases.derived.scheduled"  # flag in the job store: a pass waits to start

_scheduled_until = 0.0  # monotonic time by which this process's last scheduled pass starts
_scheduling = threading.Lock()


def derived_owed(case_id: int) -> None:
    """Record that `case_id` changed in the current transaction: its derived rows are
    recomputed after the commit. Called by the case services with every change they save;
    several changes to one case in one transaction owe one refresh."""
    key = ("derived", case_id)
    if waiting_on_commit(key):
        return
    row_insert(CaseRefresh(case_id=case_id, queued_at=timezone.now()))
    on_commit_once(key, refresh_soon)


def refresh_soon() -> None:
    """Have a pass start within `DELAY` seconds or so of this commit (jobs run at once in
    immediate mode, as in tests).

    One pass waits at a time across all processes, so that a busy service refreshes in
    batches rather than in a pass per change: the first commit after a pass has started
    sets a flag in the job store and schedules the next pass `DELAY` ahead; later commits
    find the flag and leave their cases to that pass, which clears the flag before it reads
    what is owed. A process that scheduled a pass itself skips even the flag for `DELAY`.
    If a scheduled pass is lost, the periodic pass clears the flag within a minute."""
    global _scheduled_until
    from huey.contrib.djhuey import HUEY

    from serviceops.cases.tasks import derived_refresh_job

    if HUEY.immediate:
        derived_refresh_job()
        return
    now = time.monotonic()
    if now < _scheduled_until:  # this process's pass starts after this commit
        return
    if not HUEY.put_if_empty(_SCHEDULED, True):  # another process's pass, not yet started
        return
    with _scheduling:
        _scheduled_until = now + DELAY
    derived_refresh_job.schedule(delay=DELAY)


def derived_pass() -> int:
    """A scheduled or periodic pass: clear the flag (a commit from now on schedules the next
    pass), then refresh everything owed."""
    from huey.contrib.djhuey import HUEY

    HUEY.delete(_SCHEDULED)
    return derived_refresh()


def derived_refresh(*, case_ids: Iterable[int] | None = None, batch: int | None = None,
                    now: datetime | None = None) -> int:
    """Recompute the derived rows of the cases owed when the pass starts (or of those among
    `case_ids` that are owed), `batch` cases per transaction (`BATCH`). Changes that commit
    meanwhile are left to the next pass, so that under a steady stream of changes a pass
    still ends and the worker gets on with its other jobs. A case whose refresh fails is
    logged and stays owed (the next pass tries again) without holding up the others.
    Returns how many cases were refreshed."""
    owed = CaseRefresh.objects.all()
    if case_ids is not None:
        owed = owed.filter(case_id__in=list(case_ids))
    last = owed.aggregate(last=Max("id"))["last"]
    if last is None:  # the usual answer on a case page, without taking the lock
        return 0
    owed = owed.filter(id__lte=last)
    batch = batch or BATCH.get(connection.vendor, 50)
    done = 0
    failed: set[int] = set()
    while True:
        with transaction.atomic():
            derived_lock()
            rows = list(owed.exclude(case_id__in=failed).order_by("id")
                        .values_list("id", "case_id")[:batch])
            if not rows:
                return done
            ids = sorted({case_id for _, case_id in rows})
            failed |= _recompute(ids, now or timezone.now())
            CaseRefresh.objects.filter(
                id__in=[row_id for row_id, case_id in rows if case_id not in failed]).delete()
        done += len(set(ids) - failed)


def derived_backlog() -> tuple[int, datetime | None]:
    """How many changes wait for a refresh, and since when the oldest has waited."""
    row = CaseRefresh.objects.aggregate(n=Count("id"), oldest=Min("queued_at"))
    return row["n"], row["oldest"]


def derived_lock() -> None:
    """Inside a transaction: wait until no other pass (or SLA sweep batch) is writing derived
    rows, and keep them out until this transaction ends. PostgreSQL takes an advisory lock;
    on SQLite the transaction already holds the one write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _recompute(ids: list[int], now: datetime) -> set[int]:
    """Recompute `ids` together; if that fails, one by one. Returns the ids that failed."""
    try:
        with transaction.atomic():
            _recompute_all(ids, now)
        return set()
    except Exception:
        logger.exception("Refreshing cases %s failed; retrying them one by one", ids)
    failed = set()
    for case_id in ids:
        try:
            with transaction.atomic():
                _recompute_all([case_id], now)
        except Exception:
            logger.exception("Refreshing case %s failed; it stays owed", case_id)
            failed.add(case_id)
    return failed


def _recompute_all(ids: list[int], now: datetime) -> None:
    from serviceops.cases.facts import case_facts_refresh
    from serviceops.sla.services import sla_recompute

    sla_recompute(cases=ids, now=now, batch=len(ids))
    case_facts_refresh(ids, batch=len(ids))
