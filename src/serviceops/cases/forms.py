"""Forms of the case pages: they parse and validate input; the services decide."""

from __future__ import annotations

from django import forms

from serviceops.cases.choices import Channel, Level, LinkKind, Status
from serviceops.cases.models import Category
from serviceops.customers.models import Customer
from serviceops.people.models import Team


class CaseCreateForm(forms.Form):
    subject = forms.CharField(max_length=255)
    description = forms.CharField(widget=forms.Textarea, required=False)
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    customer = forms.ModelChoiceField(Customer.objects.order_by("name"), required=False,
                                      widget=forms.NumberInput,
                                      help_text="Customer number (see the customer's page).")
    team = forms.ModelChoiceField(Team.objects.all())
    category = forms.ModelChoiceField(Category.objects.select_related("parent"), required=False)
    impact = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.MEDIUM)
    urgency = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.MEDIUM)


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(choices=[("reply", "Public reply"), ("note", "Internal note")])
    body = forms.CharField(widget=forms.Textarea, label="Message")
    then_status = forms.ChoiceField(choices=[("", "Keep status")] + Status.choices,
                                    required=False, label="Then set status")
    attachments = forms.FileField(required=False,
                                  widget=forms.ClearableFileInput(attrs={"multiple": False}))


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)


class EditForm(forms.Form):
    impact = forms.TypedChoiceField(choices=Level.choices, coerce=int)
    urgency = forms.TypedChoiceField(choices=Level.choices, coerce=int)
    team = forms.ModelChoiceField(Team.objects.all(), required=False)
    category = forms.ModelChoiceField(Category.objects.select_related("parent"), required=False)


class LinkForm(forms.Form):
    other = forms.IntegerField(label="Other case number", min_value=1)
    kind = forms.ChoiceField(choices=LinkKind.choices + [("merge", "Merge this case into it")])


class TagsForm(forms.Form):
    tags = forms.CharField(required=False, help_text="Comma-separated")
