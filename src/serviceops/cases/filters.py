"""The queue filter: parsed once from a query string, used by the queue page and the API."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from serviceops.cases.choices import OPEN_STATUSES, Channel, Priority, Status

VIEWS = ("mine", "unassigned", "team", "all")
SORTS = ("newest", "due")
SLA_STATES = ("breached", "due_hour", "untimed")


@dataclass(frozen=True)
class CaseFilter:
    """What a queue shows. Empty lists mean "any"."""

    view: str = "team"
    statuses: tuple[str, ...] = ()
    open_only: bool = True
    priorities: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    team_ids: tuple[int, ...] = ()
    assignee_ids: tuple[int, ...] = ()
    category_ids: tuple[int, ...] = ()
    customer_id: int | None = None
    tag: str = ""
    sort: str = "newest"  # or "due": cases with a running SLA clock, soonest due first
    sla: str = ""  # "breached", "due_hour" (due within the hour) or "untimed"
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_query(cls, params, *, default_view: str = "team") -> CaseFilter:
        """Build a filter from a QueryDict-like `params`; unknown values are reported."""
        errors: dict[str, str] = {}

        def many(name: str, allowed: set, cast=str) -> tuple:
            values = []
            for raw in params.getlist(name) if hasattr(params, "getlist") else params.get(name, []):
                for part in str(raw).split(","):
                    part = part.strip()
                    if not part:
                        continue
                    try:
                        value = cast(part)
                    except ValueError:
                        errors[name] = f"{part!r} is not a valid {name}."
                        continue
                    if allowed and value not in allowed:
                        errors[name] = f"{part!r} is not a valid {name}."
                        continue
                    values.append(value)
            return tuple(values)

        view = params.get("view") or default_view
        if view not in VIEWS:
            errors["view"] = f"{view!r} is not a queue (choose {', '.join(VIEWS)})."
            view = default_view
        statuses = many("status", set(Status.values))
        customer = params.get("customer") or None
        try:
            customer_id = int(customer) if customer else None
        except ValueError:
            errors["customer"] = f"{customer!r} is not a customer id."
            customer_id = None
        sort = params.get("sort") or "newest"
        if sort not in SORTS:
            errors["sort"] = f"{sort!r} is not an order (choose {', '.join(SORTS)})."
            sort = "newest"
        sla = params.get("sla") or ""
        if sla and sla not in SLA_STATES:
            errors["sla"] = f"{sla!r} is not an SLA state (choose {', '.join(SLA_STATES)})."
            sla = ""
        return cls(
            view=view,
            sort=sort,
            sla=sla,
            statuses=statuses,
            open_only=not statuses and params.get("state", "open") != "any",
            priorities=many("priority", set(Priority.values), int),
            channels=many("channel", set(Channel.values)),
            team_ids=many("team", set(), int),
            assignee_ids=many("assignee", set(), int),
            category_ids=many("category", set(), int),
            customer_id=customer_id,
            tag=(params.get("tag") or "").strip().lower(),
            errors=errors,
        )

    def apply(self, qs: QuerySet, *, staff) -> QuerySet:
        """Narrow `qs` (already scoped to what the user may see) to this filter."""
        if self.view == "mine":
            qs = qs.filter(assignee=staff) if staff else qs.none()
        elif self.view == "unassigned":
            qs = qs.filter(assignee__isnull=True)
        elif self.view == "team" and staff is not None:
            qs = qs.filter(team_id__in=list(staff.teams.values_list("id", flat=True)))
        if self.statuses:
            qs = qs.filter(status__in=self.statuses)
        elif self.open_only:
            qs = qs.filter(status__in=OPEN_STATUSES)
        if self.priorities:
            qs = qs.filter(priority__in=self.priorities)
        if self.channels:
            qs = qs.filter(channel__in=self.channels)
        if self.team_ids:
            qs = qs.filter(team_id__in=self.team_ids)
        if self.assignee_ids:
            qs = qs.filter(assignee_id__in=self.assignee_ids)
        if self.category_ids:
            qs = qs.filter(Q(category_id__in=self.category_ids)
                           | Q(category__parent_id__in=self.category_ids))
        if self.customer_id:
            qs = qs.filter(customer_id=self.customer_id)
        if self.tag:
            qs = qs.filter(tags__name=self.tag)
        if self.sla == "breached":
            qs = qs.filter(sla__breached=True)
        elif self.sla == "due_hour":
            now = timezone.now()
            qs = qs.filter(sla__next_due_at__gt=now,
                           sla__next_due_at__lte=now + timedelta(hours=1))
        elif self.sla == "untimed":
            qs = qs.filter(Q(sla__isnull=True) | Q(sla__version__isnull=True))
        if self.sort == "due":
            qs = qs.filter(sla__next_due_at__isnull=False)
        return qs


def cursor_encode(opened_at: datetime, pk: int) -> str:
    """Return an opaque keyset cursor for the row (opened_at, pk)."""
    raw = f"{opened_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """Return (opened_at, pk) from a cursor, or raise ValidationError if it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError
        return moment, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"after": "This page link is not valid; start again."}) from None
