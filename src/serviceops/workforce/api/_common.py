"""Lookups, paging and numbers shared by the workforce API's endpoints: scoped so that what
the caller may not see is a 404, and objects named in a body a 422 on their field."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

# --- lookups ----------------------------------------------------------------------------


def page(queryset: QuerySet, after: int | None, limit: int) -> dict:
    """Newest first by id; `next` is the `after` of the next page (None on the last)."""
    limit = max(1, min(limit, 200))
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[:limit + 1])
    return {"items": rows[:limit], "next": rows[limit - 1].pk if len(rows) > limit else None}


def get_or_404(queryset: QuerySet, pk: int, what: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404(f"There is no {what} {pk}.")
    return found


def referenced(queryset: QuerySet, pk: int | None, field: str, what: str):
    """An object named in a request body: a 422 on `field` when absent or out of sight."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: f"There is no {what} {pk}."})
    return found


# --- numbers ----------------------------------------------------------------------------


def number(value) -> float | None:
    """JSON has no NaN or infinity: an undefined figure (no calls; a queue that never
    clears) is null."""
    if value is None:
        return None
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def numbers(values) -> list[float | None]:
    return [number(v) for v in values]
