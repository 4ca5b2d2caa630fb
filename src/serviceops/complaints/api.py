"""Complaints API (DO4): the register, logging, each handling stage, root causes, corrective
and preventive actions, service recovery, letters, Consumer Rights Act remedy guidance, the
settings and the analysis.

Thin: every read goes through `complaint_scope` (another team's complaint is a 404, not a
403, so that its existence is not disclosed), every write through `complaints.services`,
which check the permissions themselves (complaint handlers and managers change complaints;
agents log them and see their own; assessors read) and raise ValidationError with field
names (a 422) or PermissionDenied (a 403). Body fields that name an object end in `_id`, and
a service's refusal on such a field is reported under the same `_id` name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from serviceops.complaints import analysis, selectors, services
from serviceops.complaints.models import (
    Action,
    ApprovalLimit,
    Cause,
    Complaint,
    ComplaintCategory,
    Fishbone,
    LetterKind,
    LetterTemplate,
    Regime,
    Stage,
)
from serviceops.core.permissions import allowed, case_scope, role_of, staff_of
from serviceops.core.roles import Perm
from serviceops.customers.models import Customer
from serviceops.insights.models import Initiative
from serviceops.insights.selectors import local_midnight
from serviceops.people.models import Staff, Team
from serviceops.sla.models import BusinessCalendar

router = Router(tags=["complaints"])

MAX_ANALYSIS_DAYS = 3 * 366  # as the analysis page: at most three years at a time


# --- schemas ----------------------------------------------------------------------------


class DeadlineOut(Schema):
    key: str = Field(..., description="acknowledge, summary, holding or final")
    label: str
    due: datetime
    done_at: datetime | None
    state: str = Field(..., description="met, missed, open or lapsed")
    seconds_left: float | None = Field(..., description="Negative once past due; null once "
                                                        "done or lapsed")


def _deadlines(complaint: Complaint) -> list[dict]:
    return [{"key": d.key, "label": d.label, "due": d.due, "done_at": d.done_at,
             "state": d.state.value,
             "seconds_left": None if d.time_left is None else d.time_left.total_seconds()}
            for d in selectors.deadline_status(complaint, timezone.now())]


class ComplaintOut(Schema):
    id: int
    case_id: int
    regime: str = Field(..., description="The regime's key")
    received_at: datetime
    channel: str
    category_id: int | None
    category: str | None
    product: str
    severity: int
    vulnerable: bool
    team_id: int | None
    customer_id: int | None
    stage: str
    handler_id: int | None
    escalated_to_id: int | None
    outcome: str
    final_due: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    deadlines: list[DeadlineOut]

    @staticmethod
    def resolve_regime(obj):
        return obj.regime.key

    @staticmethod
    def resolve_category(obj):
        return str(obj.category) if obj.category_id else None

    @staticmethod
    def resolve_deadlines(obj):
        return _deadlines(obj)


class WhyOut(Schema):
    position: int
    answer: str


class ComplaintCauseOut(Schema):
    cause_id: int
    category: str = Field(..., description="The fishbone category")
    name: str
    note: str

    @staticmethod
    def resolve_category(obj):
        return obj.cause.category

    @staticmethod
    def resolve_name(obj):
        return obj.cause.name


class ActionOut(Schema):
    id: int
    complaint_id: int | None
    cause_id: int | None
    kind: str
    description: str
    owner_id: int
    owner: str
    due_on: date
    state: str
    done_at: datetime | None
    check_on: date | None
    effect: str
    effect_note: str
    initiative_id: int | None
    overdue: bool
    check_due: bool = Field(..., description="Done, its effect unrecorded, and the check "
                                             "date reached")

    @staticmethod
    def resolve_owner(obj):
        return obj.owner.name

    @staticmethod
    def resolve_overdue(obj):
        return obj.state in selectors.ACTIVE_ACTION_STATES and obj.due_on < timezone.localdate()

    @staticmethod
    def resolve_check_due(obj):
        return (obj.state == Action.State.DONE and not obj.effect and obj.check_on is not None
                and obj.check_on <= timezone.localdate())


class GestureOut(Schema):
    id: int
    kind: str
    amount: Decimal
    note: str
    approved_by_id: int
    given_at: datetime


class LetterOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    sent_by_id: int | None
    sent_at: datetime


class ComplaintDetail(ComplaintOut):
    account: str
    desired_outcome: str
    vulnerability_note: str
    logged_by_id: int | None
    escalated_at: datetime | None
    ombudsman_referred_at: datetime | None
    ombudsman_reference: str
    acknowledge_due: datetime | None
    summary_due: datetime | None
    holding_due: datetime | None
    acknowledged_at: datetime | None
    holding_sent_at: datetime | None
    summary_resolution: bool
    listened: bool
    empathised: bool
    apologised: bool
    outcome_agreed: bool
    next_steps_explained: bool
    resolution: str
    remedy: str
    follow_up_due: date | None
    followed_up_at: datetime | None
    confidence_restored: bool | None
    follow_up_note: str
    purchase_kind: str
    purchased_on: date | None
    delivered_on: date | None
    fault_reported_on: date | None
    repairs_or_replacements: int
    whys: list[WhyOut]
    causes: list[ComplaintCauseOut]
    actions: list[ActionOut]
    gestures: list[GestureOut]
    gestures_total: Decimal
    letters: list[LetterOut]

    @staticmethod
    def resolve_whys(obj):
        return list(obj.whys.all())

    @staticmethod
    def resolve_causes(obj):
        return list(obj.causes.all())

    @staticmethod
    def resolve_actions(obj):
        return list(obj.actions.all())

    @staticmethod
    def resolve_gestures(obj):
        return list(obj.gestures.all())

    @staticmethod
    def resolve_gestures_total(obj):
        return sum((g.amount for g in obj.gestures.all()), Decimal("0.00"))

    @staticmethod
    def resolve_letters(obj):
        return list(obj.letters.all())


class ComplaintPage(Schema):
    items: list[ComplaintOut]
    next: int | None


class ActionPage(Schema):
    items: list[ActionOut]
    next: int | None


class LogIn(Schema):
    case_id: int | None = Field(None, description="An existing case; empty: open a new case")
    regime: str = Field("general", description="The regime's key (see /settings/regimes)")
    received_at: datetime
    channel: str
    account: str = Field(..., description="What the customer says went wrong")
    desired_outcome: str = Field(..., description="What the customer wants")
    subject: str = Field("", description="The new case's subject")
    customer_id: int | None = Field(None, description="The new case's customer")
    team_id: int | None = Field(None, description="The new case's team")
    category_id: int | None = None
    product: str = ""
    severity: int = 2
    vulnerable: bool = False
    vulnerability_note: str = ""


class ComplaintPatch(Schema):
    """Details, the handler's checklist and the purchase: only the fields sent change."""

    account: str | None = None
    desired_outcome: str | None = None
    category_id: int | None = None
    product: str | None = None
    severity: int | None = None
    vulnerable: bool | None = None
    vulnerability_note: str | None = None
    listened: bool | None = None
    empathised: bool | None = None
    apologised: bool | None = None
    outcome_agreed: bool | None = None
    next_steps_explained: bool | None = None
    purchase_kind: str | None = Field(None, description="goods, digital or service")
    purchased_on: date | None = None
    delivered_on: date | None = None
    fault_reported_on: date | None = None
    repairs_or_replacements: int | None = None


