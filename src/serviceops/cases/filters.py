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
# Conditions behind a KPI figure (the drill-down from a dashboard), read from case facts.
FACTS = {
    "responded": Q(fact__first_response_at__isnull=False),
    "reassigned": Q(fact__reassigned=True),
    "reopened": Q(fact__reopen_count__gt=0),
    "fcr": Q(fact__first_contact_resolution=True),
    "not_fcr": Q(fact__first_contact_resolution=False),
}
CLOCK_VERDICTS = tuple(f"{kind}_{state}" for kind in ("first_response", "next_response",
                                                     "resolution")
                       for state in ("met", "breached"))


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
    # Drill-down from KPIs: instants bounding the opening / final resolution, open at an
    # instant, a case fact, a clock verdict (e.g. "resolution_breached").
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    resolved_from: datetime | None = None
    resolved_to: datetime | None = None
    open_at: datetime | None = None
    fact: str = ""
    clock: str = ""
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
        moments = {}
        for name in ("opened_from", "opened_to", "resolved_from", "resolved_to", "open_at"):
            raw = (params.get(name) or "").strip().replace(" ", "+")
            if not raw:
                continue
            try:
                moment = datetime.fromisoformat(raw)
                if moment.tzinfo is None:
                    moment = timezone.make_aware(moment)
                moments[name] = moment
            except ValueError:
                errors[name] = f"{raw!r} is not a date and time (ISO 8601)."
        fact = params.get("fact") or ""
        if fact and fact not in FACTS:
            errors["fact"] = f"{fact!r} is not a case fact (choose {', '.join(FACTS)})."
            fact = ""
        clock = params.get("clock") or ""
        if clock and clock not in CLOCK_VERDICTS:
            errors["clock"] = f"{clock!r} is not a clock verdict."
            clock = ""
        return cls(
            **moments,
            fact=fact,
            clock=clock,
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
            qs = qs.filter(team_id__in=staff.team_ids())
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
        return self._apply_drill_down(qs)

    @property
    def drill_params(self) -> list[tuple[str, str]]:
        """The drill-down conditions as query parameters (kept when the filter is refined)."""
        out = [(name, getattr(self, name).isoformat()) for name in (
            "opened_from", "opened_to", "resolved_from", "resolved_to", "open_at")
            if getattr(self, name)]
        return out + [(name, getattr(self, name)) for name in ("fact", "clock")
                      if getattr(self, name)]

    @property
    def drill_words(self) -> str:
        """The drill-down conditions in words, for the banner above the list."""
        def day(moment: datetime) -> str:
            return timezone.localtime(moment).strftime("%d %b %Y %H:%M")

        words = []
        for label, low, high in (("opened", self.opened_from, self.opened_to),
                                 ("finally resolved", self.resolved_from, self.resolved_to)):
            if low or high:
                words.append(f"{label} " + " ".join(
                    part for part in (f"from {day(low)}" if low else "",
                                      f"before {day(high)}" if high else "") if part))
        if self.open_at:
            words.append(f"open at {day(self.open_at)}")
        fact_words = {"responded": "with a public reply", "reassigned": "reassigned",
                      "reopened": "reopened at least once",
                      "fcr": "resolved at the first contact",
                      "not_fcr": "not resolved at the first contact"}
        if self.fact:
            words.append(fact_words[self.fact])
        if self.clock:
            kind, state = self.clock.rsplit("_", 1)
            words.append(f"{kind.replace('_', ' ')} target {state}")
        return ", ".join(words)

    def _apply_drill_down(self, qs: QuerySet) -> QuerySet:
        """The KPI conditions; each mirrors a definition in `insights.sources`."""
        if self.opened_from or self.opened_to or self.resolved_from or self.open_at or self.fact:
            qs = qs.filter(merged_into__isnull=True)
        if self.opened_from:
            qs = qs.filter(opened_at__gte=self.opened_from)
        if self.opened_to:
            qs = qs.filter(opened_at__lt=self.opened_to)
        if self.resolved_from:
            qs = qs.filter(fact__resolved_at__gte=self.resolved_from)
        if self.resolved_to:
            qs = qs.filter(fact__resolved_at__lt=self.resolved_to)
        if self.open_at:
            qs = qs.filter(Q(fact__resolved_at__isnull=True)
                           | Q(fact__resolved_at__gte=self.open_at),
                           opened_at__lt=self.open_at)
        if self.fact:
            qs = qs.filter(FACTS[self.fact])
        if self.clock:
            kind, state = self.clock.rsplit("_", 1)
            qs = qs.filter(clocks__kind=kind, clocks__state=state).distinct()
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
