"""Clock wording for pages: time left or overdue in words, never colour alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


def span(seconds: float) -> str:
    """'2 d 3 h', '3 h 20 m', '45 m', 'under a minute'."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} m"
    return f"{minutes} m" if minutes else "under a minute"


@register.filter
def duration(seconds) -> str:
    return "—" if seconds is None else span(seconds)


@register.filter
def due_words(due_at: datetime | None) -> str:
    """'due in 2 h 5 m' or 'overdue by 20 m' from now."""
    if due_at is None:
        return "—"
    left = (due_at - timezone.now()).total_seconds()
    return f"due in {span(left)}" if left >= 0 else f"overdue by {span(left)}"


@register.filter
def due_class(due_at: datetime | None) -> str:
    """CSS class for the urgency of a due time (the text says the same in words)."""
    if due_at is None:
        return ""
    left = due_at - timezone.now()
    if left < timedelta(0):
        return "sla-breached"
    return "sla-soon" if left <= timedelta(hours=1) else "sla-ok"
