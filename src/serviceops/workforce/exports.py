"""Rotas and shifts out of ServiceOps: a rota as CSV for a spreadsheet, shifts as an
iCalendar file for a calendar, and the signed link of each person's calendar feed.

The CSV speaks the local time of the forecast's time zone (what a team leader pins on the
wall); the calendar speaks UTC, and each calendar shows the shifts in its own zone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import signing
from icalendar import Calendar, Event

from serviceops.people.models import Staff
from serviceops.workforce.models import Rota, RotaShift

CSV_HEADER = ["date", "start", "end", "staff", "agents", "template", "paid_minutes", "breaks"]

# The salt keeps a feed token from being accepted by any other signed value of the product
# (survey links, password resets), and theirs from being accepted here.
FEED_SALT = "serviceops.workforce.calendar-feed"

# A calendar feed shows the shifts from this long ago onwards (a subscription is polled for
# years; the rotas of last year need not travel with every poll).
FEED_HISTORY = timedelta(days=31)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def _breaks(shift: RotaShift, zone: ZoneInfo) -> list[tuple[datetime, datetime, bool]]:
    """The breaks of `shift` as (start, end, paid) in `zone`."""
    return [(_local(datetime.fromisoformat(start), zone), _local(datetime.fromisoformat(end),
                                                                 zone), bool(paid))
            for start, end, paid in shift.breaks]


def paid_minutes(shift: RotaShift) -> int:
    """The length of `shift` less its unpaid breaks, in whole minutes."""
    unpaid = sum((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
                 for start, end, paid in shift.breaks if not paid)
    return round(((shift.end - shift.start).total_seconds() - unpaid) / 60)


def breaks_text(shift: RotaShift, zone: ZoneInfo) -> str:
    """`12:00-13:00 unpaid; 15:00-15:15 paid` in `zone`'s local time."""
    return "; ".join(f"{start:%H:%M}-{end:%H:%M} {'paid' if paid else 'unpaid'}"
                     for start, end, paid in _breaks(shift, zone))


def rota_csv(rota: Rota) -> str:
    """The shifts of `rota` as CSV (header `CSV_HEADER`), one row per shift in start order.

    `date`, `start` and `end` are local to the forecast's time zone; a shift that runs past
    midnight has an `end` earlier than its `start` (shifts last at most 13 hours). `staff` is
    the person's name on a rota of named staff, empty on one that counts heads (`agents`).
    """
    zone = ZoneInfo(rota.plan.forecast.time_zone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for shift in rota.shifts.select_related("staff").order_by("start", "id"):
        start, end = _local(shift.start, zone), _local(shift.end, zone)
        writer.writerow([start.date().isoformat(), f"{start:%H:%M}", f"{end:%H:%M}",
                         shift.staff.name if shift.staff else "", shift.agents,
                         shift.template, paid_minutes(shift), breaks_text(shift, zone)])
    return out.getvalue()


def shift_uid(shift: RotaShift) -> str:
    """A UID that stays the same for the life of the shift, so that a calendar polling the
    feed updates an event instead of adding a copy."""
    return f"rotashift-{shift.pk}@serviceops"


def shifts_ics(shifts: Iterable[RotaShift], *, name: str) -> bytes:
    """`shifts` as an iCalendar file named `name`: one VEVENT each, times in UTC.

    The shifts need their rota, plan, forecast and team loaded (`select_related`) to avoid
    a query per shift. The summary names the template and the team (or the head count on a
    rota of unnamed staff); the description lists the breaks in the rota's local time.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//ServiceOps//Rota//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for shift in shifts:
        forecast = shift.rota.plan.forecast
        zone = ZoneInfo(forecast.time_zone)
        team = forecast.team.name if forecast.team else "all teams"
        summary = f"{shift.template} shift, {team}"
        if shift.staff_id is None:
            summary += f" ({shift.agents} agent{'s' if shift.agents != 1 else ''})"
        event = Event()
        event.add("uid", shift_uid(shift))
        # The stamp is when the rota was published (else made), not now: an unchanged
        # shift then serialises to the same bytes at every poll.
        event.add("dtstamp", shift.rota.published_at or shift.rota.created_at)
        event.add("dtstart", shift.start.astimezone(ZoneInfo("UTC")))
        event.add("dtend", shift.end.astimezone(ZoneInfo("UTC")))
        event.add("summary", summary)
        breaks = breaks_text(shift, zone)
        event.add("description", f"Breaks ({forecast.time_zone}): {breaks}" if breaks
                  else "No breaks.")
        calendar.add_component(event)
    return calendar.to_ical()


def feed_token(staff: Staff) -> str:
    """The secret part of `staff`'s calendar-feed link (URL-safe, no expiry: calendars poll a
    subscription for years). It is refused once the person is deactivated."""
    return signing.dumps({"staff": staff.pk}, salt=FEED_SALT)


def staff_for_feed_token(token: str) -> Staff | None:
    """The active member of staff whose feed `token` opens; None for a forged or altered
    token, an unknown person, or one deactivated (or whose login is)."""
    try:
        payload = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        return None
    staff_id = payload.get("staff") if isinstance(payload, dict) else None
    if not isinstance(staff_id, int):
        return None
    staff = Staff.objects.select_related("user").filter(pk=staff_id, is_active=True).first()
    if staff is None or (staff.user is not None and not staff.user.is_active):
        return None
    return staff


def feed_shifts(staff: Staff, *, now: datetime):
    """The published shifts of `staff` that a calendar feed shows: those ending after
    `now` - FEED_HISTORY."""
    from serviceops.workforce.selectors import published_shifts

    return published_shifts(staff, since=now - FEED_HISTORY)


def coverage_summary(coverage: dict, *, interval_minutes: int) -> dict:
    """A rota's coverage (`Rota.coverage`) in a few figures: agent-hours required and
    scheduled, the intervals short of the requirement and by how many agent-hours, and the
    lowest service level of an interval that needs anyone."""
    hours = interval_minutes / 60
    required, scheduled = coverage["required"], coverage["scheduled"]
    short = [r - s for r, s in zip(required, scheduled, strict=True) if s < r]
    levels = [level for level, need in zip(coverage.get("service_level") or [], required,
                                           strict=False)
              if level is not None and need > 0]
    return {
        "required_agent_hours": round(sum(required) * hours, 2),
        "scheduled_agent_hours": round(sum(scheduled) * hours, 2),
        "short_intervals": len(short),
        "shortfall_agent_hours": round(sum(short) * hours, 2),
        "lowest_service_level": min(levels) if levels else None,
    }
