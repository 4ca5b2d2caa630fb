"""The demo organisation: staff, customers and six months of cases with their full history.

Deterministic (fixed seed) and shaped like real service data, without reading it at run time;
the figures below were derived once from public data sets (see docs/demo-data.md):

- arrivals by hour of day and day of week: "Anonymous Bank" call centre, February 1999
  (33,344 calls), and the fpp2 five-minute bank call volumes;
- handle time: the same bank's service times, a log-normal with mu 4.563, sigma 1.260
  (median 107 s; p90 409 s);
- resolution time: ServiceNow incident log (24,918 incidents), quartiles 0.4 h / 22 h / 148 h;
- reassignment (46 % of incidents) and reopen (1.1 %) rates: the same log;
- subjects and descriptions: banking77 customer queries (CC BY 4.0), shipped in
  fixtures/demo_queries.json.
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from serviceops.cases.choices import OPEN_STATUSES, EventKind, MessageKind, Status, priority_for
from serviceops.cases.facts import case_facts_refresh
from serviceops.cases.models import (
    CannedResponse,
    Case,
    CaseEvent,
    Category,
    Message,
    SavedFilter,
    Tag,
)
from serviceops.complaints.models import Complaint
from serviceops.core.roles import Role
from serviceops.customers.models import Adjustment, Customer
from serviceops.people.models import Skill, Staff, Team
from serviceops.people.services import staff_create_login

LONDON = ZoneInfo("Europe/London")
QUERIES = Path(__file__).resolve().parent / "fixtures" / "demo_queries.json"

# Share of the day's contacts arriving in each hour (local time), Anonymous Bank, Feb 1999.
HOUR_SHARE = (0.0037, 0.001, 0.0006, 0.0002, 0.0003, 0.0007, 0.0034, 0.0273, 0.0669, 0.075,
              0.084, 0.0778, 0.0656, 0.0782, 0.072, 0.0695, 0.0705, 0.0575, 0.0512, 0.0476,
              0.0407, 0.0419, 0.0359, 0.0286)
# Relative volume Monday..Sunday. The bank's week ran Sunday–Thursday; here it is moved onto a
# UK Monday–Friday week with its Friday and Saturday levels on Saturday and Sunday.
WEEKDAY_WEIGHT = (6398, 6356, 5839, 6158, 5777, 1950, 866)
HANDLE_MU, HANDLE_SIGMA = 4.563, 1.260
# Resolution time (hours) as a log-normal fitted to the ServiceNow median (22 h) and upper
# quartile (148 h); a fifth of cases are settled within the first contact.
RESOLVE_MU, RESOLVE_SIGMA = math.log(22.0), 2.83
FIRST_CONTACT_SHARE = 0.2
REASSIGN_SHARE = 0.456
REOPEN_SHARE = 0.011
CHANNEL_MIX = (("email", 35), ("phone", 30), ("chat", 15), ("web_form", 10), ("social", 5),
               ("letter", 3), ("face_to_face", 2))
# (impact, urgency) weights giving roughly 1 % critical, 2 % high, 83 % moderate, 14 % low.
IMPACT_URGENCY = (((1, 1), 1), ((1, 2), 1), ((2, 1), 1), ((2, 2), 83), ((2, 3), 7), ((3, 2), 7))
TEAM_OF_PARENT = {
    "Cards": "Cards", "Cash and ATMs": "Cards", "Transfers": "Payments",
    "Top-ups": "Payments", "Payments and fees": "Payments", "Exchange and currencies": "Payments",
    "Account and identity": "Accounts", "Refunds": "Customer Relations",
}
TEAMS = ("Cards", "Payments", "Accounts", "Customer Relations")
FIRST = ("Amara", "Ben", "Chloe", "Dev", "Eilidh", "Femi", "Gareth", "Hana", "Isla", "Jamal",
         "Kirsty", "Liam", "Megan", "Nia", "Owen", "Priya", "Rhys", "Sana", "Tom", "Uma",
         "Viktor", "Wen", "Yusuf", "Zara", "Aled", "Bethan", "Callum", "Divya", "Ewan", "Fatima")
LAST = ("Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
        "Jones", "Khan", "Lewis", "Morgan", "Nowak", "O'Brien", "Patel", "Quinn", "Roberts",
        "Singh", "Taylor", "Usman", "Vaughan", "Walker", "Xu", "Young", "Zielinski")
ORG_WORDS = ("Harbour", "Meadow", "Castle", "River", "Northern", "Albion", "Thistle", "Dragon")
ORG_KINDS = ("Bakery", "Builders", "Consulting", "Dental", "Logistics", "Florists", "Garage")
ADJUSTMENTS = (("large_print", "16pt minimum"), ("bsl_interpreter", "Book 48 h ahead"),
               ("easy_read", ""), ("text_relay", "Relay UK"), ("extra_time", "Allow 14 days"),
               ("named_contact", "Daughter may speak for them"), ("written_only", "Hearing loss"),
               ("phone_only", "Sight loss"), ("braille", ""))
DEMO_LOGINS = [("agent", Role.AGENT.label), ("leader", Role.TEAM_LEADER.label),
               ("manager", Role.MANAGER.label), ("head", Role.HEAD_OF_SERVICE.label),
               ("analyst", Role.QUALITY_ANALYST.label),
               ("trainer", Role.TRAINER.label), ("admin", Role.ADMIN.label),
               ("assessor", Role.ASSESSOR.label)]
REPLIES = ("Thanks for getting in touch. I have looked into this and {fix}.",
           "I'm sorry for the trouble. {fix}, and I'll keep the case open until it is sorted.",
           "Thank you for your patience: {fix}.")
FIXES = ("the payment has been traced and will reach you within two working days",
         "I have reissued the card and cancelled the old one", "the fee has been refunded",
         "your account details are now updated", "the transfer has been released")


@dataclass(frozen=True)
class DemoSize:
    """How big a demo organisation to make."""

    agents_per_team: int = 8
    customers: int = 2_000
    cases: int = 30_000
    days: int = 182


DEMO_SIZES = {
    "small": DemoSize(),
    "large": DemoSize(agents_per_team=25, customers=50_000, cases=1_000_000, days=365),
}


class _Ids:
    """A counter handing out primary keys for rows created in bulk."""

    def __init__(self, model):
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.next = (last or 0) + 1

    def take(self) -> int:
        value, self.next = self.next, self.next + 1
        return value


def _analyze() -> None:
    """Give PostgreSQL's planner statistics for the tables just filled. Until autovacuum gets
    round to it, a table loaded in bulk looks empty to the planner, which then reads a batch
    of cases' events through the wrong index (45 ms instead of 1 ms for 200 cases)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def demo_seed(*, size: DemoSize, password: str, progress: bool = False,
              now: datetime | None = None, seed: int = 2026) -> str:
    """Load the demo organisation unless it is already there; return a one-line summary."""
    if get_user_model().objects.filter(username="admin", staff__isnull=False).exists():
        return (f"Demo data already loaded: {Case.objects.count():,} cases, "
                f"{Customer.objects.count():,} customers.")
    rng = random.Random(seed)
    now = (now or timezone.now()).replace(microsecond=0)
    with transaction.atomic():
        teams, staff_by_team = _people(rng, size, password)
        categories = _categories()
        customers = _customers(rng, size, now)
        _reference_data(teams, staff_by_team)
    _cases(rng, size, now, teams, staff_by_team, categories, customers, progress)
    _reset_sequences(Case, Message)
    _analyze()  # the clocks below read the events case by case
    _service_levels(teams, size, now, progress)
    _measures(list(teams.values()), now)
    _workforce(rng, teams, staff_by_team, now)
    _complaints(rng, staff_by_team, now)
    _analyze()
    return (f"Demo data loaded: {Staff.objects.count()} staff in {len(teams)} teams, "
            f"{Customer.objects.count():,} customers, {Case.objects.count():,} cases, "
            f"{CaseEvent.objects.count():,} case events, "
            f"{Complaint.objects.count():,} complaints.")


