"""Reads of customers."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from serviceops.customers.models import Customer


def customer_list(*, query: str = "", limit: int = 50) -> QuerySet[Customer]:
    """Return customers whose name, email, phone or reference matches `query`."""
    qs = Customer.objects.select_related("organisation").annotate(case_count=Count("cases"))
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(name__icontains=query) | Q(email__iexact=query) | Q(phone__icontains=query)
            | Q(external_ref=query)
        )
    return qs.order_by("name", "id")[:limit]
