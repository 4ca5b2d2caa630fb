"""Complaint pages: the register, logging a complaint, the complaint page (deadlines,
handling stages, checklist, root causes, actions, recovery, letters, remedy guidance), the
actions due to each person, and the settings. Thin: authorise through the selectors and
services, validate with the forms, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from serviceops.complaints import remedies, selectors, services
from serviceops.complaints.forms import (
    ActionCheckForm,
    ActionForm,
    ActionStateForm,
    AssignForm,
    CauseForm,
    ChecklistForm,
    DetailsForm,
    EscalateForm,
    FollowUpForm,
    GestureForm,
    LetterForm,
    LogForm,
    OmbudsmanForm,
    ResolveForm,
    TemplateForm,
    WhysForm,
)
from serviceops.complaints.models import (
    Action,
    ApprovalLimit,
    Complaint,
    LetterKind,
    LetterTemplate,
    Regime,
    Stage,
)
from serviceops.core.permissions import allowed, case_scope, staff_of
from serviceops.core.roles import ROLE_PERMS, Perm
from serviceops.insights.models import Initiative
from serviceops.people.models import Staff

PAGE = 50


def _message(error: ValidationError | PermissionDenied | ValueError) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "message_dict"):
            return " ".join(f"{' '.join(texts)}" for texts in error.message_dict.values())
        return " ".join(error.messages)
    return str(error)


def _form_errors(form) -> str:
    return " ".join(f"{form.fields[f].label or f}: {' '.join(e)}" if f in form.fields
                    else " ".join(e) for f, e in form.errors.items())


def _handlers():
    """Staff whose role may handle complaints."""
    roles = [role for role, perms in ROLE_PERMS.items() if Perm.COMPLAINT_HANDLE in perms]
    return Staff.objects.filter(role__in=roles, is_active=True)


# --- the register -----------------------------------------------------------------------


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.complaint_scope(request.user).select_related(
        "case", "regime", "category", "handler", "team", "customer")
    show = request.GET.get("show", "open")
    now = timezone.now()
    if show == "open":
        qs = qs.exclude(stage=Stage.CLOSED)
    elif show == "overdue":
        qs = qs.filter(resolved_at__isnull=True, final_due__lt=now).exclude(stage=Stage.CLOSED)
    elif show == "mine":
        staff = staff_of(request.user)
        qs = qs.filter(Q(handler=staff) | Q(escalated_to=staff))
    elif show != "all":
        show = "open"
        qs = qs.exclude(stage=Stage.CLOSED)
    before = request.GET.get("before")
    if before and before.isdigit():
        qs = qs.filter(pk__lt=int(before))
    rows = list(qs.order_by("-id")[:PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render(request, "complaints/list.html", {
        "rows": [(c, selectors.deadline_status(c, now)) for c in rows], "show": show,
        "next": rows[-1].pk if more else None, "now": now,
        "can_log": allowed(request.user, Perm.COMPLAINT_LOG)})


@login_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, Perm.COMPLAINT_LOG):
        raise PermissionDenied("Your role does not log complaints.")
    case = None
    case_id = request.GET.get("case") or request.POST.get("case")
    if case_id:
        case = get_object_or_404(case_scope(request.user), pk=case_id)
    if request.method == "POST":
        form = LogForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            team, customer = data.pop("team"), data.pop("customer_email")
            try:
                made = services.complaint_log(
                    by=request.user, case=case, customer=case.customer if case else customer,
                    team=None if case else team, **data)
            except ValidationError as error:
                if hasattr(error, "message_dict"):
                    for field, texts in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, texts)
                else:
                    form.add_error(None, error.messages)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Complaint logged.")
                return redirect("complaints:detail", made.pk)
    else:
        initial = {"received_at": timezone.localtime().replace(second=0, microsecond=0),
                   "channel": case.channel if case else "phone"}
        if case is not None:
            initial["account"] = case.description
        form = LogForm(initial=initial)
    return render(request, "complaints/new.html", {"form": form, "case": case})


# --- one complaint ----------------------------------------------------------------------


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    return get_object_or_404(
        selectors.complaint_scope(request.user).select_related(
            "case", "case__customer", "regime", "category", "handler", "escalated_to", "team"),
        pk=pk)


def _guidance(complaint: Complaint):
    """The Consumer Rights Act remedies open to the customer, or why none can be given."""
    if not complaint.purchase_kind or not complaint.purchased_on:
        return None, "Record what was bought and when (details below) to see the remedies."
    reported = complaint.fault_reported_on or timezone.localdate(complaint.received_at)
    try:
        return remedies.remedies(kind=complaint.purchase_kind, purchased=complaint.purchased_on,
                                 delivered=complaint.delivered_on, reported=reported,
                                 repairs_tried=complaint.repairs_or_replacements), None
    except ValueError as error:
        return None, str(error)


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    can_handle = allowed(request.user, Perm.COMPLAINT_HANDLE)
    guidance, guidance_problem = _guidance(complaint)
    whys = {f"why{w.position}": w.answer for w in complaint.whys.all()}
    kind = request.GET.get("letter")
    letter_form = None
    if can_handle and kind in LetterKind.values:
        try:
            subject, body = services.letter_render(complaint=complaint, kind=kind)
        except ValidationError as error:
            messages.error(request, _message(error))
        else:
            letter_form = LetterForm(initial={"kind": kind, "subject": subject, "body": body})
    handlers = _handlers()
    return render(request, "complaints/detail.html", {
        "complaint": complaint, "case": complaint.case, "can_handle": can_handle,
        "deadlines": selectors.deadline_status(complaint, timezone.now()),
        "guidance": guidance, "guidance_problem": guidance_problem,
        "remedy_rows": [(o.remedy.value.replace("_", " ").capitalize(), o.reason)
                        for o in (guidance.options if guidance else ())],
        "today": timezone.localdate(),
        "details_form": DetailsForm(instance=complaint),
        "checklist_form": ChecklistForm(instance=complaint),
        "resolve_form": ResolveForm(initial={"outcome": complaint.outcome,
                                             "resolution": complaint.resolution,
                                             "remedy": complaint.remedy}),
        "follow_up_form": FollowUpForm(), "escalate_form": EscalateForm(handlers=handlers),
        "assign_form": AssignForm(handlers=handlers,
                                  initial={"handler": complaint.handler_id}),
        "ombudsman_form": OmbudsmanForm(), "whys_form": WhysForm(initial=whys),
        "cause_form": CauseForm(), "action_form": ActionForm(initial={"kind": "corrective"}),
        "gesture_form": GestureForm(), "letter_form": letter_form,
        "letter_kinds": LetterKind.choices,
        "causes": complaint.causes.select_related("cause"),
        "actions": complaint.actions.select_related("owner", "cause", "initiative"),
        "initiatives": Initiative.objects.exclude(state=Initiative.State.STOPPED)
        if can_handle else Initiative.objects.none(),
        "gestures": complaint.gestures.select_related("approved_by"),
        "gesture_total": sum(g.amount for g in complaint.gestures.all()),
        "letters": complaint.letters.select_related("sent_by"),
        "stages": Stage.choices,
    })


def _act(request: HttpRequest, pk: int, call: Callable, form_class=None, *,
         success: str = "", bind_instance: bool = False, **form_kwargs) -> HttpResponse:
    """Run one service on a complaint from a posted form; report refusals as messages.
    `bind_instance`: the form is a ModelForm of the complaint itself."""
    complaint = _complaint(request, pk)
    data = {}
    if form_class is not None:
        if bind_instance:
            form_kwargs["instance"] = complaint
        form = form_class(request.POST, **form_kwargs)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return redirect("complaints:detail", pk)
        data = form.cleaned_data
    try:
        call(complaint, data)
    except (ValidationError, PermissionDenied, ValueError) as error:
        messages.error(request, _message(error))
    else:
        if success:
            messages.success(request, success)
    return redirect("complaints:detail", pk)


@login_required
@require_POST
def complaint_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_acknowledge(
        by=request.user, complaint=c), success="Acknowledged: the letter is on the case.")


@login_required
@require_POST
def complaint_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_assign(
        by=request.user, complaint=c, handler=d["handler"]), AssignForm,
        handlers=_handlers(), success="Handler assigned.")


@login_required
@require_POST
def complaint_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_escalate(
        by=request.user, complaint=c, to=d["to"], reason=d["reason"]), EscalateForm,
        handlers=_handlers(), success="Escalated.")


@login_required
@require_POST
def complaint_holding(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_send_holding(
        by=request.user, complaint=c), success="Holding response sent.")


@login_required
@require_POST
def complaint_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_resolve(
        by=request.user, complaint=c, **d), ResolveForm,
        success="Resolved: the final response is on the case.")


@login_required
@require_POST
def complaint_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_follow_up(
        by=request.user, complaint=c, **d), FollowUpForm, success="Follow-up recorded.")


@login_required
@require_POST
def complaint_ombudsman(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_refer_to_ombudsman(
        by=request.user, complaint=c, reference=d["reference"]), OmbudsmanForm,
        success="Referral to the ombudsman recorded.")


@login_required
@require_POST
def complaint_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_close(
        by=request.user, complaint=c), success="Complaint closed.")


@login_required
@require_POST
def complaint_details(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_update(
        by=request.user, complaint=c, **d), DetailsForm, bind_instance=True,
        success="Details saved.")


@login_required
@require_POST
def complaint_checklist(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.complaint_update(
        by=request.user, complaint=c, **d), ChecklistForm, bind_instance=True,
        success="Checklist saved.")


@login_required
@require_POST
def complaint_whys(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    form = WhysForm(request.POST)
    if form.is_valid():
        try:
            services.whys_set(by=request.user, complaint=complaint, answers=form.answers())
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, _message(error))
        else:
            messages.success(request, "The five whys are saved.")
    return redirect("complaints:detail", pk)


@login_required
@require_POST
def complaint_cause_add(request: HttpRequest, pk: int) -> HttpResponse:
    def add(complaint, data):
        cause = data["cause"] or services.cause_create(
            by=request.user, category=data["new_category"], name=data["new_name"].strip())
        services.cause_add(by=request.user, complaint=complaint, cause=cause,
                           note=data["note"])

    return _act(request, pk, add, CauseForm, success="Root cause added.")


@login_required
@require_POST
def complaint_cause_remove(request: HttpRequest, pk: int, cause_pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    link = get_object_or_404(complaint.causes, cause_id=cause_pk)
    return _act(request, pk, lambda c, d: services.cause_remove(
        by=request.user, complaint=c, cause=link.cause), success="Root cause removed.")


@login_required
@require_POST
def complaint_action_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.action_create(
        by=request.user, complaint=c, **d), ActionForm, success="Action raised.")


@login_required
@require_POST
def complaint_gesture_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.gesture_add(
        by=request.user, complaint=c, **d), GestureForm, success="Gesture recorded.")


@login_required
@require_POST
def complaint_letter_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c, d: services.letter_send(
        by=request.user, complaint=c, **d), LetterForm,
        success="Letter sent: it is on the case.")


# --- actions ----------------------------------------------------------------------------


def _action(request: HttpRequest, pk: int) -> Action:
    visible = Action.objects.filter(
        Q(complaint__in=selectors.complaint_scope(request.user)) | Q(owner=staff_of(request.user))
        if staff_of(request.user) else Q(complaint__in=selectors.complaint_scope(request.user)))
    return get_object_or_404(visible.select_related("complaint", "owner"), pk=pk)


def _after_action(request: HttpRequest, action: Action) -> HttpResponse:
    target = request.POST.get("next")
    if target == "mine" or action.complaint_id is None:
        return redirect("complaints:actions")
    return redirect("complaints:detail", action.complaint_id)


@login_required
def actions_mine(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    return render(request, "complaints/actions.html", {
        "actions": selectors.actions_due(request.user, today), "today": today,
        "state_form": ActionStateForm(), "check_form": ActionCheckForm()})


@login_required
@require_POST
def action_state(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    form = ActionStateForm(request.POST)
    if form.is_valid():
        try:
            services.action_update(by=request.user, action=action,
                                   state=form.cleaned_data["state"])
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, _message(error))
    else:
        messages.error(request, _form_errors(form))
    return _after_action(request, action)


@login_required
@require_POST
def action_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link an action to an improvement initiative of the scorecard (or unlink it)."""
    action = _action(request, pk)
    choice = request.POST.get("initiative", "")
    initiative = get_object_or_404(Initiative, pk=int(choice)) if choice.isdigit() else None
    try:
        services.action_link(by=request.user, action=action, initiative=initiative)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, "Action linked." if initiative else "Action unlinked.")
    return _after_action(request, action)


