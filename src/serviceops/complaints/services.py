"""Use cases that change complaints, from logging to closing, with the rules of issue 4.

Every write checks the user's permission (log, handle or configure complaints) and that they
can see the complaint, validates its input with messages that name the field, runs in one
transaction, writes the audit trail, and records what happened on the complaint's case: a
letter is a public reply, an escalation an escalation event, anything else an internal note
(the case event log has no complaint kinds). In-app notifications are rows written in the
same transaction, so they exist exactly when the change does.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from serviceops.cases.choices import TRANSITIONS, EventKind, Status
from serviceops.cases.models import Case, CaseEvent
from serviceops.complaints.deadlines import Deadlines, Rule, deadlines, default_calendar
from serviceops.complaints.models import (
    Action,
    ApprovalLimit,
    Cause,
    Complaint,
    ComplaintCause,
    Fishbone,
    Gesture,
    Letter,
    LetterKind,
    LetterTemplate,
    Outcome,
    Regime,
    Stage,
    WhyStep,
)
from serviceops.complaints.selectors import complaint_scope
from serviceops.core.audit import audit_record
from serviceops.core.permissions import allowed, can_see_case, require, role_of, staff_of
from serviceops.core.roles import Perm, Role
from serviceops.people.models import Staff
from serviceops.sla.businesstime import Calendar
from serviceops.sla.models import Notification

# -- shared helpers ---------------------------------------------------------------------------


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


# -- logging and details ----------------------------------------------------------------------


@transaction.atomic
def complaint_log(
    *, by, regime: Regime, received_at: datetime, channel: str, account: str,
    desired_outcome: str, case: Case | None = None, subject: str = "", customer=None,
    team=None, category=None, product: str = "", severity: int = 2, vulnerable: bool = False,
    vulnerability_note: str = "",
) -> Complaint:
    """Record a complaint on `case` (or on a new case opened for it) and compute its
    deadlines from `regime`. A logger who handles complaints becomes its handler."""
    require(by, Perm.COMPLAINT_LOG)
    at = timezone.now()
    errors: dict[str, str] = {}
    if received_at is None:
        errors["received_at"] = "Say when the complaint was received."
    else:
        if timezone.is_naive(received_at):
            received_at = timezone.make_aware(received_at)
        if received_at > at:
            errors["received_at"] = "A complaint cannot be received in the future."
    if not (account or "").strip():
        errors["account"] = "Record what the customer says went wrong."
    if not (desired_outcome or "").strip():
        errors["desired_outcome"] = "Record what the customer wants."
    if not regime.is_active:
        errors["regime"] = f"The {regime} regime is no longer in use."
    if errors:
        raise ValidationError(errors)
    if case is None:
        from serviceops.cases.services import case_create

        case = case_create(by=by, subject=(subject.strip() or f"Complaint: {account.strip()}")
                           [:255], description=account.strip(), channel=channel,
                           customer=customer, team=team, now=at)
    else:
        if not can_see_case(by, case):
            raise PermissionDenied("This case belongs to a team you are not in.")
        case = Case.objects.select_for_update().get(pk=case.pk) \
            if connection.features.has_select_for_update else case
        if Complaint.objects.filter(case=case).exists():
            raise ValidationError({"case": f"Case #{case.pk} already has a complaint."})
    due = regime_deadlines(regime, received_at)
    staff = staff_of(by)
    complaint = Complaint(
        case=case, regime=regime, received_at=received_at, channel=channel,
        account=account.strip(), desired_outcome=desired_outcome.strip(), category=category,
        product=product.strip(), severity=severity, vulnerable=vulnerable,
        vulnerability_note=vulnerability_note.strip(), team=case.team or team,
        customer=case.customer or customer, logged_by=staff,
        handler=staff if allowed(by, Perm.COMPLAINT_HANDLE) else None,
        acknowledge_due=due.acknowledge, summary_due=due.summary, holding_due=due.holding,
        final_due=due.final,
    )
    _save(complaint, by=by, at=at, changes={"stage": ("", complaint.stage),
                                            "regime": ("", regime.key)})
    lines = [f"Complaint logged under the {regime} regime, received "
             f"{_when(received_at, regime)}."]
    if complaint.acknowledge_due:
        lines.append(f"Acknowledge by {_when(complaint.acknowledge_due, regime)}.")
    if complaint.summary_due:
        lines.append(f"A summary resolution is possible until "
                     f"{_when(complaint.summary_due, regime)}.")
    lines.append(f"Final response due by {_when(complaint.final_due, regime)}.")
    _note(complaint, " ".join(lines), by=by, at=at)
    return complaint


DETAIL_FIELDS = {"account", "desired_outcome", "category", "product", "severity",
                 "vulnerable", "vulnerability_note"}
CHECKLIST_FIELDS = {"listened", "empathised", "apologised", "outcome_agreed",
                    "next_steps_explained"}
PURCHASE_FIELDS = {"purchase_kind", "purchased_on", "delivered_on", "fault_reported_on",
                   "repairs_or_replacements"}
UPDATABLE = DETAIL_FIELDS | CHECKLIST_FIELDS | PURCHASE_FIELDS


def _check_purchase_dates(complaint: Complaint) -> None:
    today = _today()
    errors: dict[str, str] = {}
    labels = {"purchased_on": "purchase", "delivered_on": "delivery",
              "fault_reported_on": "fault report"}
    for name, label in labels.items():
        value = getattr(complaint, name)
        if value is not None and value > today:
            errors[name] = f"The {label} date ({_day(value)}) cannot be in the future."
    bought, delivered, reported = (complaint.purchased_on, complaint.delivered_on,
                                   complaint.fault_reported_on)
    if bought and delivered and delivered < bought and "delivered_on" not in errors:
        errors["delivered_on"] = (f"The delivery date ({_day(delivered)}) cannot be before the "
                                  f"purchase date ({_day(bought)}).")
    start = delivered or bought
    if start and reported and reported < start and "fault_reported_on" not in errors:
        errors["fault_reported_on"] = (
            f"The fault cannot be reported ({_day(reported)}) before the "
            f"{'delivery' if delivered else 'purchase'} ({_day(start)}).")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def complaint_update(*, by, complaint: Complaint, **fields) -> Complaint:
    """Change the details, the handler's checklist or the purchase of `complaint`.

    Purchase, delivery and fault dates cannot be in the future, nor a delivery before the
    purchase or a fault before the delivery."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    changes: dict[str, tuple] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        old = getattr(complaint, name)
        if old != value:
            changes[name] = (old, value)
            setattr(complaint, name, value)
    if not changes:
        return complaint
    try:
        for name in ("account", "desired_outcome"):
            if name in changes and not getattr(complaint, name):
                raise ValidationError({name: "This cannot be empty."})
        _check_purchase_dates(complaint)
        _save(complaint, by=by, at=at, changes=changes)
    except ValidationError:
        complaint.refresh_from_db()  # a refused change leaves the caller's object as stored
        raise
    names = ", ".join(Complaint._meta.get_field(n).verbose_name for n in changes)
    _note(complaint, f"Complaint updated: {names}.", by=by, at=at)
    return complaint


