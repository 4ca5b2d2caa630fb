"""The reminder sweep behind the complaint deadline job (see `tasks.py`).

A complaint deadline not yet met is *near* from one business day before it falls (in the
regime's calendar) and *breached* once it has passed. Near: the handler is told (the team's
leaders when nobody handles it). Breached: the handler, whoever it was escalated to, the
team's leaders and the managers. Overdue actions go to their owners and the team's leaders;
an effectiveness check that has come due goes to the action's owner.

Each reminder is claimed by inserting its key into `Reminder` (unique): a second run, or a
second worker at the same moment, finds the key taken and sends nothing, so nobody is told
the same thing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from serviceops.complaints.deadlines import default_calendar, warning_from
from serviceops.complaints.models import Action, Complaint, Regime, Reminder, Stage
from serviceops.core.roles import Role
from serviceops.people.models import Staff
from serviceops.sla.businesstime import Calendar
from serviceops.sla.models import Notification

NEAR_BUSINESS_DAYS = 1
# A deadline one business day away is never more than this many calendar days away (the
# longest English run of closed days, Christmas to the first weekday of January, is six),
# so complaints further off are not even read.
LOOKAHEAD = timedelta(days=10)

# (deadline, due field, done field, words)
DEADLINES = (
    ("acknowledge", "acknowledge_due", "acknowledged_at", "acknowledgement"),
    ("holding", "holding_due", "holding_sent_at", "holding response"),
    ("final", "final_due", None, "final response"),
)


def reminders_send(*, now: datetime | None = None) -> int:
    """Send every reminder that has come due and not been sent. Returns how many were."""
    now = now or timezone.now()
    with transaction.atomic():
        return _complaint_reminders(now) + _action_reminders(timezone.localdate(now), now)


def _claim(key: str, *, now: datetime, complaint: Complaint | None = None,
           action: Action | None = None) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a key already taken is skipped, not fatal
            Reminder.objects.create(key=key, complaint=complaint, action=action, sent_at=now)
    except IntegrityError:
        return False
    return True


def _send(people: Iterable[Staff], *, case_id: int | None, text: str, now: datetime) -> None:
    unique = {s.pk: s for s in people if s is not None and s.is_active}
    Notification.objects.bulk_create([
        Notification(recipient=s, case_id=case_id, text=text[:300], created_at=now)
        for s in unique.values()])


def _leaders(team_id: int | None) -> list[Staff]:
    """The team's leaders (none without a team)."""
    if team_id is None:
        return []
    return list(Staff.objects.filter(is_active=True, role=Role.TEAM_LEADER, teams=team_id))


def _managers(team_id: int | None) -> list[Staff]:
    """The managers of the team, or every manager when none is a member of it (managers
    usually oversee all teams without belonging to one)."""
    managers = Staff.objects.filter(is_active=True, role=Role.MANAGER)
    in_team = list(managers.filter(teams=team_id)) if team_id else []
    return in_team or list(managers)


def _when(moment: datetime, calendar: Calendar) -> str:
    local = moment.astimezone(calendar.zone)
    return f"{local.day} {local:%b %Y %H:%M}"


def _complaint_reminders(now: datetime) -> int:
    # A complaint whose final response has been reported overdue has nothing left to remind
    # of (every other deadline falls before it), so it is not read again.
    final_breached = Reminder.objects.filter(
        complaint=OuterRef("pk"),
        key=Concat(Value("c"), Cast(OuterRef("pk"), CharField()), Value(":final:breached")))
    horizon = now + LOOKAHEAD
    candidates = (
        Complaint.objects.filter(resolved_at__isnull=True).exclude(stage=Stage.CLOSED)
        .filter(Q(acknowledge_due__lte=horizon, acknowledged_at__isnull=True)
                | Q(holding_due__lte=horizon, holding_sent_at__isnull=True)
                | Q(final_due__lte=horizon))
        .exclude(Exists(final_breached))
        .select_related("regime", "regime__calendar", "case", "handler", "escalated_to")
        .order_by("final_due", "id")
    )
    calendars: dict[int, Calendar] = {}
    sent = 0
    for complaint in candidates.iterator(chunk_size=500):
        calendar = calendars.get(complaint.regime_id)
        if calendar is None:
            calendar = calendars[complaint.regime_id] = _calendar(complaint.regime)
        sent += _remind_complaint(complaint, calendar, now)
    return sent


def _calendar(regime: Regime) -> Calendar:
    return regime.calendar.calendar() if regime.calendar_id else default_calendar()


def _remind_complaint(complaint: Complaint, calendar: Calendar, now: datetime) -> int:
    sent = 0
    for name, due_field, done_field, words in DEADLINES:
        due = getattr(complaint, due_field)
        if due is None or (done_field and getattr(complaint, done_field) is not None):
            continue
        if name == "holding" and due >= complaint.final_due:
            continue  # the final response's reminder says a holding response will do
        if now >= due:
            state = "breached"
        elif now >= warning_from(due, calendar, business_days=NEAR_BUSINESS_DAYS):
            state = "near"
        else:
            continue
        if not _claim(f"c{complaint.pk}:{name}:{state}", now=now, complaint=complaint):
            continue
        what = words
        if name == "final" and complaint.holding_due and complaint.holding_due >= due \
                and complaint.holding_sent_at is None:
            what = "final response (or a holding response explaining the delay)"
        case = f"case #{complaint.case_id} ({complaint.case.subject})"
        if state == "near":
            people = [complaint.handler] if complaint.handler else _leaders(complaint.team_id)
            text = f"Complaint on {case}: the {what} is due by {_when(due, calendar)}."
        else:
            people = [complaint.handler, complaint.escalated_to, *_leaders(complaint.team_id),
                      *_managers(complaint.team_id)]
            text = f"Overdue complaint on {case}: the {what} was due by {_when(due, calendar)}."
        _send(people, case_id=complaint.case_id, text=text, now=now)
        sent += 1
    return sent


def _action_reminders(today: date, now: datetime) -> int:
    sent = 0
    overdue = (Action.objects.filter(state__in=(Action.State.OPEN, Action.State.IN_PROGRESS),
                                     due_on__lt=today)
               .select_related("owner", "complaint", "complaint__case"))
    for action in overdue.iterator(chunk_size=500):
        if not _claim(f"a{action.pk}:overdue:{action.due_on.isoformat()}", now=now,
                      action=action):
            continue
        team_id = action.complaint.team_id if action.complaint_id else None
        leaders = _leaders(team_id) if team_id else list(
            Staff.objects.filter(is_active=True, role=Role.TEAM_LEADER,
                                 teams__in=action.owner.teams.all()).distinct())
        _send([action.owner, *leaders], now=now,
              case_id=action.complaint.case_id if action.complaint_id else None,
              text=f"Overdue action (due {action.due_on:%d %b %Y}, {action.owner}): "
                   f"{action.description}")
        sent += 1
    checks = (Action.objects.filter(state=Action.State.DONE, effect="", check_on__lte=today)
              .select_related("owner", "complaint"))
    for action in checks.iterator(chunk_size=500):
        if not _claim(f"a{action.pk}:check:{action.check_on.isoformat()}", now=now,
                      action=action):
            continue
        _send([action.owner], now=now,
              case_id=action.complaint.case_id if action.complaint_id else None,
              text=f"Check whether this action worked (due {action.check_on:%d %b %Y}): "
                   f"{action.description}")
        sent += 1
    return sent
