"""Request and response schemas of the complaints API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from ninja import Field, Schema

from serviceops.complaints import selectors
from serviceops.complaints.models import (
    Action,
    Complaint,
)

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
