"""Workforce pages: forecasts, staffing plans and scenarios, shift patterns, contracts and
leave, rotas (draft → published) and each person's shifts. Thin: authorise through the
selectors and services, validate with the forms, render."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from serviceops.core.permissions import allowed, staff_of, team_ids_of
from serviceops.core.roles import Perm
from serviceops.people.models import Team
from serviceops.workforce import charts, exports, selectors, services
from serviceops.workforce.forms import (
    ContractForm,
    ForecastForm,
    LeaveForm,
    PatternForm,
    PlanForm,
    RotaForm,
    ScenarioForm,
)
from serviceops.workforce.models import Contract, JobState, Rota, Scenario


def _require_view(request: HttpRequest) -> None:
    if not selectors.can_view_plans(request.user):
        raise PermissionDenied("Your role does not include workforce planning.")


def _can_plan(request: HttpRequest) -> bool:
    return allowed(request.user, Perm.PLAN_WORKFORCE)


def _teams(request: HttpRequest):
    """The teams the user plans for."""
    if allowed(request.user, Perm.VIEW_ALL_TEAMS):
        return Team.objects.all()
    return Team.objects.filter(pk__in=team_ids_of(request.user))


def _refuse(request: HttpRequest, error: ValidationError | PermissionDenied) -> None:
    text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
    messages.error(request, text)


def _apply_errors(form, error: ValidationError) -> None:
    """Put a service's field errors on the form (unknown fields on the form as a whole)."""
    if hasattr(error, "message_dict"):
        for field, texts in error.message_dict.items():
            form.add_error(field if field in form.fields else None, texts)
    else:
        form.add_error(None, error.messages)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    return render(request, "workforce/home.html", {
        "forecasts": selectors.forecast_scope(request.user)[:20],
        "plans": selectors.plan_scope(request.user)[:20],
        "rotas": selectors.rota_scope(request.user)[:20],
        "can_plan": _can_plan(request), "tab": "home",
    })


# --- forecasts --------------------------------------------------------------------------


