"""SLA clocks computed from a case's event history. Pure: imports no Django.

Three kinds of clock run on a case (the definitions are in docs/sla.md):

- **first response**: from the case's creation to the first public reply. A case resolved
  without any public reply stops the clock at the resolution.
- **next response**: each customer message that arrives after the first public reply, while no
  next-response clock is already running, starts one (a *cycle*); the next public reply, or the
  case's resolution, stops it.
- **resolution**: from creation to the case being resolved or closed. Reopening resumes the same
  clock: the time while the case was resolved does not count.

A clock accumulates time only while it runs: not while the case's status is one of the statuses
that pause that kind of clock (pending customer, on hold...). Time is business time on the
policy's calendar, or plain elapsed time when the policy says so.

**Priority changes re-target running clocks.** The new priority's target applies from then on
to the time already accumulated: a clock with 3 h used of a 4 h target that moves to a 2 h
target is breached at the moment of the change; one moved to an 8 h target has 5 h left.
Clocks that have stopped keep the target they stopped under, and a breach that has
happened stands even if the new target is looser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from serviceops.sla.businesstime import Calendar, add_business_time, business_time_between


class ClockKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class Happening(StrEnum):
    """What happened to a case, as far as clocks care."""

    CREATED = "created"
    STATUS = "status"  # value: the new status
    PRIORITY = "priority"  # value: the new priority
    CUSTOMER_MESSAGE = "customer_message"
    PUBLIC_REPLY = "public_reply"


STOPPING_STATUSES = frozenset({"resolved", "closed"})
_RANK = {Happening.CREATED: 0, Happening.STATUS: 1, Happening.PRIORITY: 2}


@dataclass(frozen=True)
class Event:
    at: datetime
    what: Happening
    value: str = ""


@dataclass(frozen=True)
class Terms:
    """What a policy version promises: targets in seconds per priority and kind of clock,
    whether they are business time, and which statuses pause which clock."""

    targets: Mapping[int, Mapping[ClockKind, int]]
    business_time: bool = True
    pauses: Mapping[ClockKind, frozenset[str]] = field(default_factory=dict)

    def target(self, priority: int, kind: ClockKind) -> int | None:
        return self.targets.get(priority, {}).get(kind)

    def pausing(self, kind: ClockKind) -> frozenset[str]:
        return self.pauses.get(kind, frozenset())


@dataclass(frozen=True)
class Clock:
    """One clock's state at `as_of`. Times are aware datetimes; durations timedeltas."""

    kind: ClockKind
    cycle: int  # 0 for first response and resolution; 1, 2... for next-response cycles
    priority: int
    target: timedelta
    started_at: datetime
    as_of: datetime
    elapsed: timedelta  # counted time up to as_of (or up to the stop)
    paused: timedelta  # elapsed (wall-clock) time spent paused
    running: bool  # counting time at `as_of` (not paused, not stopped)
    stopped_at: datetime | None
    due_at: datetime | None  # when the target is (or was) used up; None while paused
    breached_at: datetime | None

    @property
    def state(self) -> ClockState:
        if self.breached_at is not None:
            return ClockState.BREACHED
        if self.stopped_at is not None:
            return ClockState.MET
        return ClockState.RUNNING if self.running else ClockState.PAUSED

    @property
    def remaining(self) -> timedelta:
        return self.target - self.elapsed

    @property
    def consumed(self) -> float:
        """Share of the target used, e.g. 0.75."""
        return self.elapsed / self.target if self.target else 1.0

    def moment_consumed(self, share: float, calendar: Calendar | None) -> datetime | None:
        """When this clock reaches `share` of its target if it keeps running from `as_of`
        (None when it is paused or stopped). `calendar` is None for elapsed-time terms."""
        if not self.running:
            return None
        needed = self.target * share - self.elapsed
        return _advance(self.as_of, max(needed, timedelta(0)), calendar)


@dataclass
class _Running:
    kind: ClockKind
    cycle: int
    started_at: datetime
    elapsed: timedelta = timedelta(0)
    paused: timedelta = timedelta(0)
    since: datetime | None = None  # running since; None while paused
    paused_since: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    target: timedelta | None = None
    priority: int = 0