class AssignIn(Schema):
    handler_id: int


class EscalateIn(Schema):
    to_id: int = Field(..., description="The senior complaint handler")
    reason: str


class ResolveIn(Schema):
    outcome: str = Field(..., description="upheld, partly_upheld, not_upheld or withdrawn")
    resolution: str
    remedy: str = ""
    summary: bool = Field(False, description="A summary resolution (within the regime's "
                                             "summary deadline)")
    follow_up_due: date | None = None


class FollowUpIn(Schema):
    confidence_restored: bool | None = Field(..., description="null: could not tell")
    note: str = ""


class OmbudsmanIn(Schema):
    reference: str
    at: datetime | None = Field(None, description="When the customer referred (default now)")


class WhysIn(Schema):
    answers: list[str]


class CauseChoiceIn(Schema):
    cause_id: int
    note: str = ""


class CauseOut(Schema):
    id: int
    category: str
    name: str
    is_active: bool


class CauseIn(Schema):
    category: str = Field(..., description="One of the fishbone categories")
    name: str


class ActionIn(Schema):
    kind: str = Field(..., description="corrective or preventive")
    description: str
    owner_id: int
    due_on: date
    cause_id: int | None = None
    check_on: date | None = Field(None, description="When to check that it worked")


class ActionPatch(Schema):
    state: str | None = None
    due_on: date | None = None
    owner_id: int | None = None


