"""Complaints (DO4): a closed loop from receipt to confirmed restoration of the customer's
confidence, with the deadlines of a regime, a structured handling process, root causes,
corrective and preventive actions, service recovery and letters.

Every complaint is a case (`Complaint.case`): the thread, assignment, SLA clocks and audit
trail are the case's. Fields change only through `complaints.services`, which checks the
rules (stages, deadlines, approval limits, the root cause required before closing).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from serviceops.cases.choices import Channel
from serviceops.core.roles import Role


class Regime(models.Model):
    """The deadlines a complaint must meet, counted from its receipt.

    Each deadline is a number of business days (in `calendar`, or Monday to Friday less
    England's bank holidays without one) or of calendar days, and falls at the end of that
    day (`end_of_day`) or at the same time of day as the receipt. Blank: no such deadline.
    """

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    calendar = models.ForeignKey("sla.BusinessCalendar", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    acknowledge_days = models.PositiveSmallIntegerField(null=True, blank=True)
    acknowledge_business_days = models.BooleanField(default=True)
    summary_days = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="A complaint resolved by then may close with a summary resolution "
                  "(FCA DISP 1.5: the end of the third business day after receipt).")
    summary_business_days = models.BooleanField(default=True)
    holding_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="When a holding response is due if there is no "
                                         "final response yet.")
    holding_business_days = models.BooleanField(default=True)
    final_days = models.PositiveSmallIntegerField()
    final_business_days = models.BooleanField(default=True)
    end_of_day = models.BooleanField(default=True)
    ombudsman_name = models.CharField(
        max_length=120, blank=True,
        help_text="Set when the customer may refer the complaint to an ombudsman; final "
                  "and holding letters must then tell them so.")
    ombudsman_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Months after the final response within which the "
                                         "customer may refer the complaint.")
    root_cause_required = models.BooleanField(
        default=True, help_text="An upheld or partly upheld complaint cannot close without "
                                "at least one root cause.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ComplaintCategory(models.Model):
    """What the complaint is about (a two-level tree, e.g. Charges › Unexpected fee)."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")

    class Meta:
        ordering = ["parent__name", "name"]
        verbose_name_plural = "complaint categories"
        constraints = [models.UniqueConstraint(fields=["parent", "name"],
                                               name="complaint_category_unique")]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class Severity(models.IntegerChoices):
    LOW = 1, "1 – Low: an inconvenience, easily put right"
    MODERATE = 2, "2 – Moderate: a service failure the customer had to chase"
    HIGH = 3, "3 – High: financial loss, distress or a repeated failure"
    CRITICAL = 4, "4 – Critical: serious harm, a vulnerable customer affected, or regulatory"