# -- stages -----------------------------------------------------------------------------------


@transaction.atomic
def complaint_acknowledge(*, by, complaint: Complaint, send_letter: bool = True) -> Complaint:
    """Acknowledge `complaint` (sending the acknowledgement letter unless told not to) and
    move it on to investigation; whoever acknowledges it handles it if nobody does yet."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if complaint.stage != Stage.ACKNOWLEDGE:
        raise ValidationError({"stage": "This complaint has already been acknowledged."})
    if send_letter:
        _letter_send(by=by, complaint=complaint, kind=LetterKind.ACKNOWLEDGEMENT, at=at)
    changes: dict[str, tuple] = {"stage": (complaint.stage, Stage.INVESTIGATE)}
    complaint.stage = Stage.INVESTIGATE
    if complaint.acknowledged_at is None:
        complaint.acknowledged_at = at
        changes["acknowledged_at"] = (None, at)
    if complaint.handler_id is None:
        complaint.handler = staff_of(by)
        changes["handler"] = (None, complaint.handler)
    _save(complaint, by=by, at=at, changes=changes)
    _note(complaint, "Complaint acknowledged" + (" (letter sent)." if send_letter else "."),
          by=by, at=at)
    return complaint


@transaction.atomic
def complaint_assign(*, by, complaint: Complaint, handler: Staff) -> Complaint:
    """Make `handler` (someone who handles complaints and sees the case) the complaint's
    handler, and tell them."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if complaint.handler_id == handler.pk:
        return complaint
    _staff_can_handle(handler, complaint.case, field="handler")
    old = complaint.handler
    complaint.handler = handler
    _save(complaint, by=by, at=at, changes={"handler": (old, handler)})
    _note(complaint, f"Complaint handler: {handler}" + (f" (was {old})." if old else "."),
          by=by, at=at)
    _notify(handler, complaint, f"You now handle the complaint on case #{complaint.case_id}: "
                                f"{complaint.case.subject}", at=at, by=by)
    return complaint