class ActionCheckIn(Schema):
    effect: str = Field(..., description="effective or not_effective")
    note: str = ""


class InitiativeIn(Schema):
    initiative_id: int | None = Field(..., description="null unlinks")


class GestureIn(Schema):
    kind: str
    amount: Decimal = Decimal("0")
    note: str = ""


class LetterPreviewOut(Schema):
    kind: str
    subject: str
    body: str


class LetterIn(Schema):
    kind: str
    subject: str | None = Field(None, description="Empty: rendered from the template")
    body: str | None = Field(None, description="Empty: rendered from the template")


class RemedyOut(Schema):
    remedy: str
    reason: str


class RemediesOut(Schema):
    purchase_kind: str
    purchased_on: date | None
    delivered_on: date | None
    fault_reported_on: date | None
    repairs_or_replacements: int
    options: list[RemedyOut]
    notes: list[str]


class RegimeOut(Schema):
    id: int
    key: str
    name: str
    description: str
    calendar_id: int | None
    acknowledge_days: int | None
    acknowledge_business_days: bool
    summary_days: int | None
    summary_business_days: bool
    holding_days: int | None
    holding_business_days: bool
    final_days: int
    final_business_days: bool
    end_of_day: bool
    ombudsman_name: str
    ombudsman_months: int | None
    root_cause_required: bool
    is_active: bool


class RegimeIn(Schema):
    """A new regime (every field), or a change to one (only the fields sent)."""

    key: str | None = None
    name: str | None = None
    description: str | None = None
    calendar_id: int | None = None
    acknowledge_days: int | None = None
    acknowledge_business_days: bool | None = None
    summary_days: int | None = None
    summary_business_days: bool | None = None
    holding_days: int | None = None
    holding_business_days: bool | None = None
    final_days: int | None = None
    final_business_days: bool | None = None
    end_of_day: bool | None = None
    ombudsman_name: str | None = None
    ombudsman_months: int | None = None
    root_cause_required: bool | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    kind: str
    regime: str | None = Field(..., description="The regime's key; null: every regime")
    subject: str
    body: str

    @staticmethod
    def resolve_regime(obj):
        return obj.regime.key if obj.regime_id else None


class TemplateIn(Schema):
    kind: str
    regime: str | None = Field(None, description="A regime's key; null: every regime")
    subject: str
    body: str


class LimitOut(Schema):
    role: str
    amount: Decimal


class LimitIn(Schema):
    amount: Decimal


class FiguresOut(Schema):
    volume: int
    decided: int
    upheld: int
    acknowledged: int
    resolved: int
    ack_judged: int
    ack_on_time: int
    final_judged: int
    final_on_time: int
    summary: int
    open: int
    open_overdue: int
    acknowledge_median: float | None
    acknowledge_p90: float | None
    resolve_median: float | None
    resolve_p90: float | None
    uphold_rate: float | None
    ack_on_time_rate: float | None
    final_on_time_rate: float | None
    summary_rate: float | None
    open_overdue_rate: float | None


class GroupOut(Schema):
    key: str = Field(..., description="As `group` of the drill-down takes it")
    label: str
    figures: FiguresOut
    previous_volume: int


class RepeatsOut(Schema):
    customers: int
    complaints: int
    share: float | None


class CauseTrendOut(Schema):
    key: str
    label: str
    fishbone: str
    count: int
    previous: int
    direction: str


class CostOut(Schema):
    total: Decimal
    gestures: int
    per_complaint: Decimal | None
    by_kind: dict[str, Decimal]


