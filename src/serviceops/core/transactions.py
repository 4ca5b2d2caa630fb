"""Transaction helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from django.db import connection, transaction


def on_commit_once(key: Hashable, func: Callable[[], None]) -> None:
    """Run `func` once the current transaction commits, unless a callback with the same
    `key` is already waiting for that commit (e.g. one refresh per case however many events
    a transaction records). Robust: the change itself has committed, so a failure is logged
    rather than shown as a failed change; the callers have a command that catches up."""
    for _, queued, _ in connection.run_on_commit:
        if getattr(queued, "once_key", None) == key and not queued.done:
            return

    def run() -> None:
        run.done = True  # type: ignore[attr-defined]
        func()

    run.done = False  # type: ignore[attr-defined]
    run.once_key = key  # type: ignore[attr-defined]
    transaction.on_commit(run, robust=True)