@transaction.atomic
def complaint_escalate(*, by, complaint: Complaint, to: Staff, reason: str) -> Complaint:
    """Escalate `complaint` to a senior complaint handler `to`, with the reason, and tell
    them. Recorded as an escalation on the case."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the complaint is being escalated."})
    if to == staff_of(by):
        raise ValidationError({"to": "Escalate to someone other than yourself."})
    _staff_can_handle(to, complaint.case, field="to")
    old = complaint.escalated_to
    complaint.escalated_to, complaint.escalated_at = to, at
    _save(complaint, by=by, at=at, changes={"escalated_to": (old, to)})
    CaseEvent.objects.create(
        case=complaint.case, kind=EventKind.ESCALATED, at=at, actor=staff_of(by),
        to_value=f"complaint: {to.name}"[:100],
        data={"complaint": complaint.pk, "to": to.pk, "reason": reason.strip()})
    _notify(to, complaint, f"Complaint on case #{complaint.case_id} escalated to you: "
                           f"{reason.strip()}", at=at, by=by)
    return complaint


@transaction.atomic
def complaint_send_holding(*, by, complaint: Complaint) -> Letter:
    """Send the holding response: the complaint is not resolved yet, and why."""
    _require_handle(by, complaint)
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if complaint.resolved_at is not None:
        raise ValidationError({"stage": "The final response has gone; a holding response is "
                                        "no longer needed."})
    return _letter_send(by=by, complaint=complaint, kind=LetterKind.HOLDING,
                        at=timezone.now())


@transaction.atomic
def complaint_resolve(
    *, by, complaint: Complaint, outcome: str, resolution: str, remedy: str = "",
    summary: bool = False, follow_up_due: date | None = None,
) -> Complaint:
    """Decide `complaint`: record the outcome, what was found and the remedy, and send the
    final response (or, within the regime's summary deadline, the summary resolution).

    The complaint then waits for its follow-up when one is scheduled, else it is ready to
    close. Its case becomes resolved (a later customer message reopens it)."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    errors: dict[str, str] = {}
    if complaint.resolved_at is not None:
        raise ValidationError({"stage": "This complaint has already been resolved."})
    if outcome not in Outcome.values:
        errors["outcome"] = "Choose the outcome: upheld, partly upheld, not upheld or withdrawn."
    if not (resolution or "").strip():
        errors["resolution"] = "Say what was found and what was done."
    if summary:
        if complaint.summary_due is None:
            errors["summary"] = (f"The {complaint.regime} regime has no summary resolution; "
                                 "send a final response.")
        elif at > complaint.summary_due:
            errors["summary"] = (f"A summary resolution had to be sent by "
                                 f"{_when(complaint.summary_due, complaint.regime)}; send a "
                                 "final response instead.")
    if follow_up_due is not None and follow_up_due < _today():
        errors["follow_up_due"] = "A follow-up cannot be scheduled in the past."
    if errors:
        raise ValidationError(errors)
    stage = Stage.FOLLOW_UP if follow_up_due else Stage.RESOLVE
    changes = {"stage": (complaint.stage, stage), "outcome": (complaint.outcome, outcome),
               "resolved_at": (None, at)}
    complaint.stage, complaint.outcome = stage, outcome
    complaint.resolution, complaint.remedy = resolution.strip(), (remedy or "").strip()
    complaint.resolved_at, complaint.summary_resolution = at, bool(summary)
    complaint.follow_up_due = follow_up_due
    if complaint.acknowledged_at is None:
        # The response itself acknowledges the complaint (a summary resolution often comes
        # before any separate acknowledgement).
        complaint.acknowledged_at = at
    _save(complaint, by=by, at=at, changes=changes)
    kind = LetterKind.SUMMARY if summary else LetterKind.FINAL
    _letter_send(by=by, complaint=complaint, kind=kind, at=at, resolve_case=True)
    text = f"Complaint resolved: {complaint.get_outcome_display().lower()}"
    if follow_up_due:
        text += f"; follow-up due {_day(follow_up_due)}"
    _note(complaint, text + ".", by=by, at=at)
    return complaint


@transaction.atomic
def complaint_follow_up(*, by, complaint: Complaint, confidence_restored: bool | None,
                        note: str = "") -> Complaint:
    """Record the follow-up with the customer: is their confidence restored (None: could not
    tell, e.g. no answer), in their words."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if complaint.resolved_at is None:
        raise ValidationError({"stage": "A follow-up comes after the resolution: resolve the "
                                        "complaint and send the final response first."})
    if complaint.followed_up_at is not None:
        raise ValidationError({"stage": "The follow-up has already been recorded."})
    note = (note or "").strip()
    changes = {"confidence_restored": (None, confidence_restored),
               "stage": (complaint.stage, Stage.FOLLOW_UP)}
    complaint.confidence_restored, complaint.follow_up_note = confidence_restored, note
    complaint.followed_up_at, complaint.stage = at, Stage.FOLLOW_UP
    _save(complaint, by=by, at=at, changes=changes)
    answer = {True: "confidence restored", False: "confidence not restored",
              None: "no answer"}[confidence_restored]
    _note(complaint, f"Follow-up: {answer}." + (f" {note}" if note else ""), by=by, at=at)
    return complaint


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@transaction.atomic
def complaint_refer_to_ombudsman(*, by, complaint: Complaint, reference: str,
                                 at: datetime | None = None) -> Complaint:
    """Record that the customer referred `complaint` to the regime's ombudsman (at `at`,
    default now): possible once the final response has gone or its deadline has passed."""
    _require_handle(by, complaint)
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    complaint = _lock(complaint)
    regime = complaint.regime
    if not regime.ombudsman_name:
        raise ValidationError({"regime": f"The {regime} regime names no ombudsman."})
    if complaint.ombudsman_referred_at is not None:
        raise ValidationError({"reference": "This complaint has already been referred."})
    errors: dict[str, str] = {}
    if not (reference or "").strip():
        errors["reference"] = f"Give the {regime.ombudsman_name}'s reference."
    if at > now:
        errors["at"] = "A referral cannot be recorded in the future."
    elif at < complaint.received_at:
        errors["at"] = "A referral cannot come before the complaint was received."
    elif complaint.resolved_at is None and at <= complaint.final_due:
        errors["at"] = (f"The customer may refer the complaint once our final response has "
                        f"gone or after {_when(complaint.final_due, regime)}.")
    if errors:
        raise ValidationError(errors)
    complaint.ombudsman_referred_at, complaint.ombudsman_reference = at, reference.strip()
    _save(complaint, by=by, at=now, changes={"ombudsman_reference": ("", reference.strip()),
                                             "ombudsman_referred_at": (None, at)})
    CaseEvent.objects.create(
        case=complaint.case, kind=EventKind.ESCALATED, at=now, actor=staff_of(by),
        to_value="ombudsman",
        data={"complaint": complaint.pk, "ombudsman": regime.ombudsman_name,
              "reference": reference.strip(), "referred_at": at.isoformat()})
    return complaint


@transaction.atomic
def complaint_close(*, by, complaint: Complaint) -> Complaint:
    """Close `complaint` once resolved: an upheld or partly upheld complaint needs a root
    cause when its regime requires one, and a scheduled follow-up must be recorded. A case
    still resolved is closed with it."""
    from serviceops.cases.services import case_change_status

    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if not complaint.outcome or complaint.resolved_at is None:
        raise ValidationError({"outcome": "Record the outcome and send the final response "
                                          "before closing."})
    if (complaint.regime.root_cause_required
            and complaint.outcome in (Outcome.UPHELD, Outcome.PARTLY_UPHELD)
            and not complaint.causes.exists()):
        raise ValidationError({"causes": f"An {complaint.get_outcome_display().lower()} "
                                         "complaint cannot close without at least one root "
                                         "cause."})
    if complaint.follow_up_due and complaint.followed_up_at is None:
        raise ValidationError({"follow_up_due": f"Record the follow-up (due "
                                                f"{_day(complaint.follow_up_due)}) before "
                                                "closing."})
    old = complaint.stage
    complaint.stage, complaint.closed_at = Stage.CLOSED, at
    _save(complaint, by=by, at=at, changes={"stage": (old, Stage.CLOSED)})
    _note(complaint, "Complaint closed.", by=by, at=at)
    case = complaint.case
    case.refresh_from_db()
    # Only a case still resolved (or never worked) closes with the complaint: one the
    # customer reopened since has something new in it.
    if case.status in (Status.RESOLVED, Status.NEW) and Status.CLOSED in TRANSITIONS[case.status]:
        case_change_status(case=case, status=Status.CLOSED, by=by, now=at)
    return complaint


# -- root-cause analysis ----------------------------------------------------------------------

MAX_WHYS = 10


@transaction.atomic
def whys_set(*, by, complaint: Complaint, answers: list[str]) -> list[WhyStep]:
    """Replace the 5-whys chain of `complaint` with `answers` (blank answers are dropped)."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    kept = [a.strip() for a in answers if a and a.strip()]
    if len(kept) > MAX_WHYS:
        raise ValidationError({"answers": f"At most {MAX_WHYS} whys."})
    old = list(complaint.whys.values_list("answer", flat=True))
    if old == kept:
        return list(complaint.whys.all())
    complaint.whys.all().delete()
    steps = []
    for position, answer in enumerate(kept, start=1):
        step = WhyStep(complaint=complaint, position=position, answer=answer)
        step.full_clean()
        steps.append(step)
    WhyStep.objects.bulk_create(steps)
    audit_record(instance=complaint, changes={"whys": (" / ".join(old), " / ".join(kept))},
                 actor=by, at=at)
    _note(complaint, "5 whys: " + " → ".join(kept) if kept else "5 whys cleared.",
          by=by, at=at)
    return list(complaint.whys.all())