class ParetoOut(Schema):
    label: str
    count: float
    share: float
    cumulative_share: float
    vital_few: bool


class PeriodOut(Schema):
    first: date
    last: date


class AnalysisOut(Schema):
    period: PeriodOut
    previous_period: PeriodOut
    by: str
    verdict: str = Field(..., description="The top root causes and whether they are falling")
    totals: FiguresOut
    previous_totals: FiguresOut
    rows: list[GroupOut]
    repeats: RepeatsOut
    previous_repeats: RepeatsOut
    causes: list[CauseTrendOut]
    fishbone: list[CauseTrendOut]
    cost: CostOut
    previous_cost: CostOut
    cause_pareto: list[ParetoOut]
    category_pareto: list[ParetoOut]


# --- helpers ----------------------------------------------------------------------------


@contextmanager
def _fields(**names: str) -> Iterator[None]:
    """Report a service's refusal on `field` under the API's name for it (`field_id`)."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError({names.get(k, k): v for k, v in error.error_dict.items()}
                              ) from None


def _page(queryset: QuerySet, after: int | None, limit: int) -> dict:
    """Newest first by id; `next` is the `after` of the next page (None on the last)."""
    limit = max(1, min(limit, 200))
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[:limit + 1])
    return {"items": rows[:limit], "next": rows[limit - 1].pk if len(rows) > limit else None}


def _referenced(queryset: QuerySet, pk: int | None, field: str, what: str):
    """An object named in a request body: a 422 on `field` when absent or out of sight."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: f"There is no {what} {pk}."})
    return found


def _regime(key: str | None, field: str = "regime") -> Regime | None:
    if key is None:
        return None
    found = Regime.objects.filter(key=key).first()
    if found is None:
        raise ValidationError({field: f"There is no regime {key!r}."})
    return found


def _complaint(request, complaint_id: int) -> Complaint:
    found = selectors.complaint_scope(request.auth).select_related("case", "regime").filter(
        pk=complaint_id).first()
    if found is None:
        raise Http404(f"There is no complaint {complaint_id}.")
    return found


def _detail(request, complaint_id: int) -> Complaint:
    try:
        return selectors.complaint_detail(request.auth, complaint_id)
    except Complaint.DoesNotExist:
        raise Http404(f"There is no complaint {complaint_id}.") from None


def _visible_actions(request) -> QuerySet[Action]:
    """Actions on complaints the caller sees, and the caller's own."""
    scope = Q(complaint__in=selectors.complaint_scope(request.auth).values("pk"))
    staff = staff_of(request.auth)
    if staff is not None:
        scope |= Q(owner=staff)
    return Action.objects.filter(scope).select_related("owner")


def _action(request, action_id: int) -> Action:
    found = _visible_actions(request).select_related("complaint").filter(pk=action_id).first()
    if found is None:
        raise Http404(f"There is no action {action_id}.")
    return found


def _require_reader(request, perm: Perm = Perm.COMPLAINT_SETTINGS) -> None:
    """The settings are read by those who change them and by those who see every team."""
    if not (allowed(request.auth, perm) or allowed(request.auth, Perm.VIEW_ALL_TEAMS)):
        raise PermissionDenied("Your role does not include the complaint settings.")


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
    return _page(complaints, after, limit)


@router.post("", response={201: ComplaintDetail},
             summary="Log a complaint on a case, or on a new case opened for it")
def complaint_log(request, payload: LogIn):
    case = _referenced(case_scope(request.auth), payload.case_id, "case_id", "case")
    with _fields(case="case_id", regime="regime"):
        made = services.complaint_log(
            by=request.auth, regime=_regime(payload.regime), case=case,
            received_at=payload.received_at, channel=payload.channel,
            account=payload.account, desired_outcome=payload.desired_outcome,
            subject=payload.subject,
            customer=_referenced(Customer.objects.all(), payload.customer_id, "customer_id",
                                 "customer"),
            team=_referenced(Team.objects.all(), payload.team_id, "team_id", "team"),
            category=_referenced(ComplaintCategory.objects.all(), payload.category_id,
                                 "category_id", "complaint category"),
            product=payload.product, severity=payload.severity, vulnerable=payload.vulnerable,
            vulnerability_note=payload.vulnerability_note)
    return Status(201, _detail(request, made.pk))


