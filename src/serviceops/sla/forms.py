"""Forms for calendars, policies, escalation levels and manual escalation."""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms

from serviceops.cases.choices import Priority, Status
from serviceops.cases.models import Category
from serviceops.core.roles import Role
from serviceops.customers.choices import Channel, Tier
from serviceops.people.models import Team
from serviceops.sla.businesstime import Calendar, CalendarError
from serviceops.sla.clocks import ClockKind
from serviceops.sla.models import BusinessCalendar, EscalationLevel, ServiceStandard, SlaPolicy

CLOCKS = [(k.value, k.value.replace("_", " ").capitalize()) for k in ClockKind]
PAUSABLE = [(s, Status(s).label) for s in ("pending_customer", "pending_third_party",
                                           "on_hold")]


class CalendarForm(forms.ModelForm):
    """A calendar in the file format, typed or uploaded (the same JSON the export gives)."""

    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "cols": 80}),
                                 required=False, help_text="The calendar file (JSON).")
    upload = forms.FileField(required=False, help_text="Or import a calendar file.")

    class Meta:
        model = BusinessCalendar
        fields = ["name", "team"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["definition"] = json.dumps(self.instance.definition, indent=2)

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("upload")
        text = upload.read().decode("utf-8", "replace") if upload else data.get("definition")
        if not text:
            raise forms.ValidationError("Give the calendar's definition or upload a file.")
        try:
            data["parsed"] = Calendar.from_json(text).to_dict()
        except CalendarError as error:
            self.add_error("definition", str(error))
        else:
            self.instance.definition = data["parsed"]  # the model validates it again
        return data


class PolicyForm(forms.ModelForm):
    """A policy with a grid of targets (hours per priority and clock) and pause statuses."""

    priorities = forms.MultipleChoiceField(choices=Priority.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    tiers = forms.MultipleChoiceField(choices=Tier.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    categories = forms.ModelMultipleChoiceField(Category.objects.all(), required=False)
    teams = forms.ModelMultipleChoiceField(Team.objects.all(), required=False)
    # Not inputs: they carry the model's own errors about the grid and the pauses (the grid
    # and the checkboxes below are the inputs; `clean` copies them onto the policy).
    targets = forms.CharField(required=False, widget=forms.HiddenInput, disabled=True)
    pauses = forms.CharField(required=False, widget=forms.HiddenInput, disabled=True)

    class Meta:
        model = SlaPolicy
        fields = ["name", "description", "position", "is_active", "business_time", "calendar",
                  "notify_only"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        policy = self.instance
        for priority, label in Priority.choices:
            for kind, kind_label in CLOCKS:
                name = f"target_{priority}_{kind}"
                seconds = (policy.targets or {}).get(str(priority), {}).get(kind)
                self.fields[name] = forms.DecimalField(
                    label=f"{label}: {kind_label.lower()} (hours)", required=False,
                    min_value=Decimal("0.01"), max_digits=8, decimal_places=2,
                    initial=Decimal(seconds) / 3600 if seconds else None)
        for kind, kind_label in CLOCKS:
            self.fields[f"pause_{kind}"] = forms.MultipleChoiceField(
                label=f"{kind_label} clock pauses while", choices=PAUSABLE, required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=(policy.pauses or {}).get(kind, []))
        if policy.pk:
            self.initial.update(priorities=[str(p) for p in policy.priorities],
                                channels=policy.channels, tiers=policy.tiers,
                                categories=policy.categories.all(), teams=policy.teams.all())

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors:
            self.apply()  # so that the model's own validation sees the grid
        return data

    def target_rows(self):
        """(priority label, [bound fields per clock]) for the grid."""
        return [(label, [self[f"target_{p}_{k}"] for k, _ in CLOCKS])
                for p, label in Priority.choices]

    def pause_fields(self):
        return [self[f"pause_{k}"] for k, _ in CLOCKS]

    def apply(self) -> SlaPolicy:
        """Copy the cleaned grid and lists onto the (unsaved) policy."""
        policy = self.instance
        data = self.cleaned_data
        policy.priorities = [int(p) for p in data["priorities"]]
        policy.channels = list(data["channels"])
        policy.tiers = list(data["tiers"])
        policy.targets = {}
        for priority, _ in Priority.choices:
            for kind, _ in CLOCKS:
                hours = data.get(f"target_{priority}_{kind}")
                if hours:
                    policy.targets.setdefault(str(priority), {})[kind] = int(hours * 3600)
        policy.pauses = {kind: data[f"pause_{kind}"] for kind, _ in CLOCKS
                         if data.get(f"pause_{kind}")}
        return policy


class LevelForm(forms.ModelForm):
    notify_roles = forms.MultipleChoiceField(
        choices=[(r, Role(r).label) for r in (Role.TEAM_LEADER, Role.MANAGER, Role.HEAD_OF_SERVICE,
                                                 Role.ADMIN)],
        required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = EscalationLevel
        fields = ["position", "clock", "percent_consumed", "minutes_after_breach",
                  "notify_assignee", "notify_roles", "reassign_team", "raise_priority"]


class StandardForm(forms.ModelForm):
    class Meta:
        model = ServiceStandard
        fields = ["channel", "statement", "clock", "target_hours", "business_time"]


class EscalateForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    to_team = forms.ModelChoiceField(Team.objects.all(), required=False,
                                     label="Move to team (functional escalation)")
    raise_priority = forms.BooleanField(required=False)
    notify_roles = forms.MultipleChoiceField(
        choices=[(r, Role(r).label) for r in (Role.TEAM_LEADER, Role.MANAGER, Role.HEAD_OF_SERVICE,
                                                 Role.ADMIN)],
        initial=[Role.TEAM_LEADER], required=False, widget=forms.CheckboxSelectMultiple,
        label="Alert")


class ReportForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(choices=[("team", "Team"), ("priority", "Priority"),
                                    ("channel", "Channel"), ("policy", "Policy"),
                                    ("month", "Month")], initial="team")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError("The end date is before the start date.")
        return data
