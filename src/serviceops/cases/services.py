"""Use cases that change cases. Every change is checked, recorded as a case event, audited,
and done in one transaction; notifications are queued after commit."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from serviceops.cases.attachments import CheckedFile
from serviceops.cases.choices import (
    OPEN_STATUSES,
    TRANSITIONS,
    AssignmentMethod,
    EventKind,
    LinkKind,
    MessageKind,
    Status,
    priority_for,
)
from serviceops.cases.derived import derived_owed
from serviceops.cases.models import (
    Attachment,
    CannedResponse,
    Case,
    CaseEvent,
    CaseLink,
    Category,
    Message,
    Tag,
)
from serviceops.core.audit import audit_record
from serviceops.core.permissions import allowed, require, require_case, staff_of, team_ids_of
from serviceops.core.roles import Perm, Role
from serviceops.core.rows import row_insert
from serviceops.customers.models import Customer
from serviceops.people.models import Staff, Team

# Roles that take cases from a queue (round robin and skill routing pick among these).
WORKING_ROLES = (Role.AGENT, Role.TEAM_LEADER)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _refresh_derived(case: Case) -> None:
    """Owe a refresh of what is derived from the case and its events: its SLA clocks (and
    policy match) and its facts (`cases.derived`). Both copy the case's grouping fields
    (team, channel, category...), so any saved change calls this, not only events."""
    derived_owed(case.pk)


def _event(case: Case, kind: str, *, by, at: datetime, from_value="", to_value="",
           data: dict | None = None) -> CaseEvent:
    _refresh_derived(case)
    return row_insert(CaseEvent(
        case=case, kind=kind, at=at, actor=staff_of(by) if by is not None else None,
        from_value="" if from_value is None else str(from_value),
        to_value="" if to_value is None else str(to_value), data=data or {},
    ))


def _save(case: Case, *, by, at: datetime, changes: dict[str, tuple]) -> None:
    case.updated_at = at
    case.full_clean()
    case.save()
    audit_record(instance=case, changes=changes, actor=by, at=at)
    _refresh_derived(case)  # a change of channel or customer records no event


def _lock(case: Case) -> Case:
    """Re-read `case` in place under a row lock, so concurrent changes apply one after the
    other and the caller's object shows the outcome."""
    qs = Case.objects.all()
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    case.refresh_from_db(from_queryset=qs)
    return case


def _notify_assignee(case: Case) -> None:
    from serviceops.cases.tasks import case_notify_assignee

    if case.assignee_id:
        case_id, staff_id = case.pk, case.assignee_id
        transaction.on_commit(lambda: case_notify_assignee(case_id, staff_id))


@transaction.atomic
def case_create(
    *, by, subject: str, description: str = "", channel: str = "email",
    customer: Customer | None = None, team: Team | None = None,
    category: Category | None = None, impact: int = 2, urgency: int = 2,
    assignee: Staff | None = None, tags: Iterable[str] = (), now: datetime | None = None,
) -> Case:
    """Open a case on behalf of `by` (None for the system) and record its creation. The case
    returned is marked `just_created` and carries `tag_names` (its tags as stored, sorted),
    so that a caller answering with it need not read back what was just written."""
    at = _now(now)
    if by is not None:
        require(by, Perm.CASE_WORK)
        if team is not None and not allowed(by, Perm.VIEW_ALL_TEAMS):
            if team.pk not in team_ids_of(by):
                raise ValidationError({"team": "You can only open cases for your own teams."})
    case = Case(
        subject=subject.strip(), description=description, channel=channel, customer=customer,
        team=team, category=category, impact=impact, urgency=urgency,
        priority=priority_for(impact, urgency), opened_at=at, updated_at=at,
    )
    # The related rows were given as rows just read, and the database's foreign keys still
    # hold: checking that they exist would be one query each.
    case.full_clean(exclude=["customer", "team", "category"])
    row_insert(case)
    _event(case, EventKind.CREATED, by=by, at=at, to_value=Status.NEW,
           data={"channel": channel, "priority": case.priority})
    case.just_created = True
    case.tag_names = _set_tags(case, tags)[1] if tags else []
    if assignee is not None:
        case_assign(case=case, assignee=assignee, by=by, now=at)
    return case


