"""Insight pages: the KPI dashboard (with trends, breakdowns and drill-down), control charts,
Paretos, before/after comparisons, the balanced scorecard and its exports, and the editors
of targets, manual values, costs and the scorecard. Thin: authorise, validate, compute
through the selectors, render."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from serviceops.core.permissions import allowed, require
from serviceops.core.roles import Perm
from serviceops.insights import charts, exports, selectors, services, spc
from serviceops.insights.forms import (
    CostForm,
    InitiativeForm,
    ManualKpiForm,
    ManualValueForm,
    MeasureForm,
    ObjectiveForm,
    PeriodForm,
    TargetForm,
)
from serviceops.insights.kpis import Kpi, Unit, display
from serviceops.insights.models import (
    Initiative,
    KpiSetting,
    ManualKpiValue,
    MonthlyCost,
    Objective,
    ObjectiveMeasure,
)
from serviceops.insights.sources import OpenedCases

PARETO_MEASURES = {
    "volume": ("Cases opened", "case_volume", "value"),
    "reopened": ("Reopened cases (of those resolved)", "reopen_rate", "numerator"),
    "reassigned": ("Reassigned cases", "reassignment_rate", "numerator"),
    "not_fcr": ("Not resolved at first contact", "first_contact_resolution", "misses"),
    "first_response_breached": ("First response targets breached",
                                "sla_attainment_first_response", "misses"),
    "resolution_breached": ("Resolution targets breached", "sla_attainment_resolution",
                            "misses"),
}


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _period(request: HttpRequest, *, by: str | None = None):
    """(form, scope, previous scope, first, last) from the request, or scope None if the
    form is invalid."""
    form = PeriodForm.from_request(request)
    if not form.is_valid():
        return form, None, None, None, None
    first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    start, end = selectors.period_bounds(first, last)
    scope = selectors.kpi_scope(request.user, start=start, end=end, by=by, **form.filters())
    before_first, before_last = selectors.previous_period(first, last)
    before_start, before_end = selectors.period_bounds(before_first, before_last)
    return form, scope, replace(scope, start=before_start, end=before_end), first, last


def _labels(buckets, unit: str) -> list[str]:
    fmt = {"day": "%a %d %b", "week": "w/c %d %b", "month": "%b %Y"}[unit]
    return [b.strftime(fmt) for b in buckets]


# --- the dashboard ----------------------------------------------------------------------

@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every KPI for the period against the previous period and its target."""
    by = request.GET.get("by") or None
    if by not in (None, *selectors.BREAKDOWNS):
        by = None
    form, scope, previous, first, last = _period(request)
    context = {"form": form, "by": by, "breakdowns": selectors.BREAKDOWNS}
    if scope is not None:
        rows = selectors.kpi_report(scope, previous=previous)
        volume = OpenedCases().compute(replace(scope, by="channel"))
        channel_rows = sorted(((selectors.group_labels("channel", [g])[g], m.value)
                               for (key, g), m in volume.items() if key == "case_volume"),
                              key=lambda r: -r[1])
        context.update(
            rows=rows, first=first, last=last, previous_period=selectors.previous_period(
                first, last),
            channel_chart=charts.bars(title="Cases opened by channel", rows=channel_rows)
            if channel_rows else None,
            channel_rows=channel_rows,
            query=request.GET.urlencode(),
        )
        if by:
            context["breakdown"] = _pivot(selectors.kpi_report(replace(scope, by=by)))
    return render(request, "insights/dashboard.html", context)


def _pivot(rows) -> dict:
    """KPI × group table for a breakdown."""
    groups = []
    for row in rows:
        if row.group_label not in groups:
            groups.append(row.group_label)
    table: dict[str, dict] = {}
    kpis: dict[str, Kpi] = {}
    for row in rows:
        kpis[row.kpi.key] = row.kpi
        table.setdefault(row.kpi.key, {})[row.group_label] = row
    return {"groups": groups, "rows": [(kpis[k], [cells.get(g) for g in groups])
                                       for k, cells in table.items()]}


