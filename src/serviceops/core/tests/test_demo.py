from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.contrib.auth import authenticate

from serviceops.cases.choices import EventKind, Status
from serviceops.cases.models import Case, CaseEvent
from serviceops.core.demo import DEMO_LOGINS, DemoSize, demo_seed
from serviceops.core.permissions import role_of
from serviceops.core.roles import Role

TINY = DemoSize(agents_per_team=3, customers=120, cases=400, days=30)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_demo_has_a_working_login_per_role_and_loads_once(db):
    summary = demo_seed(size=TINY, password="demo-pass", now=NOW)
    assert "cases" in summary
    roles = set()
    for username, _label in DEMO_LOGINS:
        user = authenticate(username=username, password="demo-pass")
        assert user is not None, username
        roles.add(role_of(user))
    assert roles == set(Role.values)
    count = Case.objects.count()
    assert 380 <= count <= 400
    assert "already loaded" in demo_seed(size=TINY, password="demo-pass", now=NOW)
    assert Case.objects.count() == count


def test_demo_event_logs_are_consistent_with_the_case_state(db):
    demo_seed(size=TINY, password="x", now=NOW)
    for case in Case.objects.prefetch_related("events"):
        events = sorted(case.events.all(), key=lambda e: (e.at, e.id))
        assert events[0].kind == EventKind.CREATED and events[0].at == case.opened_at
        assert all(case.opened_at <= e.at <= NOW for e in events)
        statuses = [e.to_value for e in events if e.kind == EventKind.STATUS_CHANGED]
        assert (statuses[-1] if statuses else Status.NEW) == case.status
        if case.status == Status.CLOSED:
            assert case.closed_at >= case.resolved_at
        replies = [e for e in events if e.kind == EventKind.PUBLIC_REPLY]
        assert all(r.data["handle_seconds"] > 0 for r in replies)


def test_demo_arrivals_peak_in_working_hours_and_are_deterministic(db):
    demo_seed(size=TINY, password="x", now=NOW)
    london = ZoneInfo("Europe/London")
    hours = Counter(c.opened_at.astimezone(london).hour for c in Case.objects.all())
    working = sum(hours[h] for h in range(8, 18))
    night = sum(hours[h] for h in range(0, 6))
    assert working > 0.6 * sum(hours.values()) and night < 0.03 * sum(hours.values())
    first = list(Case.objects.order_by("id").values_list("subject", flat=True)[:20])
    Case.objects.all().delete()
    CaseEvent.objects.all().delete()
    from django.contrib.auth import get_user_model

    get_user_model().objects.all().delete()
    from serviceops.customers.models import Customer
    from serviceops.people.models import Skill, Team

    for model in (Customer, Team, Skill):
        model.objects.all().delete()
    from serviceops.cases.models import CannedResponse, Category, Tag

    for model in (CannedResponse, Tag):
        model.objects.all().delete()
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()
    from serviceops.sla.models import BusinessCalendar, SlaPolicy

    SlaPolicy.objects.all().delete()
    BusinessCalendar.objects.all().delete()
    from serviceops.insights.models import KpiSetting, ManualKpi, MonthlyCost, Objective

    for model in (KpiSetting, ManualKpi, MonthlyCost, Objective):
        model.objects.all().delete()
    demo_seed(size=TINY, password="x", now=NOW)
    assert list(Case.objects.order_by("id").values_list("subject", flat=True)[:20]) == first


def test_cases_created_after_the_demo_get_fresh_numbers(db):
    from serviceops.cases.services import case_create
    from serviceops.people.models import Team

    demo_seed(size=TINY, password="x", now=NOW)
    highest = Case.objects.order_by("-id").values_list("id", flat=True).first()
    case = case_create(by=None, subject="after the demo", team=Team.objects.first())
    assert case.pk > highest


def test_demo_times_every_case_under_its_service_levels(db):
    from serviceops.sla.models import CaseClock, CaseSla, SlaPolicy

    demo_seed(size=TINY, password="x", now=NOW)
    assert set(SlaPolicy.objects.values_list("name", flat=True)) == {"Phone and chat",
                                                                      "Standard"}
    assert CaseSla.objects.count() == Case.objects.count()
    assert not CaseSla.objects.filter(version__isnull=True).exists()  # "Standard" takes all
    states = set(CaseClock.objects.values_list("state", flat=True))
    assert {"met", "breached"} <= states


def test_demo_loads_kpi_targets_costs_and_a_scorecard_with_data(db):
    from datetime import timedelta

    from serviceops.insights.kpis import Scope
    from serviceops.insights.models import Objective
    from serviceops.insights.selectors import kpi_report, scorecard

    demo_seed(size=TINY, password="x", now=NOW)
    scope = Scope(start=NOW - timedelta(days=30), end=NOW)
    rows = {r.kpi.key: r for r in kpi_report(scope)}
    assert rows["case_volume"].value > 0 and rows["cost_per_contact"].value > 0
    judged = [r for r in rows.values() if r.status.value in ("green", "amber", "red")]
    assert len(judged) >= 8
    perspectives = scorecard(scope)
    assert [p.perspective.value for p in perspectives] == ["financial", "customer", "process",
                                                            "learning"]
    assert all(p.objectives for p in perspectives) and Objective.objects.count() == 6