# KPI targets and amber limits (times in seconds, rates 0–1) and who owns them.
DEMO_KPI_TARGETS = {
    "first_response_time_median": (4 * 3600, 8 * 3600, "manager"),
    "first_response_time_business_median": (2 * 3600, 4 * 3600, "manager"),
    "resolution_time_median": (24 * 3600, 36 * 3600, "manager"),
    "resolution_time_p90": (10 * 86400, 20 * 86400, "head"),
    "reopen_rate": (0.02, 0.04, "manager"),
    "reassignment_rate": (0.25, 0.35, "manager"),
    "first_contact_resolution": (0.70, 0.60, "head"),
    "sla_attainment_first_response": (0.90, 0.85, "head"),
    "sla_attainment_resolution": (0.85, 0.75, "head"),
    "backlog": (1000, 1500, "manager"),
    "cost_per_contact": (22.0, 25.0, "head"),
    "staff_engagement": (0.75, 0.65, "head"),
}
DEMO_SCORECARD = (
    ("financial", "Deliver the service at a sustainable cost", ["cost_per_contact"],
     [("Move simple enquiries to self-service", "active", 60)]),
    ("customer", "Answer customers quickly", ["first_response_time_median",
                                               "sla_attainment_first_response"],
     [("Extend chat cover to Saturdays", "planned", 45)]),
    ("customer", "Fix it first time", ["first_contact_resolution", "reopen_rate"],
     [("Refresh the billing knowledge base", "active", 30)]),
    ("process", "Resolve within our promises", ["sla_attainment_resolution",
                                                "resolution_time_median", "backlog"],
     [("Daily backlog huddle in every team", "done", -14)]),
    ("process", "Route work right first time", ["reassignment_rate"],
     [("Skill-based routing for technical cases", "planned", 90)]),
    ("learning", "An engaged, skilled team", ["staff_engagement"],
     [("Monthly coaching for every agent", "active", 120)]),
)


