"""Forms of the complaint pages. Rules beyond the fields are the services' (one place)."""

from __future__ import annotations

from django import forms

from serviceops.cases.choices import Channel
from serviceops.complaints.models import (
    Action,
    Cause,
    Complaint,
    ComplaintCategory,
    Fishbone,
    Gesture,
    LetterKind,
    LetterTemplate,
    Outcome,
    Regime,
    Severity,
)
from serviceops.people.models import Staff, Team

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LogForm(forms.Form):
    """A complaint on an existing case, or (without one) on a new case."""

    regime = forms.ModelChoiceField(Regime.objects.filter(is_active=True), empty_label=None)
    received_at = forms.DateTimeField(widget=MOMENT, label="Received")
    channel = forms.ChoiceField(choices=Channel.choices)
    subject = forms.CharField(required=False, max_length=255,
                              help_text="For a new case (when not logged from a case).")
    account = forms.CharField(widget=forms.Textarea, label="What went wrong",
                              help_text="The customer's account, in their words.")
    desired_outcome = forms.CharField(widget=forms.Textarea, label="What they want")
    category = forms.ModelChoiceField(ComplaintCategory.objects.all(), required=False)
    product = forms.CharField(required=False, max_length=120,
                              label="Product or service complained about")
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int,
                                      initial=Severity.MODERATE)
    vulnerable = forms.BooleanField(required=False,
                                    label="The customer is in vulnerable circumstances")
    vulnerability_note = forms.CharField(required=False, max_length=300,
                                         label="What support they need")
    team = forms.ModelChoiceField(Team.objects.all(), required=False,
                                  help_text="For a new case.")
    customer_email = forms.EmailField(required=False, label="Customer's email",
                                      help_text="For a new case: the customer on record.")

    def clean_customer_email(self):
        from serviceops.customers.models import Customer

        email = self.cleaned_data["customer_email"].strip()
        if not email:
            return None
        customer = Customer.objects.filter(email__iexact=email).first()
        if customer is None:
            raise forms.ValidationError("No customer has this email: add them first, or "
                                        "leave it empty.")
        return customer


class DetailsForm(forms.ModelForm):
    class Meta:
        model = Complaint
        fields = ["category", "product", "severity", "vulnerable", "vulnerability_note",
                  "purchase_kind", "purchased_on", "delivered_on", "fault_reported_on",
                  "repairs_or_replacements"]
        widgets = {"purchased_on": DATE, "delivered_on": DATE, "fault_reported_on": DATE}
        labels = {"repairs_or_replacements": "Repairs or replacements already tried"}


class ChecklistForm(forms.ModelForm):
    class Meta:
        model = Complaint
        fields = ["listened", "empathised", "apologised", "outcome_agreed",
                  "next_steps_explained"]
        labels = {"listened": "Listened to and recorded the customer's account",
                  "empathised": "Empathised", "apologised": "Apologised where appropriate",
                  "outcome_agreed": "Agreed the outcome the customer seeks",
                  "next_steps_explained": "Explained the next steps"}


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    resolution = forms.CharField(widget=forms.Textarea, help_text="What was found and done.")
    remedy = forms.CharField(widget=forms.Textarea, required=False,
                             help_text="What was offered to put it right.")
    summary = forms.BooleanField(required=False, label="Summary resolution",
                                 help_text="Resolved to the customer's satisfaction within "
                                           "the regime's summary deadline.")
    follow_up_due = forms.DateField(required=False, widget=DATE,
                                    label="Follow up on",
                                    help_text="When to check the customer's confidence is "
                                              "restored.")


class FollowUpForm(forms.Form):
    confidence_restored = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda v: v == "yes",
        widget=forms.RadioSelect, label="Is the customer's confidence restored?")
    note = forms.CharField(widget=forms.Textarea, required=False,
                           label="What the customer said")


class EscalateForm(forms.Form):
    to = forms.ModelChoiceField(Staff.objects.none(), label="Senior complaint handler")
    reason = forms.CharField(widget=forms.Textarea)

    def __init__(self, *args, handlers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = handlers if handlers is not None else Staff.objects.none()


class AssignForm(forms.Form):
    handler = forms.ModelChoiceField(Staff.objects.none(), label="Complaint handler")

    def __init__(self, *args, handlers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = handlers if handlers is not None else \
            Staff.objects.none()


class OmbudsmanForm(forms.Form):
    reference = forms.CharField(max_length=100, label="Ombudsman's reference")


class WhysForm(forms.Form):
    why1 = forms.CharField(required=False, label="Why did it happen?")
    why2 = forms.CharField(required=False, label="Why? (2)")
    why3 = forms.CharField(required=False, label="Why? (3)")
    why4 = forms.CharField(required=False, label="Why? (4)")
    why5 = forms.CharField(required=False, label="Why? (5)")

    def answers(self) -> list[str]:
        return [self.cleaned_data[f"why{k}"].strip() for k in range(1, 6)
                if self.cleaned_data[f"why{k}"].strip()]


class CauseForm(forms.Form):
    cause = forms.ModelChoiceField(Cause.objects.filter(is_active=True), required=False,
                                   label="Root cause from the catalogue")
    new_category = forms.ChoiceField(choices=[("", "—")] + Fishbone.choices, required=False,
                                     label="or a new cause under")
    new_name = forms.CharField(required=False, max_length=150, label="named")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if not data.get("cause") and not (data.get("new_category") and data.get("new_name")):
            raise forms.ValidationError("Choose a cause, or give a new one with its category.")
        return data


class ActionForm(forms.ModelForm):
    class Meta:
        model = Action
        fields = ["kind", "description", "owner", "due_on", "check_on", "cause"]
        widgets = {"due_on": DATE, "check_on": DATE,
                   "description": forms.Textarea(attrs={"rows": 2})}
        labels = {"check_on": "Check it worked on"}


class ActionStateForm(forms.Form):
    state = forms.ChoiceField(choices=Action.State.choices)


class ActionCheckForm(forms.Form):
    effect = forms.ChoiceField(choices=Action.Effect.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class GestureForm(forms.ModelForm):
    class Meta:
        model = Gesture
        fields = ["kind", "amount", "note"]
        labels = {"amount": "Cost (£)"}


class LetterForm(forms.Form):
    kind = forms.ChoiceField(choices=LetterKind.choices)
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}))


class TemplateForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = ["kind", "regime", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}
