"""KPI API: the same figures as `serviceops kpi --json`, scoped to what the caller may see."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema

from serviceops.insights.selectors import BREAKDOWNS, kpi_report, kpi_scope, period_bounds

router = Router(tags=["kpis"])


class KpiFilters(Schema):
    start: date = Field(..., alias="from", description="First day (YYYY-MM-DD)")
    end: date = Field(..., alias="to", description="Last day, included")
    team: list[int] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    priority: list[int] = Field(default_factory=list)
    category: list[int] = Field(default_factory=list)
    by: str | None = Field(None, description="priority, team, channel or category")


class KpiOut(Schema):
    key: str
    name: str
    value: float | None
    unit: str
    target: float | None
    status: str
    group: str | int | None = None


@router.get("", response=list[KpiOut], exclude_unset=True,
            summary="Every KPI for a period (optionally broken down)")
def kpi_list(request, filters: Query[KpiFilters]):
    """Times in seconds, rates in 0–1; with `by`, one object per KPI and group."""
    if filters.by is not None and filters.by not in BREAKDOWNS:
        raise ValidationError({"by": f"Choose one of {', '.join(BREAKDOWNS)}."})
    try:
        start, end = period_bounds(filters.start, filters.end)
    except ValueError as error:
        raise ValidationError({"to": str(error)}) from None
    scope = kpi_scope(request.user, start=start, end=end, team_ids=filters.team,
                      channels=filters.channel, priorities=filters.priority,
                      category_ids=filters.category, by=filters.by)
    return [row.as_json() for row in kpi_report(scope)]