def _check_transition(case: Case, status: str) -> None:
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if status not in TRANSITIONS[case.status]:
        next_statuses = sorted(TRANSITIONS[case.status])
        allowed_next = ", ".join(Status(s).label for s in next_statuses) or "none"
        raise ValidationError({
            "status": f"A {Status(case.status).label.lower()} case cannot become "
                      f"{Status(status).label.lower()} (allowed: {allowed_next})."
        })


@transaction.atomic
def case_change_status(*, case: Case, status: str, by, now: datetime | None = None) -> Case:
    """Move `case` to `status` if the lifecycle allows it, and record the change."""
    at = _now(now)
    if by is not None:
        require_case(by, case, Perm.CASE_WORK)
    case = _lock(case)
    if case.status == status:
        return case
    _check_transition(case, status)
    old = case.status
    case.status = status
    if status == Status.RESOLVED:
        case.resolved_at = at
    elif status == Status.CLOSED:
        case.closed_at = at
        case.resolved_at = case.resolved_at or at
    elif status == Status.REOPENED:
        case.resolved_at = None
    _save(case, by=by, at=at, changes={"status": (old, status)})
    _event(case, EventKind.STATUS_CHANGED, by=by, at=at, from_value=old, to_value=status)
    return case


def _check_assignee(case: Case, assignee: Staff) -> None:
    if not assignee.is_active or assignee.user_id is None:
        raise ValidationError({"assignee": f"{assignee} cannot take cases (no active login)."})
    if case.team_id and not assignee.teams.filter(pk=case.team_id).exists():
        raise ValidationError({"assignee": f"{assignee} is not in the team {case.team}."})


@transaction.atomic
def case_assign(
    *, case: Case, assignee: Staff | None, by, now: datetime | None = None,
    method: str = AssignmentMethod.MANUAL,
) -> Case:
    """Give `case` to `assignee` (None: unassign), and notify them after commit.

    Anyone who works cases may take one themselves; assigning to someone else needs the
    right to assign others.
    """
    at = _now(now)
    if by is not None:
        require_case(by, case, Perm.CASE_WORK)
        if assignee is None or assignee != staff_of(by):
            require(by, Perm.CASE_ASSIGN_OTHERS)
    case = _lock(case)
    if case.assignee_id == (assignee.pk if assignee else None):
        return case
    if assignee is not None:
        _check_assignee(case, assignee)
    old = case.assignee_id
    case.assignee = assignee
    changes: dict[str, tuple] = {"assignee": (old, assignee.pk if assignee else None)}
    if case.status == Status.NEW and assignee is not None:
        # Taking a new case starts work on it.
        _event(case, EventKind.STATUS_CHANGED, by=by, at=at, from_value=Status.NEW,
               to_value=Status.OPEN, data={"reason": "assigned"})
        case.status = Status.OPEN
        changes["status"] = (Status.NEW, Status.OPEN)
    _save(case, by=by, at=at, changes=changes)
    _event(case, EventKind.ASSIGNED, by=by, at=at, from_value=old or "",
           to_value=assignee.pk if assignee else "", data={"method": method})
    if assignee is not None:
        Staff.objects.filter(pk=assignee.pk).update(last_assigned_at=at)
        _notify_assignee(case)
    return case


def _candidates(case: Case):
    if not case.team_id:
        raise ValidationError({"team": "Automatic assignment needs the case to have a team."})
    return Staff.objects.filter(
        teams=case.team_id, is_active=True, user__isnull=False, user__is_active=True,
        role__in=WORKING_ROLES,
    )


@transaction.atomic
def case_assign_round_robin(*, case: Case, by, now: datetime | None = None) -> Case:
    """Assign `case` to the member of its team who has waited longest for a case."""
    if by is not None:
        require_case(by, case, Perm.CASE_ASSIGN_OTHERS)
    candidates = _candidates(case).order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    if connection.features.has_select_for_update:
        # Two cases assigned at the same moment must not both pick the same person.
        candidates = candidates.select_for_update(skip_locked=True)
    chosen = candidates.first()
    if chosen is None:
        raise ValidationError({"assignee": f"Nobody in {case.team} can take cases."})
    return case_assign(case=case, assignee=chosen, by=None if by is None else by, now=now,
                       method=AssignmentMethod.ROUND_ROBIN)


