"""Logging a complaint, its details, and its stages from acknowledgement to closing."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from serviceops.cases.choices import TRANSITIONS, EventKind, Status
from serviceops.cases.models import Case, CaseEvent
from serviceops.complaints.models import (
    Complaint,
    Letter,
    LetterKind,
    Outcome,
    Regime,
    Stage,
)
from serviceops.complaints.services._common import (
    _day,
    _lock,
    _note,
    _notify,
    _refuse_closed,
    _require_handle,
    _save,
    _staff_can_handle,
    _today,
    _when,
    regime_deadlines,
)
from serviceops.complaints.services.letters import _letter_send
from serviceops.core.permissions import allowed, can_see_case, require, staff_of
from serviceops.core.roles import Perm
from serviceops.people.models import Staff


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
