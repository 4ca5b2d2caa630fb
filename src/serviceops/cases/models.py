"""Cases (DO2) and their append-only event log, the single source for every time and KPI."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from serviceops.cases.choices import (
    Channel,
    EventKind,
    Level,
    LinkKind,
    MessageKind,
    Priority,
    Status,
)


class Category(models.Model):
    """A node of the category tree ("Billing › Refunds")."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    skill = models.ForeignKey(
        "people.Skill", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Skill needed to handle cases of this category (assignment by skill).",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_in_parent")
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """A customer's request, problem or complaint, on any channel, from opening to close.

    The primary key is the case number users see ("#1234"). Status, priority, team and
    assignee are the current state; how they came to be is in `events`. Fields change only
    through `cases.services`, which records each change.
    """

    subject = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.MODERATE
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="cases",
    )
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    assignee = models.ForeignKey(
        "people.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_cases"
    )
    external_ref = models.CharField(max_length=100, blank=True)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # Queues: newest first within a team / assignee / status, keyset on (opened_at, id).
            models.Index(fields=["team", "status", "-opened_at", "-id"], name="case_team_q"),
            models.Index(fields=["team", "-opened_at", "-id"], name="case_team_all_q"),
            models.Index(fields=["assignee", "status", "-opened_at", "-id"], name="case_mine_q"),
            models.Index(fields=["status", "-opened_at", "-id"], name="case_status_q"),
            models.Index(fields=["-opened_at", "-id"], name="case_all_q"),
            models.Index(fields=["customer", "-opened_at"], name="case_customer_q"),
            models.Index(fields=["external_ref"], name="case_external_ref"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class Message(models.Model):
    """An entry of the case thread: a customer message, a public reply or an internal note."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    body = models.TextField()
    author = models.ForeignKey(
        "people.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case #{self.case_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.message.case_id}/{filename}"


class Attachment(models.Model):
    """A file sent with a message; type and size are checked by `cases.attachments`."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name


class CaseEvent(models.Model):
    """One thing that happened to a case. Append-only: never updated, never deleted.

    `kind` says what; `from_value` / `to_value` hold the old and new value of the changed
    field as text (status code, priority number, staff or team id); `data` holds anything
    else (message id, merge target, import provenance).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        "people.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_value = models.CharField(max_length=100, blank=True)
    to_value = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at", "id"], name="event_case_at"),
            models.Index(fields=["kind", "at"], name="event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case #{self.case_id}"


class CaseLink(models.Model):
    """A relation between two cases: related, duplicate of, or child of."""

    from_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_out")
    to_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_case", "to_case", "kind"], name="case_link_once")
        ]

    def __str__(self) -> str:
        return f"#{self.from_case_id} {self.get_kind_display()} #{self.to_case_id}"


class CannedResponse(models.Model):
    """A script or canned reply with {{ placeholders }} filled from the case."""

    title = models.CharField(max_length=150)
    body = models.TextField()
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Leave empty to offer it to every team.",
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class SavedFilter(models.Model):
    """A queue filter a user saved under a name (query string of the queue page)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_filter_unique_name")
        ]


    def __str__(self) -> str:
        return self.name


class CaseFact(models.Model):
    """What the event log says about one case, in one row: the raw material of every KPI.

    Derived, never edited: `cases.facts.case_facts_refresh` rebuilds a row from the case and
    its events after every change commits (and in bulk after imports), so a KPI over a
    quarter reads one narrow table instead of millions of events. The grouping fields
    (channel, priority, team, category) are copies of the case's current values.
    """

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE,
                                related_name="fact")
    opened_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    team = models.ForeignKey("people.Team", null=True, on_delete=models.SET_NULL,
                             related_name="+")
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    merged = models.BooleanField(default=False)
    first_response_at = models.DateTimeField(null=True)
    first_response_seconds = models.FloatField(null=True)
    resolved_at = models.DateTimeField(null=True)
    resolution_seconds = models.FloatField(null=True)
    reply_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    assignment_count = models.PositiveIntegerField(default=0)
    team_move_count = models.PositiveIntegerField(default=0)
    reassigned = models.BooleanField(default=False)
    first_contact_resolution = models.BooleanField(null=True)

    class Meta:
        # Each cohort a KPI reads is one range of one index holding every column its figures
        # and team filter need, so a quarter's KPIs never touch the table itself.
        indexes = [
            models.Index(fields=["opened_at", "merged", "team", "reassigned",
                                 "first_response_seconds"], name="fact_opened_kpi"),
            models.Index(fields=["resolved_at", "merged", "team", "reopen_count",
                                 "first_contact_resolution", "resolution_seconds", "opened_at"],
                         name="fact_resolved_kpi"),
            models.Index(fields=["opened_at", "merged", "team"], name="fact_unresolved_kpi",
                         condition=models.Q(resolved_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Facts of case #{self.case_id}"


class CaseRefresh(models.Model):
    """A case whose derived rows (its SLA clocks and policy match, its `CaseFact`) must be
    recomputed: written in the same transaction as the change, so a change never commits
    without it, and deleted by the pass that recomputes them (`cases.derived`). Several rows
    for one case are normal (one per transaction that changed it)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Refresh of case #{self.case_id}"