def required_skill(category: Category | None):
    """Return the skill needed for `category`: its own, or the nearest ancestor's."""
    node, seen = category, set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        if node.skill_id:
            return node.skill
        node = node.parent
    return None


@transaction.atomic
def case_assign_by_skill(*, case: Case, by, now: datetime | None = None) -> Case:
    """Assign `case` to the least-loaded team member with the skill its category needs."""
    if by is not None:
        require_case(by, case, Perm.CASE_ASSIGN_OTHERS)
    skill = required_skill(case.category)
    if skill is None:
        raise ValidationError({"category": "This case's category names no skill."})
    chosen = (
        _candidates(case).filter(skills=skill)
        .annotate(load=Count("cases", filter=Q(cases__status__in=OPEN_STATUSES)))
        .order_by("load", F("last_assigned_at").asc(nulls_first=True), "id")
        .first()
    )
    if chosen is None:
        raise ValidationError({"assignee": f"Nobody in {case.team} has the skill {skill}."})
    return case_assign(case=case, assignee=chosen, by=by, now=now, method=AssignmentMethod.SKILL)


UPDATABLE = {"subject", "team", "category", "impact", "urgency", "customer", "channel"}


@transaction.atomic
def case_update(*, case: Case, by, now: datetime | None = None, **fields) -> Case:
    """Change plain fields of `case`; priority follows impact × urgency."""
    at = _now(now)
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if by is not None:
        require_case(by, case, Perm.CASE_WORK)
        if "team" in fields and fields["team"] is not None and not allowed(
            by, Perm.CASE_ASSIGN_OTHERS
        ):
            raise ValidationError({"team": "Only team leaders and managers move cases."})
    case = _lock(case)
    changes: dict[str, tuple] = {}
    for name, value in fields.items():
        old = getattr(case, name)
        if old != value:
            changes[name] = (old, value)
            setattr(case, name, value)
    old_priority = case.priority
    case.priority = priority_for(case.impact, case.urgency)
    if case.priority != old_priority:
        changes["priority"] = (old_priority, case.priority)
    if not changes:
        return case
    if "team" in changes and case.assignee_id and case.team_id and not case.assignee.teams.filter(
        pk=case.team_id
    ).exists():
        changes["assignee"] = (case.assignee_id, None)
        _event(case, EventKind.ASSIGNED, by=by, at=at, from_value=case.assignee_id,
               data={"reason": "team changed"})
        case.assignee = None
    _save(case, by=by, at=at, changes=changes)
    if "priority" in changes:
        _event(case, EventKind.PRIORITY_CHANGED, by=by, at=at, from_value=old_priority,
               to_value=case.priority)
    if "team" in changes:
        old_team, new_team = changes["team"]
        _event(case, EventKind.TEAM_CHANGED, by=by, at=at,
               from_value=old_team.pk if old_team else "",
               to_value=new_team.pk if new_team else "")
    if "category" in changes:
        old_cat, new_cat = changes["category"]
        _event(case, EventKind.CATEGORY_CHANGED, by=by, at=at,
               from_value=old_cat.pk if old_cat else "",
               to_value=new_cat.pk if new_cat else "")
    return case


def _set_tags(case: Case, names: Iterable[str]) -> tuple[list[str], list[str]]:
    wanted = sorted({n.strip().lower() for n in names if n and n.strip()})
    old = sorted(case.tags.values_list("name", flat=True))
    if wanted == old:
        return old, wanted
    tags = []
    for name in wanted:
        tag, _ = Tag.objects.get_or_create(name=name[:50])
        tags.append(tag)
    case.tags.set(tags)
    return old, wanted


@transaction.atomic
def case_set_tags(*, case: Case, tags: Iterable[str], by, now: datetime | None = None) -> Case:
    """Replace the tags of `case`."""
    at = _now(now)
    if by is not None:
        require_case(by, case, Perm.CASE_WORK)
    old, new = _set_tags(case, tags)
    if old != new:
        audit_record(instance=case, changes={"tags": (",".join(old), ",".join(new))}, actor=by,
                     at=at)
        _event(case, EventKind.TAGS_CHANGED, by=by, at=at, from_value=",".join(old)[:100],
               to_value=",".join(new)[:100], data={"from": old, "to": new})
    return case


