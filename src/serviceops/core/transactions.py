"""Transaction helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from django.db import connection, transaction


def waiting_on_commit(key: Hashable) -> bool:
    """Whether a callback registered by `on_commit_once` with this `key` waits for the
    current transaction to commit (one registered in a savepoint since rolled back does
    not)."""
    return any(getattr(queued, "once_key", None) == key and not queued.done
               for _, queued, _ in connection.run_on_commit)


def on_commit_once(key: Hashable, func: Callable[[], None]) -> None:
    """Run `func` once the current transaction commits, unless a callback with the same
    `key` is already waiting for that commit (e.g. one refresh per case however many events
    a transaction records). Robust: the change itself has committed, so a failure is logged
    rather than shown as a failed change. Outside a transaction `func` runs at once."""
    if waiting_on_commit(key):
        return

    def run() -> None:
        run.done = True  # type: ignore[attr-defined]
        func()

    run.done = False  # type: ignore[attr-defined]
    run.once_key = key  # type: ignore[attr-defined]
    transaction.on_commit(run, robust=True)
