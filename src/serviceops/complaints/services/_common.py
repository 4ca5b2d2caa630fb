"""Helpers shared by the complaint services: locking, permission checks, saving with the
audit trail, notes on the case, notifications, deadlines and dates in words."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from serviceops.cases.models import Case
from serviceops.complaints.deadlines import Deadlines, Rule, deadlines, default_calendar
from serviceops.complaints.models import (
    Complaint,
    Regime,
    Stage,
)
from serviceops.complaints.selectors import complaint_scope
from serviceops.core.audit import audit_record
from serviceops.core.permissions import require, staff_of
from serviceops.core.roles import Perm
from serviceops.people.models import Staff
from serviceops.sla.businesstime import Calendar
from serviceops.sla.models import Notification


def _lock(complaint: Complaint) -> Complaint:
    """Re-read `complaint` in place under a row lock, so concurrent changes apply in turn."""
    qs = Complaint.objects.all()
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    complaint.refresh_from_db(from_queryset=qs)
    return complaint


def _require_sight(by, complaint: Complaint) -> None:
    if not complaint_scope(by).filter(pk=complaint.pk).exists():
        raise PermissionDenied("This complaint is not one you can see.")


def _require_handle(by, complaint: Complaint) -> None:
    require(by, Perm.COMPLAINT_HANDLE)
    _require_sight(by, complaint)


def _refuse_closed(complaint: Complaint) -> None:
    if complaint.stage == Stage.CLOSED:
        raise ValidationError({"stage": "This complaint is closed; it can no longer change."})


def _save(complaint: Complaint, *, by, at: datetime, changes: dict[str, tuple]) -> None:
    complaint.full_clean()
    complaint.save()
    audit_record(instance=complaint, changes=changes, actor=by, at=at)


def _note(complaint: Complaint, text: str, *, by, at: datetime) -> None:
    """Record `text` on the complaint's case as an internal note (and its event)."""
    from serviceops.cases.services import case_note

    case_note(case=complaint.case, body=text, by=by, now=at)


def _notify(staff: Staff | None, complaint: Complaint | None, text: str, *,
            at: datetime, by=None) -> None:
    if staff is None or not staff.is_active or (by is not None and staff == staff_of(by)):
        return
    Notification.objects.create(recipient=staff, case=complaint.case if complaint else None,
                                text=text[:300], created_at=at)


def _calendar(regime: Regime) -> Calendar:
    return regime.calendar.calendar() if regime.calendar_id else default_calendar()


def regime_deadlines(regime: Regime, received_at: datetime) -> Deadlines:
    """The deadlines `regime` sets for a complaint received at `received_at`."""

    def rule(days: int | None, business: bool) -> Rule | None:
        return None if days is None else Rule(days=days, business_days=business,
                                              end_of_day=regime.end_of_day)

    return deadlines(
        received_at,
        acknowledge=rule(regime.acknowledge_days, regime.acknowledge_business_days),
        summary=rule(regime.summary_days, regime.summary_business_days),
        holding=rule(regime.holding_days, regime.holding_business_days),
        final=rule(regime.final_days, regime.final_business_days),
        calendar=_calendar(regime),
    )


def _when(moment: datetime | None, regime: Regime) -> str:
    """A deadline in words, in the regime's time zone ("13 March 2026, 23:59")."""
    if moment is None:
        return ""
    local = moment.astimezone(_calendar(regime).zone)
    return f"{local.day} {local:%B %Y, %H:%M}"


def _day(value: date | datetime | None, regime: Regime | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        zone = _calendar(regime).zone if regime else default_calendar().zone
        value = value.astimezone(zone).date()
    return f"{value.day} {value:%B %Y}"


def _staff_can_handle(staff: Staff, case: Case, *, field: str) -> None:
    """Refuse `staff` as a complaint handler of `case` unless they can work it."""
    if not staff.is_active or staff.user_id is None:
        raise ValidationError({field: f"{staff} has no active login."})
    if not staff.has_perm(Perm.COMPLAINT_HANDLE):
        raise ValidationError({field: f"{staff} is a {staff.get_role_display().lower()} and "
                                      "cannot handle complaints."})
    if not staff.has_perm(Perm.VIEW_ALL_TEAMS) and not (
        case.team_id and staff.teams.filter(pk=case.team_id).exists()
    ):
        raise ValidationError({field: f"{staff} cannot see cases of "
                                      f"{case.team or 'no team'}."})


def _today() -> date:
    return timezone.localdate()

def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
