"""Read models of complaints: what each user may see, where each deadline stands, the actions
that need someone, and a complaint with everything its page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from serviceops.complaints.models import Action, Complaint, ComplaintCause, Gesture, Letter
from serviceops.complaints.remedies import Guidance, remedies
from serviceops.core.permissions import allowed, role_of, staff_of, team_ids_of
from serviceops.core.roles import Perm


def complaint_scope(user, queryset: QuerySet[Complaint] | None = None) -> QuerySet[Complaint]:
    """The complaints `user` may see: all for those who see every team; a complaint handler
    their teams' complaints and those handled by or escalated to them; anyone else the
    complaints they logged, handle, or whose case is assigned to them."""
    qs = Complaint.objects.all() if queryset is None else queryset
    staff = staff_of(user)
    if role_of(user) is None:
        return qs.none()
    if allowed(user, Perm.VIEW_ALL_TEAMS):
        return qs
    own = Q(logged_by=staff) | Q(handler=staff) | Q(escalated_to=staff) | Q(
        case__assignee=staff) if staff is not None else Q(pk__in=[])
    if allowed(user, Perm.COMPLAINT_HANDLE):
        own |= Q(team_id__in=team_ids_of(user))
    return qs.filter(own)


# -- deadlines --------------------------------------------------------------------------------


class DeadlineState(StrEnum):
    MET = "met"  # done by the deadline
    MISSED = "missed"  # done late, or not done and past due
    OPEN = "open"  # not done, still time
    LAPSED = "lapsed"  # an option (summary resolution) whose window has closed unused


@dataclass(frozen=True)
class DeadlineStatus:
    """One deadline of a complaint: when it falls, when (if) it was met, and where it
    stands at `now` (`time_left` is negative once past due, None once done)."""

    key: str  # acknowledge, summary, holding, final
    label: str
    due: datetime
    done_at: datetime | None
    state: DeadlineState
    time_left: timedelta | None


def deadline_status(complaint: Complaint, now: datetime) -> list[DeadlineStatus]:
    """Each deadline `complaint`'s regime set, in the order they fall.

    The acknowledgement counts as done by an acknowledgement letter or by the response
    itself; the holding response by a holding letter or by the final response (no holding
    response is needed once it has gone); the summary resolution is an option that is met
    when used and lapses otherwise.
    """
    resolved = complaint.resolved_at
    rows = [
        ("acknowledge", "Acknowledgement", complaint.acknowledge_due,
         _first(complaint.acknowledged_at, resolved)),
        ("summary", "Summary resolution", complaint.summary_due,
         resolved if complaint.summary_resolution else None),
        ("holding", "Holding response", complaint.holding_due,
         _first(complaint.holding_sent_at, resolved)),
        ("final", "Final response", complaint.final_due, resolved),
    ]
    result = []
    for key, label, due, done_at in rows:
        if due is None:
            continue
        if done_at is not None:
            state = DeadlineState.MET if done_at <= due else DeadlineState.MISSED
            left = None
        elif key == "summary":
            state = DeadlineState.OPEN if now <= due and resolved is None \
                else DeadlineState.LAPSED
            left = due - now if state == DeadlineState.OPEN else None
        else:
            state = DeadlineState.OPEN if now <= due else DeadlineState.MISSED
            left = due - now
        result.append(DeadlineStatus(key=key, label=label, due=due, done_at=done_at,
                                     state=state, time_left=left))
    return sorted(result, key=lambda s: s.due)


def _first(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


# -- detail -----------------------------------------------------------------------------------


def complaint_detail(user, pk: int) -> Complaint:
    """The complaint `pk` with what its page shows loaded, if `user` may see it (raises
    Complaint.DoesNotExist otherwise, as for a complaint that does not exist)."""
    return (
        complaint_scope(user)
        .select_related("case", "case__team", "case__assignee", "regime", "category",
                        "category__parent", "team", "customer", "logged_by", "handler",
                        "escalated_to")
        .prefetch_related(
            "whys",
            Prefetch("causes", queryset=ComplaintCause.objects.select_related("cause")),
            Prefetch("actions", queryset=Action.objects.select_related("owner", "cause",
                                                                       "initiative")),
            Prefetch("gestures", queryset=Gesture.objects.select_related("approved_by")),
            Prefetch("letters", queryset=Letter.objects.select_related("sent_by")),
        )
        .get(pk=pk)
    )


def gestures_total(complaint: Complaint) -> Decimal:
    """What the service-recovery gestures on `complaint` cost, in £."""
    return complaint.gestures.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def complaint_remedies(complaint: Complaint, today: date) -> Guidance | None:
    """Consumer Rights Act remedy guidance from the complaint's purchase details, or None
    while the purchase kind or date is missing. The fault counts as reported on
    `fault_reported_on`, else on the day the complaint was received (not after `today`)."""
    if not complaint.purchase_kind or complaint.purchased_on is None:
        return None
    reported = complaint.fault_reported_on or min(
        timezone.localdate(complaint.received_at), today)
    try:
        return remedies(kind=complaint.purchase_kind, purchased=complaint.purchased_on,
                        delivered=complaint.delivered_on, reported=reported,
                        repairs_tried=complaint.repairs_or_replacements)
    except ValueError as error:
        return Guidance(options=(), notes=(str(error),))


# -- actions ----------------------------------------------------------------------------------

ACTIVE_ACTION_STATES = (Action.State.OPEN, Action.State.IN_PROGRESS)


def actions_due(user, today: date) -> QuerySet[Action]:
    """The actions that need `user` now: those they own that are due by `today` (overdue
    first) or done with an effectiveness check due; for complaint handlers also those on
    the complaints they can see."""
    staff = staff_of(user)
    if role_of(user) is None:
        return Action.objects.none()
    needs = (Q(state__in=ACTIVE_ACTION_STATES, due_on__lte=today)
             | Q(state=Action.State.DONE, effect="", check_on__lte=today))
    whose = Q(owner=staff) if staff is not None else Q(pk__in=[])
    if allowed(user, Perm.COMPLAINT_HANDLE):
        whose |= Q(complaint__in=complaint_scope(user).values("pk"))
    return (Action.objects.filter(needs & whose)
            .select_related("owner", "complaint", "complaint__case", "cause")
            .order_by("due_on", "id"))
