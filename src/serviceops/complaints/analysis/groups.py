"""Complaint analysis: the breakdowns (category, product, team, severity, month, week), how
each complaint's group is named in SQL, and the groups' labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Case, DateField, F, Value, When

from serviceops.complaints.analysis.figures import NO_GROUP, NO_PRODUCT, Figures
from serviceops.complaints.models import ComplaintCategory, Severity
from serviceops.insights.selectors import local_midnight
from serviceops.people.models import Team


def group_expression(by: str, first: date | None = None, last: date | None = None):
    """The SQL naming each complaint's group; months and weeks (local, weeks from Monday)
    between the local dates `first` and `last`."""
    if by in ("month", "week"):
        return _calendar_buckets(by, first, last)
    return {"category": F("category_id"), "product": F("product"), "team": F("team_id"),
            "severity": F("severity")}[by]


def bucket_starts(by: str, first: date, last: date) -> list[date]:
    """The first day of each local month (or the Monday of each week) from `first`'s to
    `last`'s."""
    if by == "month":
        day, starts = first.replace(day=1), []
        while day <= last:
            starts.append(day)
            day = next_month(day)
        return starts
    day = first - timedelta(days=first.weekday())
    return [day + timedelta(days=7 * i) for i in range((last - day).days // 7 + 1)]


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _calendar_buckets(by: str, first: date, last: date):
    """Each complaint's month or week start, found by comparing its receipt with the local
    midnights that start the buckets: plain SQL on both databases (SQLite's date truncation
    in a time zone is a Python function called for every row, twenty times slower), nested
    as a binary search so that each complaint needs a handful of comparisons, not one per
    bucket."""
    return _bucket_search(bucket_starts(by, first, last))


def _bucket_search(starts: list[date]):
    if len(starts) == 1:
        return Value(starts[0], output_field=DateField())
    middle = len(starts) // 2
    return Case(When(received_at__lt=local_midnight(starts[middle]),
                     then=_bucket_search(starts[:middle])),
                default=_bucket_search(starts[middle:]), output_field=DateField())


def group_labels(by: str, keys: list) -> dict:
    """{group key: label in words} for the keys of a breakdown."""
    if by == "category":
        names = {c.pk: str(c) for c in ComplaintCategory.objects.filter(
            pk__in=[k for k in keys if k is not None]).select_related("parent")}
        return {k: names.get(k, NO_GROUP) for k in keys}
    if by == "team":
        names = dict(Team.objects.filter(pk__in=[k for k in keys if k is not None])
                     .values_list("pk", "name"))
        return {k: names.get(k, NO_GROUP) for k in keys}
    if by == "severity":
        return {k: Severity(k).label.split(":")[0] for k in keys}
    if by == "product":
        return {k: k or NO_PRODUCT for k in keys}
    if by == "month":
        return {k: k.strftime("%b %Y") for k in keys}
    return {k: "Week of " + k.strftime("%-d %b %Y") for k in keys}


def group_key(by: str, key) -> str:
    """The key of a group as it travels in a URL (drill-down)."""
    if key is None:
        return ""
    if by in ("month", "week"):
        return key.isoformat()
    return str(key)


@dataclass(frozen=True)
class GroupRow:
    key: object
    label: str
    figures: Figures
    previous_volume: int
