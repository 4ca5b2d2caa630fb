"""Customers (DO1): people and organisations, their preferences, consent and adjustments."""

from __future__ import annotations

from django.db import models

from serviceops.customers.choices import AdjustmentKind, Channel, CustomerKind, Tier


class Customer(models.Model):
    """A person or an organisation the service deals with; a person may belong to one."""

    kind = models.CharField(
        max_length=12, choices=CustomerKind.choices, default=CustomerKind.PERSON
    )
    name = models.CharField(max_length=200)
    organisation = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="people",
        limit_choices_to={"kind": CustomerKind.ORGANISATION},
    )
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    tier = models.CharField(max_length=12, choices=Tier.choices, default=Tier.STANDARD)
    preferred_channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    consent_marketing = models.BooleanField(default=False)
    consent_surveys = models.BooleanField(default=True)
    consent_updated_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    external_ref = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return self.name


class Adjustment(models.Model):
    """A reasonable adjustment the customer needs; shown on every case of theirs."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(max_length=20, choices=AdjustmentKind.choices)
    detail = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        label = self.get_kind_display()
        return f"{label}: {self.detail}" if self.detail else label