@login_required
def forecast_new(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    teams = _teams(request)
    if request.method == "POST":
        form = ForecastForm(request.POST, request.FILES, teams=teams)
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = services.forecast_create(
                    by=request.user, name=data["name"], team=data["team"],
                    source=data["source"], arrivals=data["arrivals"],
                    time_column=data["time_column"], count_column=data["count_column"],
                    handle_column=data["handle_column"],
                    last_history_day=data["last_history_day"],
                    interval_minutes=data["interval_minutes"],
                    horizon_days=data["horizon_days"], time_zone=data["time_zone"],
                    holidays=data["holidays"], closures=data["closures"],
                    model=data["model"], origins=data["origins"])
            except ValidationError as error:
                _apply_errors(form, error)
            except PermissionDenied as error:
                form.add_error("team", str(error))
            else:
                return redirect("workforce:forecast", made.pk)
    else:
        yesterday = timezone.localdate() - timedelta(days=1)
        form = ForecastForm(teams=teams, initial={"last_history_day": yesterday})
    return render(request, "workforce/forecast_new.html",
                  {"form": form, "can_plan": _can_plan(request), "tab": "home"})


@login_required
def forecast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    forecast = get_object_or_404(selectors.forecast_scope(request.user), pk=pk)
    context = {"forecast": forecast, "can_plan": _can_plan(request), "tab": "home",
               "plans": forecast.plans.all()}
    if forecast.state == JobState.DONE:
        arrays = selectors.forecast_arrays(forecast)
        context["chart"] = charts.forecast(
            title=f"Contacts per {forecast.interval_minutes} minutes",
            history_starts=arrays.history_starts, history=arrays.history,
            starts=arrays.starts, mean=arrays.mean, low=arrays.low[80], high=arrays.high[80])
        context["backtest"] = forecast.result["volume"]["backtest"]
        context["rows"] = forecast.result["volume"]["forecast"]
        context["total"] = float(arrays.mean.sum())
        context["has_handle_time"] = arrays.handle_time is not None
        context["plan_form"] = PlanForm(initial={"name": f"{forecast.name}: 80/20"})
    template = ("workforce/_forecast_state.html" if request.htmx
                and forecast.state in (JobState.QUEUED, JobState.RUNNING)
                else "workforce/forecast_detail.html")
    response = render(request, template, context)
    if request.htmx and forecast.state not in (JobState.QUEUED, JobState.RUNNING):
        response["HX-Refresh"] = "true"  # finished: show the whole page with its chart
    return response


@login_required
@require_POST
def forecast_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    forecast = get_object_or_404(selectors.forecast_scope(request.user), pk=pk)
    try:
        services.forecast_rerun(by=request.user, forecast=forecast)
    except (ValidationError, PermissionDenied) as error:
        _refuse(request, error)
    return redirect("workforce:forecast", pk)


# --- staffing plans ---------------------------------------------------------------------


@login_required
@require_POST
def plan_new(request: HttpRequest, forecast_pk: int) -> HttpResponse:
    forecast = get_object_or_404(selectors.forecast_scope(request.user), pk=forecast_pk)
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            made = services.plan_create(by=request.user, forecast=forecast, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        except PermissionDenied as error:
            _refuse(request, error)
            return redirect("workforce:forecast", forecast.pk)
        else:
            return redirect("workforce:plan", made.pk)
    messages.error(request, "The plan was not saved: " + "; ".join(
        f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
        for f, e in form.errors.items()))
    return redirect("workforce:forecast", forecast.pk)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    staffing_plan = get_object_or_404(selectors.plan_scope(request.user), pk=pk)
    forecast = staffing_plan.forecast
    try:
        results = services.plan_compare(staffing_plan)
    except ValidationError as error:
        results, problem = [], " ".join(error.messages)
    else:
        problem = None
    arrays = selectors.forecast_arrays(forecast)
    base = results[0] if results else None
    intervals = []
    if base is not None:
        m = base.staffing.metrics
        for k, start in enumerate(arrays.starts):
            intervals.append({
                "start": start.replace("T", " "), "volume": base.volumes[k],
                "aht": base.aht_seconds[k], "agents": int(base.staffing.agents[k]),
                "rostered": int(base.staffing.rostered[k]),
                "service_level": m.service_level[k], "asa": m.asa_seconds[k],
                "occupancy": m.occupancy[k],
                "p_abandon": None if m.p_abandon is None else m.p_abandon[k]})
    scenario_rows = list(zip(results, [None, *staffing_plan.scenarios.all()], strict=False))
    return render(request, "workforce/plan_detail.html", {
        "plan": staffing_plan, "forecast": forecast, "results": scenario_rows,
        "intervals": intervals, "problem": problem, "can_plan": _can_plan(request),
        "scenario_form": ScenarioForm(initial={"name": "Volume +15%", "volume_factor": 1.15}),
        "rota_form": RotaForm(initial={"first_day": forecast.first_day}),
        "rotas": staffing_plan.rotas.all(), "tab": "home",
        "chart": None if base is None else charts.steps(
            title="Agents needed", starts=arrays.starts,
            series={"On the phones": base.staffing.agents,
                    "Rostered (after shrinkage)": base.staffing.rostered}),
    })


@login_required
@require_POST
def scenario_add(request: HttpRequest, plan_pk: int) -> HttpResponse:
    staffing_plan = get_object_or_404(selectors.plan_scope(request.user), pk=plan_pk)
    form = ScenarioForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The scenario was not added: " + "; ".join(
            f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items()))
    else:
        try:
            services.scenario_add(by=request.user, staffing_plan=staffing_plan,
                                  **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _refuse(request, error)
    return redirect("workforce:plan", plan_pk)


@login_required
@require_POST
def scenario_delete(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = get_object_or_404(
        Scenario.objects.filter(plan__in=selectors.plan_scope(request.user)), pk=pk)
    try:
        services.scenario_delete(by=request.user, scenario=scenario)
    except PermissionDenied as error:
        _refuse(request, error)
    return redirect("workforce:plan", scenario.plan_id)


# --- shift patterns, contracts and leave ------------------------------------------------


@login_required
def patterns(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    teams = _teams(request)
    visible = selectors.pattern_scope(request.user)
    if request.method == "POST":
        form = PatternForm(request.POST, teams=teams)
        if form.is_valid():
            try:
                services.pattern_save(by=request.user, pattern=form.save(commit=False))
            except ValidationError as error:
                _apply_errors(form, error)
            except PermissionDenied as error:
                form.add_error("team", str(error))
            else:
                messages.success(request, "Shift pattern saved.")
                return redirect("workforce:patterns")
    else:
        form = PatternForm(teams=teams)
    return render(request, "workforce/patterns.html", {
        "patterns": visible, "form": form, "can_plan": _can_plan(request), "tab": "patterns"})


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    people = (selectors.staff_scope(request.user).filter(is_active=True)
              .select_related("contract").prefetch_related("teams"))
    today = timezone.localdate()
    return render(request, "workforce/staff.html", {
        "people": [(p, getattr(p, "contract", None),
                    p.leave.filter(last_day__gte=today).order_by("first_day")[:3])
                   for p in people],
        "can_plan": _can_plan(request), "tab": "staff"})


@login_required
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    person = get_object_or_404(selectors.staff_scope(request.user), pk=pk)
    contract = Contract.objects.filter(staff=person).first()
    contract_form = ContractForm(initial={
        f: getattr(contract, f) for f in ContractForm.base_fields} if contract else None)
    leave_form = LeaveForm()
    if request.method == "POST":
        try:
            if request.POST.get("action") == "leave":
                leave_form = LeaveForm(request.POST)
                if leave_form.is_valid():
                    services.leave_add(by=request.user, staff=person, **leave_form.cleaned_data)
                    messages.success(request, "Leave recorded.")
                    return redirect("workforce:staff_edit", pk)
            else:
                contract_form = ContractForm(request.POST)
                if contract_form.is_valid():
                    services.contract_save(by=request.user, staff=person,
                                           **contract_form.cleaned_data)
                    messages.success(request, "Contract saved.")
                    return redirect("workforce:staff_edit", pk)
        except ValidationError as error:
            _apply_errors(leave_form if request.POST.get("action") == "leave"
                          else contract_form, error)
        except PermissionDenied as error:
            _refuse(request, error)
    return render(request, "workforce/staff_edit.html", {
        "person": person, "contract_form": contract_form, "leave_form": leave_form,
        "leave": person.leave.order_by("-first_day")[:20], "can_plan": _can_plan(request),
        "tab": "staff"})


# --- rotas ------------------------------------------------------------------------------


@login_required
@require_POST
def rota_new(request: HttpRequest, plan_pk: int) -> HttpResponse:
    staffing_plan = get_object_or_404(selectors.plan_scope(request.user), pk=plan_pk)
    form = RotaForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The rota was not started: " + "; ".join(
            f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items()))
        return redirect("workforce:plan", plan_pk)
    try:
        made = services.rota_create(by=request.user, staffing_plan=staffing_plan,
                                    **form.cleaned_data)
    except (ValidationError, PermissionDenied) as error:
        _refuse(request, error)
        return redirect("workforce:plan", plan_pk)
    return redirect("workforce:rota", made.pk)


def _grid(rota: Rota, zone: ZoneInfo) -> tuple[list, list]:
    """The rota as rows (a person, or a shift template when anonymous) × days."""
    days = [rota.first_day + timedelta(days=k) for k in range(rota.days)]
    rows: dict = {}
    for shift in rota.shifts.select_related("staff"):
        key = shift.staff.name if shift.staff else shift.template
        start, end = shift.start.astimezone(zone), shift.end.astimezone(zone)
        cells = rows.setdefault(key, [[] for _ in days])
        index = (start.date() - rota.first_day).days
        if 0 <= index < len(days):
            unpaid = [b for b in shift.breaks if not b[2]]
            cells[index].append({
                "text": f"{start:%H:%M}–{end:%H:%M}", "template": shift.template,
                "agents": shift.agents if not shift.staff else None,
                "breaks": ", ".join(
                    f"{datetime.fromisoformat(b[0]).astimezone(zone):%H:%M}" for b in unpaid)})
    return days, sorted(rows.items())


@login_required
def rota_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    rota = get_object_or_404(selectors.rota_scope(request.user), pk=pk)
    forecast = rota.plan.forecast
    zone = ZoneInfo(forecast.time_zone)
    busy = rota.state in (Rota.State.QUEUED, Rota.State.SOLVING)
    context = {"rota": rota, "forecast": forecast, "can_plan": _can_plan(request),
               "tab": "home", "busy": busy}
    if rota.coverage:
        arrays = selectors.forecast_arrays(forecast)
        offset = (rota.first_day - forecast.first_day).days * forecast.per_day
        starts = arrays.starts[offset:offset + rota.days * forecast.per_day]
        required, scheduled = rota.coverage["required"], rota.coverage["scheduled"]
        context["chart"] = charts.steps(title="Coverage", starts=starts,
                                        series={"Required": required, "Scheduled": scheduled})
        short = [max(r - s, 0) for r, s in zip(required, scheduled, strict=True)]
        over = [max(s - r, 0) for r, s in zip(required, scheduled, strict=True)]
        hours = forecast.interval_minutes / 60
        context["summary"] = {"short_hours": sum(short) * hours, "over_hours": sum(over) * hours,
                              "required_hours": sum(required) * hours,
                              "short_intervals": sum(1 for s in short if s)}
        context["days"], context["grid"] = _grid(rota, zone)
    template = "workforce/_rota_state.html" if request.htmx and busy else \
        "workforce/rota_detail.html"
    response = render(request, template, context)
    if request.htmx and not busy:
        response["HX-Refresh"] = "true"
    return response


@login_required
def rota_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The rota as CSV (one row per shift) or iCalendar (one event per shift)."""
    _require_view(request)
    rota = get_object_or_404(selectors.rota_scope(request.user), pk=pk)
    name = f"rota-{rota.first_day:%Y-%m-%d}-{rota.pk}"
    if fmt == "csv":
        response = HttpResponse(exports.rota_csv(rota), content_type="text/csv; charset=utf-8")
    elif fmt == "ics":
        shifts = rota.shifts.select_related("rota__plan__forecast__team", "staff")
        response = HttpResponse(exports.shifts_ics(shifts, name=f"Rota from {rota.first_day}"),
                                content_type="text/calendar; charset=utf-8")
    else:
        raise Http404("Export as csv or ics.")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
@require_POST
def rota_publish(request: HttpRequest, pk: int) -> HttpResponse:
    rota = get_object_or_404(selectors.rota_scope(request.user), pk=pk)
    try:
        services.rota_publish(by=request.user, draft=rota)
    except (ValidationError, PermissionDenied) as error:
        _refuse(request, error)
    else:
        messages.success(request, "Rota published: its staff now see their shifts.")
    return redirect("workforce:rota", pk)


@login_required
@require_POST
def rota_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rota = get_object_or_404(selectors.rota_scope(request.user), pk=pk)
    plan_pk = rota.plan_id
    try:
        services.rota_delete(by=request.user, draft=rota)
    except (ValidationError, PermissionDenied) as error:
        _refuse(request, error)
        return redirect("workforce:rota", pk)
    messages.success(request, "Rota discarded.")
    return redirect("workforce:plan", plan_pk)


# --- my shifts --------------------------------------------------------------------------


@login_required
def my_shifts(request: HttpRequest) -> HttpResponse:
    """The signed-in person's published shifts from a day (default today)."""
    try:
        first = date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        first = timezone.localdate()
    since = datetime.combine(first, time(), tzinfo=timezone.get_current_timezone())
    shifts = selectors.my_shifts(request.user, since=since)
    rows = []
    for shift in shifts:
        zone = ZoneInfo(shift.rota.plan.forecast.time_zone)

        def local(moment: datetime, zone=zone) -> datetime:
            # Naive wall-clock time of the rota's zone: templates would otherwise show it in
            # the server's zone.
            return moment.astimezone(zone).replace(tzinfo=None)

        rows.append({"start": local(shift.start), "end": local(shift.end),
                     "template": shift.template, "team": shift.rota.plan.forecast.team,
                     "breaks": [(local(datetime.fromisoformat(b[0])),
                                 local(datetime.fromisoformat(b[1])), b[2])
                                for b in shift.breaks]})
    staff = staff_of(request.user)
    feed = None if staff is None else request.build_absolute_uri(
        reverse("api:workforce_calendar_feed", kwargs={"token": exports.feed_token(staff)}))
    return render(request, "workforce/my_shifts.html", {
        "rows": rows, "first": first, "feed": feed, "can_plan": _can_plan(request), "tab": "mine",
        "can_view": selectors.can_view_plans(request.user)})
