"""The complaint analysis page and its CSV export (DO4 item 8). Thin: validate the period and
filters, compute through `complaints.analysis` (scoped to what the user may see), render.

The form lives here rather than in `complaints/forms.py` because only these two views use it
and that module belongs to the complaint pages being written alongside.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from serviceops.complaints.analysis import (
    BREAKDOWNS,
    DRILLS,
    Analysis,
    Filters,
    analysis_drill,
    cause_labels,
    complaint_analysis,
    group_key,
)
from serviceops.complaints.models import ComplaintCategory, Fishbone, Severity
from serviceops.insights import charts
from serviceops.insights.forms import DateInput, DatePeriodForm
from serviceops.insights.kpis import Direction, Unit, display
from serviceops.people.models import Team

DRILL_LIMIT = 500  # complaints listed on a drill-down page (the count says how many more)
FIGURE_WORDS = {
    "all": "All complaints", "decided": "Decided (upheld, partly upheld or not upheld)",
    "upheld": "Upheld or partly upheld", "acknowledged": "Acknowledged",
    "resolved": "Resolved", "ack_late": "Acknowledged late, or not yet and past the deadline",
    "final_late": "Resolved late, or still open past the final deadline",
    "summary": "Summary resolutions", "open": "Still open",
    "open_overdue": "Still open past the final deadline",
    "repeat": "From repeat complainants", "gestures": "With a service-recovery gesture",
}


class AnalysisForm(DatePeriodForm):
    """The period, filters and breakdown of the analysis (GET): by default the last full
    calendar quarter."""

    start = forms.DateField(label="Received from", widget=DateInput)
    end = forms.DateField(label="to (included)", widget=DateInput)
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="All teams")
    category = forms.ModelChoiceField(ComplaintCategory.objects.select_related("parent"),
                                      required=False, empty_label="All categories")
    product = forms.CharField(max_length=120, required=False, label="Product or service")
    severity = forms.TypedChoiceField(choices=[("", "All severities"), *Severity.choices],
                                      coerce=int, empty_value=None, required=False)
    by = forms.ChoiceField(label="Break down by", required=False,
                           choices=[(b, b.capitalize()) for b in BREAKDOWNS])

    @classmethod
    def period_default(cls, today: date | None) -> tuple[date, date]:
        return default_period(today or timezone.localdate())

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(team_id=data["team"].pk if data.get("team") else None,
                       category_id=data["category"].pk if data.get("category") else None,
                       product=data.get("product") or "", severity=data.get("severity"))


def default_period(today: date) -> tuple[date, date]:
    """The last full calendar quarter (compared with the one before it)."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last = quarter_start - timedelta(days=1)
    return date(last.year, last.month - 2, 1), last


# --- the lines of the figures table (the page and the CSV share them) -----------------------

@dataclass(frozen=True)
class Line:
    key: str
    label: str
    unit: Unit
    direction: Direction
    value: float | None
    previous: float | None
    drill: str  # a figure of DRILLS; "" for none
    note: str = ""

    @property
    def shown(self) -> str:
        return display(self.value, self.unit)

    @property
    def previous_shown(self) -> str:
        return display(self.previous, self.unit)

    @property
    def change(self) -> str:
        """How the figure moved, in words with an arrow (never colour alone)."""
        return change_words(self.value, self.previous, self.unit, self.direction)


def change_words(now: float | None, before: float | None, unit: Unit,
                 direction: Direction) -> str:
    if now is None or before is None:
        return "—"
    if now == before:
        return "no change"
    rising = now > before
    if unit is Unit.RATIO:
        amount = f"{abs(now - before) * 100:.1f} points"
    elif before:
        amount = f"{abs(now - before) / abs(before) * 100:.0f} %"
    else:
        amount = display(abs(now - before), unit)
    verdict = "" if direction is Direction.NEUTRAL else (
        " (better)" if rising == (direction is Direction.HIGHER) else " (worse)")
    return f"{'↑ up' if rising else '↓ down'} {amount}{verdict}"