@router.get("/{int:complaint_id}", response=ComplaintDetail,
            summary="A complaint with its deadlines, checklist, RCA, actions, recovery and "
                    "letters")
def complaint_get(request, complaint_id: int):
    return _detail(request, complaint_id)


@router.patch("/{int:complaint_id}", response=ComplaintDetail,
              summary="Change the details, the handler's checklist or the purchase")
def complaint_update(request, complaint_id: int, payload: ComplaintPatch):
    complaint = _complaint(request, complaint_id)
    fields = payload.dict(exclude_unset=True)
    if "category_id" in fields:
        fields["category"] = _referenced(ComplaintCategory.objects.all(),
                                         fields.pop("category_id"), "category_id",
                                         "complaint category")
    with _fields(category="category_id"):
        services.complaint_update(by=request.auth, complaint=complaint, **fields)
    return _detail(request, complaint_id)


# --- stages -----------------------------------------------------------------------------


@router.post("/{int:complaint_id}/acknowledge", response=ComplaintDetail,
             summary="Acknowledge (sends the acknowledgement letter) and start investigating")
def complaint_acknowledge(request, complaint_id: int, send_letter: bool = True):
    """`send_letter=false` (query) when the acknowledgement went some other way."""
    complaint = _complaint(request, complaint_id)
    services.complaint_acknowledge(by=request.auth, complaint=complaint,
                                   send_letter=send_letter)
    return _detail(request, complaint_id)


@router.post("/{int:complaint_id}/assign", response=ComplaintDetail, summary="Choose the handler")
def complaint_assign(request, complaint_id: int, payload: AssignIn):
    complaint = _complaint(request, complaint_id)
    handler = _referenced(Staff.objects.all(), payload.handler_id, "handler_id",
                          "member of staff")
    with _fields(handler="handler_id"):
        services.complaint_assign(by=request.auth, complaint=complaint, handler=handler)
    return _detail(request, complaint_id)


@router.post("/{int:complaint_id}/escalate", response=ComplaintDetail,
             summary="Escalate to a senior complaint handler")
def complaint_escalate(request, complaint_id: int, payload: EscalateIn):
    complaint = _complaint(request, complaint_id)
    to = _referenced(Staff.objects.all(), payload.to_id, "to_id", "member of staff")
    with _fields(to="to_id"):
        services.complaint_escalate(by=request.auth, complaint=complaint, to=to,
                                    reason=payload.reason)
    return _detail(request, complaint_id)


@router.post("/{int:complaint_id}/holding", response={201: LetterOut},
             summary="Send the holding response")
def complaint_holding(request, complaint_id: int):
    complaint = _complaint(request, complaint_id)
    return Status(201, services.complaint_send_holding(by=request.auth, complaint=complaint))


@router.post("/{int:complaint_id}/resolve", response=ComplaintDetail,
             summary="Record the outcome and send the final (or summary) response")
def complaint_resolve(request, complaint_id: int, payload: ResolveIn):
    complaint = _complaint(request, complaint_id)
    services.complaint_resolve(by=request.auth, complaint=complaint, **payload.dict())
    return _detail(request, complaint_id)


@router.post("/{int:complaint_id}/follow-up", response=ComplaintDetail,
             summary="Record whether the customer's confidence is restored")
def complaint_follow_up(request, complaint_id: int, payload: FollowUpIn):
    complaint = _complaint(request, complaint_id)
    services.complaint_follow_up(by=request.auth, complaint=complaint, **payload.dict())
    return _detail(request, complaint_id)


@router.post("/{int:complaint_id}/ombudsman", response=ComplaintDetail,
             summary="Record the customer's referral to the ombudsman")
def complaint_ombudsman(request, complaint_id: int, payload: OmbudsmanIn):
    complaint = _complaint(request, complaint_id)
    services.complaint_refer_to_ombudsman(by=request.auth, complaint=complaint,
                                          **payload.dict())
    return _detail(request, complaint_id)


