"""Template filters of the workforce pages."""

from __future__ import annotations

import math

from django import template

register = template.Library()


@register.filter
def percent(share, places: int = 1) -> str:
    """0.8123 → '81.2 %'; nothing (None, NaN) → '—'."""
    if share is None or (isinstance(share, float) and not math.isfinite(share)):
        return "—"
    return f"{100 * float(share):.{int(places)}f} %"


@register.filter
def number(value, places: int = 1) -> str:
    """A figure with thousands separators; nothing → '—'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):,.{int(places)}f}"


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@register.filter
def weekdays(days) -> str:
    """[5, 6] → 'Sat, Sun'."""
    return ", ".join(WEEKDAYS[d] for d in sorted(days or ()))
