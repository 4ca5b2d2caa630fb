"""Forms of the insights pages: the period and filters every page shares, and the editors."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from serviceops.cases.choices import Channel, Priority
from serviceops.cases.models import Category
from serviceops.insights.kpis import Direction, Unit
from serviceops.insights.models import Initiative, ManualKpi, Perspective
from serviceops.insights.selectors import BREAKDOWNS, default_period
from serviceops.people.models import Staff, Team


class DateInput(forms.DateInput):
    input_type = "date"


class DatePeriodForm(forms.Form):
    """A period of whole days read from the query string (GET), at most three years long;
    a request without one gets `period_default`."""

    start = forms.DateField(label="From", widget=DateInput)
    end = forms.DateField(label="To (included)", widget=DateInput)

    @classmethod
    def period_default(cls, today: date | None) -> tuple[date, date]:
        return default_period(today)

    @classmethod
    def from_request(cls, request, *, today: date | None = None):
        data = request.GET.copy()
        first, last = cls.period_default(today)
        data.setdefault("start", first.isoformat())
        data.setdefault("end", last.isoformat())
        return cls(data)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The period ends before it starts.")
            if end - start > timedelta(days=3 * 366):
                raise forms.ValidationError("Choose a period of at most three years.")
        return cleaned


class PeriodForm(DatePeriodForm):
    """The period and filters of a dashboard (GET): by default the last 28 full days."""

    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="All teams")
    channel = forms.ChoiceField(choices=[("", "All channels"), *Channel.choices],
                                required=False)
    priority = forms.TypedChoiceField(choices=[("", "All priorities"), *Priority.choices],
                                      coerce=int, empty_value=None, required=False)
    category = forms.ModelChoiceField(Category.objects.filter(parent__isnull=True),
                                      required=False, empty_label="All categories")

    def filters(self) -> dict:
        """Keyword arguments for `kpi_scope` from the cleaned filters."""
        data = self.cleaned_data
        return {"team_ids": [data["team"].pk] if data.get("team") else [],
                "channels": [data["channel"]] if data.get("channel") else [],
                "priorities": [data["priority"]] if data.get("priority") else [],
                "category_ids": [data["category"].pk] if data.get("category") else []}


class BreakdownForm(forms.Form):
    by = forms.ChoiceField(choices=[(b, b.title()) for b in BREAKDOWNS], required=False)


class TargetForm(forms.Form):
    key = forms.SlugField(widget=forms.HiddenInput)
    target = forms.FloatField(required=False)
    amber = forms.FloatField(required=False, label="Amber limit")
    owner = forms.ModelChoiceField(Staff.objects.filter(is_active=True), required=False)


class ManualKpiForm(forms.Form):
    key = forms.SlugField(max_length=60)
    name = forms.CharField(max_length=120)
    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    unit = forms.ChoiceField(choices=[(u.value, u.value) for u in Unit])
    direction = forms.ChoiceField(choices=[(d.value, d.value) for d in Direction])
    aggregation = forms.ChoiceField(choices=ManualKpi.Aggregation.choices)


class MonthField(forms.DateField):
    """A month typed as YYYY-MM (a browser month picker); stored as its first day."""

    widget = forms.DateInput(attrs={"type": "month"})
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class ManualValueForm(forms.Form):
    kpi = forms.ModelChoiceField(ManualKpi.objects.all())
    month = MonthField()
    value = forms.FloatField()


class CostForm(forms.Form):
    month = MonthField()
    team = forms.ModelChoiceField(Team.objects.all(), required=False,
                                  empty_label="Whole operation")
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    note = forms.CharField(max_length=200, required=False)


class ObjectiveForm(forms.Form):
    perspective = forms.ChoiceField(choices=Perspective.choices)
    name = forms.CharField(max_length=150)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MeasureForm(forms.Form):
    kpi_key = forms.ChoiceField(label="KPI")

    def __init__(self, *args, library: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi_key"].choices = [(k, v.name) for k, v in library.items()]


class InitiativeForm(forms.Form):
    name = forms.CharField(max_length=150)
    owner = forms.ModelChoiceField(Staff.objects.filter(is_active=True), required=False)
    due = forms.DateField(required=False, widget=DateInput)
    state = forms.ChoiceField(choices=Initiative.State.choices)