def _complaints(rng, staff_by_team, now: datetime) -> None:
    from serviceops.complaints import demo

    leaders = [members[0] for members in staff_by_team.values()]  # each team's leader
    demo.seed(rng, now=now, handlers=leaders)


def _workforce(rng, teams, staff_by_team, now: datetime) -> None:
    from django.conf import settings

    from serviceops.workforce import demo

    demo.seed(rng, teams, staff_by_team, today=timezone.localdate(now),
              planner=Staff.objects.get(user__username="manager"),
              time_zone=settings.TIME_ZONE)


def _measures(teams, now: datetime) -> None:
    """KPI targets, monthly costs, a manual KPI and the balanced scorecard."""
    from serviceops.insights.models import (
        Initiative,
        KpiSetting,
        ManualKpi,
        ManualKpiValue,
        MonthlyCost,
        Objective,
        ObjectiveMeasure,
    )

    owners = {s.user.username: s for s in Staff.objects.filter(
        user__username__in=("manager", "head")).select_related("user")}
    engagement = ManualKpi.objects.create(
        key="staff_engagement", name="Staff engagement",
        definition="Share of staff who agree they would recommend the team as a place to "
                   "work (monthly pulse survey).",
        unit="ratio", direction="higher", aggregation="mean")
    KpiSetting.objects.bulk_create([
        KpiSetting(key=key, target=target, amber=amber, owner=owners.get(owner))
        for key, (target, amber, owner) in DEMO_KPI_TARGETS.items()])
    today = timezone.localdate(now)
    month = today.replace(day=1)
    for back in range(13):
        first = month
        for _ in range(back):
            first = (first - timedelta(days=1)).replace(day=1)
        for i, team in enumerate(teams):
            MonthlyCost.objects.create(month=first, team=team, amount=26_000 + 1_500 * i
                                       - 400 * back, note="Salaries, on-costs and licences")
        ManualKpiValue.objects.create(kpi=engagement, month=first,
                                      value=round(0.66 + 0.01 * ((13 - back) % 7), 2))
    for order, (perspective, name, keys, initiatives) in enumerate(DEMO_SCORECARD):
        objective = Objective.objects.create(perspective=perspective, name=name, order=order)
        ObjectiveMeasure.objects.bulk_create([
            ObjectiveMeasure(objective=objective, kpi_key=key, order=i)
            for i, key in enumerate(keys)])
        for title, state, due_in in initiatives:
            Initiative.objects.create(objective=objective, name=title, state=state,
                                      owner=owners.get("manager"),
                                      due=today + timedelta(days=due_in))


