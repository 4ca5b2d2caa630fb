"""The intraday page (DO5): a team's day so far against forecast, plan and rota, with the
re-forecast of the rest of the day and warnings; htmx refreshes it every minute. Thin:
authorise, read the choices, call `live.live_day`, render."""

from __future__ import annotations

import math
from functools import wraps

import altair as alt
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from serviceops.people.models import Team
from serviceops.workforce import live
from serviceops.workforce.intraday import Thresholds
from serviceops.workforce.selectors import can_view_plans

REFRESH_SECONDS = 60


def _plans_visible(view):
    """403 unless the user may see staffing plans (planners and those who see all teams)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_view_plans(request.user):
            raise PermissionDenied("Your role does not include workforce planning.")
        return view(request, *args, **kwargs)

    return wrapped


class IntradayForm(forms.Form):
    team = forms.ChoiceField(label="Team")
    day = forms.DateField(required=False, label="Day",
                          help_text="Empty: today in the forecast's time zone.",
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    plan = forms.IntegerField(required=False, widget=forms.HiddenInput)
    short = forms.FloatField(required=False, min_value=0, max_value=1000, initial=1,
                             label="Warn when short by (agents)")
    sl_points = forms.FloatField(required=False, min_value=0, max_value=100, initial=5,
                                 label="or the predicted service level is below target by "
                                       "(points)")

    def __init__(self, data, *, teams: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["team"].choices = teams

    def thresholds(self) -> Thresholds:
        data = self.cleaned_data
        short = data["short"] if data["short"] is not None else self.fields["short"].initial
        points = data["sl_points"] if data["sl_points"] is not None else \
            self.fields["sl_points"].initial
        return Thresholds(short_agents=short, sl_points=points / 100)


@login_required
@require_GET
@_plans_visible
def intraday(request: HttpRequest) -> HttpResponse:
    """The page, or (for htmx) only its refreshed part."""
    now = timezone.now()
    teams = live.team_choices(request.user)
    data = request.GET.copy()
    if not data.get("team") and teams:
        data["team"] = teams[0][0]
    for name in ("short", "sl_points"):  # shown in the form; blank means the same
        data.setdefault(name, str(IntradayForm.base_fields[name].initial))
    form = IntradayForm(data, teams=teams)
    context = {"form": form, "teams": teams, "now": now, "refresh": REFRESH_SECONDS}
    status = 200
    if form.is_valid():
        key = form.cleaned_data["team"]
        team = None if key == live.ALL_TEAMS else Team.objects.get(pk=int(key))
        day = live.live_day(request.user, team=team, now=now, day=form.cleaned_data["day"],
                            plan_id=form.cleaned_data["plan"], thresholds=form.thresholds())
        rows = _rows(day)
        context.update(live=day, rows=rows,
                       ahead=[r for r in rows if r["interval"].warnings
                              and not r["interval"].finished])
        if day.comparison is not None:
            context.update(volume_chart=_volume_chart(day), agents_chart=_agents_chart(day))
    elif teams:
        status = 400
    template = "workforce/_intraday.html" if request.htmx else "workforce/intraday.html"
    return render(request, template, context, status=status)


def _rows(day: live.LiveDay) -> list[dict]:
    """The table's rows with their values in words."""
    rows = []
    for start, i in day.rows:
        rows.append({
            "time": start[11:16], "interval": i,
            "state": "finished" if i.finished else "in progress" if i.in_progress else "ahead",
            "predicted_sl": None if i.predicted_sl is None else f"{i.predicted_sl * 100:.0f} %",
            "gap": _gap_words(i.gap),
        })
    return rows


def _gap_words(gap: float) -> str:
    amount = f"{abs(gap):.1f}".removesuffix(".0")
    if amount == "0":
        return "even"
    return f"{amount} short" if gap < 0 else f"{amount} over"


def _volume_chart(day: live.LiveDay) -> dict:
    """Contacts per interval: what arrived, the forecast and the re-forecast of the rest.
    The interval in progress is its own point ("so far"), not a dip at the end of the line."""
    points = []
    for start, i in day.rows:
        arrived = "So far" if i.in_progress else "Actual"
        for series, value in ((arrived, i.actual), ("Forecast", i.forecast),
                              ("Re-forecast", i.reforecast)):
            if value is not None and math.isfinite(value):
                points.append({"time": start, "series": series, "value": round(value, 2)})
    domain = ["Actual", "So far", "Forecast", "Re-forecast"]
    chart = alt.Chart(alt.Data(values=points)).mark_line(point=True, strokeWidth=1.5).encode(
        x=alt.X("time:T", title=None, axis=alt.Axis(format="%H:%M")),
        y=alt.Y("value:Q", title="contacts per interval"),
        color=alt.Color("series:N", title=None, scale=alt.Scale(
            domain=domain, range=["#333333", "#333333", "#1f5fa8", "#b35900"])),
        strokeDash=alt.StrokeDash("series:N", title=None, scale=alt.Scale(
            domain=domain, range=[[1, 0], [1, 0], [5, 3], [2, 2]])),
        shape=alt.Shape("series:N", title=None, scale=alt.Scale(
            domain=domain, range=["circle", "diamond", "square", "triangle-up"])),
        tooltip=[alt.Tooltip("time:T", format="%H:%M"), "series:N",
                 alt.Tooltip("value:Q", format=",.1f")])
    title = f"Contacts on {day.day:%a %d %b}: actual, forecast and re-forecast"
    return chart.properties(width="container", height=220, title=title,
                            description=title + " per interval").to_dict()


def _agents_chart(day: live.LiveDay) -> dict:
    """Agents per interval: required for the best estimate of contacts against scheduled,
    with the flagged intervals marked by shape as well as colour."""
    points, flags = [], []
    for start, i in day.rows:
        points.append({"time": start, "series": "Required", "value": i.required})
        points.append({"time": start, "series": "Scheduled", "value": round(i.scheduled, 2)})
        if i.warnings:
            flags.append({"time": start, "value": i.required, "warning": "; ".join(i.warnings)})
    domain = ["Required", "Scheduled"]
    x = alt.X("time:T", title=None, axis=alt.Axis(format="%H:%M"))
    lines = alt.Chart(alt.Data(values=points)).mark_line(interpolate="step-after").encode(
        x=x, y=alt.Y("value:Q", title="agents on the phones"),
        color=alt.Color("series:N", title=None, scale=alt.Scale(
            domain=domain, range=["#b00020", "#1f5fa8"])),
        strokeDash=alt.StrokeDash("series:N", title=None, scale=alt.Scale(
            domain=domain, range=[[1, 0], [5, 3]])),
        tooltip=[alt.Tooltip("time:T", format="%H:%M"), "series:N",
                 alt.Tooltip("value:Q", format=",.1f")])
    marks = alt.Chart(alt.Data(values=flags)).mark_point(
        shape="triangle-down", size=120, filled=True, color="#b00020").encode(
        x=x, y="value:Q", tooltip=[alt.Tooltip("time:T", format="%H:%M"), "warning:N"])
    title = "Agents: required for the re-forecast against scheduled (▼ warning)"
    return alt.layer(lines, marks).properties(
        width="container", height=220, title=title,
        description="Agents required and scheduled per interval; triangles mark "
                    "intervals with a warning").to_dict()
