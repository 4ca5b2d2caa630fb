"""Staffing plans of a finished forecast, their what-if scenarios and the comparison of
the two per interval."""

from __future__ import annotations

from ninja import Router, Status

from serviceops.api.lookups import get_or_404, page, referenced
from serviceops.workforce import services
from serviceops.workforce.api._common import number, numbers
from serviceops.workforce.api.schemas import (
    ComparisonOut,
    PlanIn,
    PlanOut,
    PlanPage,
    ScenarioIn,
    ScenarioOut,
    TotalsOut,
)
from serviceops.workforce.selectors import forecast_arrays, forecast_scope, plan_scope

router = Router()

# --- staffing plans and scenarios -------------------------------------------------------


@router.get("/plans", response=PlanPage, summary="Staffing plans you may see",
            operation_id="serviceops_workforce_api_plan_list")
def plan_list(request, forecast: int | None = None, after: int | None = None,
              limit: int = 50):
    plans = plan_scope(request.auth).prefetch_related("scenarios")
    if forecast is not None:
        plans = plans.filter(forecast_id=forecast)
    return page(plans, after, limit)


@router.post("/plans", response={201: PlanOut}, summary="Staff a finished forecast to targets",
             operation_id="serviceops_workforce_api_plan_create")
def plan_create(request, payload: PlanIn):
    forecast = referenced(forecast_scope(request.auth), payload.forecast_id, "forecast_id",
                           "forecast")
    fields = payload.dict(exclude={"forecast_id"})
    return Status(201, services.plan_create(by=request.auth, forecast=forecast, **fields))


@router.get("/plans/{plan_id}", response=PlanOut, operation_id="serviceops_workforce_api_plan_get")
def plan_get(request, plan_id: int):
    return get_or_404(plan_scope(request.auth), plan_id, "plan")


@router.get("/plans/{plan_id}/comparison", response=ComparisonOut,
            summary="The plan and its scenarios per interval, with totals",
            operation_id="serviceops_workforce_api_plan_comparison")
def plan_comparison(request, plan_id: int):
    """Computed on request (milliseconds for a week). Undefined figures (an interval with no
    calls; an ASA that never settles) are null."""
    staffing_plan = get_or_404(plan_scope(request.auth), plan_id, "plan")
    scenarios = [None, *staffing_plan.scenarios.all()]
    results = []
    for saved, computed in zip(scenarios, services.plan_compare(staffing_plan), strict=True):
        s, m, t = computed.scenario, computed.staffing.metrics, computed.totals
        results.append({
            "scenario_id": saved.pk if saved else None, "name": s.name,
            "volume_factor": s.volume_factor, "aht_change_seconds": s.aht_change_seconds,
            "shrinkage": s.shrinkage,
            "totals": {name: number(getattr(t, name)) for name in TotalsOut.model_fields},
            "intervals": {
                "volume": numbers(computed.volumes), "aht_seconds": numbers(computed.aht_seconds),
                "agents": computed.staffing.agents.astype(int).tolist(),
                "rostered": computed.staffing.rostered.astype(int).tolist(),
                "service_level": numbers(m.service_level), "occupancy": numbers(m.occupancy),
                "asa_seconds": numbers(m.asa_seconds),
                "p_abandon": None if m.p_abandon is None else numbers(m.p_abandon)},
        })
    return {"plan_id": staffing_plan.pk,
            "interval_minutes": staffing_plan.forecast.interval_minutes,
            "starts": forecast_arrays(staffing_plan.forecast).starts, "results": results}


@router.post("/plans/{plan_id}/scenarios", response={201: ScenarioOut},
             summary="Add a what-if scenario", operation_id="serviceops_workforce_api_scenario_add")
def scenario_add(request, plan_id: int, payload: ScenarioIn):
    staffing_plan = get_or_404(plan_scope(request.auth), plan_id, "plan")
    return Status(201, services.scenario_add(by=request.auth, staffing_plan=staffing_plan,
                                             **payload.dict()))


@router.delete("/plans/{plan_id}/scenarios/{scenario_id}", response={204: None},
               operation_id="serviceops_workforce_api_scenario_delete")
def scenario_delete(request, plan_id: int, scenario_id: int):
    staffing_plan = get_or_404(plan_scope(request.auth), plan_id, "plan")
    scenario = get_or_404(staffing_plan.scenarios.all(), scenario_id, "scenario")
    services.scenario_delete(by=request.auth, scenario=scenario)
    return Status(204, None)
