"""The audit trail (CO4): who changed which field of which record, from what to what.

Entries form a hash chain: each digest covers the entry and the digest before it, so any
edit or deletion in the table is found by `audit_verify()`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import Model

from serviceops.core.models import AuditEntry

GENESIS = "0" * 64


def _digest(previous: str, at: datetime, actor_name: str, model: str, object_id: str,
            field: str, old: str, new: str) -> str:
    payload = json.dumps(
        [previous, at.astimezone(UTC).isoformat(), actor_name, model, object_id, field, old, new],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Model):
        return str(value.pk)
    return str(value)


@transaction.atomic
def audit_record(*, instance: Model, changes: dict[str, tuple], actor, at: datetime) -> None:
    """Append one audit entry per changed field of `instance` (old, new) made by `actor`."""
    if not changes:
        return
    model = instance._meta.label_lower
    actor_name = getattr(actor, "get_username", lambda: "")() if actor else "system"
    last = AuditEntry.objects.order_by("-id")
    if connection.features.has_select_for_update:
        # Serialise writers on the chain's tail so that two entries never share a parent.
        last = last.select_for_update()
    previous = last.values_list("digest", flat=True).first() or GENESIS
    entries = []
    for field, (old, new) in changes.items():
        old_text, new_text = _text(old), _text(new)
        digest = _digest(previous, at, actor_name, model, str(instance.pk), field,
                         old_text, new_text)
        entries.append(AuditEntry(
            at=at, actor=actor if actor and actor.pk else None, actor_name=actor_name,
            model=model, object_id=str(instance.pk), field=field, old_value=old_text,
            new_value=new_text, previous_digest=previous, digest=digest,
        ))
        previous = digest
    AuditEntry.objects.bulk_create(entries)


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_broken_id: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def audit_verify() -> ChainCheck:
    """Walk the chain in id order and return the first entry whose digest does not hold."""
    previous = GENESIS
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        expected = _digest(previous, entry.at, entry.actor_name, entry.model, entry.object_id,
                           entry.field, entry.old_value, entry.new_value)
        if entry.previous_digest != previous or entry.digest != expected:
            return ChainCheck(entries=count, first_broken_id=entry.id)
        previous = entry.digest
    return ChainCheck(entries=count, first_broken_id=None)


def audit_for(instance: Model):
    """Return the audit entries of `instance`, oldest first."""
    return AuditEntry.objects.filter(
        model=instance._meta.label_lower, object_id=str(instance.pk)
    ).order_by("id")