@router.post("/{int:complaint_id}/close", response=ComplaintDetail, summary="Close")
def complaint_close(request, complaint_id: int):
    """Refused (422) while an upheld complaint has no root cause (when its regime requires
    one) or a scheduled follow-up is unrecorded."""
    complaint = _complaint(request, complaint_id)
    services.complaint_close(by=request.auth, complaint=complaint)
    return _detail(request, complaint_id)


# --- root causes ------------------------------------------------------------------------


@router.put("/{int:complaint_id}/whys", response=list[WhyOut],
            summary="Replace the 5-whys chain (blank answers are dropped)")
def whys_put(request, complaint_id: int, payload: WhysIn):
    complaint = _complaint(request, complaint_id)
    return services.whys_set(by=request.auth, complaint=complaint, answers=payload.answers)


@router.post("/{int:complaint_id}/causes", response={201: ComplaintCauseOut},
             summary="Choose a root cause from the catalogue")
def complaint_cause_add(request, complaint_id: int, payload: CauseChoiceIn):
    complaint = _complaint(request, complaint_id)
    cause = _referenced(Cause.objects.all(), payload.cause_id, "cause_id", "cause")
    with _fields(cause="cause_id"):
        chosen = services.cause_add(by=request.auth, complaint=complaint, cause=cause,
                                    note=payload.note)
    return Status(201, chosen)


@router.delete("/{int:complaint_id}/causes/{int:cause_id}", response={204: None},
               summary="Remove a root cause")
def complaint_cause_remove(request, complaint_id: int, cause_id: int):
    complaint = _complaint(request, complaint_id)
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
        actions = _visible_actions(request)
    else:
        raise ValidationError({"show": "Choose mine, due or all."})
    return _page(actions, after, limit)


@router.post("/{int:complaint_id}/actions", response={201: ActionOut},
             summary="Raise a corrective or preventive action on a complaint")
def action_create(request, complaint_id: int, payload: ActionIn):
    complaint = _complaint(request, complaint_id)
    owner = _referenced(Staff.objects.all(), payload.owner_id, "owner_id", "member of staff")
    cause = _referenced(Cause.objects.all(), payload.cause_id, "cause_id", "cause")
    with _fields(owner="owner_id", cause="cause_id"):
        action = services.action_create(
            by=request.auth, complaint=complaint, kind=payload.kind,
            description=payload.description, owner=owner, due_on=payload.due_on,
            cause=cause, check_on=payload.check_on)
    return Status(201, action)


@router.patch("/actions/{int:action_id}", response=ActionOut,
              summary="Move an action on (its owner may), or change its due date or owner")
def action_update(request, action_id: int, payload: ActionPatch):
    action = _action(request, action_id)
    changes = payload.dict(exclude_unset=True)
    owner = _referenced(Staff.objects.all(), changes.get("owner_id"), "owner_id",
                        "member of staff")
    with _fields(owner="owner_id"):
        return services.action_update(by=request.auth, action=action,
                                      state=changes.get("state"),
                                      due_on=changes.get("due_on"), owner=owner)


@router.post("/actions/{int:action_id}/check", response=ActionOut,
             summary="Record whether a done action worked")
def action_check(request, action_id: int, payload: ActionCheckIn):
    action = _action(request, action_id)
    return services.action_check(by=request.auth, action=action, **payload.dict())


@router.put("/actions/{int:action_id}/initiative", response=ActionOut,
            summary="Link an action to an improvement initiative (null unlinks)")
def action_link(request, action_id: int, payload: InitiativeIn):
    action = _action(request, action_id)
    initiative = _referenced(Initiative.objects.all(), payload.initiative_id, "initiative_id",
                             "initiative")
    with _fields(initiative="initiative_id"):
        return services.action_link(by=request.auth, action=action, initiative=initiative)


# --- recovery, letters, remedies --------------------------------------------------------


@router.post("/{int:complaint_id}/gestures", response={201: GestureOut},
             summary="Give a service-recovery gesture (within your approval limit)")
def gesture_add(request, complaint_id: int, payload: GestureIn):
    complaint = _complaint(request, complaint_id)
    return Status(201, services.gesture_add(by=request.auth, complaint=complaint,
                                            **payload.dict()))