@login_required
@require_POST
def action_check(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    form = ActionCheckForm(request.POST)
    if form.is_valid():
        try:
            services.action_check(by=request.user, action=action, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, _message(error))
        else:
            messages.success(request, "Effectiveness recorded.")
    else:
        messages.error(request, _form_errors(form))
    return _after_action(request, action)


# --- settings ---------------------------------------------------------------------------


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Letter templates and approval limits (regimes are listed; their numbers are edited in
    the admin, as they change rarely and by regulation)."""
    can_edit = allowed(request.user, Perm.COMPLAINT_SETTINGS)
    if not can_edit and not allowed(request.user, Perm.VIEW_ALL_TEAMS):
        raise PermissionDenied("Your role does not include the complaint settings.")
    template = None
    if request.GET.get("template", "").isdigit():
        template = get_object_or_404(LetterTemplate, pk=int(request.GET["template"]))
    form = TemplateForm(instance=template)
    if request.method == "POST" and request.POST.get("action") == "template":
        if request.POST.get("pk", "").isdigit():
            template = get_object_or_404(LetterTemplate, pk=int(request.POST["pk"]))
        form = TemplateForm(request.POST, instance=template)
        if form.is_valid():
            try:
                services.letter_template_save(by=request.user, template=form.save(commit=False))
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, _message(error))
            else:
                messages.success(request, "Letter template saved.")
                return redirect("complaints:settings")
    elif request.method == "POST" and request.POST.get("action") == "limit":
        try:
            services.approval_limit_set(by=request.user, role=request.POST.get("role", ""),
                                        amount=request.POST.get("amount", ""))
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, _message(error))
        else:
            messages.success(request, "Approval limit saved.")
        return redirect("complaints:settings")
    return render(request, "complaints/settings.html", {
        "regimes": Regime.objects.all(), "templates": LetterTemplate.objects.select_related(
            "regime"), "limits": ApprovalLimit.objects.all(), "form": form,
        "editing": template, "can_edit": can_edit, "today": date.today()})


@login_required
def case_complaint(request: HttpRequest, case_pk: int) -> HttpResponse:
    """From a case to its complaint, or to logging one."""
    case = get_object_or_404(case_scope(request.user), pk=case_pk)
    complaint = Complaint.objects.filter(case=case).first()
    if complaint is not None:
        return redirect("complaints:detail", complaint.pk)
    return redirect(f"{reverse('complaints:new')}?case={case.pk}")
