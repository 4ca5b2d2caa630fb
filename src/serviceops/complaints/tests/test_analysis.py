"""Complaint analysis: figures on a small hand-made set with known answers, the Paretos, the
previous period, scoping, drill-down, and the page with its CSV export.

March 2026 (the period; GMT, so local dates are UTC dates), judged on 10 April:

| | team | customer | category | product | sev | outcome | ack | resolved | causes | gestures |
|---|---|---|---|---|---|---|---|---|---|---|
| c1 | Billing | A | Charges › Fee | Card | 2 | upheld | 1 h | 2 d (summary) | fee | refund 50 |
| c2 | Billing | A | Charges › Fee | Card | 3 | partly | 3 h | 10 d | fee, screen | credit 20 |
| c3 | Billing | B | Service | Loan | 2 | not upheld | 5 h | 30 d (late) | | |
| c4 | Technical | A | Service | Loan | 1 | — | 72 h (late) | open, overdue | | |
| c5 | Technical | C | — | — | 4 | — | not yet due | open, not due | | |

Acknowledgement is due 48 h after receipt, the final response 20 days after. February (the
previous period) has three upheld complaints: fee ×2 and staff training ×2 among them, and
customer D twice; one refund of 100. c2 also has an apology costing 0.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse

from serviceops.cases.models import Case
from serviceops.complaints.analysis import (
    Filters,
    analysis_drill,
    complaint_analysis,
    quantile,
)
from serviceops.complaints.models import (
    Cause,
    Complaint,
    ComplaintCategory,
    ComplaintCause,
    Gesture,
    Regime,
)
from serviceops.core import snapshot
from serviceops.customers.models import Customer

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
HOUR, DAY = 3600, 86400


@pytest.fixture
def data(org):
    regime = Regime.objects.create(key="analysis-test", name="Analysis test", acknowledge_days=2,
                                   final_days=20)
    charges = ComplaintCategory.objects.get_or_create(name="Charges", parent=None)[0]
    fee_category = ComplaintCategory.objects.create(name="Fee", parent=charges)
    service = ComplaintCategory.objects.get_or_create(name="Service", parent=None)[0]
    fee = Cause.objects.create(category="process", name="Unexpected fee charged")
    screen = Cause.objects.create(category="systems", name="Fee screen unclear")
    training = Cause.objects.create(category="people", name="Staff not trained")
    now = NOW
    a, b, c, d = (Customer.objects.create(name=n, created_at=now) for n in "ABCD")

    def complaint(received, *, team, customer, category=None, product="", severity=2,
                  outcome="", ack=None, resolved=None, summary=False, causes=(),
                  gestures=(), logged_by=None):
        case = Case.objects.create(subject="Complaint", team=team, customer=customer,
                                   opened_at=received, updated_at=received)
        made = Complaint.objects.create(
            case=case, regime=regime, received_at=received, channel="email", account="...",
            desired_outcome="...", category=category, product=product, severity=severity,
            team=team, customer=customer, logged_by=logged_by, outcome=outcome,
            acknowledge_due=received + timedelta(hours=48),
            final_due=received + timedelta(days=20),
            acknowledged_at=None if ack is None else received + timedelta(hours=ack),
            resolved_at=None if resolved is None else received + timedelta(days=resolved),
            summary_resolution=summary)
        for cause in causes:
            ComplaintCause.objects.create(complaint=made, cause=cause, received_at=received)
        for kind, amount in gestures:
            Gesture.objects.create(complaint=made, kind=kind, amount=Decimal(amount),
                                   approved_by=org.manager, given_at=received,
                                   received_at=received)
        return made

    t = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    made = {
        "c1": complaint(t, team=org.billing, customer=a, category=fee_category, product="Card",
                        outcome="upheld", ack=1, resolved=2, summary=True, causes=[fee],
                        gestures=[("refund", "50")], logged_by=org.agent),
        "c2": complaint(t + timedelta(days=1), team=org.billing, customer=a,
                        category=fee_category, product="Card", severity=3,
                        outcome="partly_upheld", ack=3, resolved=10, causes=[fee, screen],
                        gestures=[("credit", "20"), ("apology", "0")]),
        "c3": complaint(t + timedelta(days=2), team=org.billing, customer=b, category=service,
                        product="Loan", outcome="not_upheld", ack=5, resolved=30),
        "c4": complaint(t + timedelta(days=3), team=org.technical, customer=a,
                        category=service, product="Loan", severity=1, ack=72),
        # Acknowledgement due 11 April, after NOW: not judged yet.
        "c5": complaint(datetime(2026, 3, 31, 0, 0, tzinfo=UTC), team=org.technical,
                        customer=c, severity=4),
    }
    made["c5"].acknowledge_due = datetime(2026, 4, 11, 9, 0, tzinfo=UTC)
    made["c5"].final_due = datetime(2026, 4, 28, 9, 0, tzinfo=UTC)
    made["c5"].save()
    feb = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    made["p1"] = complaint(feb, team=org.billing, customer=b, outcome="upheld", ack=1,
                           resolved=2, causes=[fee, training], gestures=[("refund", "100")])
    made["p2"] = complaint(feb + timedelta(days=1), team=org.billing, customer=d,
                           outcome="upheld", ack=1, resolved=2, causes=[fee, training])
    made["p3"] = complaint(feb + timedelta(days=2), team=org.technical, customer=d,
                           outcome="upheld", ack=1, resolved=2)
    # Outside both periods: counted nowhere.
    complaint(datetime(2026, 4, 1, 9, 0, tzinfo=UTC), team=org.billing, customer=a,
              causes=[screen])
    return {"org": org, "fee": fee, "screen": screen, "training": training,
            "charges": charges, "fee_category": fee_category, "service": service, **made}


def _analysis(user, **kwargs):
    return complaint_analysis(user, first=MARCH[0], last=MARCH[1], now=NOW, **kwargs)


def test_figures_of_the_period_have_the_known_answers(data):
    figures = _analysis(data["org"].manager.user).totals

    assert figures.volume == 5
    assert (figures.upheld, figures.decided) == (2, 3)
    assert figures.uphold_rate == pytest.approx(2 / 3)
    # Acknowledged after 1, 3, 5 and 72 hours; resolved after 2, 10 and 30 days.
    assert figures.acknowledge_median == pytest.approx(4 * HOUR)
    assert figures.acknowledge_p90 == pytest.approx(5 * HOUR + 0.7 * 67 * HOUR)
    assert figures.resolve_median == pytest.approx(10 * DAY)
    assert figures.resolve_p90 == pytest.approx(10 * DAY + 0.8 * 20 * DAY)
    assert (figures.ack_on_time, figures.ack_judged) == (3, 4)  # c5 is not yet due
    assert (figures.final_on_time, figures.final_judged) == (2, 4)  # c3 late, c4 overdue
    assert figures.final_on_time_rate == 0.5
    assert (figures.summary, figures.resolved) == (1, 3)
    assert (figures.open, figures.open_overdue) == (2, 1)
    assert figures.open_overdue_rate == pytest.approx(0.2)


def test_previous_period_is_february_and_its_figures_sit_beside_march(data):
    analysis = _analysis(data["org"].manager.user)

    assert (analysis.previous.first, analysis.previous.last) == (date(2026, 2, 1),
                                                                 date(2026, 2, 28))
    assert analysis.previous_totals.volume == 3
    assert analysis.previous_totals.uphold_rate == 1.0
    assert analysis.previous_totals.acknowledge_median == pytest.approx(HOUR)


def test_repeat_complainants_are_customers_with_two_or_more_complaints(data):
    analysis = _analysis(data["org"].manager.user)

    assert (analysis.repeats.customers, analysis.repeats.complaints) == (1, 3)  # A: c1 c2 c4
    assert analysis.repeats.share == pytest.approx(3 / 5)
    assert (analysis.previous_repeats.customers, analysis.previous_repeats.complaints) == (1, 2)


def test_root_causes_are_compared_with_the_previous_period_and_said_in_words(data):
    analysis = _analysis(data["org"].manager.user)

    by_cause = {c.key: (c.count, c.previous, c.direction) for c in analysis.causes}
    assert by_cause == {str(data["fee"].pk): (2, 2, "unchanged"),
                        str(data["screen"].pk): (1, 0, "new"),
                        str(data["training"].pk): (0, 2, "falling")}
    fishbone = {c.key: (c.count, c.previous) for c in analysis.fishbone}
    assert fishbone == {"process": (2, 2), "systems": (1, 0), "people": (0, 2)}
    verdict = analysis.causes_verdict
    assert verdict.startswith(
        "Top root causes: Process › Unexpected fee charged (2 complaints; unchanged); "
        "Systems and technology › Fee screen unclear (1 complaint; new: none in the previous "
        "period). None of them is falling.")


def test_a_falling_cause_is_called_falling_with_its_change(data):
    ComplaintCause.objects.filter(cause=data["fee"], complaint=data["c2"]).delete()

    analysis = _analysis(data["org"].manager.user)

    fee = next(c for c in analysis.causes if c.key == str(data["fee"].pk))
    assert (fee.count, fee.previous, fee.change, fee.change_share) == (1, 2, -1, -0.5)
    assert "falling, 50 % fewer than the previous period's 2" in analysis.causes_verdict


def test_remedy_cost_by_kind_and_per_complaint(data):
    analysis = _analysis(data["org"].manager.user)

    assert analysis.cost.by_kind == {"Refund": Decimal("50"), "Account credit": Decimal("20"),
                                     "Apology": Decimal("0")}
    assert (analysis.cost.gestures, analysis.cost.total) == (3, Decimal("70"))
    assert analysis.cost.per_complaint == Decimal("14.00")
    assert analysis.previous_cost.total == Decimal("100")
    assert analysis.previous_cost.per_complaint == Decimal("33.33")


def test_paretos_rank_with_cumulative_share_and_mark_the_vital_few(data):
    analysis = _analysis(data["org"].manager.user)

    categories = [(r.label, r.count, round(r.cumulative_share, 3), r.vital_few)
                  for r in analysis.category_pareto]
    assert categories == [("Charges › Fee", 2, 0.4, True), ("Service", 2, 0.8, True),
                          ("(none)", 1, 1.0, False)]
    causes = [(r.label, r.count, round(r.cumulative_share, 3))
              for r in analysis.cause_pareto]
    assert causes == [("Process › Unexpected fee charged", 2, 0.667),
                      ("Systems and technology › Fee screen unclear", 1, 1.0)]


@pytest.mark.parametrize(("by", "expected"), [
    ("team", {"Billing": (3, 2), "Technical": (2, 1)}),
    ("product", {"Card": (2, 0), "Loan": (2, 0), "(no product)": (1, 3)}),
    ("severity", {"1 – Low": (1, 0), "2 – Moderate": (2, 3), "3 – High": (1, 0),
                  "4 – Critical": (1, 0)}),
    ("month", {"Mar 2026": (5, 0)}),
    ("week", {"Week of 2 Mar 2026": (4, 0), "Week of 30 Mar 2026": (1, 0)}),
])
def test_breakdowns_give_each_group_its_volume_and_previous_volume(data, by, expected):
    analysis = _analysis(data["org"].manager.user, by=by)

    assert {r.label: (r.figures.volume, r.previous_volume) for r in analysis.rows} == expected


def test_breakdown_rows_carry_every_figure(data):
    rows = {r.label: r.figures for r in _analysis(data["org"].manager.user, by="team").rows}

    assert rows["Billing"].uphold_rate == pytest.approx(2 / 3)
    assert rows["Billing"].resolve_median == pytest.approx(10 * DAY)
    assert rows["Technical"].open_overdue == 1
    assert rows["Technical"].resolve_median is None


def test_filters_narrow_every_figure_and_a_category_includes_its_children(data):
    org = data["org"]
    by_category = _analysis(org.manager.user, filters=Filters(category_id=data["charges"].pk))
    by_team = _analysis(org.manager.user, filters=Filters(team_id=org.technical.pk))

    assert by_category.totals.volume == 2
    assert by_category.cost.total == Decimal("70")
    assert by_team.totals.volume == 2
    assert by_team.causes == []
    assert by_team.cost.total == Decimal("0")
    assert by_team.previous_totals.volume == 1


def test_scope_limits_the_analysis_to_what_the_user_may_see(data):
    org = data["org"]

    agent = _analysis(org.agent.user)  # logged c1 only
    leader = _analysis(org.leader.user)  # a complaint handler: Billing's complaints
    outsider = _analysis(org.outsider.user)

    assert agent.totals.volume == 1
    assert [(c.label, c.count) for c in agent.causes] == [
        ("Process › Unexpected fee charged", 1)]
    assert agent.cost.total == Decimal("50")
    assert leader.totals.volume == 3
    assert leader.previous_totals.volume == 2
    assert outsider.totals.volume == 0
    assert outsider.causes == [] and outsider.cost.total == 0


def test_drill_down_lists_the_complaints_behind_a_figure(data):
    user = data["org"].manager.user

    def ids(**kwargs):
        return {c.pk for c in analysis_drill(user, first=MARCH[0], last=MARCH[1], now=NOW,
                                             **kwargs)}

    assert ids() == {data[k].pk for k in ("c1", "c2", "c3", "c4", "c5")}
    assert ids(figure="ack_late") == {data["c4"].pk}
    assert ids(figure="final_late") == {data["c3"].pk, data["c4"].pk}
    assert ids(figure="open_overdue") == {data["c4"].pk}
    assert ids(figure="upheld") == {data["c1"].pk, data["c2"].pk}
    assert ids(figure="repeat") == {data["c1"].pk, data["c2"].pk, data["c4"].pk}
    assert ids(figure="gestures") == {data["c1"].pk, data["c2"].pk}
    assert ids(cause=str(data["fee"].pk)) == {data["c1"].pk, data["c2"].pk}
    assert ids(fishbone="systems") == {data["c2"].pk}
    assert ids(by="category", group="") == {data["c5"].pk}
    assert ids(by="team", group=str(data["org"].technical.pk)) == {data["c4"].pk,
                                                                   data["c5"].pk}
    assert ids(by="month", group="2026-03-01") == ids()
    assert ids(by="week", group="2026-03-30") == {data["c5"].pk}
    assert ids(figure="resolved", by="product", group="Loan") == {data["c3"].pk}


def test_quantile_interpolates_as_percentile_cont():
    assert quantile([1.0], 0.9) == 1.0
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([0.0, 10.0], 0.9) == 9.0


def test_an_unknown_breakdown_is_refused(data):
    with pytest.raises(ValueError, match="Unknown breakdown"):
        _analysis(data["org"].manager.user, by="colour")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("by", ["category", "month"])
def test_on_postgresql_the_queries_run_side_by_side_with_the_same_figures(data, by,
                                                                           monkeypatch):
    """Outside a transaction PostgreSQL answers on several connections at once (the other
    tests run inside one, so they see the figures computed one query after another)."""
    if connection.vendor != "postgresql":
        pytest.skip("connections side by side are for PostgreSQL")
    helpers = []
    lane = snapshot._helper_lane
    monkeypatch.setattr(snapshot, "_helper_lane", lambda *args: (helpers.append(1),
                                                                  lane(*args)))
    together = _analysis(data["org"].manager.user, by=by)
    assert helpers
    with transaction.atomic():
        in_turn = _analysis(data["org"].manager.user, by=by)
    assert together == in_turn
    assert together.totals.volume == 5


# --- the page and its CSV --------------------------------------------------------------------

MARCH_QUERY = {"start": "2026-03-01", "end": "2026-03-31"}


def test_page_answers_the_root_cause_question_and_shows_figures_charts_and_tables(client,
                                                                                  data):
    client.force_login(data["org"].manager.user)

    response = client.get(reverse("complaints:analysis"), {**MARCH_QUERY, "by": "team"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Top root causes: are they falling?" in page
    assert "Top root causes: Process › Unexpected fee charged (2 complaints; unchanged)" in page
    assert '<td class="num">66.7 %</td>' in page  # uphold rate
    assert 'data-chart="chart-causes"' in page and 'data-chart="chart-categories"' in page
    assert "<caption>Every figure by team" in page
    assert ">Billing</a>" in page
    assert "£70.00" in page
    assert reverse("complaints:analysis_csv") + "?" in page
    assert reverse("insights:charts_js") in page


def test_drill_down_lists_the_cases_behind_a_figure_with_links(client, data):
    client.force_login(data["org"].manager.user)

    response = client.get(reverse("complaints:analysis"), {**MARCH_QUERY, "figure": "upheld"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Upheld or partly upheld: 2 complaints received" in page
    for key in ("c1", "c2"):
        assert reverse("cases:detail", args=[data[key].case_id]) in page
    assert reverse("cases:detail", args=[data["c3"].case_id]) not in page


def test_drill_down_by_root_cause_and_group(client, data):
    client.force_login(data["org"].manager.user)

    by_cause = client.get(reverse("complaints:analysis"),
                          {**MARCH_QUERY, "cause": data["fee"].pk}).content.decode()
    by_team = client.get(reverse("complaints:analysis"),
                         {**MARCH_QUERY, "by": "team", "group": data["org"].billing.pk})

    assert "root cause Process › Unexpected fee charged: 2 complaints" in by_cause
    assert "3 complaints received" in by_team.content.decode()


def test_an_unknown_figure_or_a_reversed_period_is_refused(client, data):
    client.force_login(data["org"].manager.user)

    unknown = client.get(reverse("complaints:analysis"), {**MARCH_QUERY, "figure": "nope"})
    reversed_period = client.get(reverse("complaints:analysis"),
                                 {"start": "2026-03-31", "end": "2026-03-01"})

    assert unknown.status_code == 400
    assert reversed_period.status_code == 400
    assert "The period ends before it starts." in reversed_period.content.decode()


def test_the_page_shows_an_agent_only_their_own_complaints(client, data):
    client.force_login(data["org"].agent.user)

    page = client.get(reverse("complaints:analysis"), MARCH_QUERY).content.decode()

    assert "Top root causes: Process › Unexpected fee charged (1 complaint;" in page
    assert "£50.00" in page and "£70.00" not in page


def test_csv_export_has_every_figure_with_the_previous_period(client, data):
    client.force_login(data["org"].manager.user)

    response = client.get(reverse("complaints:analysis_csv"), {**MARCH_QUERY, "by": "team"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "group", "figure", "value", "previous"]
    cells = {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows[1:]}
    assert cells["totals", "", "volume"] == ("5", "3")
    assert cells["totals", "", "uphold_rate"] == ("0.666667", "1")
    assert cells["totals", "", "resolve_median"] == ("864000", "172800")
    assert cells["by team", "Billing", "volume"] == ("3", "2")
    assert cells["root cause", "Process › Unexpected fee charged", "complaints"] == ("2", "2")
    assert cells["remedy cost", "Refund", "amount"] == ("50.00", "100.00")
    assert cells["category pareto", "Service", "cumulative_share"] == ("0.8", "")


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    assert client.get(reverse("complaints:analysis")).status_code == 302
    assert client.get(reverse("complaints:analysis_csv")).status_code == 302