def figure_lines(analysis: Analysis) -> list[Line]:
    """The headline figures with the previous period's, in reading order."""
    now, before = analysis.totals, analysis.previous_totals
    cost, old_cost = analysis.cost, analysis.previous_cost

    def money(value):
        return None if value is None else float(value)

    return [
        Line("volume", "Complaints received", Unit.COUNT, Direction.NEUTRAL, now.volume,
             before.volume, "all"),
        Line("uphold_rate", "Uphold rate", Unit.RATIO, Direction.NEUTRAL, now.uphold_rate,
             before.uphold_rate, "upheld",
             f"upheld or partly upheld, of {now.decided} decided (withdrawn left out)"),
        Line("acknowledge_median", "Time to acknowledge (median)", Unit.SECONDS,
             Direction.LOWER, now.acknowledge_median, before.acknowledge_median,
             "acknowledged", f"elapsed time, over {now.acknowledged} acknowledged"),
        Line("acknowledge_p90", "Time to acknowledge (90th percentile)", Unit.SECONDS,
             Direction.LOWER, now.acknowledge_p90, before.acknowledge_p90, "acknowledged"),
        Line("resolve_median", "Time to resolve (median)", Unit.SECONDS, Direction.LOWER,
             now.resolve_median, before.resolve_median, "resolved",
             f"elapsed time to the final or summary response, over {now.resolved} resolved"),
        Line("resolve_p90", "Time to resolve (90th percentile)", Unit.SECONDS,
             Direction.LOWER, now.resolve_p90, before.resolve_p90, "resolved"),
        Line("ack_on_time_rate", "Acknowledged within the deadline", Unit.RATIO,
             Direction.HIGHER, now.ack_on_time_rate, before.ack_on_time_rate, "ack_late",
             f"{now.ack_on_time} of {now.ack_judged} due or acknowledged; the link lists "
             f"the late ones"),
        Line("final_on_time_rate", "Resolved within the final deadline", Unit.RATIO,
             Direction.HIGHER, now.final_on_time_rate, before.final_on_time_rate,
             "final_late", f"{now.final_on_time} of {now.final_judged} resolved or past "
                           f"due; the link lists the late ones"),
        Line("summary_rate", "Summary resolutions", Unit.RATIO, Direction.NEUTRAL,
             now.summary_rate, before.summary_rate, "summary",
             f"{now.summary} of {now.resolved} resolved"),
        Line("open_overdue", "Still open past the final deadline", Unit.COUNT,
             Direction.LOWER, now.open_overdue, before.open_overdue, "open_overdue",
             f"{display(now.open_overdue_rate, Unit.RATIO)} of those received; "
             f"{now.open} still open in all"),
        Line("repeat_customers", "Repeat complainants", Unit.COUNT, Direction.LOWER,
             analysis.repeats.customers, analysis.previous_repeats.customers, "repeat",
             "customers with two or more complaints in the period"),
        Line("repeat_share", "Complaints from repeat complainants", Unit.RATIO,
             Direction.LOWER, analysis.repeats.share, analysis.previous_repeats.share,
             "repeat", f"{analysis.repeats.complaints} complaints"),
        Line("cost_total", "Remedy cost", Unit.GBP, Direction.LOWER, money(cost.total),
             money(old_cost.total), "gestures",
             f"{cost.gestures} service-recovery gestures"),
        Line("cost_per_complaint", "Remedy cost per complaint", Unit.GBP, Direction.LOWER,
             money(cost.per_complaint), money(old_cost.per_complaint), "gestures",
             "over every complaint received"),
    ]


# --- views -----------------------------------------------------------------------------------

def _query(form: AnalysisForm, **extra) -> str:
    """The page's query string with `extra` (drill-down parameters) added."""
    data = {k: v for k, v in form.data.items() if k in form.fields and v}
    data.update({k: v for k, v in extra.items() if v is not None})
    return "?" + urlencode(data)


@login_required
@require_GET
def analysis(request: HttpRequest) -> HttpResponse:
    """The analysis for a period: top root causes and whether they are falling, the figures
    against the previous period, Paretos, a breakdown table, drill-down to the cases."""
    form = AnalysisForm.from_request(request, today=timezone.localdate())
    context: dict = {"form": form, "csv_query": _query(form)}
    if not form.is_valid():
        return render(request, "complaints/analysis.html", context, status=400)
    data = form.cleaned_data
    by = data.get("by") or "category"
    now = timezone.now()
    drill = {key: request.GET.get(key) or None for key in ("figure", "group", "cause",
                                                           "fishbone")}
    if any(drill.values()):
        return _drill(request, form, by=by, now=now, **drill)
    result = complaint_analysis(request.user, first=data["start"], last=data["end"],
                                filters=form.filters(), by=by, now=now)
    context.update(
        a=result, by=by, lines=[(line, _query(form, figure=line.drill) if line.drill else "")
                                for line in figure_lines(result)],
        rows=[(row, _query(form, by=by, group=group_key(by, row.key)))
              for row in result.rows],
        causes=[(c, _query(form, cause=c.key)) for c in result.causes],
        fishbone=[(c, _query(form, fishbone=c.key)) for c in result.fishbone],
        cause_pareto=[(r, _query(form, cause=result.pareto_keys["cause"].get(r.label)))
                      for r in result.cause_pareto],
        category_pareto=[(r, _query(form, by="category", group=result.pareto_keys[
            "category"].get(r.label))) for r in result.category_pareto],
        cause_chart=charts.pareto(title="Root causes", rows=result.cause_pareto)
        if result.cause_pareto else None,
        category_chart=charts.pareto(title="Complaint categories",
                                     rows=result.category_pareto)
        if result.category_pareto else None,
    )
    return render(request, "complaints/analysis.html", context)


