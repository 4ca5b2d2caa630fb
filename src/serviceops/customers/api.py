"""Customers API: list/search, create, read, change, reasonable adjustments, their cases."""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from serviceops.cases.selectors import customer_cases
from serviceops.core.permissions import require, role_of
from serviceops.core.roles import Perm
from serviceops.customers import services
from serviceops.customers.models import Adjustment, Customer
from serviceops.customers.selectors import customer_page

router = Router(tags=["customers"])


class AdjustmentOut(Schema):
    id: int
    kind: str
    detail: str
    recorded_at: datetime


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    organisation_id: int | None
    email: str
    phone: str
    tier: str
    preferred_channel: str
    consent_marketing: bool
    consent_surveys: bool
    external_ref: str
    created_at: datetime
    adjustments: list[AdjustmentOut] = Field(default_factory=list)

    @staticmethod
    def resolve_adjustments(obj):
        return list(obj.adjustments.all())


class CustomerIn(Schema):
    name: str
    kind: str = "person"
    organisation_id: int | None = None
    email: str = ""
    phone: str = ""
    address: str = ""
    tier: str = "standard"
    preferred_channel: str = ""
    consent_marketing: bool = False
    consent_surveys: bool = True
    notes: str = ""
    external_ref: str = ""


class CustomerPatch(Schema):
    name: str | None = None
    kind: str | None = None
    organisation_id: int | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    tier: str | None = None
    preferred_channel: str | None = None
    consent_marketing: bool | None = None
    consent_surveys: bool | None = None
    notes: str | None = None


class AdjustmentIn(Schema):
    kind: str
    detail: str = ""


class CustomerPage(Schema):
    items: list[CustomerOut]
    next: int | None


def _fields(data: dict) -> dict:
    if "organisation_id" in data:
        org_id = data.pop("organisation_id")
        data["organisation"] = get_object_or_404(Customer, pk=org_id) if org_id else None
    return data


def _readable(request) -> None:
    if role_of(request.auth) is None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Your account has no role in ServiceOps.")


@router.get("", response=CustomerPage)
def list_customers(request, q: str = "", after: int = 0, limit: int = 50):
    """Customers, searched by name, email, phone or reference; `after` is the last id seen."""
    _readable(request)
    limit = max(1, min(limit, 200))
    items = customer_page(query=q, after=after, limit=limit)
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next": items[-1].pk if more else None}


@router.post("", response={201: CustomerOut})
def create_customer(request, payload: CustomerIn):
    customer = services.customer_create(by=request.auth, **_fields(payload.dict()))
    return Status(201, customer)


@router.get("/{customer_id}", response=CustomerOut)
def get_customer(request, customer_id: int):
    _readable(request)
    return get_object_or_404(Customer.objects.prefetch_related("adjustments"), pk=customer_id)


@router.patch("/{customer_id}", response=CustomerOut)
def change_customer(request, customer_id: int, payload: CustomerPatch):
    customer = get_object_or_404(Customer, pk=customer_id)
    return services.customer_update(customer=customer, by=request.auth,
                                    **_fields(payload.dict(exclude_unset=True)))


@router.post("/{customer_id}/adjustments", response={201: AdjustmentOut})
def add_adjustment(request, customer_id: int, payload: AdjustmentIn):
    customer = get_object_or_404(Customer, pk=customer_id)
    adjustment = services.adjustment_add(customer=customer, by=request.auth, **payload.dict())
    return Status(201, adjustment)


@router.delete("/{customer_id}/adjustments/{adjustment_id}", response={204: None})
def remove_adjustment(request, customer_id: int, adjustment_id: int):
    adjustment = get_object_or_404(Adjustment, pk=adjustment_id, customer_id=customer_id)
    require(request.auth, Perm.CUSTOMER_EDIT)
    services.adjustment_remove(adjustment=adjustment, by=request.auth)
    return Status(204, None)


@router.get("/{customer_id}/cases", response=list[dict])
def list_customer_cases(request, customer_id: int):
    """The customer's cases that the caller may see, newest first."""
    get_object_or_404(Customer, pk=customer_id)
    return [{"id": c.pk, "subject": c.subject, "status": c.status, "channel": c.channel,
             "opened_at": c.opened_at.isoformat()}
            for c in customer_cases(user=request.auth, customer_id=customer_id)]