def _attach(message: Message, files: Sequence[CheckedFile], *, by, at: datetime) -> None:
    for checked in files:
        attachment = Attachment(
            message=message, name=checked.name, size=len(checked.content),
            content_type=checked.content_type, sha256=checked.sha256,
        )
        attachment.file.save(checked.name, ContentFile(checked.content), save=False)
        attachment.save()
        _event(message.case, EventKind.ATTACHMENT_ADDED, by=by, at=at, to_value=checked.name,
               data={"message": message.pk, "size": len(checked.content)})


@transaction.atomic
def case_reply(
    *, case: Case, body: str, by, status: str | None = None,
    attachments: Sequence[CheckedFile] = (), now: datetime | None = None,
) -> Message:
    """Send a public reply on `case`, then move it to `status` (a new case becomes open)."""
    at = _now(now)
    require_case(by, case, Perm.CASE_WORK)
    if not body.strip():
        raise ValidationError({"body": "A reply cannot be empty."})
    case = _lock(case)
    if case.status == Status.CLOSED:
        raise ValidationError({"status": "This case is closed; open a new case to reply."})
    if status:
        _check_transition(case, status)
    message = Message.objects.create(
        case=case, kind=MessageKind.REPLY, body=body, author=staff_of(by), channel=case.channel,
        created_at=at,
    )
    _event(case, EventKind.PUBLIC_REPLY, by=by, at=at, data={"message": message.pk})
    _attach(message, attachments, by=by, at=at)
    target = status or (Status.OPEN if case.status == Status.NEW else None)
    if target and target != case.status:
        case_change_status(case=case, status=target, by=by, now=at)
    else:
        Case.objects.filter(pk=case.pk).update(updated_at=at)
    return message


@transaction.atomic
def case_note(
    *, case: Case, body: str, by, attachments: Sequence[CheckedFile] = (),
    now: datetime | None = None,
) -> Message:
    """Add an internal note to `case` (never shown to the customer)."""
    at = _now(now)
    require_case(by, case, Perm.CASE_NOTE)
    if not body.strip():
        raise ValidationError({"body": "A note cannot be empty."})
    message = Message.objects.create(
        case=case, kind=MessageKind.NOTE, body=body, author=staff_of(by), created_at=at,
    )
    _event(case, EventKind.INTERNAL_NOTE, by=by, at=at, data={"message": message.pk})
    _attach(message, attachments, by=by, at=at)
    Case.objects.filter(pk=case.pk).update(updated_at=at)
    return message


@transaction.atomic
def case_customer_message(
    *, case: Case, body: str, channel: str | None = None,
    attachments: Sequence[CheckedFile] = (), now: datetime | None = None,
) -> Message:
    """Record a message from the customer; a case waiting on them, or resolved, comes back."""
    at = _now(now)
    case = _lock(case)
    message = Message.objects.create(
        case=case, kind=MessageKind.CUSTOMER, body=body, channel=channel or case.channel,
        created_at=at,
    )
    _event(case, EventKind.CUSTOMER_MESSAGE, by=None, at=at, data={"message": message.pk})
    _attach(message, attachments, by=None, at=at)
    if case.status == Status.RESOLVED:
        case_change_status(case=case, status=Status.REOPENED, by=None, now=at)
    elif case.status in (Status.PENDING_CUSTOMER,):
        case_change_status(case=case, status=Status.OPEN, by=None, now=at)
    else:
        Case.objects.filter(pk=case.pk).update(updated_at=at)
    return message


@transaction.atomic
def case_link(*, case: Case, other: Case, kind: str, by, now: datetime | None = None) -> CaseLink:
    """Link `case` to `other` (related, duplicate of, or child of)."""
    at = _now(now)
    require_case(by, case, Perm.CASE_WORK)
    require_case(by, other, None)
    if case.pk == other.pk:
        raise ValidationError({"other": "A case cannot be linked to itself."})
    if kind not in LinkKind.values:
        raise ValidationError({"kind": f"Unknown link kind {kind!r}."})
    link, created = CaseLink.objects.get_or_create(
        from_case=case, to_case=other, kind=kind, defaults={"created_at": at}
    )
    if created:
        _event(case, EventKind.LINKED, by=by, at=at, to_value=other.pk, data={"kind": kind})
    return link


