"""Reads of customers."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from serviceops.customers.models import Customer


def _matching(query: str) -> QuerySet[Customer]:
    qs = Customer.objects.select_related("organisation")
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(name__icontains=query) | Q(email__iexact=query) | Q(phone__icontains=query)
            | Q(external_ref=query)
        )
    return qs


def customer_list(*, query: str = "", limit: int = 50) -> QuerySet[Customer]:
    """Return customers whose name, email, phone or reference matches `query`, by name,
    with how many cases each has."""
    return _matching(query).annotate(case_count=Count("cases")).order_by("name", "id")[:limit]


def customer_page(*, query: str = "", after: int = 0, limit: int = 50) -> list[Customer]:
    """Return up to `limit` + 1 matching customers with ids above `after` (keyset pages)."""
    return list(_matching(query).filter(pk__gt=after).prefetch_related("adjustments")
                .order_by("id")[: limit + 1])
