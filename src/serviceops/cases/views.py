"""Case pages: queue, new case, case page and its actions, search. Thin: authorise,
validate, call one service, render."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from serviceops.cases import selectors, services
from serviceops.cases.attachments import attachment_check
from serviceops.cases.choices import Channel, Priority, Status
from serviceops.cases.derived import derived_refresh
from serviceops.cases.filters import VIEWS, CaseFilter
from serviceops.cases.forms import (
    CaseCreateForm,
    EditForm,
    LinkForm,
    ReplyForm,
    StatusForm,
    TagsForm,
)
from serviceops.cases.models import CannedResponse, Case, SavedFilter
from serviceops.core.audit import audit_for
from serviceops.core.permissions import allowed, case_scope, require, require_case, staff_of
from serviceops.core.roles import Perm
from serviceops.customers.selectors import customer_list
from serviceops.people.models import Staff, Team

VIEW_LABELS = {"mine": "My cases", "unassigned": "Unassigned", "team": "Team", "all": "All"}


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def case_action(view):
    """POST-only case action: loads the case the user may see, turns a refused change into a
    message on the case page, and redirects back there."""

    @wraps(view)
    @login_required
    @require_POST
    def wrapped(request: HttpRequest, pk: int):
        case = get_object_or_404(Case, pk=pk)
        require_case(request.user, case)
        try:
            view(request, case)
        except ValidationError as error:
            messages.error(request, _errors(error))
        return redirect("cases:detail", pk=case.pk)

    return wrapped


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """A queue (my cases, unassigned, team, all) with filters and keyset pages."""
    case_filter = CaseFilter.from_query(request.GET)
    try:
        page = selectors.case_queue(user=request.user, case_filter=case_filter,
                                    after=request.GET.get("after"))
    except ValidationError as error:
        messages.error(request, _errors(error))
        return redirect(request.path)
    query = request.GET.copy()
    query.pop("after", None)
    next_query = query.copy()
    if page.next_cursor:
        next_query["after"] = page.next_cursor
    views = [v for v in VIEWS if v != "all" or allowed(request.user, Perm.VIEW_ALL_TEAMS)]
    staff = staff_of(request.user)
    return render(request, "cases/queue.html", {
        "page": page,
        "filter": case_filter,
        "views": [(v, VIEW_LABELS[v]) for v in views],
        "query": query.urlencode(),
        "next_query": next_query.urlencode() if page.next_cursor else "",
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "channels": Channel.choices,
        "teams": Team.objects.all(),
        "assignable": Staff.objects.filter(user__isnull=False, is_active=True,
                                           teams__in=staff.teams.all() if staff else [])
        .distinct() if allowed(request.user, Perm.CASE_ASSIGN_OTHERS) else [],
        "saved_filters": request.user.saved_filters.all(),
        "sla_states": [("breached", "Breached"), ("due_hour", "Due within the hour"),
                       ("untimed", "No SLA policy")],
    })


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Apply one action to the ticked cases, all or nothing."""
    require(request.user, Perm.CASE_BULK)
    ids = [int(i) for i in request.POST.getlist("case") if i.isdigit()]
    cases = list(case_scope(request.user).filter(pk__in=ids))
    back = request.POST.get("back") or reverse("cases:queue")
    if not back.startswith("/"):
        back = reverse("cases:queue")
    if len(cases) != len(set(ids)) or not cases:
        messages.error(request, "Tick at least one case you can see.")
        return redirect(back)
    action, value = request.POST.get("action", ""), request.POST.get("value", "")
    try:
        if action == "assign":
            value = get_object_or_404(Staff, pk=value)
        elif action == "team":
            value = get_object_or_404(Team, pk=value)
        count = services.case_bulk(cases=cases, action=action, value=value, by=request.user)
    except ValidationError as error:
        messages.error(request, f"Nothing was changed. {_errors(error)}")
    else:
        messages.success(request, f"{count} case(s) updated.")
    return redirect(back)


@login_required
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:100]
    query = request.POST.get("query", "")[:500]
    if not name:
        messages.error(request, "Give the filter a name.")
    else:
        SavedFilter.objects.update_or_create(owner=request.user, name=name,
                                             defaults={"query": query})
        messages.success(request, f"Filter “{name}” saved.")
    return redirect(f"{reverse('cases:queue')}?{query}")


@login_required
@require_POST
def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(SavedFilter, pk=pk, owner=request.user).delete()
    return redirect("cases:queue")


@login_required
def new(request: HttpRequest) -> HttpResponse:
    """Open a case (phone call, letter, walk-in...)."""
    require(request.user, Perm.CASE_WORK)
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/new.html", {"form": form},
                  status=422 if form.errors else 200)


def sla_context(case: Case) -> dict:
    """The case's SLA card: its policy version, clocks and escalations, refreshed first if a
    change to the case is still owed its refresh."""
    from serviceops.sla.forms import EscalateForm
    from serviceops.sla.models import CaseSla

    derived_refresh(case_ids=[case.pk])
    return {
        "case_sla": CaseSla.objects.select_related("version__policy").filter(case=case).first(),
        "sla_clocks": case.clocks.all(),
        "escalations": case.escalations.select_related("level", "by"),
        "escalate_form": EscalateForm(),
    }


