"""Use cases that change customers; every field change is audited."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from serviceops.core.audit import audit_record
from serviceops.core.permissions import require
from serviceops.core.roles import Perm
from serviceops.customers.choices import AdjustmentKind
from serviceops.customers.models import Adjustment, Customer

EDITABLE = {
    "kind", "name", "organisation", "email", "phone", "address", "tier", "preferred_channel",
    "consent_marketing", "consent_surveys", "notes", "external_ref",
}
CONSENT_FIELDS = {"consent_marketing", "consent_surveys"}


@transaction.atomic
def customer_create(*, by, now: datetime | None = None, **fields) -> Customer:
    """Create a customer from `fields` (see EDITABLE) and audit its initial values."""
    at = now or timezone.now()
    if by is not None:
        require(by, Perm.CUSTOMER_EDIT)
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    customer = Customer(created_at=at, consent_updated_at=at, **fields)
    customer.full_clean()
    customer.save()
    audit_record(instance=customer, changes={"created": ("", customer.name)}, actor=by, at=at)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, by, now: datetime | None = None,
                    **fields) -> Customer:
    """Change fields of `customer`; each change is audited, consent changes are timestamped."""
    at = now or timezone.now()
    if by is not None:
        require(by, Perm.CUSTOMER_EDIT)
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    changes = {}
    for name, value in fields.items():
        old = getattr(customer, name)
        if old != value:
            changes[name] = (old, value)
            setattr(customer, name, value)
    if not changes:
        return customer
    if CONSENT_FIELDS & set(changes):
        customer.consent_updated_at = at
    if customer.organisation_id and customer.organisation_id == customer.pk:
        raise ValidationError({"organisation": "A customer cannot belong to itself."})
    customer.full_clean()
    customer.save()
    audit_record(instance=customer, changes=changes, actor=by, at=at)
    return customer


@transaction.atomic
def adjustment_add(*, customer: Customer, kind: str, detail: str = "", by,
                   now: datetime | None = None) -> Adjustment:
    """Record a reasonable adjustment the customer needs (shown on all their cases)."""
    at = now or timezone.now()
    if by is not None:
        require(by, Perm.CUSTOMER_EDIT)
    if kind not in AdjustmentKind.values:
        raise ValidationError({"kind": f"Unknown adjustment {kind!r}."})
    adjustment = Adjustment(customer=customer, kind=kind, detail=detail, recorded_at=at)
    adjustment.full_clean()
    adjustment.save()
    audit_record(instance=customer, changes={"adjustment": ("", str(adjustment))}, actor=by,
                 at=at)
    return adjustment


@transaction.atomic
def adjustment_remove(*, adjustment: Adjustment, by, now: datetime | None = None) -> None:
    """Remove a reasonable adjustment, keeping the removal in the audit trail."""
    at = now or timezone.now()
    if by is not None:
        require(by, Perm.CUSTOMER_EDIT)
    audit_record(instance=adjustment.customer, changes={"adjustment": (str(adjustment), "")},
                 actor=by, at=at)
    adjustment.delete()
