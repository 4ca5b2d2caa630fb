"""Use cases of the SLA app: saving calendars and policies (versioned), keeping each case's
clocks up to date, the escalation sweep and manual escalation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from serviceops.cases.choices import EventKind, Level, Status
from serviceops.cases.derived import derived_lock, derived_owed
from serviceops.cases.models import Case, CaseEvent
from serviceops.core.audit import audit_record
from serviceops.core.permissions import require, require_case, staff_of
from serviceops.core.roles import Perm
from serviceops.people.models import Staff, Team
from serviceops.sla.clocks import Clock, ClockState, Event, Happening, compute_clocks
from serviceops.sla.models import (
    BusinessCalendar,
    CaseClock,
    CaseEscalation,
    CaseSla,
    EscalationLevel,
    Notification,
    ServiceStandard,
    SlaPolicy,
    SlaPolicyVersion,
)

CLOCK_EVENTS = {
    EventKind.CREATED: Happening.CREATED,
    EventKind.STATUS_CHANGED: Happening.STATUS,
    EventKind.PRIORITY_CHANGED: Happening.PRIORITY,
    EventKind.CUSTOMER_MESSAGE: Happening.CUSTOMER_MESSAGE,
    EventKind.PUBLIC_REPLY: Happening.PUBLIC_REPLY,
}
CLOSED = (Status.CLOSED,)


# -- calendars and policies ------------------------------------------------------------------


@transaction.atomic
def calendar_save(*, calendar: BusinessCalendar, by, now: datetime | None = None,
                  ) -> BusinessCalendar:
    """Validate and save a calendar; policies that use it get a new version."""
    require(by, Perm.MANAGE_SETTINGS)
    now = now or timezone.now()
    calendar.full_clean()
    created = calendar.pk is None
    calendar.save()
    audit_record(instance=calendar, changes={"definition": (None, calendar.definition)},
                 actor=by, at=now)
    if not created:
        for policy in calendar.policies.all():
            policy_version_create(policy, now)
    return calendar


@transaction.atomic
def standard_save(*, standard: ServiceStandard, by, now: datetime | None = None,
                  ) -> ServiceStandard:
    """Validate and save a published service standard."""
    require(by, Perm.MANAGE_SETTINGS)
    standard.full_clean()
    standard.save()
    audit_record(instance=standard, changes={"statement": (None, standard.statement)},
                 actor=by, at=now or timezone.now())
    return standard


@transaction.atomic
def policy_save(*, policy: SlaPolicy, by, categories: Sequence | None = None,
                teams: Sequence | None = None, now: datetime | None = None) -> SlaPolicy:
    """Validate and save a policy and record its terms as a new version."""
    require(by, Perm.MANAGE_SETTINGS)
    now = now or timezone.now()
    policy.full_clean()
    policy.save()
    if categories is not None:
        policy.categories.set(categories)
    if teams is not None:
        policy.teams.set(teams)
    audit_record(instance=policy, changes={"targets": (None, policy.targets)}, actor=by, at=now)
    policy_version_create(policy, now)
    return policy


def policy_version_create(policy: SlaPolicy, now: datetime) -> SlaPolicyVersion:
    """Record the policy's current terms and calendar as its next version."""
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return SlaPolicyVersion.objects.create(
        policy=policy, number=number, targets=policy.targets, pauses=policy.pauses,
        business_time=policy.business_time,
        calendar_definition=policy.calendar.definition if policy.calendar else None,
        created_at=now)


# -- matching a case to a policy -------------------------------------------------------------


