"""Building cases and their events from validated rows, and writing them in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from serviceops.cases.choices import Channel, EventKind, Level, Status, priority_for
from serviceops.cases.facts import case_facts_refresh
from serviceops.cases.importing.mapping import Row
from serviceops.cases.models import Case, CaseEvent, Category
from serviceops.customers.models import Customer
from serviceops.people.models import Staff, Team

BATCH = 2000


@dataclass
class Built:
    """One case ready to write: the unsaved Case, its events and its tag names."""

    case: Case
    events: list[CaseEvent]
    tags: list[str]


class Lookups:
    """Teams, staff, customers and categories by name, created once before the write."""

    def __init__(self):
        self.teams: dict[str, Team] = {}
        self.staff: dict[str, Staff] = {}
        self.customers: dict[str, Customer] = {}
        self.categories: dict[tuple[str, str], Category] = {}

    def prepare(self, names: dict[str, set], now: datetime) -> None:
        for name in sorted(names["team"]):
            self.teams[name], _ = Team.objects.get_or_create(name=name[:100])
        existing = {s.name: s for s in Staff.objects.filter(name__in=names["assignee"])}
        for name in sorted(names["assignee"]):
            self.staff[name] = existing.get(name) or Staff.objects.create(name=name[:150])
        known = {c.external_ref: c for c in
                 Customer.objects.filter(external_ref__in=names["customer"])}
        new = [Customer(name=name[:200], external_ref=name[:100], created_at=now)
               for name in sorted(names["customer"]) if name not in known]
        Customer.objects.bulk_create(new, batch_size=BATCH)
        known |= {c.external_ref: c for c in
                  Customer.objects.filter(external_ref__in=[c.external_ref for c in new])}
        self.customers = known
        for parent_name, child_name in sorted(names["category"]):
            parent = self.categories.get((parent_name, ""))
            if parent is None:
                parent, _ = Category.objects.get_or_create(name=parent_name[:100], parent=None)
                self.categories[(parent_name, "")] = parent
            if child_name:
                child, _ = Category.objects.get_or_create(name=child_name[:100], parent=parent)
                self.categories[(parent_name, child_name)] = child


def collect_names(group: list[Row], names: dict[str, set]) -> None:
    """Add the team, assignee, customer and (category, subcategory) names of `group`."""
    for row in group:
        v = row.values
        for target in ("team", "assignee", "customer"):
            if target in v:
                names[target].add(str(v[target]))
        if "category" in v:
            names["category"].add((str(v["category"]), str(v.get("subcategory", ""))))


def build_case(group: list[Row], look: Lookups) -> Built:
    """Return the case of one group of rows, with its history of events and its tags."""
    first, last = group[0], group[-1]
    v = dict(last.values)
    opened = first.values.get("opened_at") or first.at
    impact, urgency = v.get("impact", Level.MEDIUM), v.get("urgency", Level.MEDIUM)
    category = None
    if "category" in v:
        category = look.categories.get((str(v["category"]), str(v.get("subcategory", "")))) \
            or look.categories.get((str(v["category"]), ""))
    case = Case(
        subject=v["subject"], description=v.get("description", ""),
        channel=first.values.get("channel", Channel.EMAIL), impact=impact, urgency=urgency,
        priority=v.get("priority") or priority_for(impact, urgency),
        category=category, customer=look.customers.get(str(v.get("customer", ""))),
        team=look.teams.get(str(v.get("team", ""))),
        assignee=look.staff.get(str(v.get("assignee", ""))),
        external_ref=first.case_key if not first.case_key.startswith("line-") else "",
        opened_at=opened, updated_at=last.at or opened, status=Status.NEW,
    )
    events: list[CaseEvent] = []

    def event(kind, at, row, old="", new="", **data):
        events.append(CaseEvent(case=case, kind=kind, at=at, from_value=str(old),
                                to_value=str(new), data={"source": "import", "row": row.line,
                                                         **data}))

    event(EventKind.CREATED, opened, first, "", Status.NEW, channel=case.channel)
    state = {"status": Status.NEW, "team": "", "assignee": "", "priority": None, "reopen": 0}
    for row in sorted(group, key=lambda r: (r.at or opened, r.sequence)):
        values, at = row.values, max(row.at or opened, opened)
        team = str(values.get("team", ""))
        if team != state["team"] and team:
            old = look.teams[state["team"]].pk if state["team"] else ""
            event(EventKind.TEAM_CHANGED, at, row, old, look.teams[team].pk)
            state["team"] = team
        assignee = str(values.get("assignee", ""))
        if assignee != state["assignee"]:
            old = look.staff[state["assignee"]].pk if state["assignee"] else ""
            new = look.staff[assignee].pk if assignee else ""
            event(EventKind.ASSIGNED, at, row, old, new)
            state["assignee"] = assignee
        priority = values.get("priority") or priority_for(values.get("impact", impact),
                                                          values.get("urgency", urgency))
        if state["priority"] is not None and priority != state["priority"]:
            event(EventKind.PRIORITY_CHANGED, at, row, state["priority"], priority)
        state["priority"] = priority
        status = values.get("status")
        reopened = values.get("reopen_count", 0) > state["reopen"]
        if reopened:
            state["reopen"] = values["reopen_count"]
            if state["status"] != Status.REOPENED:
                event(EventKind.STATUS_CHANGED, at, row, state["status"], Status.REOPENED)
                state["status"] = Status.REOPENED
        if status and status != state["status"] and not (
            reopened and status in (Status.OPEN, Status.NEW)
        ):
            event(EventKind.STATUS_CHANGED, at, row, state["status"], status)
            state["status"] = status
    case.status = state["status"]
    if case.status in (Status.RESOLVED, Status.CLOSED):
        resolved = [e.at for e in events if e.to_value == Status.RESOLVED]
        case.resolved_at = v.get("resolved_at") or (resolved[-1] if resolved else last.at)
    if case.status == Status.CLOSED:
        closed = [e.at for e in events if e.to_value == Status.CLOSED]
        case.closed_at = v.get("closed_at") or (closed[-1] if closed else last.at)
    tags = [t.strip().lower() for t in str(v.get("tags", "")).split(",") if t.strip()]
    return Built(case=case, events=events, tags=tags)


def write_batch(batch: list[Built]) -> int:
    """Write the cases, events, facts and tags of `batch`; return the number of events."""
    from serviceops.cases.models import Tag

    Case.objects.bulk_create([b.case for b in batch])
    events = [e for b in batch for e in b.events]
    for e in events:
        e.case_id = e.case.pk
    CaseEvent.objects.bulk_create(events, batch_size=BATCH)
    case_facts_refresh([b.case.pk for b in batch])
    names = {t for b in batch for t in b.tags}
    if names:
        Tag.objects.bulk_create([Tag(name=n[:50]) for n in names], ignore_conflicts=True)
        ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
        Case.tags.through.objects.bulk_create(
            [Case.tags.through(case_id=b.case.pk, tag_id=ids[t]) for b in batch
             for t in set(b.tags)], ignore_conflicts=True)
    return len(events)
