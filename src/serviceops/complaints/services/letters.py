"""Letters from editable templates with placeholders, sent as public replies on the case."""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from serviceops.cases.choices import TRANSITIONS, Status
from serviceops.complaints.models import (
    Complaint,
    Letter,
    LetterKind,
    LetterTemplate,
)
from serviceops.complaints.services._common import (
    _add_months,
    _calendar,
    _day,
    _lock,
    _refuse_closed,
    _require_handle,
)
from serviceops.core.audit import audit_record
from serviceops.core.permissions import staff_of

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