class PolicyBook:
    """The active policies in matching order with their current versions, loaded once."""

    def __init__(self) -> None:
        policies = list(SlaPolicy.objects.filter(is_active=True)
                        .prefetch_related("categories", "teams"))
        latest = {}
        for version in (SlaPolicyVersion.objects.filter(policy__in=policies)
                        .select_related("policy").order_by("number")):
            latest[version.policy_id] = version
        self.entries = [
            (policy, {c.pk for c in policy.categories.all()}, {t.pk for t in policy.teams.all()},
             latest.get(policy.pk))
            for policy in policies
        ]
        self._versions: dict[int, SlaPolicyVersion] = {v.pk: v for v in latest.values()}
        self._levels: dict[int, list[EscalationLevel]] = {}

    def version(self, version_id: int | None) -> SlaPolicyVersion | None:
        """A version by id (older versions are loaded once, with their policy)."""
        if version_id is None:
            return None
        if version_id not in self._versions:
            self._versions[version_id] = (SlaPolicyVersion.objects.select_related("policy")
                                          .get(pk=version_id))
        return self._versions[version_id]

    def levels(self, version: SlaPolicyVersion | None) -> list[EscalationLevel]:
        if version is None:
            return []
        if version.policy_id not in self._levels:
            self._levels[version.policy_id] = list(
                EscalationLevel.objects.filter(policy_id=version.policy_id)
                .select_related("reassign_team"))
        return self._levels[version.policy_id]

    def match(self, case: Case, tier: str | None) -> SlaPolicyVersion | None:
        for policy, categories, teams, version in self.entries:
            if version is None:
                continue
            if policy.priorities and case.priority not in {int(p) for p in policy.priorities}:
                continue
            if policy.channels and case.channel not in policy.channels:
                continue
            if policy.tiers and tier not in policy.tiers:
                continue
            if categories and case.category_id not in categories:
                continue
            if teams and case.team_id not in teams:
                continue
            return version
        return None


# -- clocks ------------------------------------------------------------------------------------


def case_sla_refresh(*, case_id: int, now: datetime | None = None,
                     book: PolicyBook | None = None) -> CaseSla | None:
    """Match the case to a policy (keeping the version it already has, see `_version_for`),
    compute its clocks from its events and store them with the next moment the sweep must
    look at it. Safe to repeat."""
    return _refresh(case_id, now or timezone.now(), book or PolicyBook())[0]


def _refresh(case_id: int, now: datetime, book: PolicyBook,
             ) -> tuple[CaseSla | None, list[Clock]]:
    """`case_sla_refresh`, also returning the clocks it computed (for the sweep)."""
    stored = _refresh_many([case_id], now, book)
    return stored.get(case_id, (None, []))


