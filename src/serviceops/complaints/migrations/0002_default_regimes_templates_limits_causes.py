"""Ship what a new installation needs to log complaints on day one: the general and FCA DISP
regimes, plain-English letters, approval limits by role, a starter catalogue of root causes
under the fishbone categories, and complaint categories. Everything here is editable in the
complaint settings; running this twice changes nothing."""

from decimal import Decimal

from django.db import migrations

REGIMES = [
    {
        "key": "general",
        "name": "General",
        "description": "Our own standard: acknowledge within 2 business days and send a final "
                       "response within 20 business days of receipt.",
        "acknowledge_days": 2, "acknowledge_business_days": True,
        "summary_days": None, "holding_days": None,
        "final_days": 20, "final_business_days": True,
        "end_of_day": True, "ombudsman_name": "", "ombudsman_months": None,
        "root_cause_required": True,
    },
    {
        "key": "fca-disp",
        "name": "FCA DISP (UK financial services)",
        "description": "FCA Handbook DISP 1.5 and 1.6: a summary resolution by the end of the "
                       "third business day after the day of receipt; otherwise a final "
                       "response, or a holding response explaining the delay, by the end of "
                       "eight weeks. Final and holding letters tell the customer of their "
                       "right to refer to the Financial Ombudsman Service within six months. "
                       "DISP asks for a prompt acknowledgement: 5 business days is our "
                       "default, change it to suit.",
        "acknowledge_days": 5, "acknowledge_business_days": True,
        "summary_days": 3, "summary_business_days": True,
        "holding_days": 56, "holding_business_days": False,
        "final_days": 56, "final_business_days": False,
        "end_of_day": True, "ombudsman_name": "Financial Ombudsman Service",
        "ombudsman_months": 6, "root_cause_required": True,
    },
]

SIGN_OFF = "Yours sincerely,\n\n{handler_name}\n{team_name}"

FOS_CONTACT = (
    "Financial Ombudsman Service\n"
    "Exchange Tower, London E14 9SR\n"
    "Telephone: 0800 023 4567\n"
    "Website: www.financial-ombudsman.org.uk\n"
    "The service is free to use."
)

# (kind, regime key or None for every regime, subject, body)
TEMPLATES = [
    ("acknowledgement", None, "We have received your complaint (case {case_number})",
     "Dear {customer_name},\n\n"
     "Thank you for telling us about your complaint, which we received on {received_date}. "
     "I am sorry that you have had reason to complain.\n\n"
     "I am looking into it now. I will contact you if I need anything else from you, and I "
     "will send you our full response by {final_due_date} at the latest.\n\n"
     "Please quote case {case_number} if you contact us about this.\n\n" + SIGN_OFF),
    ("holding", None, "An update on your complaint (case {case_number})",
     "Dear {customer_name},\n\n"
     "I am writing about the complaint you made on {received_date}. I am sorry that I have "
     "not yet been able to give you our full response.\n\n"
     "I am still looking into what happened, and I will write to you again as soon as I "
     "can. If you would like to talk to me in the meantime, please reply to this message "
     "quoting case {case_number}.\n\n" + SIGN_OFF),
    ("summary", None, "Your complaint is resolved (case {case_number})",
     "Dear {customer_name},\n\n"
     "Thank you for speaking to us about your complaint of {received_date}. As we agreed, "
     "we consider it resolved:\n\n{resolution}\n\n{remedy}\n\n"
     "If you are not happy after all, please reply quoting case {case_number} and we will "
     "look at it again.\n\n" + SIGN_OFF),
    ("final", None, "Our final response to your complaint (case {case_number})",
     "Dear {customer_name},\n\n"
     "Thank you for your patience while we looked into your complaint of {received_date}. "
     "This letter is our final response.\n\n"
     "Our decision: your complaint is {outcome}.\n\n{resolution}\n\n{remedy}\n\n"
     "If you are not happy with this response, please reply quoting case {case_number} "
     "and a senior member of the team will review it.\n\n" + SIGN_OFF),
    ("holding", "fca-disp", "An update on your complaint (case {case_number})",
     "Dear {customer_name},\n\n"
     "I am writing about the complaint you made on {received_date}. I am sorry that we "
     "have not been able to give you our final response within eight weeks.\n\n"
     "I am still looking into what happened, and I will send you our final response as "
     "soon as I can.\n\n"
     "Your right to go to the {ombudsman_name}\n"
     "You do not have to wait for our final response: you can refer your complaint to the "
     "{ombudsman_name} now. Once we have sent our final response, you will have "
     "{ombudsman_months} months from its date to refer your complaint. You can contact "
     "them at:\n\n" + FOS_CONTACT + "\n\n" + SIGN_OFF),
    ("summary", "fca-disp", "Your complaint is resolved (case {case_number})",
     "Dear {customer_name},\n\n"
     "Thank you for speaking to us about your complaint of {received_date}. As we agreed, "
     "we consider it resolved:\n\n{resolution}\n\n{remedy}\n\n"
     "Your right to go to the {ombudsman_name}\n"
     "If you later become unhappy with how we resolved your complaint, you may be able to "
     "refer it to the {ombudsman_name}. You must do so by {ombudsman_deadline} "
     "({ombudsman_months} months from the date of this message); we do not consent to the "
     "ombudsman considering it after that date. You can contact them at:\n\n"
     + FOS_CONTACT + "\n\n" + SIGN_OFF),
    ("final", "fca-disp", "Our final response to your complaint (case {case_number})",
     "Dear {customer_name},\n\n"
     "Thank you for your patience while we looked into your complaint of {received_date}. "
     "This letter is our final response.\n\n"
     "Our decision: your complaint is {outcome}.\n\n{resolution}\n\n{remedy}\n\n"
     "Your right to go to the {ombudsman_name}\n"
     "If you are not happy with our response, you can refer your complaint to the "
     "{ombudsman_name}. You must do so within {ombudsman_months} months of the date of "
     "this letter, that is by {ombudsman_deadline}. If you do not refer your complaint in "
     "time, the ombudsman will not have our permission to consider it and so will only be "
     "able to do so in very limited circumstances, for example if it believes the delay "
     "was the result of exceptional circumstances. You can contact them at:\n\n"
     + FOS_CONTACT + "\n\n" + SIGN_OFF),
]

