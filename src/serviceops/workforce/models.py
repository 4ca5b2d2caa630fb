"""Workforce plans (PL4): forecasts of demand, staffing plans with what-if scenarios, shift
patterns, contracts and leave, and rotas from draft to published.

The numbers come from the pure modules (`forecast`, `plan`, `rota`); a forecast keeps its
result as arrays in JSON (a week of 15-minute intervals is 672 values, read and written whole),
a rota keeps one row per shift so that each person's shifts can be queried.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


INTERVAL_CHOICES = [(15, "15 minutes"), (30, "30 minutes"), (60, "60 minutes")]


class Forecast(models.Model):
    """Contacts (and, from a file with handle times, AHT) per interval for the days after
    `last_history_day`, from the cases of a team or an uploaded arrivals CSV."""

    class Source(models.TextChoices):
        CASES = "cases", "Cases opened"
        FILE = "file", "Arrivals file"

    name = models.CharField(max_length=120)
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="forecasts",
                             help_text="The queue planned for; empty means all teams.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CASES)
    arrivals = models.FileField(upload_to="workforce/arrivals/", blank=True)
    time_column = models.CharField(max_length=100, blank=True)
    count_column = models.CharField(max_length=100, blank=True)
    handle_column = models.CharField(max_length=100, blank=True)
    interval_minutes = models.PositiveSmallIntegerField(choices=INTERVAL_CHOICES, default=30)
    horizon_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(56)])
    last_history_day = models.DateField(
        help_text="The last day of history; the forecast starts the day after.")
    time_zone = models.CharField(max_length=60, default="Europe/London")
    holidays = models.CharField(
        max_length=20, default="GB-ENG",
        help_text="Bank holidays (a region such as GB-ENG, GB-SCT), or 'none'.")
    closures = models.JSONField(default=list, blank=True,
                                help_text="Days the centre is closed (YYYY-MM-DD).")
    model = models.CharField(max_length=20, default="auto",
                             help_text="auto takes the model with the lowest backtest WAPE.")
    origins = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(8)])
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    error = models.TextField(blank=True)
    # {"starts": [ISO local], "volume": {"model", "mean", "low_80", ...}, "handle_time": ...,
    #  "history": {"starts", "volume"}, "backtest": {...}}; see services.run_forecast.
    result = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey("people.Staff", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def first_day(self):
        from datetime import timedelta

        return self.last_history_day + timedelta(days=1)

    @property
    def per_day(self) -> int:
        return 24 * 60 // self.interval_minutes


class StaffingPlan(models.Model):
    """A forecast staffed to service targets: agents per interval, rostered heads and cost."""

    class VolumeBasis(models.TextChoices):
        MEAN = "mean", "The forecast"
        HIGH_80 = "high_80", "The top of the 80 % interval"

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="plans")
    name = models.CharField(max_length=120)
    volume_basis = models.CharField(max_length=10, choices=VolumeBasis.choices,
                                    default=VolumeBasis.MEAN)
    aht_seconds = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Average handling time. Empty: the forecast's handle time per interval.")
    sl_target = models.FloatField(null=True, blank=True, default=0.8,
                                  help_text="Share answered within the threshold, e.g. 0.8.")
    sl_seconds = models.FloatField(default=20, validators=[MinValueValidator(1)])
    asa_target = models.FloatField(null=True, blank=True, help_text="Longest ASA (seconds).")
    max_abandon = models.FloatField(null=True, blank=True,
                                    help_text="Abandonment cap (needs patience), e.g. 0.05.")
    max_occupancy = models.FloatField(null=True, blank=True, help_text="e.g. 0.85")
    patience_seconds = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Callers' mean patience: staff with Erlang A. Empty: Erlang C.")
    shrinkage = models.FloatField(
        default=0.3, validators=[MinValueValidator(0), MaxValueValidator(0.95)],
        help_text="Share of paid time off the phones (leave, sickness, training...).")
    hourly_cost = models.FloatField(default=0, validators=[MinValueValidator(0)],
                                    help_text="Cost of one rostered hour (£).")
    created_by = models.ForeignKey("people.Staff", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Scenario(models.Model):
    """A what-if on a plan: volume × factor, AHT ± seconds, another shrinkage."""

    plan = models.ForeignKey(StaffingPlan, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField(max_length=80)
    volume_factor = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    aht_change_seconds = models.FloatField(default=0)
    shrinkage = models.FloatField(null=True, blank=True,
                                  validators=[MinValueValidator(0), MaxValueValidator(0.95)])

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"],
                                               name="scenario_name_unique_in_plan")]

    def __str__(self) -> str:
        return self.name


class ShiftPattern(models.Model):
    """Shifts of one length that may start anywhere in a window, every `step_minutes`, with
    an unpaid and a paid break that the optimiser places."""

    name = models.CharField(max_length=80)
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="shift_patterns",
                             help_text="Empty: available to every team.")
    first_start = models.TimeField()
    last_start = models.TimeField()
    step_minutes = models.PositiveSmallIntegerField(default=30,
                                                    validators=[MinValueValidator(15)])
    length_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(60), MaxValueValidator(13 * 60)],
        help_text="Breaks included; a shift may run past midnight.")
    unpaid_break_minutes = models.PositiveSmallIntegerField(default=30)
    paid_break_minutes = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["first_start", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.first_start and self.last_start and self.last_start < self.first_start:
            raise ValidationError({"last_start": "The last start must not be before the first."})


WEEKDAY_CHOICES = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
                   (4, "Friday"), (5, "Saturday"), (6, "Sunday")]


class Contract(models.Model):
    """What a member of staff's rota must respect besides the law."""

    staff = models.OneToOneField("people.Staff", on_delete=models.CASCADE,
                                 related_name="contract")
    min_weekly_hours = models.FloatField(default=0, validators=[MinValueValidator(0)])
    max_weekly_hours = models.FloatField(default=48, validators=[MinValueValidator(0)])
    days_off = models.JSONField(default=list, blank=True,
                                help_text="Weekdays never worked (0 is Monday).")
    consecutive_days_off = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(5)],
        help_text="A run of this many days off in each week.")
    earliest_start = models.TimeField(null=True, blank=True)
    latest_end = models.TimeField(null=True, blank=True)
    opted_out_of_48h = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Contract of {self.staff}"

    def clean(self) -> None:
        if self.max_weekly_hours < self.min_weekly_hours:
            raise ValidationError({"max_weekly_hours": "The maximum is below the minimum."})
        if any(day not in range(7) for day in self.days_off):
            raise ValidationError({"days_off": "Weekdays are 0 (Monday) to 6 (Sunday)."})