def sla_recompute(*, cases: Iterable[int] | None = None, now: datetime | None = None,
                  batch: int = 2000, rematch: bool = False, progress=None) -> int:
    """Recompute the clocks of many cases (all when `cases` is None), e.g. after an import.
    With `rematch`, closed cases are matched to today's policies too (to apply a new policy
    to imported history); otherwise they keep the version they have. Returns how many cases
    were processed."""
    now = now or timezone.now()
    book = PolicyBook()
    ids = list(cases) if cases is not None else list(
        Case.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        done += len(_refresh_many(ids[start:start + batch], now, book, rematch=rematch))
        if progress:
            progress(done, len(ids))
    return done


def _refresh_many(ids: Sequence[int], now: datetime, book: PolicyBook, *,
                  rematch: bool = False) -> dict[int, tuple[CaseSla, list[Clock]]]:
    """Compute and store the clocks of a batch of cases in a few queries; return each case's
    SLA row and clocks."""
    cases = {c.pk: c for c in Case.objects.select_related("customer", "sla")
             .filter(pk__in=ids)}
    events = _clock_events(CaseEvent.objects.filter(case_id__in=ids), cases)
    applied: dict[int, set] = defaultdict(set)
    for case_id, level_id, kind, cycle in CaseEscalation.objects.filter(
            case_id__in=ids, level__isnull=False).values_list("case_id", "level_id", "clock",
                                                              "cycle"):
        applied[case_id].add((level_id, kind, cycle))
    clock_rows: list[CaseClock] = []
    slas: dict[int, CaseSla] = {}
    computed: dict[int, list[Clock]] = {}
    for case_id, case in cases.items():
        version = _version_for(case, book, rematch)
        clocks: list[Clock] = []
        if version is not None and events.get(case_id):
            clocks = compute_clocks(events[case_id], version.terms(), version.calendar(), now)
        computed[case_id] = clocks
        clock_rows += [
            CaseClock(case_id=case_id, kind=c.kind.value, cycle=c.cycle, priority=c.priority,
                      target_seconds=int(c.target.total_seconds()), started_at=c.started_at,
                      stopped_at=c.stopped_at, due_at=c.due_at, breached_at=c.breached_at,
                      elapsed_seconds=c.elapsed.total_seconds(),
                      paused_seconds=c.paused.total_seconds(), state=c.state.value,
                      running=c.running, as_of=now, team_id=case.team_id,
                      channel=case.channel, category_id=case.category_id,
                      merged=case.merged_into_id is not None)
            for c in clocks]
        slas[case_id] = CaseSla(
            case_id=case_id, version=version, computed_at=now,
            next_due_at=min((c.due_at for c in clocks if c.running and c.due_at), default=None),
            breached=any(c.state is ClockState.BREACHED for c in clocks),
            next_check_at=_next_check(version, clocks, book.levels(version),
                                      applied[case_id]))
    # Upserts, not plain inserts: a refresh after a request's commit can race the sweep (or
    # another request) on the same case; both compute from the same events, last one wins.
    with transaction.atomic():
        CaseClock.objects.filter(case_id__in=list(cases)).delete()
        CaseClock.objects.bulk_create(
            clock_rows, batch_size=1000, update_conflicts=True,
            unique_fields=["case", "kind", "cycle"],
            update_fields=[f.name for f in CaseClock._meta.concrete_fields
                           if f.name not in ("id", "case", "kind", "cycle")])
        CaseSla.objects.bulk_create(
            slas.values(), batch_size=1000, update_conflicts=True, unique_fields=["case"],
            update_fields=["version", "next_check_at", "next_due_at", "breached",
                           "computed_at"])
    return {case_id: (sla, computed[case_id]) for case_id, sla in slas.items()}


def _clock_events(queryset, cases: dict[int, Case]) -> dict[int, list[Event]]:
    rows = (queryset.filter(kind__in=list(CLOCK_EVENTS)).order_by("case_id", "at", "id")
            .values_list("case_id", "kind", "at", "from_value", "to_value", "data"))
    by_case: dict[int, list[Event]] = defaultdict(list)
    first_priority: dict[int, str] = {}
    for case_id, kind, at, from_value, to_value, data in rows:
        what = CLOCK_EVENTS[kind]
        value = to_value
        if kind == EventKind.CREATED:
            value = str((data or {}).get("priority") or "")
        elif kind == EventKind.PRIORITY_CHANGED:
            first_priority.setdefault(case_id, from_value)
        by_case[case_id].append(Event(at=at, what=what, value=value))
    for case_id, events in by_case.items():
        if events[0].what is Happening.CREATED and not events[0].value:
            # Imported histories may not say the priority at creation: the first change's
            # "from", or else today's priority.
            known = cases.get(case_id)
            priority = first_priority.get(case_id) or (known.priority if known else 3)
            events[0] = Event(at=events[0].at, what=Happening.CREATED, value=str(priority))
    return by_case


def _version_for(case: Case, book: PolicyBook, rematch: bool = False,
                 ) -> SlaPolicyVersion | None:
    """A closed case keeps its version for good (unless `rematch`). An open case follows the
    policy its current attributes match, keeping its version while that policy still matches."""
    current = None if rematch else getattr(case, "sla", None)
    if current is not None and case.status in CLOSED:
        return book.version(current.version_id)
    tier = case.customer.tier if case.customer_id else None
    matched = book.match(case, tier)
    if current is not None and current.version_id is not None and matched is not None:
        kept = book.version(current.version_id)
        if kept is not None and kept.policy_id == matched.policy_id:
            return kept
    return matched


def _moments(version: SlaPolicyVersion, clocks: list[Clock], levels: list[EscalationLevel],
             ) -> list[tuple[datetime, Clock, EscalationLevel | None]]:
    """Each (moment, clock, level) at which something is due: every escalation level of every
    running clock, and each running clock's due time (to mark the breach)."""
    calendar = version.calendar()
    found = []
    for clock in clocks:
        if clock.stopped_at is not None:
            continue
        if clock.running and clock.breached_at is None and clock.due_at:
            found.append((clock.due_at, clock, None))
        for level in levels:
            if level.clock != clock.kind.value:
                continue
            if level.percent_consumed is not None:
                share = level.percent_consumed / 100
                # Reached already (perhaps before a pause): due now; else when it will be.
                moment = (clock.as_of if clock.consumed >= share
                          else clock.moment_consumed(share, calendar))
            else:
                moment = (clock.breached_at + timedelta(minutes=level.minutes_after_breach)
                          if clock.breached_at is not None else None)
            if moment is not None:
                found.append((moment, clock, level))
    return found


def _next_check(version: SlaPolicyVersion | None, clocks: list[Clock],
                levels: list[EscalationLevel], applied: set) -> datetime | None:
    if version is None or not clocks:
        return None
    pending = [moment for moment, clock, level in _moments(version, clocks, levels)
               if level is None or (level.pk, clock.kind.value, clock.cycle) not in applied]
    return min(pending, default=None)


# -- escalation ------------------------------------------------------------------------------


def sla_sweep(*, now: datetime | None = None, limit: int = 500, batch: int = 25) -> int:
    """Apply every escalation that has come due, for up to `limit` cases. Cases are found
    through the indexed `next_check_at` and handled `batch` at a time, each batch in its own
    transaction: claimed under row locks that a second worker skips (PostgreSQL), or under
    SQLite's one write lock, which is then let go between batches so that the people using
    the service (signing in, replying) wait for a batch, not for the whole sweep. Each level
    is applied at most once per clock (a unique constraint backs this). Returns how many
    escalations were applied."""
    now = now or timezone.now()
    applied = 0
    book = PolicyBook()
    seen: list[int] = []  # a case still due after its turn waits for the next sweep
    while len(seen) < limit:
        with transaction.atomic():
            derived_lock()  # a refresh pass writing the same rows goes first or waits
            due = (CaseSla.objects.filter(next_check_at__lte=now).exclude(case_id__in=seen)
                   .order_by("next_check_at"))
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            # On SQLite the transaction takes the write lock first (BEGIN IMMEDIATE), so two
            # workers' batches run one after the other and the second finds the work done.
            ids = list(due.values_list("case_id", flat=True)[:min(batch, limit - len(seen))])
            for case_id in ids:
                applied += _escalate_due(case_id, now, book)
        seen += ids
        if not ids:
            break
    return applied


def _escalate_due(case_id: int, now: datetime, book: PolicyBook) -> int:
    sla, clocks = _refresh(case_id, now, book)
    if sla is None or sla.version is None:
        return 0
    case = Case.objects.select_related("team", "assignee").get(pk=case_id)
    levels = book.levels(sla.version)
    count = 0
    for moment, clock, level in sorted(_moments(sla.version, clocks, levels),
                                       key=lambda m: (m[0], m[2].position if m[2] else 0)):
        if level is None or moment > now:
            continue
        try:
            with transaction.atomic():  # a savepoint: a duplicate is skipped, not fatal
                escalation = CaseEscalation.objects.create(
                    case=case, level=level, clock=clock.kind.value, cycle=clock.cycle, at=now)
        except IntegrityError:
            continue
        _apply(case, escalation, level=level, clock=clock, notify_only=sla.version.policy
               .notify_only, now=now)
        count += 1
    if count:
        case_sla_refresh(case_id=case_id, now=now, book=book)
    return count


def _apply(case: Case, escalation: CaseEscalation, *, level: EscalationLevel | None,
           clock: Clock | None, notify_only: bool, now: datetime, reason: str = "",
           by=None, reassign_team: Team | None = None, raise_priority: bool = False,
           notify_roles: Sequence[str] = ()) -> None:
    """Carry out an escalation's actions, record them on the escalation and as a case event,
    and notify the people it names (in the app now, by email after commit)."""
    from serviceops.cases.services import case_update
    from serviceops.sla.tasks import escalation_email

    if level is not None:
        reassign_team, raise_priority = level.reassign_team, level.raise_priority
        notify_roles = level.notify_roles
    what = (f"{clock.kind.value.replace('_', ' ')} clock at "
            f"{'breach' if clock.breached_at else f'{clock.consumed:.0%}'}" if clock
            else "by hand")
    actions: list[str] = []
    if reassign_team is not None and reassign_team.pk != case.team_id:
        if notify_only:
            actions.append(f"would move to {reassign_team.name} (notify-only)")
        else:
            case = case_update(case=case, team=reassign_team, by=None, now=now)
            actions.append(f"moved to {reassign_team.name}")
    if raise_priority and case.priority > 1:
        if notify_only:
            actions.append("would raise the priority (notify-only)")
        else:
            before = case.priority
            if case.urgency > Level.HIGH:
                case = case_update(case=case, urgency=case.urgency - 1, by=None, now=now)
            elif case.impact > Level.HIGH:
                case = case_update(case=case, impact=case.impact - 1, by=None, now=now)
            actions.append(f"priority {before} → {case.priority}")
    recipients = _recipients(case, notify_assignee=level.notify_assignee if level else True,
                             roles=notify_roles)
    if recipients:
        actions.append("notified " + ", ".join(sorted(s.name for s in recipients)))
    escalation.actions = actions
    escalation.reason = reason
    escalation.by = staff_of(by) if by is not None else None
    escalation.save(update_fields=["actions", "reason", "by"])
    CaseEvent.objects.create(
        case=case, kind=EventKind.ESCALATED, at=now, actor=escalation.by,
        to_value=f"level {level.position}" if level else "manual",
        data={"clock": escalation.clock, "cycle": escalation.cycle, "actions": actions,
              "reason": reason, "escalation": escalation.pk})
    text = f"Case #{case.pk} escalated ({what}): {case.subject}"[:300]
    Notification.objects.bulk_create([Notification(recipient=s, case=case, text=text,
                                                    created_at=now) for s in recipients])
    emails = [s.email for s in recipients if s.email]
    if emails:
        transaction.on_commit(lambda: escalation_email(escalation.pk, emails))


def _recipients(case: Case, *, notify_assignee: bool, roles: Sequence[str]) -> list[Staff]:
    people: dict[int, Staff] = {}
    if notify_assignee and case.assignee_id:
        people[case.assignee_id] = case.assignee
    if roles:
        members = Staff.objects.filter(is_active=True, role__in=list(roles))
        # Team roles (team leaders) are those of the case's team; wider roles (managers,
        # administrators) have no team to match, so all of them are alerted.
        team_bound = members.filter(teams=case.team_id) if case.team_id else members.none()
        for staff in team_bound:
            people[staff.pk] = staff
        for staff in members.exclude(role="team_leader").exclude(teams=case.team_id):
            people.setdefault(staff.pk, staff)
    return list(people.values())


@transaction.atomic
def case_escalate(*, case: Case, reason: str, by, to_team: Team | None = None,
                  raise_priority: bool = False, notify_roles: Sequence[str] = ("team_leader",),
                  now: datetime | None = None) -> CaseEscalation:
    """Escalate a case by hand. A reason is required; the escalation is a case event."""
    require_case(by, case, Perm.CASE_WORK)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the case is being escalated."})
    now = now or timezone.now()
    escalation = CaseEscalation.objects.create(case=case, at=now)
    _apply(Case.objects.select_related("team", "assignee").get(pk=case.pk), escalation,
           level=None, clock=None, notify_only=False, now=now, reason=reason.strip(), by=by,
           reassign_team=to_team, raise_priority=raise_priority, notify_roles=notify_roles)
    derived_owed(case.pk)
    return escalation