@transaction.atomic
def cause_add(*, by, complaint: Complaint, cause: Cause, note: str = "") -> ComplaintCause:
    """Choose `cause` as a root cause of `complaint`."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if not cause.is_active:
        raise ValidationError({"cause": f"The cause {cause} is no longer in use."})
    if complaint.causes.filter(cause=cause).exists():
        raise ValidationError({"cause": f"{cause} is already a root cause of this complaint."})
    chosen = ComplaintCause(complaint=complaint, cause=cause, note=(note or "").strip(),
                            received_at=complaint.received_at)
    chosen.full_clean()
    chosen.save()
    audit_record(instance=complaint, changes={"causes": ("", cause.pk)}, actor=by, at=at)
    _note(complaint, f"Root cause added: {cause}.", by=by, at=at)
    return chosen


@transaction.atomic
def cause_remove(*, by, complaint: Complaint, cause: Cause) -> None:
    """Remove `cause` from the root causes of `complaint`."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    deleted, _ = complaint.causes.filter(cause=cause).delete()
    if not deleted:
        raise ValidationError({"cause": f"{cause} is not a root cause of this complaint."})
    audit_record(instance=complaint, changes={"causes": (cause.pk, "")}, actor=by, at=at)
    _note(complaint, f"Root cause removed: {cause}.", by=by, at=at)


