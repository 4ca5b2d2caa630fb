"""Root-cause analysis (5 whys, fishbone causes) and corrective and preventive actions."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from serviceops.complaints.models import (
    Action,
    Cause,
    Complaint,
    ComplaintCause,
    Fishbone,
    WhyStep,
)
from serviceops.complaints.services._common import (
    _day,
    _lock,
    _note,
    _notify,
    _refuse_closed,
    _require_handle,
    _require_sight,
    _today,
)
from serviceops.core.audit import audit_record
from serviceops.core.permissions import require, staff_of
from serviceops.core.roles import Perm
from serviceops.people.models import Staff

MAX_WHYS = 10


@transaction.atomic
def whys_set(*, by, complaint: Complaint, answers: list[str]) -> list[WhyStep]:
    """Replace the 5-whys chain of `complaint` with `answers` (blank answers are dropped)."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    kept = [a.strip() for a in answers if a and a.strip()]
    if len(kept) > MAX_WHYS:
        raise ValidationError({"answers": f"At most {MAX_WHYS} whys."})
    old = list(complaint.whys.values_list("answer", flat=True))
    if old == kept:
        return list(complaint.whys.all())
    complaint.whys.all().delete()
    steps = []
    for position, answer in enumerate(kept, start=1):
        step = WhyStep(complaint=complaint, position=position, answer=answer)
        step.full_clean()
        steps.append(step)
    WhyStep.objects.bulk_create(steps)
    audit_record(instance=complaint, changes={"whys": (" / ".join(old), " / ".join(kept))},
                 actor=by, at=at)
    _note(complaint, "5 whys: " + " → ".join(kept) if kept else "5 whys cleared.",
          by=by, at=at)
    return list(complaint.whys.all())