def compute_clocks(events: Iterable[Event], terms: Terms, calendar: Calendar | None,
                   now: datetime) -> list[Clock]:
    """Return every clock of a case from its events (in time order) as of `now`.

    `calendar` is required when the terms are in business time. Clocks whose priority has no
    target for their kind are not started.
    """
    if terms.business_time and calendar is None:
        raise ValueError("business-time terms need a calendar")
    measure = _measure(calendar if terms.business_time else None)
    cal = calendar if terms.business_time else None
    # At one instant, creation comes first and status changes before messages: a customer
    # message that reopens a resolved case is recorded with its reopening at the same moment,
    # and must find the case open to start a next-response cycle.
    ordered = sorted(events, key=lambda e: (e.at, _RANK.get(e.what, 3)))
    if not ordered or ordered[0].what is not Happening.CREATED:
        raise ValueError("a case's history starts with its creation")

    status, priority = "new", int(ordered[0].value or 0)
    clocks: list[_Running] = []
    replied = False

    def running() -> list[_Running]:
        return [c for c in clocks if c.stopped_at is None]

    def advance_to(t: datetime) -> None:
        for clock in running():
            if clock.since is not None and t > clock.since:
                gained = measure(clock.since, t)
                if clock.breached_at is None and clock.elapsed + gained > clock.target:
                    clock.breached_at = _advance(clock.since, clock.target - clock.elapsed, cal)
                clock.elapsed += gained
                clock.since = t

    def set_pauses(t: datetime) -> None:
        for clock in running():
            should_pause = status in terms.pausing(clock.kind)
            if should_pause and clock.since is not None:
                clock.since, clock.paused_since = None, t
            elif not should_pause and clock.since is None:
                clock.paused += t - clock.paused_since
                clock.since, clock.paused_since = t, None

    def start(kind: ClockKind, cycle: int, t: datetime) -> None:
        target = terms.target(priority, kind)
        if target is None:
            return
        clocks.append(_Running(kind=kind, cycle=cycle, started_at=t, since=t,
                               target=timedelta(seconds=target), priority=priority))

    def stop(clock: _Running, t: datetime) -> None:
        if clock.since is None and clock.paused_since is not None:
            clock.paused += t - clock.paused_since
        clock.stopped_at, clock.since, clock.paused_since = t, None, None

    for event in ordered:
        t = event.at
        advance_to(t)
        if event.what is Happening.CREATED:
            start(ClockKind.FIRST_RESPONSE, 0, t)
            start(ClockKind.RESOLUTION, 0, t)
        elif event.what is Happening.PUBLIC_REPLY:
            replied = True
            for clock in running():
                if clock.kind in (ClockKind.FIRST_RESPONSE, ClockKind.NEXT_RESPONSE):
                    stop(clock, t)
        elif event.what is Happening.CUSTOMER_MESSAGE:
            waiting = any(c.kind is not ClockKind.RESOLUTION for c in running())
            if replied and not waiting and status not in STOPPING_STATUSES:
                cycle = 1 + sum(c.kind is ClockKind.NEXT_RESPONSE for c in clocks)
                start(ClockKind.NEXT_RESPONSE, cycle, t)
        elif event.what is Happening.PRIORITY:
            priority = int(event.value)
            for clock in running():
                target = terms.target(priority, clock.kind)
                if target is None:
                    continue
                clock.priority, clock.target = priority, timedelta(seconds=target)
                # A breach that has happened stands even if the new target is looser.
                if clock.elapsed > clock.target and clock.breached_at is None:
                    clock.breached_at = t  # the tighter target is already used up
        elif event.what is Happening.STATUS:
            previous, status = status, event.value
            if status in STOPPING_STATUSES and previous not in STOPPING_STATUSES:
                for clock in running():
                    stop(clock, t)
            elif previous in STOPPING_STATUSES and status not in STOPPING_STATUSES:
                _resume_resolution(clocks, t)
        set_pauses(t)

    advance_to(now)
    return [_freeze(c, now, cal) for c in clocks]


def _resume_resolution(clocks: list[_Running], t: datetime) -> None:
    """A reopened case's resolution clock runs again, keeping the time it had counted."""
    for clock in clocks:
        if clock.kind is ClockKind.RESOLUTION and clock.stopped_at is not None:
            clock.stopped_at, clock.since = None, t


def _freeze(clock: _Running, now: datetime, calendar: Calendar | None) -> Clock:
    due = None
    if clock.stopped_at is None and clock.since is not None:
        due = (clock.breached_at if clock.breached_at is not None
               else _advance(clock.since, clock.target - clock.elapsed, calendar))
    elif clock.breached_at is not None:
        due = clock.breached_at
    paused = clock.paused
    if clock.paused_since is not None:
        paused += now - clock.paused_since
    # Running clocks were advanced to `now`, so `elapsed` is the time counted up to `now`.
    return Clock(kind=clock.kind, cycle=clock.cycle, priority=clock.priority,
                 target=clock.target, started_at=clock.started_at, as_of=now,
                 elapsed=clock.elapsed, paused=paused, running=clock.since is not None,
                 stopped_at=clock.stopped_at, due_at=due, breached_at=clock.breached_at)


def _measure(calendar: Calendar | None) -> Callable[[datetime, datetime], timedelta]:
    if calendar is None:
        return lambda a, b: b - a
    return lambda a, b: business_time_between(a, b, calendar)


def _advance(start: datetime, amount: timedelta, calendar: Calendar | None) -> datetime:
    if calendar is None:
        return start + amount
    return add_business_time(start, amount, calendar)