@transaction.atomic
def cause_create(*, by, category: str, name: str) -> Cause:
    """Add a root cause to the catalogue under a fishbone `category`."""
    require(by, Perm.COMPLAINT_HANDLE)
    at = timezone.now()
    name = (name or "").strip()
    if category not in Fishbone.values:
        raise ValidationError({"category": "Choose one of the fishbone categories: "
                                           + ", ".join(Fishbone.labels) + "."})
    if not name:
        raise ValidationError({"name": "Name the cause."})
    if Cause.objects.filter(category=category, name__iexact=name).exists():
        raise ValidationError({"name": f"{Fishbone(category).label} already has the cause "
                                       f"{name!r}."})
    cause = Cause(category=category, name=name)
    cause.full_clean()
    cause.save()
    audit_record(instance=cause, changes={"name": ("", name)}, actor=by, at=at)
    return cause


# -- corrective and preventive actions --------------------------------------------------------


def _check_owner(owner: Staff) -> None:
    if not owner.is_active:
        raise ValidationError({"owner": f"{owner} is no longer active."})


def _may_work_action(by, action: Action, *, owner_may: bool) -> None:
    """Handlers who see the action's complaint may change it; its owner may record progress
    on it (`owner_may`)."""
    if owner_may and action.owner_id and staff_of(by) is not None \
            and action.owner_id == staff_of(by).pk:
        return
    require(by, Perm.COMPLAINT_HANDLE)
    if action.complaint_id:
        _require_sight(by, action.complaint)


@transaction.atomic
def action_create(
    *, by, kind: str, description: str, owner: Staff, due_on: date,
    complaint: Complaint | None = None, cause: Cause | None = None,
    check_on: date | None = None,
) -> Action:
    """Raise a corrective or preventive action, from a complaint or a cause (or neither),
    with an owner, a due date and, optionally, the date to check that it worked."""
    require(by, Perm.COMPLAINT_HANDLE)
    if complaint is not None:
        _require_sight(by, complaint)
        _refuse_closed(complaint)
    at = timezone.now()
    _check_owner(owner)
    errors: dict[str, str] = {}
    if due_on is None:
        errors["due_on"] = "Give a due date."
    elif due_on < _today():
        errors["due_on"] = "A due date cannot be in the past."
    elif check_on is not None and check_on < due_on:
        errors["check_on"] = "Check the effect on or after the due date."
    if errors:
        raise ValidationError(errors)
    action = Action(kind=kind, description=(description or "").strip(), owner=owner,
                    due_on=due_on, complaint=complaint, cause=cause, check_on=check_on,
                    created_by=staff_of(by), created_at=at)
    action.full_clean()
    action.save()
    audit_record(instance=action, changes={"state": ("", action.state)}, actor=by, at=at)
    if complaint is not None:
        _note(complaint, f"{action.get_kind_display().split(' (')[0]} action for {owner}, "
                         f"due {_day(due_on)}: {action.description}", by=by, at=at)
    _notify(owner, complaint, f"Action for you, due {_day(due_on)}: "
                              f"{action.description}", at=at, by=by)
    return action


@transaction.atomic
def action_update(*, by, action: Action, state: str | None = None, due_on: date | None = None,
                  owner: Staff | None = None) -> Action:
    """Move `action` on (its owner may change its state), or change its due date or owner
    (complaint handlers only)."""
    _may_work_action(by, action, owner_may=due_on is None and owner is None)
    at = timezone.now()
    action = Action.objects.select_for_update().get(pk=action.pk) \
        if connection.features.has_select_for_update else Action.objects.get(pk=action.pk)
    changes: dict[str, tuple] = {}
    if state is not None and state != action.state:
        if state not in Action.State.values:
            raise ValidationError({"state": f"Unknown state {state!r}."})
        changes["state"] = (action.state, state)
        action.state = state
        action.done_at = at if state == Action.State.DONE else None
        if state != Action.State.DONE:
            action.effect, action.effect_note = "", ""
    if due_on is not None and due_on != action.due_on:
        if due_on < _today():
            raise ValidationError({"due_on": "A due date cannot be in the past."})
        if action.check_on and action.check_on < due_on:
            raise ValidationError({"due_on": f"The effect is to be checked on "
                                             f"{_day(action.check_on)}; the action must be due "
                                             "by then."})
        changes["due_on"] = (action.due_on, due_on)
        action.due_on = due_on
    if owner is not None and owner.pk != action.owner_id:
        _check_owner(owner)
        changes["owner"] = (action.owner, owner)
        action.owner = owner
    if not changes:
        return action
    action.full_clean()
    action.save()
    audit_record(instance=action, changes=changes, actor=by, at=at)
    if "owner" in changes:
        _notify(owner, action.complaint, f"Action for you, due {_day(action.due_on)}: "
                                         f"{action.description}", at=at, by=by)
    if action.complaint_id and "state" in changes:
        _note(action.complaint, f"Action {action.get_state_display().lower()}: "
                                f"{action.description}", by=by, at=at)
    return action