@login_required
@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    """The trend chart of every KPI over the period (loaded after the dashboard)."""
    form, scope, _, first, last = _period(request)
    if scope is None:
        return HttpResponse(status=400)
    buckets, unit, series = selectors.kpi_trends(scope, first, last)
    labels = _labels(buckets, unit)
    targets = dict(KpiSetting.objects.values_list("key", "target"))
    items = []
    for key, kpi in selectors.full_library().items():
        values = [m.value if m else None for m in series.get(key, [None] * len(labels))]
        if not any(v is not None for v in values):
            continue
        items.append({
            "kpi": kpi, "id": f"trend-{key}",
            "spec": charts.trend(name=kpi.name, unit=kpi.unit, labels=labels, values=values,
                                 target=targets.get(key)),
            "table": [(label, display(v, kpi.unit)) for label, v in zip(labels, values,
                                                                        strict=True)],
        })
    return render(request, "insights/_trends.html", {"items": items, "unit": unit})


@login_required
@require_GET
@cache_control(max_age=86400, public=True)
def charts_js(request: HttpRequest) -> HttpResponse:
    """Vega-Embed, Vega-Lite and Vega bundled offline, with the script that draws charts."""
    return HttpResponse(charts.javascript_bundle(), content_type="text/javascript")


# --- control charts, Pareto, before/after ----------------------------------------------

@login_required
@require_GET
def control(request: HttpRequest) -> HttpResponse:
    """A KPI's control chart over the period: XmR for times and counts, p-chart for
    rates; limits from the baseline (the first points up to `baseline_end`)."""
    form, scope, _, first, last = _period(request)
    library = selectors.full_library()
    key = request.GET.get("kpi") or "resolution_time_median"
    kpi = library.get(key) or library["resolution_time_median"]
    context = {"form": form, "library": library, "kpi": kpi}
    if scope is not None:
        buckets, unit, series = selectors.kpi_trends(scope, first, last)
        labels = _labels(buckets, unit)
        measures = series.get(kpi.key, [None] * len(labels))
        baseline_end = _date(request.GET.get("baseline_end"))
        context["baseline_end"] = baseline_end
        try:
            chart = _control_chart(kpi, measures, buckets, baseline_end)
        except ValueError as error:
            context["problem"] = str(error)
        else:
            context.update(
                chart=chart, unit=unit,
                spec=charts.control(title=kpi.name, chart=chart, labels=labels, unit=kpi.unit),
                rows=[(row, display(row["value"], _chart_unit(kpi, chart)))
                      for row in chart.to_rows(labels)],
                signals=[(labels[s.index], s.description) for s in chart.signals],
            )
    return render(request, "insights/control.html", context)


def _chart_unit(kpi: Kpi, chart: spc.ControlChart) -> Unit:
    return Unit.RATIO if chart.kind == "p" else kpi.unit


def _control_chart(kpi: Kpi, measures, buckets, baseline_end: date | None):
    count = len(measures)
    cut = count
    if baseline_end is not None:
        cut = sum(1 for b in buckets[:count] if b.date() <= baseline_end)
    baseline = slice(0, max(cut, 0))
    if kpi.chart == "p":
        successes = [int(m.numerator) if m and m.numerator is not None else 0 for m in measures]
        totals = [int(m.denominator) if m and m.denominator else 0 for m in measures]
        return spc.p_chart(successes, totals, baseline=baseline)
    present = [m.value for m in measures if m is not None and m.value is not None]
    if len(present) != count:
        raise ValueError("Some periods have no value for this KPI; choose a longer bucket "
                         "(a longer period) or another KPI.")
    return spc.xmr(present, baseline=baseline)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@login_required
