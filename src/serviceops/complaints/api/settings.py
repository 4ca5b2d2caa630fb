"""Complaint settings: regimes, letter templates and approval limits."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Router, Status

from serviceops.api.lookups import referenced
from serviceops.complaints import services
from serviceops.complaints.api._common import (
    fields_as,
    regime_by_key,
    require_settings_reader,
)
from serviceops.complaints.api.schemas import (
    LimitIn,
    LimitOut,
    RegimeIn,
    RegimeOut,
    TemplateIn,
    TemplateOut,
)
from serviceops.complaints.models import ApprovalLimit, LetterTemplate, Regime
from serviceops.core.permissions import role_of
from serviceops.sla.models import BusinessCalendar

router = Router(tags=["complaints"])

# --- settings ---------------------------------------------------------------------------


@router.get("/regimes", response=list[RegimeOut], summary="Deadline regimes")
def regime_list(request):
    """Everyone who may log a complaint reads the regimes, as logging names one."""
    if role_of(request.auth) is None:
        raise PermissionDenied("Your account has no role in ServiceOps.")
    return list(Regime.objects.all())


def _regime_fields(payload: RegimeIn) -> dict:
    fields = payload.dict(exclude_unset=True)
    if "calendar_id" in fields:
        fields["calendar"] = referenced(BusinessCalendar.objects.all(),
                                         fields.pop("calendar_id"), "calendar_id",
                                         "business calendar")
    return fields


@router.post("/regimes", response={201: RegimeOut}, summary="Add a regime")
def regime_create(request, payload: RegimeIn):
    with fields_as(calendar="calendar_id"):
        return Status(201, services.regime_save(by=request.auth, **_regime_fields(payload)))


@router.patch("/regimes/{int:regime_id}", response=RegimeOut,
              summary="Change a regime (complaints already logged keep their deadlines)")
def regime_update(request, regime_id: int, payload: RegimeIn):
    regime = Regime.objects.filter(pk=regime_id).first()
    if regime is None:
        raise Http404(f"There is no regime {regime_id}.")
    with fields_as(calendar="calendar_id"):
        return services.regime_save(by=request.auth, regime=regime, **_regime_fields(payload))


@router.get("/templates", response=list[TemplateOut], summary="Letter templates")
def template_list(request):
    require_settings_reader(request)
    return list(LetterTemplate.objects.select_related("regime"))


@router.put("/templates", response=TemplateOut,
            summary="Create or replace the template of a kind and regime")
def template_put(request, payload: TemplateIn):
    return services.letter_template_save(by=request.auth, kind=payload.kind,
                                         regime=regime_by_key(payload.regime),
                                         subject=payload.subject, body=payload.body)


@router.get("/limits", response=list[LimitOut],
            summary="Approval limits for gestures, per role (£ per complaint)")
def limit_list(request):
    require_settings_reader(request)
    return list(ApprovalLimit.objects.all())


@router.put("/limits/{role}", response=LimitOut, summary="Set a role's limit")
def limit_put(request, role: str, payload: LimitIn):
    return services.approval_limit_set(by=request.auth, role=role, amount=payload.amount)
