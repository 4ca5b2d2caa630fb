"""Cross-cutting records: the audit trail, API tokens and login throttling."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One field of one record changed by one user (CO4); append-only and hash-chained.

    `digest` covers this entry's content and the previous entry's digest, so editing or
    deleting any entry in the database breaks the chain from that point on
    (`core.audit.audit_verify` finds where).
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    model = models.CharField(max_length=60)  # "cases.case"
    object_id = models.CharField(max_length=40)
    field = models.CharField(max_length=60)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    previous_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["model", "object_id", "id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.model}#{self.object_id}.{self.field}"


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """A failed sign-in, kept for the throttling window (core/throttle.py)."""

    at = models.DateTimeField(db_index=True)
    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} from {self.address}"
