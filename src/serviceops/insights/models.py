"""Targets and owners of KPIs, values entered by hand, monthly costs, and the balanced
scorecard (perspectives → objectives → measures → initiatives)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from serviceops.insights.kpis import Direction, Unit


class KpiSetting(models.Model):
    """The target, amber limit and owner of one KPI (built-in or manual), by key."""

    key = models.SlugField(max_length=60, unique=True)
    target = models.FloatField(null=True, blank=True)
    amber = models.FloatField(
        null=True, blank=True,
        help_text="Beyond the target but within this limit the KPI is amber; beyond it, red.")
    owner = models.ForeignKey("people.Staff", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"Target for {self.key}"


class ManualKpi(models.Model):
    """A KPI whose values are entered per month (e.g. a financial figure)."""

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum of the months"
        MEAN = "mean", "Average of the months"
        LATEST = "latest", "Latest month"

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    definition = models.TextField()
    unit = models.CharField(max_length=10, choices=[(u.value, u.value) for u in Unit],
                            default=Unit.NUMBER)
    direction = models.CharField(max_length=8, choices=[(d.value, d.value) for d in Direction],
                                 default=Direction.HIGHER)
    aggregation = models.CharField(max_length=6, choices=Aggregation.choices,
                                   default=Aggregation.SUM)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ManualKpiValue(models.Model):
    """One month's value of a manual KPI."""

    kpi = models.ForeignKey(ManualKpi, on_delete=models.CASCADE, related_name="values")
    month = models.DateField(help_text="The first day of the month.")
    value = models.FloatField()

    class Meta:
        ordering = ["kpi", "month"]
        constraints = [models.UniqueConstraint(fields=["kpi", "month"], name="manual_kpi_month")]

    def __str__(self) -> str:
        return f"{self.kpi} {self.month:%b %Y}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": "Give the first day of the month."})


class MonthlyCost(models.Model):
    """What the operation (or one team) cost in a month: the numerator of cost per contact."""

    month = models.DateField(help_text="The first day of the month.")
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", help_text="Empty for the whole operation.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-month"]
        # One entry per month and team; the whole operation's (no team) is kept single by
        # `cost_save`, as SQLite cannot make NULLs equal in a unique constraint.
        constraints = [models.UniqueConstraint(fields=["month", "team"], name="cost_month_team")]

    def __str__(self) -> str:
        return f"Cost {self.month:%b %Y}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": "Give the first day of the month."})
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": "A cost cannot be negative."})


class Perspective(models.TextChoices):
    """The four perspectives of the balanced scorecard (Kaplan and Norton)."""

    FINANCIAL = "financial", "Financial"
    CUSTOMER = "customer", "Customer"
    PROCESS = "process", "Internal process"
    LEARNING = "learning", "Learning and growth"


class Objective(models.Model):
    """A strategic objective of one perspective, judged by its measures."""

    perspective = models.CharField(max_length=10, choices=Perspective.choices)
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["perspective", "order", "id"]

    def __str__(self) -> str:
        return self.name


class ObjectiveMeasure(models.Model):
    """A KPI that measures an objective (its target lives in `KpiSetting`)."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="measures")
    kpi_key = models.SlugField(max_length=60)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["objective", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["objective", "kpi_key"],
                                               name="objective_kpi_once")]

    def __str__(self) -> str:
        return f"{self.objective}: {self.kpi_key}"


class Initiative(models.Model):
    """Work under way to move an objective: owner, due date and progress."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "In progress"
        DONE = "done", "Done"
        STOPPED = "stopped", "Stopped"

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE,
                                  related_name="initiatives")
    name = models.CharField(max_length=150)
    owner = models.ForeignKey("people.Staff", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    due = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PLANNED)

    class Meta:
        ordering = ["objective", "due", "id"]

    def __str__(self) -> str:
        return self.name
