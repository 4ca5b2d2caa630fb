"""Cases API: the same filters, services and permission rules as the pages."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from serviceops.cases import selectors, services
from serviceops.cases.filters import CaseFilter
from serviceops.cases.models import Case, Category, Message
from serviceops.core.permissions import case_scope, require_case, role_of
from serviceops.core.rows import row_by_pk
from serviceops.customers.models import Customer
from serviceops.people.models import Staff, Team

router = Router(tags=["cases"])


class CaseOut(Schema):
    id: int
    subject: str
    description: str
    channel: str
    status: str
    priority: int
    impact: int
    urgency: int
    category_id: int | None
    customer_id: int | None
    team_id: int | None
    assignee_id: int | None
    merged_into_id: int | None
    external_ref: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    tags: list[str] = Field(default_factory=list)

    @staticmethod
    def resolve_tags(obj):
        if getattr(obj, "just_created", False):  # it says which tags it was given
            return obj.tag_names
        return sorted(t.name for t in obj.tags.all())


class AdjustmentOut(Schema):
    kind: str
    detail: str


class CaseDetail(CaseOut):
    customer_adjustments: list[AdjustmentOut] = Field(default_factory=list)
    links: list[dict] = Field(default_factory=list)

    @staticmethod
    def resolve_customer_adjustments(obj):
        return list(obj.customer.adjustments.all()) if obj.customer else []

    @staticmethod
    def resolve_links(obj):
        if getattr(obj, "just_created", False):  # nothing links it yet
            return []
        return [{"kind": link.kind, "case_id": link.to_case_id} for link in obj.links_out.all()]


class CasePage(Schema):
    items: list[CaseOut]
    next: str | None


class CaseIn(Schema):
    subject: str
    description: str = ""
    channel: str = "email"
    customer_id: int | None = None
    team_id: int | None = None
    category_id: int | None = None
    impact: int = 2
    urgency: int = 2
    tags: list[str] = Field(default_factory=list)
    assignee_id: int | None = None


class CasePatch(Schema):
    status: str | None = None
    assignee_id: int | None = None
    subject: str | None = None
    team_id: int | None = None
    category_id: int | None = None
    impact: int | None = None
    urgency: int | None = None
    tags: list[str] | None = None


class MessageIn(Schema):
    body: str
    status: str | None = None


class MessageOut(Schema):
    id: int
    kind: str
    body: str
    author_id: int | None
    channel: str
    created_at: datetime


class EventOut(Schema):
    id: int
    kind: str
    at: datetime
    actor_id: int | None
    actor: str | None
    from_value: str
    to_value: str
    data: dict

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.name if obj.actor else None


class MergeIn(Schema):
    target_id: int


class LinkIn(Schema):
    other_id: int
    kind: str


def _object(model, pk, field: str):
    if pk is None:
        return None
    try:
        return row_by_pk(model, pk)
    except model.DoesNotExist:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} {pk}."}) from None


def _case(request, case_id: int) -> Case:
    case = get_object_or_404(Case.objects.prefetch_related("tags"), pk=case_id)
    require_case(request.auth, case)
    return case


@router.get("", response=CasePage)
def list_cases(request, after: str | None = None, limit: int = 50, q: str = ""):
    """Cases the caller may see, newest first. Filters as on the queue page: view
    (mine, unassigned, team, all), status, priority, channel, team, assignee, category,
    customer, tag, state=any (include closed). `q` searches full text instead."""
    if role_of(request.auth) is None:
        raise PermissionDenied("Your account has no role in ServiceOps.")
    limit = max(1, min(limit, 200))
    if q:
        return {"items": selectors.case_search(user=request.auth, query=q, limit=limit),
                "next": None}
    case_filter = CaseFilter.from_query(request.GET, default_view="all")
    if case_filter.errors:
        raise ValidationError(case_filter.errors)
    page = selectors.case_queue(user=request.auth, case_filter=case_filter, after=after,
                                limit=limit)
    return {"items": page.items, "next": page.next_cursor}


@router.post("", response={201: CaseDetail})
def create_case(request, payload: CaseIn):
    case = services.case_create(
        by=request.auth, subject=payload.subject, description=payload.description,
        channel=payload.channel, impact=payload.impact, urgency=payload.urgency,
        customer=_object(Customer, payload.customer_id, "customer_id"),
        team=_object(Team, payload.team_id, "team_id"),
        category=_object(Category, payload.category_id, "category_id"),
        assignee=_object(Staff, payload.assignee_id, "assignee_id"), tags=payload.tags,
    )
    return Status(201, case)


@router.get("/{case_id}", response=CaseDetail)
def get_case(request, case_id: int):
    try:
        return selectors.case_detail(user=request.auth, case_id=case_id)
    except Case.DoesNotExist:
        raise Http404(f"There is no case {case_id}.") from None


@router.patch("/{case_id}", response=CaseDetail)
def change_case(request, case_id: int, payload: CasePatch):
    """Change status, assignee, tags and plain fields together: all or nothing."""
    case = _case(request, case_id)
    changes = payload.dict(exclude_unset=True)
    with transaction.atomic():
        fields = {}
        for name in ("subject", "impact", "urgency"):
            if name in changes:
                fields[name] = changes[name]
        if "team_id" in changes:
            fields["team"] = _object(Team, changes["team_id"], "team_id")
        if "category_id" in changes:
            fields["category"] = _object(Category, changes["category_id"], "category_id")
        if fields:
            services.case_update(case=case, by=request.auth, **fields)
        if "assignee_id" in changes:
            services.case_assign(case=case, by=request.auth,
                                 assignee=_object(Staff, changes["assignee_id"], "assignee_id"))
        if changes.get("tags") is not None:
            services.case_set_tags(case=case, tags=changes["tags"], by=request.auth)
        if changes.get("status"):
            services.case_change_status(case=case, status=changes["status"], by=request.auth)
    return selectors.case_detail(user=request.auth, case_id=case.pk)


@router.post("/{case_id}/replies", response={201: MessageOut})
def reply(request, case_id: int, payload: MessageIn):
    case = _case(request, case_id)
    return Status(201, services.case_reply(case=case, body=payload.body, status=payload.status,
                                    by=request.auth))


@router.post("/{case_id}/notes", response={201: MessageOut})
def note(request, case_id: int, payload: MessageIn):
    case = _case(request, case_id)
    return Status(201, services.case_note(case=case, body=payload.body, by=request.auth))


@router.get("/{case_id}/messages", response=list[MessageOut])
def messages(request, case_id: int):
    return list(Message.objects.filter(case=_case(request, case_id)).order_by("created_at", "id"))


@router.get("/{case_id}/events", response=list[EventOut])
def events(request, case_id: int):
    """The case's append-only event log, oldest first (schema: docs/architecture.md)."""
    return list(selectors.case_events(case=_case(request, case_id)))


@router.post("/{case_id}/merge", response=CaseDetail)
def merge(request, case_id: int, payload: MergeIn):
    source = _case(request, case_id)
    target = get_object_or_404(case_scope(request.auth), pk=payload.target_id)
    services.case_merge(source=source, target=target, by=request.auth)
    return selectors.case_detail(user=request.auth, case_id=target.pk)


@router.post("/{case_id}/links", response={201: dict})
def link(request, case_id: int, payload: LinkIn):
    case = _case(request, case_id)
    other = get_object_or_404(case_scope(request.auth), pk=payload.other_id)
    created = services.case_link(case=case, other=other, kind=payload.kind, by=request.auth)
    return Status(201, {"from_case": created.from_case_id, "to_case": created.to_case_id,
                 "kind": created.kind})
