"""SLA pages: calendars, policies and escalation levels, the live board, compliance report,
manual escalation and notifications. Thin: authorise, validate, call a service, render."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from serviceops.cases.models import Case
from serviceops.core.permissions import allowed, require, require_case, staff_of
from serviceops.core.roles import Perm
from serviceops.sla import selectors, services
from serviceops.sla.forms import (
    CalendarForm,
    EscalateForm,
    LevelForm,
    PolicyForm,
    ReportForm,
    StandardForm,
)
from serviceops.sla.models import (
    BusinessCalendar,
    EscalationLevel,
    Notification,
    ServiceStandard,
    SlaPolicy,
)


def _may_read_settings(user) -> None:
    if not (allowed(user, Perm.MANAGE_SETTINGS) or allowed(user, Perm.VIEW_ALL_TEAMS)):
        raise PermissionDenied("Your role does not allow this (service level settings).")


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


# -- calendars -------------------------------------------------------------------------------


@login_required
@require_GET
def calendars(request: HttpRequest) -> HttpResponse:
    _may_read_settings(request.user)
    return render(request, "sla/calendars.html", {
        "calendars": BusinessCalendar.objects.select_related("team"),
        "policies": SlaPolicy.objects.select_related("calendar").prefetch_related("levels"),
        "standards": ServiceStandard.objects.all(),
        "standard_form": StandardForm(),
    })


@login_required
@require_POST
def standard_add(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.MANAGE_SETTINGS)
    form = StandardForm(request.POST)
    if form.is_valid():
        services.standard_save(standard=form.save(commit=False), by=request.user)
        messages.success(request, "Service standard added.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("sla:calendars")


@login_required
@require_POST
def standard_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.MANAGE_SETTINGS)
    get_object_or_404(ServiceStandard, pk=pk).delete()
    messages.success(request, "Service standard removed.")
    return redirect("sla:calendars")


@login_required
def calendar_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk) if pk else BusinessCalendar()
    _may_read_settings(request.user)
    form = CalendarForm(request.POST or None, request.FILES or None, instance=calendar)
    if request.method == "POST":
        require(request.user, Perm.MANAGE_SETTINGS)
        if form.is_valid():
            calendar = form.save(commit=False)
            calendar.definition = form.cleaned_data["parsed"]
            try:
                services.calendar_save(calendar=calendar, by=request.user)
            except ValidationError as error:
                messages.error(request, _errors(error))
            else:
                messages.success(request, f"Calendar {calendar.name} saved.")
                return redirect("sla:calendars")
    return render(request, "sla/calendar_form.html", {"form": form, "calendar": calendar},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def calendar_export(request: HttpRequest, pk: int) -> HttpResponse:
    _may_read_settings(request.user)
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    response = HttpResponse(json.dumps(calendar.definition, indent=2),
                            content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="calendar-{calendar.pk}.json"'
    return response


# -- policies and escalation levels ----------------------------------------------------------


@login_required
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk else SlaPolicy()
    _may_read_settings(request.user)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST":
        require(request.user, Perm.MANAGE_SETTINGS)
        if form.is_valid():
            try:
                services.policy_save(policy=form.apply(), by=request.user,
                                     categories=form.cleaned_data["categories"],
                                     teams=form.cleaned_data["teams"])
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    target = field if field in form.fields else None
                    form.add_error(target, problems)
            else:
                messages.success(request, f"Policy {policy.name} saved (version "
                                          f"{policy.versions.first().number}).")
                return redirect("sla:policy_edit", pk=policy.pk)
    return render(request, "sla/policy_form.html", {
        "form": form, "policy": policy, "level_form": LevelForm(),
        "levels": policy.levels.select_related("reassign_team") if policy.pk else [],
        "versions": policy.versions.all()[:10] if policy.pk else [],
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def level_add(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.MANAGE_SETTINGS)
    policy = get_object_or_404(SlaPolicy, pk=pk)
    form = LevelForm(request.POST, instance=EscalationLevel(policy=policy))
    if form.is_valid():
        form.save()
        messages.success(request, "Escalation level added.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("sla:policy_edit", pk=policy.pk)


@login_required
@require_POST
def level_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.MANAGE_SETTINGS)
    level = get_object_or_404(EscalationLevel, pk=pk)
    level.delete()
    messages.success(request, "Escalation level removed.")
    return redirect("sla:policy_edit", pk=level.policy_id)


# -- on a case -------------------------------------------------------------------------------


@login_required
@require_POST
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk)
    require_case(request.user, case, Perm.CASE_WORK)
    form = EscalateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the case is being escalated.")
        return redirect("cases:detail", pk=pk)
    try:
        services.case_escalate(case=case, reason=form.cleaned_data["reason"], by=request.user,
                               to_team=form.cleaned_data["to_team"],
                               raise_priority=form.cleaned_data["raise_priority"],
                               notify_roles=form.cleaned_data["notify_roles"])
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, "Case escalated.")
    return redirect("cases:detail", pk=pk)


# -- board and report ------------------------------------------------------------------------


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """Live board; htmx polls it and swaps in the table only."""
    now = timezone.now()
    context = {"rows": selectors.board(user=request.user, now=now), "now": now,
               "all_teams": allowed(request.user, Perm.VIEW_ALL_TEAMS)}
    template = "sla/_board_table.html" if request.htmx else "sla/board.html"
    return render(request, template, context)


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = ReportForm(request.GET or {"start": today - timedelta(days=30), "end": today,
                                      "by": "team"})
    if not form.is_valid():
        return render(request, "sla/report.html", {"form": form}, status=400)
    start, end, by = (form.cleaned_data[k] for k in ("start", "end", "by"))
    if request.GET.get("format") == "csv":
        return _report_csv(request, start, end)
    return render(request, "sla/report.html", {
        "form": form,
        "rows": selectors.compliance(user=request.user, start=start, end=end, by=by),
        "breaches": selectors.breaches(user=request.user, start=start, end=end)[:200],
        "query": request.GET.urlencode(),
    })


class _Echo:
    def write(self, value: str) -> str:
        return value


def _report_csv(request: HttpRequest, start, end) -> StreamingHttpResponse:
    """Every clock that started in the period, with its outcome: one row per clock."""
    writer = csv.writer(_Echo())
    clocks = (selectors.clocks_in(request.user, start, end)
              .select_related("case", "case__team").order_by("started_at", "id"))

    def rows():
        yield writer.writerow(["case", "team", "channel", "clock", "cycle", "priority",
                               "target_seconds", "elapsed_seconds", "paused_seconds", "state",
                               "started_at", "stopped_at", "due_at", "breached_at"])
        for c in clocks.iterator(chunk_size=2000):
            yield writer.writerow([
                c.case_id, c.case.team.name if c.case.team else "", c.case.channel, c.kind,
                c.cycle, c.priority, c.target_seconds, round(c.elapsed_seconds),
                round(c.paused_seconds), c.state, c.started_at.isoformat(),
                c.stopped_at.isoformat() if c.stopped_at else "",
                c.due_at.isoformat() if c.due_at else "",
                c.breached_at.isoformat() if c.breached_at else ""])

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="sla-{start}-{end}.csv"'
    return response


# -- notifications ---------------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request.user)
    mine = Notification.objects.filter(recipient=staff) if staff else Notification.objects.none()
    if request.method == "POST":
        with transaction.atomic():
            mine.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("sla:notifications")
    return render(request, "sla/notifications.html",
                  {"notifications": mine.select_related("case")[:100]})
