"""Forms of the workforce pages. Validation beyond the fields is the services' (one place)."""

from __future__ import annotations

from django import forms

from serviceops.people.models import Team
from serviceops.workforce.forecast import ForecastModel
from serviceops.workforce.models import (
    INTERVAL_CHOICES,
    WEEKDAY_CHOICES,
    Forecast,
    ShiftPattern,
    StaffingPlan,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ForecastForm(forms.Form):
    name = forms.CharField(max_length=120)
    team = forms.ModelChoiceField(Team.objects.none(), required=False,
                                  empty_label="All teams")
    source = forms.ChoiceField(choices=Forecast.Source.choices)
    arrivals = forms.FileField(required=False, help_text="CSV with a header row.")
    time_column = forms.CharField(required=False, help_text="Column of arrival times.")
    count_column = forms.CharField(required=False,
                                   help_text="Column of arrivals per row (optional).")
    handle_column = forms.CharField(required=False,
                                    help_text="Column of mean handle seconds (optional).")
    last_history_day = forms.DateField(widget=DATE, label="Last day of history")
    interval_minutes = forms.TypedChoiceField(choices=INTERVAL_CHOICES, coerce=int, initial=30)
    horizon_days = forms.IntegerField(min_value=1, max_value=56, initial=14,
                                      label="Days to forecast")
    model = forms.ChoiceField(choices=[("auto", "Best by backtest")]
                              + [(m.value, m.value) for m in ForecastModel], initial="auto")
    origins = forms.IntegerField(min_value=1, max_value=8, initial=3,
                                 label="Backtest origins")
    time_zone = forms.CharField(initial="Europe/London")
    holidays = forms.CharField(initial="GB-ENG", help_text="Region (GB-ENG…) or 'none'.")
    closures = forms.CharField(required=False, help_text="Closed days, YYYY-MM-DD, comma "
                                                         "separated.")

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams if teams is not None else Team.objects.all()

    def clean_closures(self):
        from datetime import date

        text = self.cleaned_data["closures"].strip()
        days = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            try:
                days.append(date.fromisoformat(part))
            except ValueError:
                raise forms.ValidationError(f"{part!r} is not a date (YYYY-MM-DD).") from None
        return days


class PlanForm(forms.ModelForm):
    class Meta:
        model = StaffingPlan
        fields = ["name", "volume_basis", "aht_seconds", "sl_target", "sl_seconds",
                  "asa_target", "max_abandon", "max_occupancy", "patience_seconds",
                  "shrinkage", "hourly_cost"]
        labels = {"aht_seconds": "AHT (seconds)", "sl_target": "Service-level target",
                  "sl_seconds": "Service-level threshold (seconds)",
                  "asa_target": "ASA target (seconds)", "max_abandon": "Abandonment cap",
                  "max_occupancy": "Occupancy cap", "patience_seconds": "Patience (seconds)",
                  "hourly_cost": "Cost per rostered hour (£)", "volume_basis": "Staff to"}


class ScenarioForm(forms.Form):
    name = forms.CharField(max_length=80)
    volume_factor = forms.FloatField(initial=1.0, min_value=0, label="Volume ×",
                                     help_text="1.15 is 15 % more contacts.")
    aht_change_seconds = forms.FloatField(initial=0, label="AHT change (seconds)",
                                          help_text="−10 is ten seconds shorter.")
    shrinkage = forms.FloatField(required=False, min_value=0, max_value=0.95,
                                 help_text="Empty: the plan's.")


class PatternForm(forms.ModelForm):
    class Meta:
        model = ShiftPattern
        fields = ["name", "team", "first_start", "last_start", "step_minutes",
                  "length_minutes", "unpaid_break_minutes", "paid_break_minutes", "is_active"]
        widgets = {"first_start": TIME, "last_start": TIME}

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is not None:
            self.fields["team"].queryset = teams


class ContractForm(forms.Form):
    min_weekly_hours = forms.FloatField(min_value=0, initial=0)
    max_weekly_hours = forms.FloatField(min_value=0, initial=48)
    days_off = forms.TypedMultipleChoiceField(choices=WEEKDAY_CHOICES, coerce=int,
                                              required=False,
                                              widget=forms.CheckboxSelectMultiple)
    consecutive_days_off = forms.IntegerField(min_value=0, max_value=5, initial=0)
    earliest_start = forms.TimeField(required=False, widget=TIME)
    latest_end = forms.TimeField(required=False, widget=TIME)
    opted_out_of_48h = forms.BooleanField(required=False, label="Opted out of the 48-hour "
                                                               "average")


class LeaveForm(forms.Form):
    first_day = forms.DateField(widget=DATE)
    last_day = forms.DateField(widget=DATE)
    note = forms.CharField(required=False, max_length=200)


class RotaForm(forms.Form):
    first_day = forms.DateField(widget=DATE)
    days = forms.IntegerField(min_value=1, max_value=28, initial=7)
    named = forms.BooleanField(required=False, initial=True,
                               label="Give shifts to the team's staff by name")
    time_limit_seconds = forms.IntegerField(min_value=1, max_value=600, initial=30,
                                            label="Time limit (seconds)")