def _detail_context(request: HttpRequest, case: Case, reply_form=None) -> dict:
    staff = staff_of(request.user)
    return {
        "case": case,
        "thread": case.messages.select_related("author").prefetch_related("attachments"),
        "events": selectors.case_events(case=case),
        "audit": audit_for(case),
        "links": case.links_out.select_related("to_case"),
        "backlinks": case.links_in.select_related("from_case"),
        "reply_form": reply_form or ReplyForm(),
        "status_form": StatusForm(initial={"status": case.status}),
        "edit_form": EditForm(initial={"impact": case.impact, "urgency": case.urgency,
                                       "team": case.team_id, "category": case.category_id}),
        "link_form": LinkForm(),
        "tags_form": TagsForm(initial={"tags": ", ".join(t.name for t in case.tags.all())}),
        "team_members": case.team.members.filter(user__isnull=False, is_active=True)
        if case.team else [],
        "canned": CannedResponse.objects.filter(team__isnull=True)
        | CannedResponse.objects.filter(team=case.team_id),
        "is_mine": staff is not None and case.assignee_id == staff.pk,
        **sla_context(case),
    }


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        case = selectors.case_detail(user=request.user, case_id=pk)
    except Case.DoesNotExist:
        return render(request, "404.html", {"exception": f"There is no case #{pk}."},
                      status=404)
    return render(request, "cases/detail.html", _detail_context(request, case))


@login_required
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a public reply or an internal note; htmx gets the updated thread back."""
    case = get_object_or_404(Case, pk=pk)
    require_case(request.user, case)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            files = [attachment_check(name=f.name, content=f.read())
                     for f in request.FILES.getlist("attachments")]
            if data["kind"] == "note":
                services.case_note(case=case, body=data["body"], by=request.user,
                                   attachments=files)
            else:
                services.case_reply(case=case, body=data["body"], by=request.user,
                                    status=data["then_status"] or None, attachments=files)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not request.htmx:
                return redirect("cases:detail", pk=case.pk)
            form = ReplyForm()
    case = selectors.case_detail(user=request.user, case_id=pk)
    context = _detail_context(request, case, reply_form=form)
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, "cases/_work.html", context, status=status)
    return render(request, "cases/detail.html", context, status=status)


@login_required
@require_GET
def canned(request: HttpRequest, pk: int) -> HttpResponse:
    """The text of a canned response filled in for this case (inserted by htmx)."""
    case = get_object_or_404(Case, pk=pk)
    require_case(request.user, case, Perm.CASE_NOTE)
    response = get_object_or_404(CannedResponse, pk=request.GET.get("canned") or 0)
    body = services.canned_render(response=response, case=case, agent=staff_of(request.user))
    form = ReplyForm(initial={"body": body})
    return render(request, "cases/_reply_body.html", {"reply_form": form})


@case_action
def change_status(request: HttpRequest, case: Case) -> None:
    form = StatusForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Choose a status.")
    services.case_change_status(case=case, status=form.cleaned_data["status"], by=request.user)


@case_action
def assign(request: HttpRequest, case: Case) -> None:
    how = request.POST.get("how")
    if how == "take":
        services.case_assign(case=case, assignee=staff_of(request.user), by=request.user)
    elif how == "round_robin":
        services.case_assign_round_robin(case=case, by=request.user)
    elif how == "skill":
        services.case_assign_by_skill(case=case, by=request.user)
    elif how == "unassign":
        services.case_assign(case=case, assignee=None, by=request.user)
    else:
        assignee = Staff.objects.filter(pk=request.POST.get("assignee") or 0).first()
        if assignee is None:
            raise ValidationError("Choose who to assign the case to.")
        services.case_assign(case=case, assignee=assignee, by=request.user)


@case_action
def edit(request: HttpRequest, case: Case) -> None:
    form = EditForm(request.POST)
    if not form.is_valid():
        raise ValidationError(" ".join(e for errs in form.errors.values() for e in errs))
    fields = {k: v for k, v in form.cleaned_data.items()
              if k in ("impact", "urgency", "category") or v is not None}
    services.case_update(case=case, by=request.user, **fields)


@case_action
def tags(request: HttpRequest, case: Case) -> None:
    form = TagsForm(request.POST)
    form.is_valid()
    names = [t for t in form.cleaned_data.get("tags", "").split(",") if t.strip()]
    services.case_set_tags(case=case, tags=names, by=request.user)


@case_action
def link(request: HttpRequest, case: Case) -> None:
    form = LinkForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Give the other case's number and the kind of link.")
    other = Case.objects.filter(pk=form.cleaned_data["other"]).first()
    if other is None:
        raise ValidationError(f"There is no case #{form.cleaned_data['other']}.")
    if form.cleaned_data["kind"] == "merge":
        services.case_merge(source=case, target=other, by=request.user)
        messages.success(request, f"Merged into case #{other.pk}.")
    else:
        services.case_link(case=case, other=other, kind=form.cleaned_data["kind"],
                           by=request.user)


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    cases = selectors.case_search(user=request.user, query=query) if query else []
    customers = list(customer_list(query=query, limit=20)) if query else []
    return render(request, "cases/search.html",
                  {"query": query, "cases": cases, "customers": customers})


def permission_denied(request: HttpRequest, exception: PermissionDenied) -> HttpResponse:
    return render(request, "403.html", {"exception": exception}, status=403)