@transaction.atomic
def action_check(*, by, action: Action, effect: str, note: str = "") -> Action:
    """Record whether a done action worked, on or after its check date."""
    _may_work_action(by, action, owner_may=True)
    at = timezone.now()
    action = Action.objects.select_for_update().get(pk=action.pk) \
        if connection.features.has_select_for_update else Action.objects.get(pk=action.pk)
    if action.state != Action.State.DONE:
        raise ValidationError({"effect": "Check an action's effect once it is done."})
    if action.check_on and _today() < action.check_on:
        raise ValidationError({"effect": f"The effect is to be checked on "
                                         f"{_day(action.check_on)}; record it then."})
    if action.effect:
        raise ValidationError({"effect": "The effect of this action has already been "
                                         "recorded."})
    if effect not in Action.Effect.values:
        raise ValidationError({"effect": "Say whether the action was effective or not."})
    action.effect, action.effect_note = effect, (note or "").strip()
    action.full_clean()
    action.save()
    audit_record(instance=action, changes={"effect": ("", effect)}, actor=by, at=at)
    return action


@transaction.atomic
def action_link(*, by, action: Action, initiative) -> Action:
    """Link `action` to an improvement initiative (None: unlink)."""
    _may_work_action(by, action, owner_may=False)
    at = timezone.now()
    old = action.initiative
    if (old.pk if old else None) == (initiative.pk if initiative else None):
        return action
    action.initiative = initiative
    action.full_clean()
    action.save(update_fields=["initiative"])
    audit_record(instance=action, changes={"initiative": (old, initiative)}, actor=by, at=at)
    return action


# -- service recovery -------------------------------------------------------------------------


def approval_limit_of(user) -> Decimal:
    """The most `user`'s role may approve in gestures on one complaint (£0 without a limit)."""
    role = role_of(user)
    amount = ApprovalLimit.objects.filter(role=role).values_list("amount", flat=True).first()
    return amount if amount is not None else Decimal("0")


@transaction.atomic
def gesture_add(*, by, complaint: Complaint, kind: str, amount, note: str = "") -> Gesture:
    """Give the customer a service-recovery gesture costing `amount` (£), approved by `by`:
    refused when the complaint's gestures would then cost more than `by`'s role may approve."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": "Give the cost in pounds, e.g. 25.00."}) from None
    if amount < 0:
        raise ValidationError({"amount": "The cost cannot be negative."})
    so_far = complaint.gestures.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    limit = approval_limit_of(by)
    if so_far + amount > limit:
        role = Role(role_of(by)).label.lower() if role_of(by) else "user"
        raise ValidationError({"amount": (
            f"This would bring the gestures on this complaint to £{so_far + amount:,.2f}, "
            f"over your approval limit of £{limit:,.2f} as a {role}; ask someone with a "
            "higher limit to approve it.")})
    gesture = Gesture(complaint=complaint, kind=kind, amount=amount, note=(note or "").strip(),
                      approved_by=staff_of(by), given_at=at, received_at=complaint.received_at)
    gesture.full_clean()
    gesture.save()
    audit_record(instance=complaint, changes={"gestures": (so_far, so_far + amount)},
                 actor=by, at=at)
    _note(complaint, f"Service recovery: {gesture.get_kind_display().lower()} "
                     f"£{amount:,.2f}" + (f" ({gesture.note})" if gesture.note else "") + ".",
          by=by, at=at)
    return gesture


# -- letters ----------------------------------------------------------------------------------

PLACEHOLDERS = {
    "customer_name": "the customer's name",
    "case_number": "the case number",
    "received_date": "the date the complaint was received",
    "acknowledge_due_date": "when the acknowledgement is due",
    "summary_due_date": "the end of the summary-resolution period",
    "holding_due_date": "when a holding response is due",
    "final_due_date": "when the final response is due",
    "handler_name": "the complaint handler's name",
    "team_name": "the team's name",
    "outcome": "the outcome (upheld, partly upheld...)",
    "resolution": "what was found and what was done",
    "remedy": "what was offered to put it right",
    "ombudsman_name": "the ombudsman the regime names",
    "ombudsman_months": "the months the customer has to refer the complaint",
    "ombudsman_deadline": "the last day to refer: the letter's date plus those months",
    "today": "the date of the letter",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _values(complaint: Complaint, at: datetime) -> dict[str, str]:
    regime = complaint.regime
    customer = complaint.customer or complaint.case.customer
    handler = complaint.handler or complaint.escalated_to
    deadline_day = (_add_months(at.astimezone(_calendar(regime).zone).date(),
                                regime.ombudsman_months) if regime.ombudsman_months else None)
    return {
        "customer_name": customer.name if customer and customer.name else "Customer",
        "case_number": str(complaint.case_id),
        "received_date": _day(complaint.received_at, regime),
        "acknowledge_due_date": _day(complaint.acknowledge_due, regime),
        "summary_due_date": _day(complaint.summary_due, regime),
        "holding_due_date": _day(complaint.holding_due, regime),
        "final_due_date": _day(complaint.final_due, regime),
        "handler_name": handler.name if handler else "",
        "team_name": complaint.team.name if complaint.team else "",
        "outcome": complaint.get_outcome_display().lower() if complaint.outcome else "",
        "resolution": complaint.resolution,
        "remedy": complaint.remedy,
        "ombudsman_name": regime.ombudsman_name,
        "ombudsman_months": str(regime.ombudsman_months or ""),
        "ombudsman_deadline": _day(deadline_day),
        "today": _day(at, regime),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    filled = _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)
    # An empty placeholder on a line of its own (no remedy) leaves no gap in the letter.
    return re.sub(r"\n{3,}", "\n\n", filled).strip()


def template_for(complaint: Complaint, kind: str) -> LetterTemplate:
    """The template of `kind` for the complaint's regime, else the one for every regime."""
    template = (LetterTemplate.objects.filter(kind=kind, regime=complaint.regime).first()
                or LetterTemplate.objects.filter(kind=kind, regime=None).first())
    if template is None:
        label = LetterKind(kind).label.lower() if kind in LetterKind.values else kind
        raise ValidationError({"kind": f"There is no {label} template; add one in the "
                                       "complaint settings."})
    return template


