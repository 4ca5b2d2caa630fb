"""Changing KPI targets, manual values, costs and the balanced scorecard. Every write checks
the MANAGE_KPIS permission, validates, and runs in a transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from serviceops.core.permissions import require
from serviceops.core.roles import Perm
from serviceops.insights.kpis import check_thresholds
from serviceops.insights.models import (
    Initiative,
    KpiSetting,
    ManualKpi,
    ManualKpiValue,
    MonthlyCost,
    Objective,
    ObjectiveMeasure,
)
from serviceops.insights.selectors import full_library
from serviceops.people.models import Staff, Team


@transaction.atomic
def kpi_setting_save(*, key: str, target: float | None, amber: float | None,
                     owner: Staff | None, by) -> KpiSetting:
    """Set the target, amber limit and owner of KPI `key` (refused if the limit points the
    wrong way for the KPI's direction)."""
    require(by, Perm.MANAGE_KPIS)
    kpi = full_library().get(key)
    if kpi is None:
        raise ValidationError({"key": f"There is no KPI {key!r}."})
    problem = check_thresholds(target=target, amber=amber, direction=kpi.direction)
    if problem:
        raise ValidationError({"amber": problem})
    setting, _ = KpiSetting.objects.get_or_create(key=key)
    setting.target, setting.amber, setting.owner = target, amber, owner
    setting.full_clean()
    setting.save()
    return setting


@transaction.atomic
def manual_kpi_create(*, key: str, name: str, definition: str, unit: str, direction: str,
                      aggregation: str, by) -> ManualKpi:
    """Add a KPI whose values are entered by hand each month."""
    require(by, Perm.MANAGE_KPIS)
    from serviceops.insights import kpis

    if key in kpis.library():
        raise ValidationError({"key": f"{key!r} is a built-in KPI."})
    kpi = ManualKpi(key=key, name=name, definition=definition, unit=unit, direction=direction,
                    aggregation=aggregation)
    kpi.full_clean()
    kpi.save()
    return kpi


@transaction.atomic
def manual_value_save(*, kpi: ManualKpi, month: date, value: float, by) -> ManualKpiValue:
    """Record (or correct) the value of a manual KPI for a month."""
    require(by, Perm.MANAGE_KPIS)
    entry = ManualKpiValue.objects.filter(kpi=kpi, month=month).first() or ManualKpiValue(
        kpi=kpi, month=month)
    entry.value = value
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def cost_save(*, month: date, amount: Decimal, team: Team | None, note: str, by) -> MonthlyCost:
    """Record (or correct) what the operation, or one team, cost in a month."""
    require(by, Perm.MANAGE_KPIS)
    cost = MonthlyCost.objects.filter(month=month, team=team).first() or MonthlyCost(
        month=month, team=team)
    cost.amount, cost.note = amount, note
    cost.full_clean(validate_constraints=False)
    cost.save()
    return cost


@transaction.atomic
def objective_create(*, perspective: str, name: str, description: str = "", by) -> Objective:
    require(by, Perm.MANAGE_KPIS)
    objective = Objective(perspective=perspective, name=name, description=description,
                          order=Objective.objects.filter(perspective=perspective).count())
    objective.full_clean()
    objective.save()
    return objective


@transaction.atomic
def objective_measure_add(*, objective: Objective, kpi_key: str, by) -> ObjectiveMeasure:
    require(by, Perm.MANAGE_KPIS)
    if kpi_key not in full_library():
        raise ValidationError({"kpi_key": f"There is no KPI {kpi_key!r}."})
    if objective.measures.filter(kpi_key=kpi_key).exists():
        raise ValidationError({"kpi_key": "This KPI already measures the objective."})
    return ObjectiveMeasure.objects.create(objective=objective, kpi_key=kpi_key,
                                           order=objective.measures.count())


@transaction.atomic
def initiative_save(*, objective: Objective, name: str, owner: Staff | None, due: date | None,
                    state: str, by, initiative: Initiative | None = None) -> Initiative:
    require(by, Perm.MANAGE_KPIS)
    initiative = initiative or Initiative(objective=objective)
    initiative.name, initiative.owner, initiative.due, initiative.state = name, owner, due, state
    initiative.full_clean()
    initiative.save()
    return initiative


@transaction.atomic
def scorecard_item_delete(*, item: Objective | ObjectiveMeasure | Initiative, by) -> None:
    require(by, Perm.MANAGE_KPIS)
    item.delete()
