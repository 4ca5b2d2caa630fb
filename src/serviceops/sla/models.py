"""Business calendars, SLA policies (versioned), the clocks on each case and escalations."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from serviceops.cases.choices import Priority, Status
from serviceops.core.roles import Role
from serviceops.customers.choices import Channel, Tier
from serviceops.sla.businesstime import Calendar, CalendarError
from serviceops.sla.clocks import ClockKind, ClockState, Terms


class ClockKindChoice(models.TextChoices):
    FIRST_RESPONSE = ClockKind.FIRST_RESPONSE.value, "First response"
    NEXT_RESPONSE = ClockKind.NEXT_RESPONSE.value, "Next response"
    RESOLUTION = ClockKind.RESOLUTION.value, "Resolution"


class ClockStateChoice(models.TextChoices):
    RUNNING = ClockState.RUNNING.value, "Running"
    PAUSED = ClockState.PAUSED.value, "Paused"
    MET = ClockState.MET.value, "Met"
    BREACHED = ClockState.BREACHED.value, "Breached"


class BusinessCalendar(models.Model):
    """Opening hours, holidays and closures in the calendar file format (docs/sla.md)."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="calendars", help_text="The team that works to it")
    definition = models.JSONField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            Calendar.from_dict(self.definition)
        except CalendarError as error:
            raise ValidationError({"definition": str(error)}) from None

    def calendar(self) -> Calendar:
        return Calendar.from_dict(self.definition)


class ServiceStandard(models.Model):
    """A promise to customers in plain words, e.g. "emails replied within 4 business hours"."""

    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True,
                               help_text="Blank: every channel")
    statement = models.CharField(max_length=200)
    clock = models.CharField(max_length=16, choices=ClockKindChoice.choices)
    target_hours = models.DecimalField(max_digits=7, decimal_places=2)
    business_time = models.BooleanField(default=True)

    class Meta:
        ordering = ["channel", "clock"]
        constraints = [models.CheckConstraint(condition=models.Q(target_hours__gt=0),
                                              name="standard_target_positive")]

    def __str__(self) -> str:
        return self.statement


class SlaPolicy(models.Model):
    """Which cases it covers (first active match by position wins) and the targets they get.

    Editing a policy makes a new `SlaPolicyVersion`; a case keeps the version it was first
    timed under, so edits never rewrite the outcome of closed cases.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower matches first")
    is_active = models.BooleanField(default=True)
    # Empty lists match everything.
    priorities = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    tiers = models.JSONField(default=list, blank=True)
    categories = models.ManyToManyField("cases.Category", blank=True, related_name="+")
    teams = models.ManyToManyField("people.Team", blank=True, related_name="+")
    business_time = models.BooleanField(default=True)
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="policies")
    # {"1": {"first_response": 3600, "next_response": 3600, "resolution": 14400}, ...}
    targets = models.JSONField(default=dict)
    # {"resolution": ["pending_customer", "on_hold"], ...}
    pauses = models.JSONField(default=dict, blank=True)
    notify_only = models.BooleanField(
        default=False, help_text="Escalations notify but do not reassign or raise priority")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.business_time and self.calendar_id is None:
            errors["calendar"] = "A business-time policy needs a calendar."
        elif self.business_time and not _has_open_time(self.calendar.definition):
            errors["calendar"] = "This calendar has no opening hours: its clocks would never run."
        bad = set(map(str, self.priorities)) - {str(p) for p in Priority.values}
        if bad:
            errors["priorities"] = f"Unknown priorities: {', '.join(sorted(bad))}."
        if set(self.channels) - set(Channel.values):
            errors["channels"] = "Unknown channels."
        if set(self.tiers) - set(Tier.values):
            errors["tiers"] = "Unknown customer tiers."
        problem = targets_problem(self.targets)
        if problem:
            errors["targets"] = problem
        if not isinstance(self.pauses, dict) or any(
            kind not in ClockKind.__members__.values() or set(statuses) - set(Status.values)
            for kind, statuses in (self.pauses or {}).items()
        ):
            errors["pauses"] = "Pauses map a clock to statuses, e.g. resolution: [on_hold]."
        if errors:
            raise ValidationError(errors)


def _has_open_time(definition: dict) -> bool:
    try:
        calendar = Calendar.from_dict(definition)
    except CalendarError:
        return False
    return calendar.has_weekly_hours()


def targets_problem(targets) -> str | None:
    """What is wrong with a targets mapping, or None."""
    if not isinstance(targets, dict) or not targets:
        return "Give at least one target."
    for priority, by_kind in targets.items():
        if str(priority) not in {str(p) for p in Priority.values}:
            return f"Unknown priority {priority!r}."
        if not isinstance(by_kind, dict):
            return "Targets map each priority to clocks."
        for kind, seconds in by_kind.items():
            if kind not in {k.value for k in ClockKind}:
                return f"Unknown clock {kind!r}."
            if not isinstance(seconds, int) or seconds <= 0:
                return f"The {kind.replace('_', ' ')} target for priority {priority} must be a " \
                       "positive number of seconds."
    return None


class SlaPolicyVersion(models.Model):
    """An immutable copy of a policy's terms and calendar as they were when saved."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    targets = models.JSONField()
    pauses = models.JSONField(default=dict)
    business_time = models.BooleanField()
    calendar_definition = models.JSONField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"],
                                               name="policy_version_once")]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"

    def terms(self) -> Terms:
        return Terms(
            targets={int(p): {ClockKind(k): int(s) for k, s in by_kind.items()}
                     for p, by_kind in self.targets.items()},
            business_time=self.business_time,
            pauses={ClockKind(k): frozenset(v) for k, v in (self.pauses or {}).items()},
        )

    def calendar(self) -> Calendar | None:
        if not self.business_time or not self.calendar_definition:
            return None
        return _calendar_cached(self.pk, self.calendar_definition)


