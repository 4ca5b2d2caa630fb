"""Complaint settings: regimes, letter templates and approval limits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from serviceops.complaints.models import (
    ApprovalLimit,
    LetterKind,
    LetterTemplate,
    Regime,
)
from serviceops.complaints.services.letters import _PLACEHOLDER, PLACEHOLDERS
from serviceops.core.audit import audit_record
from serviceops.core.permissions import require
from serviceops.core.roles import Perm, Role

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
