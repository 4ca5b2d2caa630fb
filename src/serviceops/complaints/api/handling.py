"""The register, logging, each handling stage, root causes, actions, recovery, letters and
remedy guidance."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from ninja import Router, Status

from serviceops.api.lookups import page, referenced
from serviceops.complaints import selectors, services
from serviceops.complaints.api._common import (
    action_or_404,
    complaint_or_404,
    detail_or_404,
    fields_as,
    regime_by_key,
    visible_actions,
)
from serviceops.complaints.api.schemas import (
    ActionCheckIn,
    ActionIn,
    ActionOut,
    ActionPage,
    ActionPatch,
    AssignIn,
    CauseChoiceIn,
    CauseIn,
    CauseOut,
    ComplaintCauseOut,
    ComplaintDetail,
    ComplaintPage,
    ComplaintPatch,
    EscalateIn,
    FollowUpIn,
    GestureIn,
    GestureOut,
    InitiativeIn,
    LetterIn,
    LetterOut,
    LetterPreviewOut,
    LogIn,
    OmbudsmanIn,
    RemediesOut,
    ResolveIn,
    WhyOut,
    WhysIn,
)
from serviceops.complaints.models import (
    Action,
    Cause,
    ComplaintCategory,
    Fishbone,
    LetterKind,
    Stage,
)
from serviceops.core.permissions import case_scope, role_of, staff_of
from serviceops.customers.models import Customer
from serviceops.insights.models import Initiative
from serviceops.insights.selectors import local_midnight
from serviceops.people.models import Staff, Team

router = Router(tags=["complaints"])

# --- the register -----------------------------------------------------------------------


@router.get("", response=ComplaintPage, summary="Complaints you may see, newest first")
def complaint_list(request, show: str = "all", stage: str | None = None,
                   team: int | None = None, received_from: date | None = None,
                   received_to: date | None = None, after: int | None = None,
                   limit: int = 50):
    """`show`: all, open (not closed), overdue (no final response and past its deadline) or
    mine (handled by or escalated to you). `received_from`/`received_to` are local dates,
    both included."""
    if role_of(request.auth) is None:
        raise PermissionDenied("Your account has no role in ServiceOps.")
    complaints = selectors.complaint_scope(request.auth).select_related("regime", "category",
                                                                        "category__parent")
    if show == "open":
        complaints = complaints.exclude(stage=Stage.CLOSED)
    elif show == "overdue":
        complaints = complaints.filter(resolved_at__isnull=True,
                                       final_due__lt=timezone.now()).exclude(stage=Stage.CLOSED)
    elif show == "mine":
        staff = staff_of(request.auth)
        complaints = complaints.filter(Q(handler=staff) | Q(escalated_to=staff)) \
            if staff is not None else complaints.none()
    elif show != "all":
        raise ValidationError({"show": "Choose all, open, overdue or mine."})
    if stage is not None:
        if stage not in Stage.values:
            raise ValidationError({"stage": f"Choose one of {', '.join(Stage.values)}."})
        complaints = complaints.filter(stage=stage)
    if team is not None:
        complaints = complaints.filter(team_id=team)
    if received_from and received_to and received_to < received_from:
        raise ValidationError({"received_to": "The period ends before it starts."})
    if received_from is not None:
        complaints = complaints.filter(received_at__gte=local_midnight(received_from))
    if received_to is not None:
        complaints = complaints.filter(
            received_at__lt=local_midnight(received_to + timedelta(days=1)))
    return page(complaints, after, limit)


@router.post("", response={201: ComplaintDetail},
             summary="Log a complaint on a case, or on a new case opened for it")
def complaint_log(request, payload: LogIn):
    case = referenced(case_scope(request.auth), payload.case_id, "case_id", "case")
    with fields_as(case="case_id", regime="regime"):
        made = services.complaint_log(
            by=request.auth, regime=regime_by_key(payload.regime), case=case,
            received_at=payload.received_at, channel=payload.channel,
            account=payload.account, desired_outcome=payload.desired_outcome,
            subject=payload.subject,
            customer=referenced(Customer.objects.all(), payload.customer_id, "customer_id",
                                 "customer"),
            team=referenced(Team.objects.all(), payload.team_id, "team_id", "team"),
            category=referenced(ComplaintCategory.objects.all(), payload.category_id,
                                 "category_id", "complaint category"),
            product=payload.product, severity=payload.severity, vulnerable=payload.vulnerable,
            vulnerability_note=payload.vulnerability_note)
    return Status(201, detail_or_404(request, made.pk))


@router.get("/{int:complaint_id}", response=ComplaintDetail,
            summary="A complaint with its deadlines, checklist, RCA, actions, recovery and "
                    "letters")
def complaint_get(request, complaint_id: int):
    return detail_or_404(request, complaint_id)


@router.patch("/{int:complaint_id}", response=ComplaintDetail,
              summary="Change the details, the handler's checklist or the purchase")
def complaint_update(request, complaint_id: int, payload: ComplaintPatch):
    complaint = complaint_or_404(request, complaint_id)
    fields = payload.dict(exclude_unset=True)
    if "category_id" in fields:
        fields["category"] = referenced(ComplaintCategory.objects.all(),
                                         fields.pop("category_id"), "category_id",
                                         "complaint category")
    with fields_as(category="category_id"):
        services.complaint_update(by=request.auth, complaint=complaint, **fields)
    return detail_or_404(request, complaint_id)


# --- stages -----------------------------------------------------------------------------


@router.post("/{int:complaint_id}/acknowledge", response=ComplaintDetail,
             summary="Acknowledge (sends the acknowledgement letter) and start investigating")
def complaint_acknowledge(request, complaint_id: int, send_letter: bool = True):
    """`send_letter=false` (query) when the acknowledgement went some other way."""
    complaint = complaint_or_404(request, complaint_id)
    services.complaint_acknowledge(by=request.auth, complaint=complaint,
                                   send_letter=send_letter)
    return detail_or_404(request, complaint_id)


@router.post("/{int:complaint_id}/assign", response=ComplaintDetail, summary="Choose the handler")
def complaint_assign(request, complaint_id: int, payload: AssignIn):
    complaint = complaint_or_404(request, complaint_id)
    handler = referenced(Staff.objects.all(), payload.handler_id, "handler_id",
                          "member of staff")
    with fields_as(handler="handler_id"):
        services.complaint_assign(by=request.auth, complaint=complaint, handler=handler)
    return detail_or_404(request, complaint_id)


@router.post("/{int:complaint_id}/escalate", response=ComplaintDetail,
             summary="Escalate to a senior complaint handler")
def complaint_escalate(request, complaint_id: int, payload: EscalateIn):
    complaint = complaint_or_404(request, complaint_id)
    to = referenced(Staff.objects.all(), payload.to_id, "to_id", "member of staff")
    with fields_as(to="to_id"):
        services.complaint_escalate(by=request.auth, complaint=complaint, to=to,
                                    reason=payload.reason)
    return detail_or_404(request, complaint_id)


@router.post("/{int:complaint_id}/holding", response={201: LetterOut},
             summary="Send the holding response")
def complaint_holding(request, complaint_id: int):
    complaint = complaint_or_404(request, complaint_id)
    return Status(201, services.complaint_send_holding(by=request.auth, complaint=complaint))


@router.post("/{int:complaint_id}/resolve", response=ComplaintDetail,
             summary="Record the outcome and send the final (or summary) response")
def complaint_resolve(request, complaint_id: int, payload: ResolveIn):
    complaint = complaint_or_404(request, complaint_id)
    services.complaint_resolve(by=request.auth, complaint=complaint, **payload.dict())
    return detail_or_404(request, complaint_id)


@router.post("/{int:complaint_id}/follow-up", response=ComplaintDetail,
             summary="Record whether the customer's confidence is restored")
def complaint_follow_up(request, complaint_id: int, payload: FollowUpIn):
    complaint = complaint_or_404(request, complaint_id)
    services.complaint_follow_up(by=request.auth, complaint=complaint, **payload.dict())
    return detail_or_404(request, complaint_id)


@router.post("/{int:complaint_id}/ombudsman", response=ComplaintDetail,
             summary="Record the customer's referral to the ombudsman")
def complaint_ombudsman(request, complaint_id: int, payload: OmbudsmanIn):
    complaint = complaint_or_404(request, complaint_id)
    services.complaint_refer_to_ombudsman(by=request.auth, complaint=complaint,
                                          **payload.dict())
    return detail_or_404(request, complaint_id)


@router.post("/{int:complaint_id}/close", response=ComplaintDetail, summary="Close")
def complaint_close(request, complaint_id: int):
    """Refused (422) while an upheld complaint has no root cause (when its regime requires
    one) or a scheduled follow-up is unrecorded."""
    complaint = complaint_or_404(request, complaint_id)
    services.complaint_close(by=request.auth, complaint=complaint)
    return detail_or_404(request, complaint_id)


# --- root causes ------------------------------------------------------------------------


@router.put("/{int:complaint_id}/whys", response=list[WhyOut],
            summary="Replace the 5-whys chain (blank answers are dropped)")
def whys_put(request, complaint_id: int, payload: WhysIn):
    complaint = complaint_or_404(request, complaint_id)
    return services.whys_set(by=request.auth, complaint=complaint, answers=payload.answers)


@router.post("/{int:complaint_id}/causes", response={201: ComplaintCauseOut},
             summary="Choose a root cause from the catalogue")
def complaint_cause_add(request, complaint_id: int, payload: CauseChoiceIn):
    complaint = complaint_or_404(request, complaint_id)
    cause = referenced(Cause.objects.all(), payload.cause_id, "cause_id", "cause")
    with fields_as(cause="cause_id"):
        chosen = services.cause_add(by=request.auth, complaint=complaint, cause=cause,
                                    note=payload.note)
    return Status(201, chosen)


@router.delete("/{int:complaint_id}/causes/{int:cause_id}", response={204: None},
               summary="Remove a root cause")
def complaint_cause_remove(request, complaint_id: int, cause_id: int):
    complaint = complaint_or_404(request, complaint_id)
    chosen = complaint.causes.select_related("cause").filter(cause_id=cause_id).first()
    if chosen is None:
        raise Http404(f"Cause {cause_id} is not a root cause of this complaint.")
    services.cause_remove(by=request.auth, complaint=complaint, cause=chosen.cause)
    return Status(204, None)


@router.get("/causes", response=list[CauseOut], summary="The catalogue of root causes")
def cause_list(request, category: str | None = None, include_inactive: bool = False):
    if role_of(request.auth) is None:
        raise PermissionDenied("Your account has no role in ServiceOps.")
    causes = Cause.objects.all()
    if category is not None:
        if category not in Fishbone.values:
            raise ValidationError({"category": f"Choose one of {', '.join(Fishbone.values)}."})
        causes = causes.filter(category=category)
    if not include_inactive:
        causes = causes.filter(is_active=True)
    return list(causes)


@router.post("/causes", response={201: CauseOut}, summary="Add a root cause to the catalogue")
def cause_create(request, payload: CauseIn):
    return Status(201, services.cause_create(by=request.auth, **payload.dict()))


# --- corrective and preventive actions --------------------------------------------------


@router.get("/actions", response=ActionPage, summary="Actions you own or may see")
def action_list(request, show: str = "mine", after: int | None = None, limit: int = 50):
    """`show`: mine (you own them), due (yours and, for complaint handlers, those on the
    complaints you see: due by today and still open, or done with an effectiveness check
    due) or all (every action you may see). Newest first; `overdue` and `check_due` say
    which need someone."""
    if role_of(request.auth) is None:
        raise PermissionDenied("Your account has no role in ServiceOps.")
    if show == "mine":
        staff = staff_of(request.auth)
        actions = Action.objects.filter(owner=staff).select_related("owner") \
            if staff is not None else Action.objects.none()
    elif show == "due":
        actions = selectors.actions_due(request.auth, timezone.localdate())
    elif show == "all":
        actions = visible_actions(request)
    else:
        raise ValidationError({"show": "Choose mine, due or all."})
    return page(actions, after, limit)


@router.post("/{int:complaint_id}/actions", response={201: ActionOut},
             summary="Raise a corrective or preventive action on a complaint")
def action_create(request, complaint_id: int, payload: ActionIn):
    complaint = complaint_or_404(request, complaint_id)
    owner = referenced(Staff.objects.all(), payload.owner_id, "owner_id", "member of staff")
    cause = referenced(Cause.objects.all(), payload.cause_id, "cause_id", "cause")
    with fields_as(owner="owner_id", cause="cause_id"):
        action = services.action_create(
            by=request.auth, complaint=complaint, kind=payload.kind,
            description=payload.description, owner=owner, due_on=payload.due_on,
            cause=cause, check_on=payload.check_on)
    return Status(201, action)


@router.patch("/actions/{int:action_id}", response=ActionOut,
              summary="Move an action on (its owner may), or change its due date or owner")
def action_update(request, action_id: int, payload: ActionPatch):
    action = action_or_404(request, action_id)
    changes = payload.dict(exclude_unset=True)
    owner = referenced(Staff.objects.all(), changes.get("owner_id"), "owner_id",
                        "member of staff")
    with fields_as(owner="owner_id"):
        return services.action_update(by=request.auth, action=action,
                                      state=changes.get("state"),
                                      due_on=changes.get("due_on"), owner=owner)


@router.post("/actions/{int:action_id}/check", response=ActionOut,
             summary="Record whether a done action worked")
def action_check(request, action_id: int, payload: ActionCheckIn):
    action = action_or_404(request, action_id)
    return services.action_check(by=request.auth, action=action, **payload.dict())


@router.put("/actions/{int:action_id}/initiative", response=ActionOut,
            summary="Link an action to an improvement initiative (null unlinks)")
def action_link(request, action_id: int, payload: InitiativeIn):
    action = action_or_404(request, action_id)
    initiative = referenced(Initiative.objects.all(), payload.initiative_id, "initiative_id",
                             "initiative")
    with fields_as(initiative="initiative_id"):
        return services.action_link(by=request.auth, action=action, initiative=initiative)


# --- recovery, letters, remedies --------------------------------------------------------


@router.post("/{int:complaint_id}/gestures", response={201: GestureOut},
             summary="Give a service-recovery gesture (within your approval limit)")
def gesture_add(request, complaint_id: int, payload: GestureIn):
    complaint = complaint_or_404(request, complaint_id)
    return Status(201, services.gesture_add(by=request.auth, complaint=complaint,
                                            **payload.dict()))


@router.get("/{int:complaint_id}/letters/preview", response=LetterPreviewOut,
            summary="A letter of a kind rendered from its template (nothing is sent)")
def letter_preview(request, complaint_id: int, kind: str):
    complaint = complaint_or_404(request, complaint_id)
    if kind not in LetterKind.values:
        raise ValidationError({"kind": f"Choose one of {', '.join(LetterKind.values)}."})
    subject, body = services.letter_render(complaint=complaint, kind=kind)
    return {"kind": kind, "subject": subject, "body": body}


@router.post("/{int:complaint_id}/letters", response={201: LetterOut},
             summary="Send a letter (a public reply on the case)")
def letter_send(request, complaint_id: int, payload: LetterIn):
    complaint = complaint_or_404(request, complaint_id)
    return Status(201, services.letter_send(by=request.auth, complaint=complaint,
                                            **payload.dict()))


@router.get("/{int:complaint_id}/remedies", response=RemediesOut,
            summary="Consumer Rights Act 2015 remedies open to the customer, with reasons")
def complaint_remedies(request, complaint_id: int):
    """From the complaint's purchase fields (set them with PATCH); no options and a note
    saying what is missing while the purchase kind or date is not recorded."""
    complaint = complaint_or_404(request, complaint_id)
    guidance = selectors.complaint_remedies(complaint, timezone.localdate())
    if guidance is None:
        options, notes = [], ["Record what was bought and when (purchase_kind, purchased_on) "
                              "to see the remedies."]
    else:
        options = [{"remedy": o.remedy.value, "reason": o.reason} for o in guidance.options]
        notes = list(guidance.notes)
    return {"purchase_kind": complaint.purchase_kind, "purchased_on": complaint.purchased_on,
            "delivered_on": complaint.delivered_on,
            "fault_reported_on": complaint.fault_reported_on,
            "repairs_or_replacements": complaint.repairs_or_replacements,
            "options": options, "notes": notes}