@require_GET
def pareto(request: HttpRequest) -> HttpResponse:
    """Which groups (categories, teams...) account for most of a problem."""
    dimension = request.GET.get("dimension") or "category"
    if dimension not in selectors.BREAKDOWNS:
        dimension = "category"
    measure = request.GET.get("measure") or "volume"
    if measure not in PARETO_MEASURES:
        measure = "volume"
    form, scope, _, first, last = _period(request, by=dimension)
    context = {"form": form, "measures": PARETO_MEASURES, "measure": measure,
               "dimension": dimension, "breakdowns": selectors.BREAKDOWNS}
    if scope is not None:
        title, key, part = PARETO_MEASURES[measure]
        values = selectors.kpi_values(scope)
        counts = {}
        for (k, group), m in values.items():
            if k != key:
                continue
            counts[group] = (m.value if part == "value" else m.numerator if part == "numerator"
                             else (m.denominator or 0) - (m.numerator or 0)) or 0
        labels = selectors.group_labels(dimension, list(counts))
        # Long tails (e.g. 70 categories) are grouped: under 1 % each becomes "Other".
        rows = spc.pareto({labels[g]: c for g, c in counts.items()},
                          other_threshold=0.01 if len(counts) > 20 else None)
        kpi = selectors.full_library()[key]
        by_label = {labels[g]: g for g in counts}
        context.update(
            title=f"{title} by {dimension}", rows=[
                (r, selectors.drill_url(kpi, scope, by_label.get(r.label))) for r in rows],
            spec=charts.pareto(title=f"{title} by {dimension}", rows=rows) if rows else None)
    return render(request, "insights/pareto.html", context)


@login_required
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Before/after a change date: Mann-Whitney for times, two proportions for rates."""
    library = {k: v for k, v in selectors.full_library().items()
               if v.unit in (Unit.SECONDS, Unit.RATIO) and v.date_basis in ("opened",
                                                                          "resolved")}
    key = request.GET.get("kpi") or "resolution_time_median"
    kpi = library.get(key) or library["resolution_time_median"]
    change = _date(request.GET.get("change"))
    try:
        days = min(max(int(request.GET.get("days") or 28), 1), 365)
    except ValueError:
        days = 28
    context = {"library": library, "kpi": kpi, "change": change, "days": days}
    form = PeriodForm.from_request(request)
    context["form"] = form
    if change is not None and form.is_valid():
        before = selectors.period_bounds(change - timedelta(days=days),
                                         change - timedelta(days=1))
        after = selectors.period_bounds(change, change + timedelta(days=days - 1))
        scopes = [selectors.kpi_scope(request.user, start=s, end=e, **form.filters())
                  for s, e in (before, after)]
        try:
            if kpi.unit is Unit.SECONDS:
                samples = [selectors.kpi_samples(kpi, s) for s in scopes]
                result = spc.before_after_times(*samples)
            else:
                measures = [selectors.kpi_values(s).get((kpi.key, None)) for s in scopes]
                if not all(m and m.denominator for m in measures):
                    raise ValueError("One side has no cases for this KPI.")
                result = spc.before_after_rates(
                    int(measures[0].numerator), int(measures[0].denominator),
                    int(measures[1].numerator), int(measures[1].denominator),
                    higher_is_better=kpi.direction.value == "higher")
            context["result"] = result
            context["before"], context["after"] = before, after
        except ValueError as error:
            context["problem"] = str(error)
    return render(request, "insights/compare.html", context)


# --- the balanced scorecard -------------------------------------------------------------

@login_required
@require_GET
def scorecard(request: HttpRequest) -> HttpResponse:
    form, scope, previous, first, last = _period(request)
    context = {"form": form, "query": request.GET.urlencode(),
               "can_edit": allowed(request.user, Perm.MANAGE_KPIS)}
    if scope is not None:
        context.update(perspectives=selectors.scorecard(scope, previous=previous),
                       first=first, last=last)
    return render(request, "insights/scorecard.html", context)


@login_required
@require_GET
def scorecard_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The scorecard as PDF (with trend charts), CSV or XLSX."""
    form, scope, previous, first, last = _period(request)
    if scope is None:
        messages.error(request, " ".join(" ".join(e) for e in form.errors.values()))
        return redirect("insights:scorecard")
    perspectives = selectors.scorecard(scope, previous=previous)
    name = f"scorecard-{first}-{last}"
    if fmt == "csv":
        body, content_type = exports.scorecard_csv(perspectives), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = exports.scorecard_xlsx(perspectives, first=first, last=last)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        buckets, unit, series = selectors.kpi_trends(scope, first, last)
        body = exports.scorecard_pdf(perspectives, first=first, last=last,
                                     labels=_labels(buckets, unit), series=series)
        content_type = "application/pdf"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# --- editors ----------------------------------------------------------------------------