@router.get("/{int:complaint_id}/letters/preview", response=LetterPreviewOut,
            summary="A letter of a kind rendered from its template (nothing is sent)")
def letter_preview(request, complaint_id: int, kind: str):
    complaint = _complaint(request, complaint_id)
    if kind not in LetterKind.values:
        raise ValidationError({"kind": f"Choose one of {', '.join(LetterKind.values)}."})
    subject, body = services.letter_render(complaint=complaint, kind=kind)
    return {"kind": kind, "subject": subject, "body": body}


@router.post("/{int:complaint_id}/letters", response={201: LetterOut},
             summary="Send a letter (a public reply on the case)")
def letter_send(request, complaint_id: int, payload: LetterIn):
    complaint = _complaint(request, complaint_id)
    return Status(201, services.letter_send(by=request.auth, complaint=complaint,
                                            **payload.dict()))


@router.get("/{int:complaint_id}/remedies", response=RemediesOut,
            summary="Consumer Rights Act 2015 remedies open to the customer, with reasons")
def complaint_remedies(request, complaint_id: int):
    """From the complaint's purchase fields (set them with PATCH); no options and a note
    saying what is missing while the purchase kind or date is not recorded."""
    complaint = _complaint(request, complaint_id)
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


# --- settings ---------------------------------------------------------------------------


@router.get("/settings/regimes", response=list[RegimeOut], summary="Deadline regimes")
def regime_list(request):
    """Everyone who may log a complaint reads the regimes, as logging names one."""
    if role_of(request.auth) is None:
        raise PermissionDenied("Your account has no role in ServiceOps.")
    return list(Regime.objects.all())


def _regime_fields(payload: RegimeIn) -> dict:
    fields = payload.dict(exclude_unset=True)
    if "calendar_id" in fields:
        fields["calendar"] = _referenced(BusinessCalendar.objects.all(),
                                         fields.pop("calendar_id"), "calendar_id",
                                         "business calendar")
    return fields


@router.post("/settings/regimes", response={201: RegimeOut}, summary="Add a regime")
def regime_create(request, payload: RegimeIn):
    with _fields(calendar="calendar_id"):
        return Status(201, services.regime_save(by=request.auth, **_regime_fields(payload)))


@router.patch("/settings/regimes/{int:regime_id}", response=RegimeOut,
              summary="Change a regime (complaints already logged keep their deadlines)")
def regime_update(request, regime_id: int, payload: RegimeIn):
    regime = Regime.objects.filter(pk=regime_id).first()
    if regime is None:
        raise Http404(f"There is no regime {regime_id}.")
    with _fields(calendar="calendar_id"):
        return services.regime_save(by=request.auth, regime=regime, **_regime_fields(payload))


@router.get("/settings/templates", response=list[TemplateOut], summary="Letter templates")
def template_list(request):
    _require_reader(request)
    return list(LetterTemplate.objects.select_related("regime"))


@router.put("/settings/templates", response=TemplateOut,
            summary="Create or replace the template of a kind and regime")
def template_put(request, payload: TemplateIn):
    return services.letter_template_save(by=request.auth, kind=payload.kind,
                                         regime=_regime(payload.regime),
                                         subject=payload.subject, body=payload.body)


@router.get("/settings/limits", response=list[LimitOut],
            summary="Approval limits for gestures, per role (£ per complaint)")
def limit_list(request):
    _require_reader(request)
    return list(ApprovalLimit.objects.all())


@router.put("/settings/limits/{role}", response=LimitOut, summary="Set a role's limit")
def limit_put(request, role: str, payload: LimitIn):
    return services.approval_limit_set(by=request.auth, role=role, amount=payload.amount)


# --- analysis ---------------------------------------------------------------------------


def _analysis_filters(start: date, end: date, team: int | None, category: int | None,
                      product: str, severity: int | None) -> analysis.Filters:
    if end < start:
        raise ValidationError({"end": "The period ends before it starts."})
    if end - start > timedelta(days=MAX_ANALYSIS_DAYS):
        raise ValidationError({"end": "Choose a period of at most three years."})
    return analysis.Filters(team_id=team, category_id=category, product=product,
                            severity=severity)