@transaction.atomic
def case_merge(*, source: Case, target: Case, by, now: datetime | None = None) -> Case:
    """Merge `source` into `target`: the thread is copied into a note, tags are joined, and
    `source` is closed pointing at `target`. Returns `target`."""
    at = _now(now)
    require_case(by, source, Perm.CASE_MERGE)
    require_case(by, target, Perm.CASE_WORK)
    if source.pk == target.pk:
        raise ValidationError({"target": "A case cannot be merged into itself."})
    if source.merged_into_id or source.status == Status.CLOSED:
        raise ValidationError({"source": f"Case #{source.pk} is closed and cannot be merged."})
    if target.status == Status.CLOSED:
        raise ValidationError({"target": f"Case #{target.pk} is closed; merge into an open case."})
    source = _lock(source)
    lines = [f"Merged from case #{source.pk}: {source.subject}", "", source.description]
    for message in source.messages.all():
        lines += ["", f"[{message.get_kind_display()} {message.created_at:%Y-%m-%d %H:%M}]",
                  message.body]
    Message.objects.create(
        case=target, kind=MessageKind.NOTE, body="\n".join(lines), author=staff_of(by),
        created_at=at,
    )
    old_status = source.status
    source.status, source.merged_into, source.closed_at = Status.CLOSED, target, at
    _save(source, by=by, at=at, changes={"status": (old_status, Status.CLOSED),
                                         "merged_into": (None, target.pk)})
    _event(source, EventKind.STATUS_CHANGED, by=by, at=at, from_value=old_status,
           to_value=Status.CLOSED, data={"reason": "merged"})
    _event(source, EventKind.MERGED, by=by, at=at, to_value=target.pk)
    _event(target, EventKind.MERGED_FROM, by=by, at=at, from_value=source.pk)
    _set_tags(target, set(target.tags.values_list("name", flat=True))
              | set(source.tags.values_list("name", flat=True)))
    return target


BULK_ACTIONS = ("assign", "status", "team", "take", "round_robin")


@transaction.atomic
def case_bulk(*, cases: Sequence[Case], action: str, value, by,
              now: datetime | None = None) -> int:
    """Apply one action to many cases, all or nothing. Returns how many were changed.

    If any case refuses (a transition not allowed, a team not visible), nothing changes and
    the ValidationError names the case.
    """
    require(by, Perm.CASE_BULK)
    at = _now(now)
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": f"Unknown bulk action {action!r}."})
    for case in cases:
        try:
            if action == "assign":
                case_assign(case=case, assignee=value, by=by, now=at)
            elif action == "take":
                case_assign(case=case, assignee=staff_of(by), by=by, now=at)
            elif action == "round_robin":
                case_assign_round_robin(case=case, by=by, now=at)
            elif action == "status":
                case_change_status(case=case, status=value, by=by, now=at)
            elif action == "team":
                case_update(case=case, team=value, by=by, now=at)
        except ValidationError as error:
            messages = "; ".join(error.messages)
            raise ValidationError({"cases": f"Case #{case.pk}: {messages}"}) from error
    return len(cases)


_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")


def canned_render(*, response: CannedResponse, case: Case, agent: Staff | None) -> str:
    """Fill the {{ placeholders }} of `response` from `case`; unknown ones stay visible."""
    customer = case.customer
    values = {
        ("customer", "name"): customer.name if customer else "customer",
        ("customer", "first_name"): (customer.name.split()[0] if customer and customer.name
                                     else "there"),
        ("case", "number"): str(case.pk),
        ("case", "subject"): case.subject,
        ("agent", "name"): agent.name if agent else "",
        ("agent", "first_name"): agent.name.split()[0] if agent and agent.name else "",
        ("team", "name"): case.team.name if case.team else "",
    }
    return _PLACEHOLDER.sub(lambda m: values.get((m[1], m[2]), m[0]), response.body)