@login_required
def targets(request: HttpRequest) -> HttpResponse:
    """Targets, amber limits and owners of every KPI; manual KPIs and their values; costs."""
    require(request.user, Perm.MANAGE_KPIS)
    library = selectors.full_library()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            _targets_post(request, action, library)
        except ValidationError as error:
            messages.error(request, _errors(error))
        return redirect("insights:targets")
    settings = {s.key: s for s in KpiSetting.objects.all()}
    return render(request, "insights/targets.html", {
        "rows": [(kpi, TargetForm(initial={
            "key": key, "target": getattr(settings.get(key), "target", None),
            "amber": getattr(settings.get(key), "amber", None),
            "owner": getattr(settings.get(key), "owner_id", None)}, prefix=key))
            for key, kpi in library.items()],
        "manual_form": ManualKpiForm(), "value_form": ManualValueForm(),
        "cost_form": CostForm(),
        "values": ManualKpiValue.objects.select_related("kpi").order_by("-month")[:24],
        "costs": MonthlyCost.objects.select_related("team")[:24],
    })


def _targets_post(request, action: str, library) -> None:
    by = request.user
    if action == "target":
        key = request.POST.get("key", "")
        form = TargetForm(request.POST, prefix=key)
        if not form.is_valid() or form.cleaned_data["key"] != key:
            raise ValidationError("Targets must be numbers.")
        data = form.cleaned_data
        services.kpi_setting_save(key=key, target=data["target"], amber=data["amber"],
                                  owner=data["owner"], by=by)
        messages.success(request, f"Target saved for {library[key].name}.")
    elif action == "manual":
        form = ManualKpiForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        services.manual_kpi_create(by=by, **form.cleaned_data)
        messages.success(request, "Manual KPI added.")
    elif action == "value":
        form = ManualValueForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        services.manual_value_save(by=by, **form.cleaned_data)
        messages.success(request, "Value saved.")
    elif action == "cost":
        form = CostForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        services.cost_save(by=by, **form.cleaned_data)
        messages.success(request, "Cost saved.")
    else:
        raise ValidationError("Unknown action.")


def _form_errors(form) -> str:
    return " ".join(f"{form.fields[f].label or f if f in form.fields else ''}: {' '.join(e)}"
                    .lstrip(": ") for f, e in form.errors.items())


@login_required
def scorecard_edit(request: HttpRequest) -> HttpResponse:
    """Add objectives to perspectives, KPIs to objectives, and initiatives."""
    require(request.user, Perm.MANAGE_KPIS)
    library = selectors.full_library()
    if request.method == "POST":
        try:
            _scorecard_post(request, library)
        except ValidationError as error:
            messages.error(request, _errors(error))
        return redirect("insights:scorecard_edit")
    objectives = list(Objective.objects.prefetch_related("measures", "initiatives__owner"))
    for objective in objectives:
        objective.initiative_form = InitiativeForm(auto_id=f"i-{objective.pk}-%s")
    return render(request, "insights/scorecard_edit.html", {
        "objectives": objectives,
        "library": library, "objective_form": ObjectiveForm(),
        "measure_form": MeasureForm(library=library),
    })


def _scorecard_post(request, library) -> None:
    by, action = request.user, request.POST.get("action")
    if action == "objective":
        form = ObjectiveForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        services.objective_create(by=by, **form.cleaned_data)
        return
    if action.startswith("delete_"):
        model = {"delete_objective": Objective, "delete_measure": ObjectiveMeasure,
                 "delete_initiative": Initiative}.get(action)
        if model is None:
            raise ValidationError("Unknown action.")
        services.scorecard_item_delete(item=get_object_or_404(model, pk=request.POST.get("pk")),
                                       by=by)
        return
    objective = get_object_or_404(Objective, pk=request.POST.get("objective"))
    if action == "measure":
        form = MeasureForm(request.POST, library=library)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        services.objective_measure_add(objective=objective, by=by, **form.cleaned_data)
    elif action == "initiative":
        form = InitiativeForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        services.initiative_save(objective=objective, by=by, **form.cleaned_data)
    else:
        raise ValidationError("Unknown action.")