def _drill(request, form: AnalysisForm, *, by, now, figure, group, cause, fishbone):
    """The complaints behind one figure, each linked to its case."""
    data = form.cleaned_data
    figure = figure or "all"
    if figure not in DRILLS or (fishbone and fishbone not in Fishbone.values) or (
            cause and not cause.isdigit()):
        return render(request, "complaints/analysis.html",
                      {"form": form, "drill_error": "There is no such figure to list."},
                      status=400)
    try:
        complaints = analysis_drill(request.user, first=data["start"], last=data["end"],
                                    filters=form.filters(), figure=figure,
                                    by=by if group is not None else None, group=group,
                                    cause=cause, fishbone=fishbone, now=now)
    except ValueError:
        return render(request, "complaints/analysis.html",
                      {"form": form, "drill_error": "There is no such group to list."},
                      status=400)
    complaints = complaints.select_related("category__parent", "team").order_by(
        "-received_at", "-id")
    total = complaints.count()
    what = [FIGURE_WORDS.get(figure, figure)]
    if cause:
        what.append("root cause " + cause_labels().get(cause, cause))
    if fishbone:
        what.append("fishbone category " + dict(Fishbone.choices)[fishbone])
    if group is not None:
        what.append(f"{by} {group or '(none)'}")
    return render(request, "complaints/analysis.html", {
        "form": form, "drill": complaints[:DRILL_LIMIT], "drill_total": total,
        "drill_limit": DRILL_LIMIT, "drill_what": ", ".join(what), "back": _query(form)})


@login_required
@require_GET
def analysis_csv(request: HttpRequest) -> HttpResponse:
    """Every figure of the analysis as CSV, one figure per row: section, group, figure,
    value, previous value (times in seconds, rates 0-1, money in pounds)."""
    form = AnalysisForm.from_request(request, today=timezone.localdate())
    if not form.is_valid():
        return HttpResponse(" ".join(e for errors in form.errors.values() for e in errors),
                            status=400, content_type="text/plain")
    data = form.cleaned_data
    by = data.get("by") or "category"
    result = complaint_analysis(request.user, first=data["start"], last=data["end"],
                                filters=form.filters(), by=by, now=timezone.now())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="complaint-analysis-{data["start"]}-{data["end"]}.csv"')
    writer = csv.writer(response)
    writer.writerow(["section", "group", "figure", "value", "previous"])
    for line in figure_lines(result):
        writer.writerow(["totals", "", line.key, _cell(line.value), _cell(line.previous)])
    for row in result.rows:
        f = row.figures
        for key, value in (("volume", f.volume), ("uphold_rate", f.uphold_rate),
                           ("acknowledge_median", f.acknowledge_median),
                           ("acknowledge_p90", f.acknowledge_p90),
                           ("resolve_median", f.resolve_median),
                           ("resolve_p90", f.resolve_p90),
                           ("ack_on_time_rate", f.ack_on_time_rate),
                           ("final_on_time_rate", f.final_on_time_rate),
                           ("summary_rate", f.summary_rate), ("open_overdue", f.open_overdue)):
            writer.writerow([f"by {by}", row.label, key, _cell(value),
                             row.previous_volume if key == "volume" else ""])
    for section, trends in (("root cause", result.causes), ("fishbone", result.fishbone)):
        for c in trends:
            writer.writerow([section, c.label, "complaints", c.count, c.previous])
    for kind, amount in result.cost.by_kind.items():
        writer.writerow(["remedy cost", kind, "amount", amount,
                         result.previous_cost.by_kind.get(kind, "")])
    for section, rows in (("root cause pareto", result.cause_pareto),
                          ("category pareto", result.category_pareto)):
        for r in rows:
            writer.writerow([section, r.label, "cumulative_share", _cell(r.cumulative_share),
                             ""])
    return response


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1 else f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)