def letter_render(*, complaint: Complaint, kind: str, at: datetime | None = None
                  ) -> tuple[str, str]:
    """The subject and body of the `kind` letter for `complaint`, placeholders filled."""
    template = template_for(complaint, kind)
    values = _values(complaint, at or timezone.now())
    return _fill(template.subject, values).replace("\n", " "), _fill(template.body, values)


def _letter_send(*, by, complaint: Complaint, kind: str, at: datetime,
                 subject: str | None = None, body: str | None = None,
                 resolve_case: bool = False) -> Letter:
    from serviceops.cases.services import case_reply

    if subject is None or body is None:
        rendered_subject, rendered_body = letter_render(complaint=complaint, kind=kind, at=at)
        subject = rendered_subject if subject is None else subject
        body = rendered_body if body is None else body
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise ValidationError({"subject": "A letter needs a subject."})
    if not body:
        raise ValidationError({"body": "A letter cannot be empty."})
    case = complaint.case
    case.refresh_from_db()
    status = None
    if resolve_case and case.status != Status.RESOLVED \
            and Status.RESOLVED in TRANSITIONS[case.status]:
        status = Status.RESOLVED
    message = case_reply(case=case, body=body, by=by, status=status, now=at)
    letter = Letter(complaint=complaint, kind=kind, subject=subject, body=body, message=message,
                    sent_by=staff_of(by), sent_at=at)
    letter.full_clean()
    letter.save()
    # The letter is what meets the acknowledgement and holding deadlines.
    stamp = {LetterKind.ACKNOWLEDGEMENT: "acknowledged_at",
             LetterKind.HOLDING: "holding_sent_at"}.get(kind)
    if stamp and getattr(complaint, stamp) is None:
        setattr(complaint, stamp, at)
        Complaint.objects.filter(pk=complaint.pk).update(**{stamp: at})
        audit_record(instance=complaint, changes={stamp: (None, at)}, actor=by, at=at)
    return letter


@transaction.atomic
def letter_send(*, by, complaint: Complaint, kind: str, subject: str | None = None,
                body: str | None = None) -> Letter:
    """Send a letter of `kind` on `complaint` (as given, or rendered from its template) as a
    public reply on the case, so the customer receives it on the case's channel. An
    acknowledgement or holding letter meets that deadline; stage changes are the stage
    services' (acknowledge, resolve)."""
    _require_handle(by, complaint)
    if kind not in LetterKind.values:
        raise ValidationError({"kind": f"Unknown letter kind {kind!r}."})
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    return _letter_send(by=by, complaint=complaint, kind=kind, at=timezone.now(),
                        subject=subject, body=body)


# -- settings ---------------------------------------------------------------------------------

REGIME_FIELDS = {
    "key", "name", "description", "calendar", "acknowledge_days", "acknowledge_business_days",
    "summary_days", "summary_business_days", "holding_days", "holding_business_days",
    "final_days", "final_business_days", "end_of_day", "ombudsman_name", "ombudsman_months",
    "root_cause_required", "is_active",
}