class Stage(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    INVESTIGATE = "investigate", "Investigate"
    RESOLVE = "resolve", "Resolve"
    FOLLOW_UP = "follow_up", "Follow up"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    PARTLY_UPHELD = "partly_upheld", "Partly upheld"
    NOT_UPHELD = "not_upheld", "Not upheld"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PurchaseKind(models.TextChoices):
    GOODS = "goods", "Goods"
    DIGITAL = "digital", "Digital content"
    SERVICE = "service", "A service"


class Complaint(models.Model):
    """A complaint on a case: what the customer says and wants, the deadlines of its regime,
    where it is in handling, and how it ended."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE,
                                related_name="complaint")
    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="complaints")
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    account = models.TextField(help_text="What the customer says went wrong, in their words.")
    desired_outcome = models.TextField(help_text="What the customer wants.")
    category = models.ForeignKey(ComplaintCategory, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="complaints")
    product = models.CharField(max_length=120, blank=True,
                               help_text="The product or service complained about.")
    severity = models.PositiveSmallIntegerField(choices=Severity.choices,
                                                default=Severity.MODERATE)
    vulnerable = models.BooleanField(default=False,
                                     help_text="The customer is in vulnerable circumstances.")
    vulnerability_note = models.CharField(max_length=300, blank=True)
    # Copies of the case's team and customer at logging (for analysis without a join).
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="complaints")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="complaints")

    logged_by = models.ForeignKey("people.Staff", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.ACKNOWLEDGE)
    handler = models.ForeignKey("people.Staff", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="complaints_handled")
    escalated_to = models.ForeignKey("people.Staff", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     help_text="The senior complaint handler.")
    escalated_at = models.DateTimeField(null=True, blank=True)
    ombudsman_referred_at = models.DateTimeField(null=True, blank=True)
    ombudsman_reference = models.CharField(max_length=100, blank=True)

    # Deadlines, computed from the regime at receipt (kept so that SQL can compare).
    acknowledge_due = models.DateTimeField(null=True, blank=True)
    summary_due = models.DateTimeField(null=True, blank=True)
    holding_due = models.DateTimeField(null=True, blank=True)
    final_due = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    holding_sent_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When the final (or summary) response went.")
    summary_resolution = models.BooleanField(default=False)

    # The handler's checklist.
    listened = models.BooleanField(default=False,
                                   help_text="Listened to and recorded the customer's account.")
    empathised = models.BooleanField(default=False)
    apologised = models.BooleanField(default=False, help_text="Apologised where appropriate.")
    outcome_agreed = models.BooleanField(default=False,
                                         help_text="Agreed the outcome the customer seeks.")
    next_steps_explained = models.BooleanField(default=False)

    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    resolution = models.TextField(blank=True, help_text="What was found and what was done.")
    remedy = models.TextField(blank=True, help_text="What was offered to put it right.")

    follow_up_due = models.DateField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    confidence_restored = models.BooleanField(null=True, blank=True)
    follow_up_note = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Consumer Rights Act 2015: the purchase, for the remedy guidance.
    purchase_kind = models.CharField(max_length=10, choices=PurchaseKind.choices, blank=True)
    purchased_on = models.DateField(null=True, blank=True)
    delivered_on = models.DateField(null=True, blank=True)
    fault_reported_on = models.DateField(null=True, blank=True)
    repairs_or_replacements = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["received_at"], name="complaint_received"),
            models.Index(fields=["stage", "final_due"], name="complaint_open_due"),
            models.Index(fields=["team", "received_at"], name="complaint_team_received"),
            models.Index(fields=["customer", "received_at"], name="complaint_customer"),
        ]

    def __str__(self) -> str:
        return f"Complaint on case #{self.case_id}"


class WhyStep(models.Model):
    """One step of a 5-whys chain: why did this happen? Because…"""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)])
    answer = models.TextField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["complaint", "position"],
                                               name="why_step_unique")]

    def __str__(self) -> str:
        return f"Why {self.position}: {self.answer[:60]}"


class Fishbone(models.TextChoices):
    PEOPLE = "people", "People"
    PROCESS = "process", "Process"
    POLICY = "policy", "Policy"
    PRODUCT = "product", "Product"
    SYSTEMS = "systems", "Systems and technology"
    COMMUNICATION = "communication", "Communication"
    PARTNERS = "partners", "Partners and third parties"
    ENVIRONMENT = "environment", "Environment"


class Cause(models.Model):
    """A root cause in the catalogue, under its fishbone category, so that recurring causes
    are counted as one (e.g. Systems › Payment file sent late)."""

    category = models.CharField(max_length=16, choices=Fishbone.choices)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [models.UniqueConstraint(fields=["category", "name"],
                                               name="cause_unique")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} › {self.name}"


class ComplaintCause(models.Model):
    """A root cause chosen for a complaint."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="causes")
    cause = models.ForeignKey(Cause, on_delete=models.PROTECT, related_name="complaints")
    note = models.TextField(blank=True)
    # A copy of the complaint's receipt, so that causes by period are one index range.
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["complaint", "cause"],
                                               name="complaint_cause_unique")]
        indexes = [models.Index(fields=["received_at", "cause"], name="complaint_cause_time")]

    def __str__(self) -> str:
        return f"{self.cause} on {self.complaint}"


