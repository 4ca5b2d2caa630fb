"""Rotas from draft to published, and what they are solved from: shift patterns, and each
member of staff's contract and leave."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Router, Status

from serviceops.api.lookups import get_or_404, page, referenced
from serviceops.people.models import Team
from serviceops.workforce import exports, selectors, services
from serviceops.workforce.api.schemas import (
    ContractIn,
    ContractOut,
    LeaveIn,
    LeaveOut,
    PatternIn,
    PatternOut,
    PatternPage,
    RotaDetail,
    RotaIn,
    RotaOut,
    RotaPage,
)
from serviceops.workforce.models import Rota, ShiftPattern
from serviceops.workforce.selectors import plan_scope, rota_scope

router = Router()

# --- shift patterns, contracts, leave ---------------------------------------------------


@router.get("/shift-patterns", response=PatternPage,
            summary="Shift patterns of your teams and of every team",
            operation_id="serviceops_workforce_api_pattern_list")
def pattern_list(request, after: int | None = None, limit: int = 50):
    return page(selectors.pattern_scope(request.auth), after, limit)


@router.post("/shift-patterns", response={201: PatternOut},
             operation_id="serviceops_workforce_api_pattern_create")
def pattern_create(request, payload: PatternIn):
    fields = payload.dict(exclude={"team_id"})
    team = referenced(Team.objects.all(), payload.team_id, "team_id", "team")
    return Status(201, services.pattern_save(by=request.auth,
                                             pattern=ShiftPattern(team=team, **fields)))


@router.put("/staff/{staff_id}/contract", response=ContractOut,
            summary="Set a member of staff's contract (every field; defaults for the rest)",
            operation_id="serviceops_workforce_api_contract_put")
def contract_put(request, staff_id: int, payload: ContractIn):
    staff = get_or_404(selectors.staff_scope(request.auth), staff_id, "member of staff")
    return services.contract_save(by=request.auth, staff=staff, **payload.dict())


@router.post("/staff/{staff_id}/leave", response={201: LeaveOut},
             operation_id="serviceops_workforce_api_leave_add")
def leave_add(request, staff_id: int, payload: LeaveIn):
    staff = get_or_404(selectors.staff_scope(request.auth), staff_id, "member of staff")
    return Status(201, services.leave_add(by=request.auth, staff=staff, **payload.dict()))


# --- rotas ------------------------------------------------------------------------------


@router.get("/rotas", response=RotaPage, summary="Rotas you may see",
            operation_id="serviceops_workforce_api_rota_list")
def rota_list(request, plan: int | None = None, state: str | None = None,
              after: int | None = None, limit: int = 50):
    rotas = rota_scope(request.auth)
    if plan is not None:
        rotas = rotas.filter(plan_id=plan)
    if state is not None:
        if state not in Rota.State.values:
            raise ValidationError({"state": f"Choose one of {', '.join(Rota.State.values)}."})
        rotas = rotas.filter(state=state)
    return page(rotas, after, limit)


@router.post("/rotas", response={201: RotaOut},
             summary="Solve a rota for days of a plan (queued; poll until draft or failed)",
             operation_id="serviceops_workforce_api_rota_create")
def rota_create(request, payload: RotaIn):
    staffing_plan = referenced(plan_scope(request.auth), payload.plan_id, "plan_id", "plan")
    return Status(201, services.rota_create(
        by=request.auth, staffing_plan=staffing_plan, first_day=payload.first_day,
        days=payload.days, named=payload.named,
        time_limit_seconds=payload.time_limit_seconds))


@router.get("/rotas/{rota_id}", response=RotaDetail, summary="A rota with its shifts and coverage",
            operation_id="serviceops_workforce_api_rota_get")
def rota_get(request, rota_id: int):
    return get_or_404(rota_scope(request.auth), rota_id, "rota")


@router.get("/rotas/{rota_id}/csv", response={200: None}, summary="A rota as CSV (local times)",
            operation_id="serviceops_workforce_api_rota_csv")
def rota_csv(request, rota_id: int):
    rota = get_or_404(rota_scope(request.auth), rota_id, "rota")
    response = HttpResponse(exports.rota_csv(rota), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rota-{rota.pk}.csv"'
    return response


@router.get("/rotas/{rota_id}/ics", response={200: None}, summary="A rota as iCalendar",
            operation_id="serviceops_workforce_api_rota_ics")
def rota_ics(request, rota_id: int):
    rota = get_or_404(rota_scope(request.auth), rota_id, "rota")
    shifts = rota.shifts.select_related("staff", "rota__plan__forecast__team")
    response = HttpResponse(exports.shifts_ics(shifts, name=f"Rota from {rota.first_day}"),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rota-{rota.pk}.ics"'
    return response


@router.post("/rotas/{rota_id}/publish", response=RotaOut,
             summary="Publish a draft (supersedes an overlapping published rota)",
             operation_id="serviceops_workforce_api_rota_publish")
def rota_publish(request, rota_id: int):
    rota = get_or_404(rota_scope(request.auth), rota_id, "rota")
    return services.rota_publish(by=request.auth, draft=rota)


@router.delete("/rotas/{rota_id}", response={204: None}, summary="Discard a rota not published",
               operation_id="serviceops_workforce_api_rota_delete")
def rota_delete(request, rota_id: int):
    rota = get_or_404(rota_scope(request.auth), rota_id, "rota")
    services.rota_delete(by=request.auth, draft=rota)
    return Status(204, None)