@transaction.atomic
def regime_save(*, by, regime: Regime | None = None, **fields) -> Regime:
    """Create a regime, or change `regime`. Complaints already logged keep the deadlines
    they were given."""
    require(by, Perm.COMPLAINT_SETTINGS)
    unknown = set(fields) - REGIME_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    at = timezone.now()
    regime = regime or Regime()
    if regime.pk:
        regime.refresh_from_db()  # compare with what is stored, not unsaved edits
    try:
        return _regime_apply(regime, fields, by=by, at=at)
    except ValidationError:
        if regime.pk:
            regime.refresh_from_db()  # a refused change leaves the caller's object as stored
        raise


def _regime_apply(regime: Regime, fields: dict, *, by, at: datetime) -> Regime:
    changes: dict[str, tuple] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        old = getattr(regime, name)
        if old != value:
            changes[name] = (old, value)
            setattr(regime, name, value)
    errors: dict[str, str] = {}
    if regime.final_days is None or regime.final_days < 1:
        errors["final_days"] = "A regime needs a final-response deadline of at least one day."
    else:
        for name in ("acknowledge_days", "summary_days", "holding_days"):
            value = getattr(regime, name)
            if value is not None and value > regime.final_days and (
                    getattr(regime, name.replace("_days", "_business_days"))
                    == regime.final_business_days):
                errors[name] = "This deadline cannot fall after the final-response deadline."
    if regime.ombudsman_months and not regime.ombudsman_name:
        errors["ombudsman_name"] = "Name the ombudsman the customer may refer to."
    if regime.ombudsman_name and not regime.ombudsman_months:
        errors["ombudsman_months"] = "Say how many months the customer has to refer."
    if errors:
        raise ValidationError(errors)
    if not changes and regime.pk:
        return regime
    regime.full_clean()
    regime.save()
    audit_record(instance=regime, changes=changes, actor=by, at=at)
    return regime


@transaction.atomic
def letter_template_save(*, by, template: LetterTemplate | None = None, kind: str | None = None,
                         subject: str | None = None, body: str | None = None,
                         regime: Regime | None = None) -> LetterTemplate:
    """Create or change a letter template: `template` as given (an unsaved form instance
    will do), with `kind`, `subject`, `body` and `regime` overriding its values; without a
    template, the one of that kind and regime (None: every regime), created if new.

    Unknown placeholders are refused; where the regime names an ombudsman, its holding,
    summary and final letters must name it too ({ombudsman_name})."""
    require(by, Perm.COMPLAINT_SETTINGS)
    at = timezone.now()
    if template is not None:
        kind = kind or template.kind
        subject = template.subject if subject is None else subject
        body = template.body if body is None else body
        regime = regime if regime is not None else (template.regime if template.regime_id
                                                    else None)
    subject, body = (subject or "").strip(), (body or "").strip()
    errors: dict[str, str] = {}
    if kind not in LetterKind.values:
        errors["kind"] = "Choose the kind of letter."
    for name, text in (("subject", subject), ("body", body)):
        unknown = sorted({m for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})
        if unknown:
            errors[name] = ("Unknown placeholders: " + ", ".join(f"{{{u}}}" for u in unknown)
                            + ". Known: " + ", ".join(f"{{{k}}}" for k in PLACEHOLDERS) + ".")
        elif not text:
            errors[name] = "This cannot be empty."
    if (regime is not None and regime.ombudsman_name and "body" not in errors
            and kind in (LetterKind.HOLDING, LetterKind.SUMMARY, LetterKind.FINAL)
            and "{ombudsman_name}" not in body):
        errors["body"] = (f"Under the {regime} regime this letter must tell the customer of "
                          "their right to refer to the ombudsman: include {ombudsman_name}.")
    if errors:
        raise ValidationError(errors)
    if template is None:
        template = LetterTemplate.objects.filter(kind=kind, regime=regime).first() \
            or LetterTemplate(kind=kind, regime=regime)
    before = (LetterTemplate.objects.filter(pk=template.pk).values("subject", "body").first()
              if template.pk else None) or {"subject": "", "body": ""}
    template.kind, template.regime, template.subject, template.body = kind, regime, subject, body
    template.full_clean()
    template.save()
    audit_record(instance=template,
                 changes={k: (before[k], v) for k, v in (("subject", subject), ("body", body))
                          if before[k] != v}, actor=by, at=at)
    return template


@transaction.atomic
def approval_limit_set(*, by, role: str, amount) -> ApprovalLimit:
    """Set the most `role` may approve in gestures on one complaint (£)."""
    require(by, Perm.COMPLAINT_SETTINGS)
    at = timezone.now()
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": "Give the limit in pounds, e.g. 100.00."}) from None
    if amount < 0:
        raise ValidationError({"amount": "A limit cannot be negative."})
    limit = ApprovalLimit.objects.filter(role=role).first() or ApprovalLimit(role=role)
    old = limit.amount
    limit.amount = amount
    limit.full_clean()
    limit.save()
    audit_record(instance=limit, changes={"amount": (old, amount)}, actor=by, at=at)
    return limit