class Action(models.Model):
    """A corrective or preventive action: owner, due date, status, and a later check that it
    worked. Raised from a complaint (or on its own), and may be linked to an improvement
    initiative."""

    class Kind(models.TextChoices):
        CORRECTIVE = "corrective", "Corrective (fix this)"
        PREVENTIVE = "preventive", "Preventive (stop it happening again)"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Effect(models.TextChoices):
        EFFECTIVE = "effective", "Effective"
        NOT_EFFECTIVE = "not_effective", "Not effective"

    complaint = models.ForeignKey(Complaint, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="actions")
    cause = models.ForeignKey(Cause, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="actions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.TextField()
    owner = models.ForeignKey("people.Staff", on_delete=models.PROTECT, related_name="actions")
    due_on = models.DateField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    check_on = models.DateField(null=True, blank=True,
                                help_text="When to check that the action worked.")
    effect = models.CharField(max_length=14, choices=Effect.choices, blank=True)
    effect_note = models.TextField(blank=True)
    initiative = models.ForeignKey("insights.Initiative", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="actions")
    created_by = models.ForeignKey("people.Staff", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["owner", "state", "due_on"], name="action_owner_due")]

    def __str__(self) -> str:
        return self.description[:80]


class Gesture(models.Model):
    """A service-recovery gesture given to the customer, with its cost and who approved it."""

    class Kind(models.TextChoices):
        APOLOGY = "apology", "Apology"
        REFUND = "refund", "Refund"
        CREDIT = "credit", "Account credit"
        GOODWILL_GIFT = "goodwill_gift", "Goodwill gift"
        EXPEDITED_FIX = "expedited_fix", "Expedited fix"
        FEE_WAIVER = "fee_waiver", "Fee waiver"

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="gestures")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=0,
                                 validators=[MinValueValidator(0)])
    note = models.CharField(max_length=300, blank=True)
    approved_by = models.ForeignKey("people.Staff", on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField()
    # A copy of the complaint's receipt, for cost by period without a join.
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["given_at", "id"]
        indexes = [models.Index(fields=["received_at"], name="gesture_received")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} £{self.amount}"


class ApprovalLimit(models.Model):
    """The most a role may approve in service-recovery gestures on one complaint (£)."""

    role = models.CharField(max_length=20, choices=Role.choices, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2,
                                 validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["amount"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: £{self.amount}"


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
    HOLDING = "holding", "Holding response"
    SUMMARY = "summary", "Summary resolution"
    FINAL = "final", "Final response"


class LetterTemplate(models.Model):
    """An editable letter or email with placeholders such as {customer_name},
    {case_number}, {received_date}, {final_due_date}, {handler_name}, {outcome}, {remedy},
    {ombudsman_name}, {ombudsman_deadline}. A regime's own template wins over a general one."""

    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    regime = models.ForeignKey(Regime, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="templates")
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["kind", "regime__name"]
        constraints = [models.UniqueConstraint(fields=["kind", "regime"],
                                               name="letter_template_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.regime or 'all regimes'})"


class Letter(models.Model):
    """A letter sent on a complaint, as rendered; also a public reply on its case."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    message = models.ForeignKey("cases.Message", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    sent_by = models.ForeignKey("people.Staff", null=True, on_delete=models.SET_NULL,
                                related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.complaint}"


class Reminder(models.Model):
    """A reminder the deadline job has sent, so that it never sends the same one twice.

    `key` names what the reminder was about, e.g. "c12:final:breached" (complaint 12's final
    response is overdue) or "a7:overdue:2026-03-01" (action 7, due on that date, is overdue);
    the job claims a key by inserting it, and the unique constraint refuses a second claim.
    """

    key = models.CharField(max_length=80, unique=True)
    complaint = models.ForeignKey(Complaint, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="reminders")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="reminders")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return self.key