class Leave(models.Model):
    """Days a member of staff is away; approved leave is kept free of shifts."""

    staff = models.ForeignKey("people.Staff", on_delete=models.CASCADE, related_name="leave")
    first_day = models.DateField()
    last_day = models.DateField()
    approved = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["first_day"]
        indexes = [models.Index(fields=["staff", "first_day"])]

    def __str__(self) -> str:
        return f"{self.staff}: {self.first_day} to {self.last_day}"

    def clean(self) -> None:
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": "The last day is before the first."})


class Rota(models.Model):
    """Shifts for a plan's team over some days: solved as a draft, then published."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SOLVING = "solving", "Solving"
        DRAFT = "draft", "Draft"
        FAILED = "failed", "No rota"
        PUBLISHED = "published", "Published"
        SUPERSEDED = "superseded", "Superseded"

    plan = models.ForeignKey(StaffingPlan, on_delete=models.CASCADE, related_name="rotas")
    first_day = models.DateField()
    days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(28)])
    named = models.BooleanField(
        default=True, help_text="Give shifts to the team's staff (else: how many to hire "
                                "on each shift).")
    time_limit_seconds = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(600)])
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    solver_status = models.CharField(max_length=12, blank=True)
    message = models.TextField(blank=True)
    objective = models.FloatField(null=True, blank=True)
    gap = models.FloatField(null=True, blank=True)
    solve_seconds = models.FloatField(null=True, blank=True)
    # {"required": [...], "scheduled": [...], "service_level": [...]} per interval.
    coverage = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey("people.Staff", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey("people.Staff", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-first_day", "-id"]

    def __str__(self) -> str:
        return f"Rota from {self.first_day} ({self.get_state_display().lower()})"


class RotaShift(models.Model):
    """One shift on a rota: a named member of staff, or `agents` unnamed ones."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="shifts")
    staff = models.ForeignKey("people.Staff", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="shifts")
    agents = models.PositiveSmallIntegerField(default=1)
    template = models.CharField(max_length=100)
    start = models.DateTimeField()
    end = models.DateTimeField()
    # [[start ISO, end ISO, paid], ...]
    breaks = models.JSONField(default=list)

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["staff", "start"])]

    def __str__(self) -> str:
        return f"{self.template} from {self.start:%Y-%m-%d %H:%M}"