# £ a role may approve in recovery gestures on one complaint; an administrator in effect
# has no limit. Roles without a row (quality analysts, trainers, assessors) approve nothing.
LIMITS = {
    "agent": Decimal("25"),
    "team_leader": Decimal("100"),
    "manager": Decimal("500"),
    "head_of_service": Decimal("2000"),
    "admin": Decimal("1000000"),
}

CAUSES = {
    "people": ["Training gap", "Wrong information given", "Staff attitude",
               "Not enough staff on shift"],
    "process": ["Hand-off between teams lost", "Step missed in the procedure",
                "Approval too slow"],
    "policy": ["Policy unclear to customers", "Policy too rigid for the situation"],
    "product": ["Product fault", "Product not as described"],
    "systems": ["System outage", "Data entered wrongly", "Payment file sent late"],
    "communication": ["Promised call-back not made", "Letter or email unclear",
                      "Customer not kept informed"],
    "partners": ["Courier delay", "Supplier error"],
    "environment": ["Severe weather", "Sudden rise in demand"],
}

CATEGORIES = {
    "Service": ["Delay", "Staff attitude", "Not kept informed"],
    "Charges": ["Unexpected fee", "Refund not received", "Billing error"],
    "Product": ["Fault", "Not as described"],
    "Communication": ["Wrong information", "No reply"],
    "Data and privacy": ["Personal data mishandled"],
}


def forward(apps, schema_editor):
    Regime = apps.get_model("complaints", "Regime")
    LetterTemplate = apps.get_model("complaints", "LetterTemplate")
    ApprovalLimit = apps.get_model("complaints", "ApprovalLimit")
    Cause = apps.get_model("complaints", "Cause")
    ComplaintCategory = apps.get_model("complaints", "ComplaintCategory")

    regimes = {}
    for data in REGIMES:
        fields = dict(data)
        key = fields.pop("key")
        regimes[key], _ = Regime.objects.get_or_create(key=key, defaults=fields)
    for kind, regime_key, subject, body in TEMPLATES:
        regime = regimes[regime_key] if regime_key else None
        if not LetterTemplate.objects.filter(kind=kind, regime=regime).exists():
            LetterTemplate.objects.create(kind=kind, regime=regime, subject=subject, body=body)
    for role, amount in LIMITS.items():
        ApprovalLimit.objects.get_or_create(role=role, defaults={"amount": amount})
    for category, names in CAUSES.items():
        for name in names:
            Cause.objects.get_or_create(category=category, name=name)
    for parent_name, names in CATEGORIES.items():
        parent = ComplaintCategory.objects.filter(parent=None, name=parent_name).first()
        if parent is None:
            parent = ComplaintCategory.objects.create(name=parent_name)
        for name in names:
            ComplaintCategory.objects.get_or_create(parent=parent, name=name)


class Migration(migrations.Migration):

    dependencies = [
        ("complaints", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