@transaction.atomic
def cause_add(*, by, complaint: Complaint, cause: Cause, note: str = "") -> ComplaintCause:
    """Choose `cause` as a root cause of `complaint`."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    if not cause.is_active:
        raise ValidationError({"cause": f"The cause {cause} is no longer in use."})
    if complaint.causes.filter(cause=cause).exists():
        raise ValidationError({"cause": f"{cause} is already a root cause of this complaint."})
    chosen = ComplaintCause(complaint=complaint, cause=cause, note=(note or "").strip(),
                            received_at=complaint.received_at)
    chosen.full_clean()
    chosen.save()
    audit_record(instance=complaint, changes={"causes": ("", cause.pk)}, actor=by, at=at)
    _note(complaint, f"Root cause added: {cause}.", by=by, at=at)
    return chosen


@transaction.atomic
def cause_remove(*, by, complaint: Complaint, cause: Cause) -> None:
    """Remove `cause` from the root causes of `complaint`."""
    _require_handle(by, complaint)
    at = timezone.now()
    complaint = _lock(complaint)
    _refuse_closed(complaint)
    deleted, _ = complaint.causes.filter(cause=cause).delete()
    if not deleted:
        raise ValidationError({"cause": f"{cause} is not a root cause of this complaint."})
    audit_record(instance=complaint, changes={"causes": (cause.pk, "")}, actor=by, at=at)
    _note(complaint, f"Root cause removed: {cause}.", by=by, at=at)


@transaction.atomic
def cause_create(*, by, category: str, name: str) -> Cause:
    """Add a root cause to the catalogue under a fishbone `category`."""
    require(by, Perm.COMPLAINT_HANDLE)
    at = timezone.now()
    name = (name or "").strip()
    if category not in Fishbone.values:
        raise ValidationError({"category": "Choose one of the fishbone categories: "
                                           + ", ".join(Fishbone.labels) + "."})
    if not name:
        raise ValidationError({"name": "Name the cause."})
    if Cause.objects.filter(category=category, name__iexact=name).exists():
        raise ValidationError({"name": f"{Fishbone(category).label} already has the cause "
                                       f"{name!r}."})
    cause = Cause(category=category, name=name)
    cause.full_clean()
    cause.save()
    audit_record(instance=cause, changes={"name": ("", name)}, actor=by, at=at)
    return cause


# -- corrective and preventive actions --------------------------------------------------------


def _check_owner(owner: Staff) -> None:
    if not owner.is_active:
        raise ValidationError({"owner": f"{owner} is no longer active."})


def _may_work_action(by, action: Action, *, owner_may: bool) -> None:
    """Handlers who see the action's complaint may change it; its owner may record progress
    on it (`owner_may`)."""
    if owner_may and action.owner_id and staff_of(by) is not None \
            and action.owner_id == staff_of(by).pk:
        return
    require(by, Perm.COMPLAINT_HANDLE)
    if action.complaint_id:
        _require_sight(by, action.complaint)


@transaction.atomic
def action_create(
    *, by, kind: str, description: str, owner: Staff, due_on: date,
    complaint: Complaint | None = None, cause: Cause | None = None,
    check_on: date | None = None,
) -> Action:
    """Raise a corrective or preventive action, from a complaint or a cause (or neither),
    with an owner, a due date and, optionally, the date to check that it worked."""
    require(by, Perm.COMPLAINT_HANDLE)
    if complaint is not None:
        _require_sight(by, complaint)
        _refuse_closed(complaint)
    at = timezone.now()
    _check_owner(owner)
    errors: dict[str, str] = {}
    if due_on is None:
        errors["due_on"] = "Give a due date."
    elif due_on < _today():
        errors["due_on"] = "A due date cannot be in the past."
    elif check_on is not None and check_on < due_on:
        errors["check_on"] = "Check the effect on or after the due date."
    if errors:
        raise ValidationError(errors)
    action = Action(kind=kind, description=(description or "").strip(), owner=owner,
                    due_on=due_on, complaint=complaint, cause=cause, check_on=check_on,
                    created_by=staff_of(by), created_at=at)
    action.full_clean()
    action.save()
    audit_record(instance=action, changes={"state": ("", action.state)}, actor=by, at=at)
    if complaint is not None:
        _note(complaint, f"{action.get_kind_display().split(' (')[0]} action for {owner}, "
                         f"due {_day(due_on)}: {action.description}", by=by, at=at)
    _notify(owner, complaint, f"Action for you, due {_day(due_on)}: "
                              f"{action.description}", at=at, by=by)
    return action


@transaction.atomic
def action_update(*, by, action: Action, state: str | None = None, due_on: date | None = None,
                  owner: Staff | None = None) -> Action:
    """Move `action` on (its owner may change its state), or change its due date or owner
    (complaint handlers only)."""
    _may_work_action(by, action, owner_may=due_on is None and owner is None)
    at = timezone.now()
    action = Action.objects.select_for_update().get(pk=action.pk) \
        if connection.features.has_select_for_update else Action.objects.get(pk=action.pk)
    changes: dict[str, tuple] = {}
    if state is not None and state != action.state:
        if state not in Action.State.values:
            raise ValidationError({"state": f"Unknown state {state!r}."})
        changes["state"] = (action.state, state)
        action.state = state
        action.done_at = at if state == Action.State.DONE else None
        if state != Action.State.DONE:
            action.effect, action.effect_note = "", ""
    if due_on is not None and due_on != action.due_on:
        if due_on < _today():
            raise ValidationError({"due_on": "A due date cannot be in the past."})
        if action.check_on and action.check_on < due_on:
            raise ValidationError({"due_on": f"The effect is to be checked on "
                                             f"{_day(action.check_on)}; the action must be due "
                                             "by then."})
        changes["due_on"] = (action.due_on, due_on)
        action.due_on = due_on
    if owner is not None and owner.pk != action.owner_id:
        _check_owner(owner)
        changes["owner"] = (action.owner, owner)
        action.owner = owner
    if not changes:
        return action
    action.full_clean()
    action.save()
    audit_record(instance=action, changes=changes, actor=by, at=at)
    if "owner" in changes:
        _notify(owner, action.complaint, f"Action for you, due {_day(action.due_on)}: "
                                         f"{action.description}", at=at, by=by)
    if action.complaint_id and "state" in changes:
        _note(action.complaint, f"Action {action.get_state_display().lower()}: "
                                f"{action.description}", by=by, at=at)
    return action


@transaction.atomic
def action_check(*, by, action: Action, effect: str, note: str = "") -> Action:
    """Record whether a done action worked, on or after its check date."""
    _may_work_action(by, action, owner_may=True)
    at = timezone.now()
    action = Action.objects.select_for_update().get(pk=action.pk) \
        if connection.features.has_select_for_update else Action.objects.get(pk=action.pk)
    if action.state != Action.State.DONE:
        raise ValidationError({"effect": "Check an action's effect once it is done."})
    if action.check_on and _today() < action.check_on:
        raise ValidationError({"effect": f"The effect is to be checked on "
                                         f"{_day(action.check_on)}; record it then."})
    if action.effect:
        raise ValidationError({"effect": "The effect of this action has already been "
                                         "recorded."})
    if effect not in Action.Effect.values:
        raise ValidationError({"effect": "Say whether the action was effective or not."})
    action.effect, action.effect_note = effect, (note or "").strip()
    action.full_clean()
    action.save()
    audit_record(instance=action, changes={"effect": ("", effect)}, actor=by, at=at)
    return action


@transaction.atomic
def action_link(*, by, action: Action, initiative) -> Action:
    """Link `action` to an improvement initiative (None: unlink)."""
    _may_work_action(by, action, owner_may=False)
    at = timezone.now()
    old = action.initiative
    if (old.pk if old else None) == (initiative.pk if initiative else None):
        return action
    action.initiative = initiative
    action.full_clean()
    action.save(update_fields=["initiative"])
    audit_record(instance=action, changes={"initiative": (old, initiative)}, actor=by, at=at)
    return action