_CALENDARS: dict[int, Calendar] = {}


def _calendar_cached(version_id: int, definition: dict) -> Calendar:
    """Versions never change, so each one's calendar (and its built timeline) is kept."""
    calendar = _CALENDARS.get(version_id)
    if calendar is None:
        calendar = _CALENDARS[version_id] = Calendar.from_dict(definition)
    return calendar


class EscalationLevel(models.Model):
    """One step of a policy's escalation procedure, applied once per clock."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(default=1)
    clock = models.CharField(max_length=16, choices=ClockKindChoice.choices)
    percent_consumed = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Fire when this % of the target is used (1-100)")
    minutes_after_breach = models.PositiveIntegerField(
        null=True, blank=True, help_text="Or fire this long after the breach")
    notify_assignee = models.BooleanField(default=True)
    notify_roles = models.JSONField(default=list, blank=True,
                                    help_text="Roles in the case's team to alert")
    reassign_team = models.ForeignKey("people.Team", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    raise_priority = models.BooleanField(default=False)

    class Meta:
        ordering = ["policy", "clock", "position"]

    def __str__(self) -> str:
        return f"{self.policy} level {self.position} ({self.get_clock_display()})"

    def clean(self) -> None:
        if (self.percent_consumed is None) == (self.minutes_after_breach is None):
            raise ValidationError("Give either a % of the target or a time after the breach.")
        if self.percent_consumed is not None and not 1 <= self.percent_consumed <= 100:
            raise ValidationError({"percent_consumed": "Between 1 and 100."})
        if set(self.notify_roles) - set(Role.values):
            raise ValidationError({"notify_roles": "Unknown roles."})


class CaseSla(models.Model):
    """A case's SLA: the policy version timing it (None: no policy matches) and when the
    sweep must next look at it (indexed: the sweep never scans all cases)."""

    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.CASCADE,
                                related_name="sla")
    version = models.ForeignKey(SlaPolicyVersion, null=True, on_delete=models.PROTECT,
                                related_name="+")
    next_check_at = models.DateTimeField(null=True, db_index=True)
    next_due_at = models.DateTimeField(null=True, db_index=True,
                                       help_text="Soonest due time of a running clock")
    breached = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"SLA of case #{self.case_id}"


class CaseClock(models.Model):
    """One clock of a case as last computed from its events."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=16, choices=ClockKindChoice.choices)
    cycle = models.PositiveSmallIntegerField(default=0)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True)
    due_at = models.DateTimeField(null=True)
    breached_at = models.DateTimeField(null=True)
    elapsed_seconds = models.FloatField()
    paused_seconds = models.FloatField()
    state = models.CharField(max_length=10, choices=ClockStateChoice.choices)
    running = models.BooleanField()
    as_of = models.DateTimeField()
    # Copies of the case's grouping fields as of `as_of` (any change to the case recomputes
    # its clocks), so that SLA attainment is read from this table alone.
    team = models.ForeignKey("people.Team", null=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    category = models.ForeignKey("cases.Category", null=True, on_delete=models.SET_NULL,
                                 related_name="+", db_index=False)
    merged = models.BooleanField(default=False)

    class Meta:
        ordering = ["case", "kind", "cycle"]
        constraints = [models.UniqueConstraint(fields=["case", "kind", "cycle"],
                                               name="case_clock_once")]
        indexes = [
            models.Index(fields=["kind", "started_at"], name="clock_kind_started"),
            # What the SLA KPIs read: one index range per kind of clock, no table rows.
            models.Index(fields=["kind", "started_at", "state", "merged", "team", "cycle",
                                 "stopped_at", "elapsed_seconds"], name="clock_kpi"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} clock of case #{self.case_id}"

    @property
    def remaining_seconds(self) -> float:
        return self.target_seconds - self.elapsed_seconds


class CaseEscalation(models.Model):
    """An escalation applied to a case: by a level of its policy (once per clock) or by hand
    with a reason."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="escalations")
    level = models.ForeignKey(EscalationLevel, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    clock = models.CharField(max_length=16, choices=ClockKindChoice.choices, blank=True)
    cycle = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField()
    by = models.ForeignKey("people.Staff", null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    reason = models.TextField(blank=True)
    actions = models.JSONField(default=list)

    class Meta:
        ordering = ["case", "at"]
        constraints = [models.UniqueConstraint(
            fields=["case", "level", "clock", "cycle"], condition=models.Q(level__isnull=False),
            name="escalation_level_once")]

    def __str__(self) -> str:
        return f"Escalation of case #{self.case_id} at {self.at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An in-app message to a member of staff (escalations, alerts)."""

    recipient = models.ForeignKey("people.Staff", on_delete=models.CASCADE,
                                  related_name="notifications")
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text