DEMO_CALENDAR = {
    "timezone": "Europe/London",
    "hours": {**{day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
              "sat": [["09:00", "17:00"]]},
    "holidays": "GB-ENG",
}
HOUR = 3600
# Business-hour targets per priority: first response, next response, resolution.
DEMO_TARGETS = {
    "1": {"first_response": 1 * HOUR, "next_response": 2 * HOUR, "resolution": 8 * HOUR},
    "2": {"first_response": 4 * HOUR, "next_response": 4 * HOUR, "resolution": 24 * HOUR},
    "3": {"first_response": 8 * HOUR, "next_response": 8 * HOUR, "resolution": 48 * HOUR},
    "4": {"first_response": 16 * HOUR, "next_response": 16 * HOUR, "resolution": 96 * HOUR},
}


def _service_levels(teams, size: DemoSize, now: datetime, progress: bool) -> None:
    """A contact-centre calendar, two policies with escalation levels, and every case's
    clocks."""
    from serviceops.sla.models import BusinessCalendar, EscalationLevel, SlaPolicy
    from serviceops.sla.services import policy_version_create, sla_recompute

    with transaction.atomic():
        calendar = BusinessCalendar.objects.create(name="UK contact centre",
                                                   definition=DEMO_CALENDAR)
        pauses = {"resolution": ["pending_customer", "pending_third_party", "on_hold"]}
        live = SlaPolicy.objects.create(
            name="Phone and chat", position=10, channels=["phone", "chat"], calendar=calendar,
            description="Calls and chats are answered live; follow-ups within the hour.",
            targets={p: {"first_response": HOUR, "resolution": t["resolution"]}
                     for p, t in DEMO_TARGETS.items()}, pauses=pauses)
        standard = SlaPolicy.objects.create(
            name="Standard", position=100, calendar=calendar, targets=DEMO_TARGETS,
            pauses=pauses, description="Emails, letters and web forms: replied within one "
                                       "working day at normal priority.")
        for policy in (live, standard):
            EscalationLevel.objects.create(policy=policy, position=1, clock="first_response",
                                           percent_consumed=75, notify_roles=["team_leader"])
            EscalationLevel.objects.create(policy=policy, position=2, clock="first_response",
                                           minutes_after_breach=60, notify_roles=["manager"])
            EscalationLevel.objects.create(
                policy=policy, position=3, clock="resolution", minutes_after_breach=240,
                notify_roles=["manager", "head_of_service"], raise_priority=True)
            policy_version_create(policy, now)
    ids = Case.objects.order_by("pk").values_list("pk", flat=True)
    report = None
    if progress:
        def report(done: int, total: int) -> None:
            print(f"\rSLA clocks: {done:,}/{total:,} cases", end="", flush=True)
    sla_recompute(cases=list(ids), now=now, progress=report)
    if progress:
        print()


def _reset_sequences(*models) -> None:
    """Move PostgreSQL's id sequences past the ids given explicitly in bulk, so that the
    next case or message created through the product gets a free id."""
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _people(rng, size: DemoSize, password: str):
    teams = {name: Team.objects.create(name=name, email=f"{name.split()[0].lower()}@example.org")
             for name in TEAMS}
    skills = {name: Skill.objects.create(name=name)
              for name in ("Welsh", "Fraud", "Business accounts", "Complaints")}
    staff_by_team: dict[str, list[Staff]] = {}
    used: set[str] = set()

    def login(username: str, name: str, role: str, team_names=()):
        staff = staff_create_login(username=username, name=name, role=role, password=password,
                                   email=f"{username}@example.org", team_names=team_names,
                                   check_password=False)
        used.add(username)
        return staff

    for index, team in enumerate(TEAMS):
        leader_name = _name(rng)
        leader = login("leader" if index == 0 else f"leader{index + 1}", leader_name,
                       Role.TEAM_LEADER, [team])
        members = [leader]
        for n in range(size.agents_per_team):
            name = _name(rng)
            username = "agent" if index == 0 and n == 0 else (
                name.lower().replace(" ", ".").replace("'", ""))
            while username in used:
                username += str(rng.randint(0, 9))
            members.append(login(username, name, Role.AGENT, [team]))
        staff_by_team[team] = members
    for staff in rng.sample([s for team in staff_by_team.values() for s in team], k=10):
        staff.skills.add(rng.choice(list(skills.values())))
    for username, role in (("manager", Role.MANAGER), ("head", Role.HEAD_OF_SERVICE),
                           ("analyst", Role.QUALITY_ANALYST),
                           ("trainer", Role.TRAINER), ("admin", Role.ADMIN),
                           ("assessor", Role.ASSESSOR)):
        login(username, _name(rng), role, list(TEAMS) if role == Role.TRAINER else [])
    get_user_model().objects.filter(username="admin").update(is_staff=True, is_superuser=True)
    return teams, staff_by_team


def _categories() -> dict[str, list[tuple[Category, list[str]]]]:
    data = json.loads(QUERIES.read_text())
    fraud = Skill.objects.get(name="Fraud")
    by_team: dict[str, list[tuple[Category, list[str]]]] = {}
    for parent_name, intents in data["tree"].items():
        parent = Category.objects.create(name=parent_name)
        for intent in intents:
            child = Category.objects.create(
                name=intent.replace("_", " ").capitalize(), parent=parent,
                skill=fraud if "compromised" in intent or "stolen" in intent else None,
            )
            by_team.setdefault(TEAM_OF_PARENT[parent_name], []).append(
                (child, data["texts"][intent]))
    return by_team


def _customers(rng, size: DemoSize, now: datetime) -> list[int]:
    orgs = max(1, size.customers // 10)
    tiers = ("standard",) * 7 + ("silver", "silver", "gold")
    channels = ("email", "phone", "chat", "letter", "")
    made = []
    for i in range(orgs):
        made.append(Customer(
            kind="organisation", created_at=now - timedelta(days=rng.randint(200, 2000)),
            name=f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)} {i + 1}",
            email=f"accounts{i}@org{i}.example", tier=rng.choice(tiers + ("platinum",)),
        ))
    Customer.objects.bulk_create(made, batch_size=2000)
    org_ids = list(Customer.objects.filter(kind="organisation").values_list("id", flat=True))
    people = []
    for i in range(size.customers - orgs):
        name = _name(rng)
        people.append(Customer(
            kind="person", name=name, created_at=now - timedelta(days=rng.randint(200, 3000)),
            email=f"{name.lower().replace(' ', '.').replace(chr(39), '')}.{i}@example.net",
            phone=f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
            tier=rng.choice(tiers), preferred_channel=rng.choice(channels),
            consent_marketing=rng.random() < 0.35, consent_surveys=rng.random() < 0.8,
            consent_updated_at=now - timedelta(days=rng.randint(1, 400)),
            organisation_id=rng.choice(org_ids) if rng.random() < 0.3 else None,
        ))
    Customer.objects.bulk_create(people, batch_size=2000)
    ids = list(Customer.objects.values_list("id", flat=True))
    Adjustment.objects.bulk_create([
        Adjustment(customer_id=cid, kind=kind, detail=detail, recorded_at=now)
        for cid in rng.sample(ids, k=len(ids) // 20)
        for kind, detail in [rng.choice(ADJUSTMENTS)]
    ])
    return ids


def _reference_data(teams, staff_by_team) -> None:
    CannedResponse.objects.bulk_create([
        CannedResponse(title="Acknowledge", body="Dear {{ customer.first_name }},\n\nThank you "
                       "for contacting us about case {{ case.number }} ({{ case.subject }}). "
                       "I'm looking into it now.\n\n{{ agent.name }}"),
        CannedResponse(title="Need more information", body="Hello {{ customer.first_name }}, "
                       "to help with case {{ case.number }} could you send the date and amount "
                       "of the transaction?\n\n{{ agent.name }}, {{ team.name }}"),
        CannedResponse(title="Card reissued", team=teams["Cards"], body="Hi "
                       "{{ customer.first_name }}, your new card is on its way and will arrive "
                       "within 5 working days.\n\n{{ agent.name }}"),
        CannedResponse(title="Resolved – anything else?", body="Hi {{ customer.first_name }}, "
                       "I've marked case {{ case.number }} resolved. Just reply if anything is "
                       "still wrong.\n\n{{ agent.name }}"),
    ])
    agent = staff_by_team["Cards"][1].user
    SavedFilter.objects.bulk_create([
        SavedFilter(owner=agent, name="Urgent in my team", query="view=team&priority=1,2"),
        SavedFilter(owner=agent, name="Waiting on customer",
                    query="view=mine&status=pending_customer"),
    ])
    for name in ("vulnerable", "complaint", "fraud", "escalated", "vip"):
        Tag.objects.get_or_create(name=name)


def _arrivals(rng, size: DemoSize, now: datetime):
    """Yield case opening instants, oldest first, with the day/hour shape of real arrivals."""
    start_day = (now - timedelta(days=size.days)).astimezone(LONDON).date()
    days = [start_day + timedelta(days=d) for d in range(size.days + 1)]
    weights = [WEEKDAY_WEIGHT[d.weekday()] for d in days]
    per_day = [size.cases * w / sum(weights) for w in weights]
    carried, hours = 0.0, list(range(24))
    total = 0
    for day, expected in zip(days, per_day, strict=True):
        carried += expected
        count = min(int(carried), size.cases - total)
        carried -= int(carried)
        stamps = []
        for hour in rng.choices(hours, weights=HOUR_SHARE, k=count):
            local = datetime(day.year, day.month, day.day, hour, rng.randrange(60),
                             rng.randrange(60), tzinfo=LONDON)
            stamp = local.astimezone(UTC)
            if stamp < now:
                stamps.append(stamp)
        total += len(stamps)
        yield from sorted(stamps)


def _cases(rng, size, now, teams, staff_by_team, categories, customer_ids, progress) -> None:
    from tqdm import tqdm

    case_ids, message_ids = _Ids(Case), _Ids(Message)
    channels, channel_weights = zip(*CHANNEL_MIX, strict=True)
    levels, level_weights = zip(*IMPACT_URGENCY, strict=True)
    team_names = list(TEAMS)
    tag_ids = list(Tag.objects.values_list("id", flat=True))
    bar = tqdm(total=size.cases, desc="Demo cases", unit="case", file=sys.stderr,
               disable=not progress)
    batch: list[tuple] = []
    for opened in _arrivals(rng, size, now):
        batch.append(_one_case(rng, opened, now, case_ids, message_ids, channels,
                               channel_weights, levels, level_weights, team_names, teams,
                               staff_by_team, categories, customer_ids, tag_ids))
        if len(batch) >= 2000:
            _write(batch)
            bar.update(len(batch))
            batch = []
    if batch:
        _write(batch)
        bar.update(len(batch))
    bar.close()


def _one_case(rng, opened, now, case_ids, message_ids, channels, channel_weights, levels,
              level_weights, team_names, teams, staff_by_team, categories, customer_ids,
              tag_ids):
    team_name = rng.choice(team_names)
    category, texts = rng.choice(categories[team_name])
    text = rng.choice(texts)
    impact, urgency = rng.choices(levels, weights=level_weights)[0]
    channel = rng.choices(channels, weights=channel_weights)[0]
    case = Case(
        id=case_ids.take(), subject=text[:120], description=text, channel=channel,
        impact=impact, urgency=urgency, priority=priority_for(impact, urgency),
        category=category, customer_id=rng.choice(customer_ids), team=teams[team_name],
        opened_at=opened, updated_at=opened, status=Status.NEW,
    )
    events: list[CaseEvent] = []
    messages: list[Message] = []

    def event(kind, at, actor=None, old="", new="", **data):
        if at <= now:
            events.append(CaseEvent(case_id=case.id, kind=kind, at=at, actor=actor,
                                    from_value=str(old), to_value=str(new), data=data))
            case.updated_at = max(case.updated_at, at)
            return True
        return False

    def set_status(new, at, actor):
        if event(EventKind.STATUS_CHANGED, at, actor, case.status, new):
            case.status = new
            return True
        return False

    event(EventKind.CREATED, opened, None, "", Status.NEW, channel=channel,
          priority=case.priority)
    live = channel in ("phone", "chat", "face_to_face")
    members = staff_by_team[team_name]
    agent = rng.choice(members[1:])
    t = opened + timedelta(seconds=rng.randint(5, 90) if live else rng.randint(60, 4 * 3600))
    if not event(EventKind.ASSIGNED, t, members[0] if not live else agent, "", agent.pk,
                 method="manual" if live else "round_robin"):
        return case, messages, events, []
    case.assignee = agent
    set_status(Status.OPEN, t, agent)
    handle = min(3600, int(rng.lognormvariate(HANDLE_MU, HANDLE_SIGMA)))
    first_reply = t + timedelta(seconds=handle if live else rng.randint(600, 20 * 3600))
    reply_id = message_ids.take()
    if first_reply <= now:
        messages.append(Message(id=reply_id, case_id=case.id, kind=MessageKind.REPLY,
                                body=rng.choice(REPLIES).format(fix=rng.choice(FIXES)),
                                author=agent, channel=channel, created_at=first_reply))
        event(EventKind.PUBLIC_REPLY, first_reply, agent, message=reply_id,
              handle_seconds=handle)
    if rng.random() < FIRST_CONTACT_SHARE and live:
        resolve_at = first_reply + timedelta(seconds=30)
    else:
        resolve_at = opened + timedelta(hours=rng.lognormvariate(RESOLVE_MU, RESOLVE_SIGMA))
        resolve_at = max(resolve_at, first_reply + timedelta(minutes=5))
        if rng.random() < 0.25:
            wait = first_reply + (resolve_at - first_reply) / 3
            if set_status(Status.PENDING_CUSTOMER, wait, agent):
                back = wait + (resolve_at - wait) / 2
                msg_id = message_ids.take()
                if back <= now:
                    messages.append(Message(id=msg_id, case_id=case.id,
                                            kind=MessageKind.CUSTOMER, channel=channel,
                                            body="Here are the details you asked for.",
                                            created_at=back))
                    event(EventKind.CUSTOMER_MESSAGE, back, None, message=msg_id)
                    set_status(Status.OPEN, back, None)
        if rng.random() < REASSIGN_SHARE:
            moved = first_reply + (resolve_at - first_reply) / 2
            other = rng.choice(members[1:])
            if other != agent and event(EventKind.ASSIGNED, moved, members[0], agent.pk,
                                        other.pk, method="manual"):
                case.assignee = agent = other
    if set_status(Status.RESOLVED, resolve_at, agent):
        case.resolved_at = resolve_at
        if rng.random() < REOPEN_SHARE:
            back = resolve_at + timedelta(hours=rng.uniform(2, 72))
            if set_status(Status.REOPENED, back, None):
                case.resolved_at = None
                again = back + timedelta(hours=rng.lognormvariate(1.5, 1.0))
                if set_status(Status.RESOLVED, again, agent):
                    case.resolved_at = again
                    resolve_at = again
        if case.status == Status.RESOLVED:
            closed_at = resolve_at + timedelta(days=7)
            if set_status(Status.CLOSED, closed_at, None):
                case.closed_at = closed_at
    if case.status in OPEN_STATUSES and case.opened_at < now - timedelta(days=60):
        # Old cases that the random walk left open would make an unrealistic backlog.
        resolved_at = max(case.updated_at, case.opened_at + timedelta(days=30))
        resolved_at += timedelta(hours=1)
        if set_status(Status.RESOLVED, resolved_at, agent):
            case.resolved_at = resolved_at
            if set_status(Status.CLOSED, resolved_at + timedelta(days=7), None):
                case.closed_at = resolved_at + timedelta(days=7)
    tags = [rng.choice(tag_ids)] if rng.random() < 0.1 and tag_ids else []
    return case, messages, events, tags


def _write(batch) -> None:
    with transaction.atomic():
        Case.objects.bulk_create([case for case, _, _, _ in batch])
        Message.objects.bulk_create([m for _, messages, _, _ in batch for m in messages])
        CaseEvent.objects.bulk_create([e for _, _, events, _ in batch for e in events])
        through = Case.tags.through
        through.objects.bulk_create([through(case_id=case.id, tag_id=tag)
                                     for case, _, _, tags in batch for tag in tags])
        case_facts_refresh([case.id for case, _, _, _ in batch])