def _figures(f: analysis.Figures) -> dict:
    return {name: getattr(f, name) for name in FiguresOut.model_fields}


def _cost(c: analysis.Cost) -> dict:
    return {"total": c.total, "gestures": c.gestures, "per_complaint": c.per_complaint,
            "by_kind": c.by_kind}


def _trend(t: analysis.CauseTrend) -> dict:
    return {"key": t.key, "label": t.label, "fishbone": t.fishbone, "count": t.count,
            "previous": t.previous, "direction": t.direction}


@router.get("/analysis", response=AnalysisOut,
            summary="Figures, breakdown, root causes and Paretos for a period")
def analysis_get(request, start: date, end: date, team: int | None = None,
                 category: int | None = None, product: str = "", severity: int | None = None,
                 by: str = "category"):
    """The complaints you may see received from `start` to `end` (local dates, included),
    with the previous period of the same length beside them, the filters and breakdown of
    the analysis page (`by`: category, product, team, severity, month or week). Times in
    seconds, rates 0–1, money in pounds."""
    if by not in analysis.BREAKDOWNS:
        raise ValidationError({"by": f"Choose one of {', '.join(analysis.BREAKDOWNS)}."})
    filters = _analysis_filters(start, end, team, category, product, severity)
    result = analysis.complaint_analysis(request.auth, first=start, last=end, filters=filters,
                                         by=by, now=timezone.now())
    return {
        "period": {"first": result.period.first, "last": result.period.last},
        "previous_period": {"first": result.previous.first, "last": result.previous.last},
        "by": by, "verdict": result.causes_verdict,
        "totals": _figures(result.totals), "previous_totals": _figures(result.previous_totals),
        "rows": [{"key": analysis.group_key(by, r.key), "label": r.label,
                  "figures": _figures(r.figures), "previous_volume": r.previous_volume}
                 for r in result.rows],
        "repeats": vars(result.repeats) | {"share": result.repeats.share},
        "previous_repeats": vars(result.previous_repeats)
        | {"share": result.previous_repeats.share},
        "causes": [_trend(t) for t in result.causes],
        "fishbone": [_trend(t) for t in result.fishbone],
        "cost": _cost(result.cost), "previous_cost": _cost(result.previous_cost),
        "cause_pareto": [vars(r) for r in result.cause_pareto],
        "category_pareto": [vars(r) for r in result.category_pareto],
    }


@router.get("/analysis/complaints", response=ComplaintPage,
            summary="The complaints behind a figure of the analysis (drill-down)")
def analysis_complaints(request, start: date, end: date, figure: str = "all",
                        team: int | None = None, category: int | None = None,
                        product: str = "", severity: int | None = None,
                        by: str | None = None, group: str | None = None,
                        cause: int | None = None, fishbone: str | None = None,
                        after: int | None = None, limit: int = 50):
    """`figure`: all, decided, upheld, acknowledged, resolved, ack_late, final_late, summary,
    open, open_overdue, repeat or gestures; optionally within one `group` of a breakdown
    `by` (the `key` of a row of the analysis), one root `cause` (id) or `fishbone`
    category."""
    if figure not in analysis.DRILLS:
        raise ValidationError({"figure": f"Choose one of {', '.join(analysis.DRILLS)}."})
    if by is not None and by not in analysis.BREAKDOWNS:
        raise ValidationError({"by": f"Choose one of {', '.join(analysis.BREAKDOWNS)}."})
    if fishbone is not None and fishbone not in Fishbone.values:
        raise ValidationError({"fishbone": f"Choose one of {', '.join(Fishbone.values)}."})
    filters = _analysis_filters(start, end, team, category, product, severity)
    try:
        complaints = analysis.analysis_drill(
            request.auth, first=start, last=end, filters=filters, figure=figure,
            by=by if group is not None else None, group=group,
            cause=str(cause) if cause is not None else None, fishbone=fishbone,
            now=timezone.now())
    except ValueError:
        raise ValidationError({"group": f"There is no {by} group {group!r}."}) from None
    return _page(complaints.select_related("regime", "category", "category__parent"),
                 after, limit)
