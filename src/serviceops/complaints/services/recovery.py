"""Service-recovery gestures, within the approver's limit."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from serviceops.complaints.models import (
    ApprovalLimit,
    Complaint,
    Gesture,
)
from serviceops.complaints.services._common import (
    _lock,
    _note,
    _refuse_closed,
    _require_handle,
)
from serviceops.core.audit import audit_record
from serviceops.core.permissions import role_of, staff_of
from serviceops.core.roles import Role


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
