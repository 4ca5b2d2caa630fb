"""Statuses, priorities and event kinds of cases, with the rules that tie them together."""

from django.db import models

from serviceops.customers.choices import Channel  # noqa: F401  (re-exported for cases)


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING_CUSTOMER = "pending_customer", "Pending customer"
    PENDING_THIRD_PARTY = "pending_third_party", "Pending third party"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


_WORKING = {
    Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_THIRD_PARTY, Status.ON_HOLD,
    Status.RESOLVED,
}

# Which status may follow which. A closed case is final: a new contact opens a new case
# (linked to the old one), as most regulators expect a closed complaint to stay closed.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(_WORKING | {Status.CLOSED}),
    Status.OPEN: frozenset(_WORKING - {Status.OPEN}),
    Status.PENDING_CUSTOMER: frozenset(_WORKING - {Status.PENDING_CUSTOMER}),
    Status.PENDING_THIRD_PARTY: frozenset(_WORKING - {Status.PENDING_THIRD_PARTY}),
    Status.ON_HOLD: frozenset(_WORKING - {Status.ON_HOLD}),
    Status.RESOLVED: frozenset({Status.REOPENED, Status.CLOSED}),
    Status.REOPENED: frozenset(_WORKING),
    Status.CLOSED: frozenset(),
}

OPEN_STATUSES = frozenset(
    {Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_THIRD_PARTY,
     Status.ON_HOLD, Status.REOPENED}
)


class Level(models.IntegerChoices):
    """Impact or urgency of a case."""

    HIGH = 1, "High"
    MEDIUM = 2, "Medium"
    LOW = 3, "Low"


class Priority(models.IntegerChoices):
    CRITICAL = 1, "Critical"
    HIGH = 2, "High"
    MODERATE = 3, "Moderate"
    LOW = 4, "Low"


# The ITIL impact × urgency matrix (rows: impact, columns: urgency).
PRIORITY_MATRIX: dict[tuple[int, int], int] = {
    (1, 1): Priority.CRITICAL, (1, 2): Priority.HIGH, (1, 3): Priority.MODERATE,
    (2, 1): Priority.HIGH, (2, 2): Priority.MODERATE, (2, 3): Priority.LOW,
    (3, 1): Priority.MODERATE, (3, 2): Priority.LOW, (3, 3): Priority.LOW,
}


def priority_for(impact: int, urgency: int) -> int:
    """Return the priority the matrix gives to `impact` and `urgency` (1 high – 3 low)."""
    return PRIORITY_MATRIX[(int(impact), int(urgency))]


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", "Customer message"
    REPLY = "reply", "Public reply"
    NOTE = "note", "Internal note"


class EventKind(models.TextChoices):
    """What an entry of the case event log records (see docs/architecture.md)."""

    CREATED = "created", "Created"
    ASSIGNED = "assigned", "Assigned"
    TEAM_CHANGED = "team_changed", "Team changed"
    STATUS_CHANGED = "status_changed", "Status changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    CATEGORY_CHANGED = "category_changed", "Category changed"
    CUSTOMER_MESSAGE = "customer_message", "Customer message"
    PUBLIC_REPLY = "public_reply", "Public reply"
    INTERNAL_NOTE = "internal_note", "Internal note"
    MERGED = "merged", "Merged into another case"
    MERGED_FROM = "merged_from", "Another case merged in"
    LINKED = "linked", "Linked"
    TAGS_CHANGED = "tags_changed", "Tags changed"
    ATTACHMENT_ADDED = "attachment_added", "Attachment added"
    ESCALATED = "escalated", "Escalated"


class LinkKind(models.TextChoices):
    RELATED = "related", "Related to"
    DUPLICATE = "duplicate", "Duplicate of"
    PARENT = "parent", "Child of"  # from_case is a child of to_case


class AssignmentMethod(models.TextChoices):
    MANUAL = "manual", "Manual"
    ROUND_ROBIN = "round_robin", "Round robin in the team"
    SKILL = "skill", "By skill"
