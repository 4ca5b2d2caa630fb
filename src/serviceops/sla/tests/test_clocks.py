"""SLA clocks from case histories: pauses, cycles, reopening, re-targeting, business time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from serviceops.sla.businesstime import Calendar
from serviceops.sla.clocks import ClockKind, ClockState, Event, Happening, Terms, compute_clocks

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
OFFICE = Calendar.from_dict({"timezone": "Europe/London",
                             "hours": {d: [["09:00", "17:00"]]
                                       for d in ("mon", "tue", "wed", "thu", "fri")}})
TERMS = Terms(
    targets={1: {ClockKind.FIRST_RESPONSE: 3600, ClockKind.NEXT_RESPONSE: 3600,
                 ClockKind.RESOLUTION: 4 * 3600},
             3: {ClockKind.FIRST_RESPONSE: 4 * 3600, ClockKind.NEXT_RESPONSE: 8 * 3600,
                 ClockKind.RESOLUTION: 16 * 3600}},
    pauses={ClockKind.RESOLUTION: frozenset({"pending_customer", "on_hold"})},
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)  # 23rd is a Monday


def clock(clocks, kind, cycle=0):
    return next(c for c in clocks if c.kind is kind and c.cycle == cycle)


def created(day=23, hour=9, priority=3):
    return Event(at(day, hour), Happening.CREATED, str(priority))


def test_first_response_counts_business_hours_only():
    # Created Friday 16:00, replied Monday 11:00: 1 h on Friday + 2 h on Monday.
    clocks = compute_clocks([created(20, 16), Event(at(23, 11), Happening.PUBLIC_REPLY)],
                            TERMS, OFFICE, now=at(23, 12))
    first = clock(clocks, ClockKind.FIRST_RESPONSE)
    assert first.elapsed == 3 * H
    assert first.state is ClockState.MET
    assert first.due_at is None and first.stopped_at == at(23, 11)


def test_first_response_breaches_at_the_due_instant_while_still_running():
    clocks = compute_clocks([created(20, 16)], TERMS, OFFICE, now=at(23, 15))
    first = clock(clocks, ClockKind.FIRST_RESPONSE)
    assert first.state is ClockState.BREACHED
    assert first.breached_at == first.due_at == at(23, 12)  # 1 h Friday + 3 h Monday
    assert first.remaining == -3 * H  # 7 h counted of 4


def test_resolution_clock_pauses_while_waiting_on_customer():
    events = [created(), Event(at(23, 10), Happening.PUBLIC_REPLY),
              Event(at(23, 10), Happening.STATUS, "pending_customer"),
              Event(at(23, 15), Happening.CUSTOMER_MESSAGE),
              Event(at(23, 15), Happening.STATUS, "open")]
    clocks = compute_clocks(events, TERMS, OFFICE, now=at(23, 16))
    resolution = clock(clocks, ClockKind.RESOLUTION)
    assert resolution.elapsed == 2 * H  # 09-10 and 15-16
    assert resolution.paused == 5 * H
    assert resolution.state is ClockState.RUNNING
    assert resolution.due_at == at(25, 14)  # 14 h left: 1 h Mon, 8 h Tue, 5 h Wed
    paused = compute_clocks(events[:3], TERMS, OFFICE, now=at(23, 12))
    assert clock(paused, ClockKind.RESOLUTION).state is ClockState.PAUSED
    assert clock(paused, ClockKind.RESOLUTION).due_at is None


def test_each_customer_message_after_a_reply_starts_a_next_response_cycle():
    events = [created(), Event(at(23, 9, 30), Happening.PUBLIC_REPLY),
              Event(at(23, 10), Happening.CUSTOMER_MESSAGE),
              Event(at(23, 11), Happening.CUSTOMER_MESSAGE),  # same cycle: still waiting
              Event(at(23, 12), Happening.PUBLIC_REPLY),
              Event(at(23, 13), Happening.CUSTOMER_MESSAGE)]
    priority_one = [Event(at(23, 9), Happening.CREATED, "1"), *events[1:]]
    clocks = compute_clocks(priority_one, TERMS, OFFICE, now=at(23, 13, 30))
    cycles = [c for c in clocks if c.kind is ClockKind.NEXT_RESPONSE]
    assert [c.cycle for c in cycles] == [1, 2]
    assert cycles[0].state is ClockState.BREACHED and cycles[0].breached_at == at(23, 11)
    assert cycles[1].state is ClockState.RUNNING and cycles[1].remaining == H / 2


def test_reopening_resumes_the_resolution_clock_without_counting_the_resolved_time():
    events = [created(), Event(at(23, 11), Happening.STATUS, "resolved"),
              Event(at(24, 11), Happening.CUSTOMER_MESSAGE),
              Event(at(24, 11), Happening.STATUS, "reopened")]
    clocks = compute_clocks(events, TERMS, OFFICE, now=at(24, 12))
    resolution = clock(clocks, ClockKind.RESOLUTION)
    assert resolution.elapsed == 3 * H and resolution.state is ClockState.RUNNING
    # The reopening message was answered by nobody yet, but there was never a first reply,
    # so no next-response cycle starts; the first-response clock stopped at the resolution.
    assert clock(clocks, ClockKind.FIRST_RESPONSE).state is ClockState.MET
    assert not [c for c in clocks if c.kind is ClockKind.NEXT_RESPONSE]


def test_a_tighter_priority_breaches_a_clock_that_has_used_more_than_the_new_target():
    events = [created(priority=3), Event(at(23, 11), Happening.PRIORITY, "1")]
    clocks = compute_clocks(events, TERMS, OFFICE, now=at(23, 11, 30))
    first = clock(clocks, ClockKind.FIRST_RESPONSE)
    assert first.priority == 1 and first.target == H
    assert first.breached_at == at(23, 11)
    resolution = clock(clocks, ClockKind.RESOLUTION)  # 2.5 h used of 4 h
    assert resolution.state is ClockState.RUNNING and resolution.remaining == 1.5 * H


def test_a_looser_priority_extends_a_running_clock_but_a_breach_stands():
    events = [Event(at(23, 9), Happening.CREATED, "1"), Event(at(23, 9, 30), Happening.PRIORITY,
                                                             "3")]
    clocks = compute_clocks(events, TERMS, OFFICE, now=at(23, 10))
    assert clock(clocks, ClockKind.FIRST_RESPONSE).remaining == 3 * H
    late = [Event(at(23, 9), Happening.CREATED, "1"), Event(at(23, 11), Happening.PRIORITY, "3")]
    first = clock(compute_clocks(late, TERMS, OFFICE, now=at(23, 12)), ClockKind.FIRST_RESPONSE)
    assert first.state is ClockState.BREACHED and first.breached_at == at(23, 10)


def test_elapsed_time_terms_count_nights_and_weekends():
    terms = Terms(targets=TERMS.targets, business_time=False)
    clocks = compute_clocks([created(20, 16)], terms, None, now=at(23, 9))
    assert clock(clocks, ClockKind.FIRST_RESPONSE).breached_at == at(20, 20)


def test_moment_consumed_gives_the_escalation_instant():
    clocks = compute_clocks([created(20, 16)], TERMS, OFFICE, now=at(20, 16, 30))
    first = clock(clocks, ClockKind.FIRST_RESPONSE)
    assert first.moment_consumed(0.75, OFFICE) == at(23, 11)  # 3 h of 4: 1 h Fri, 2 h Mon
    assert first.consumed == pytest.approx(0.125)


def test_priorities_without_a_target_start_no_clock_and_business_terms_need_a_calendar():
    assert compute_clocks([created(priority=4)], TERMS, OFFICE, now=at(23, 10)) == []
    with pytest.raises(ValueError, match="calendar"):
        compute_clocks([created()], TERMS, None, now=at(23, 10))
