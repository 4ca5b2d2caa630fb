from django import forms

from serviceops.customers.choices import AdjustmentKind
from serviceops.customers.models import Customer


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["kind", "name", "organisation", "email", "phone", "address", "tier",
                  "preferred_channel", "consent_marketing", "consent_surveys", "notes"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3}),
                   "notes": forms.Textarea(attrs={"rows": 3})}


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(choices=AdjustmentKind.choices, label="Adjustment")
    detail = forms.CharField(max_length=300, required=False)
