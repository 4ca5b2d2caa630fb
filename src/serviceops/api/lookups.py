"""Lookups and paging shared by the apps' API endpoints: scoped so that what the caller may
not see is a 404, and objects named in a body a 422 on their field."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404


def page(queryset: QuerySet, after: int | None, limit: int) -> dict:
    """Newest first by id; `next` is the `after` of the next page (None on the last)."""
    limit = max(1, min(limit, 200))
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[:limit + 1])
    return {"items": rows[:limit], "next": rows[limit - 1].pk if len(rows) > limit else None}


def get_or_404(queryset: QuerySet, pk: int, what: str):
    """The object `pk` of `queryset` (what the caller may see), or a 404 naming it."""
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
