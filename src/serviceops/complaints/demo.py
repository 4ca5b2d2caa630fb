"""The demo's complaints: about one case in a hundred over the demo's months, handled the
way a real register looks (most answered in time, some late, upheld ones with root causes
and actions, a few gestures), and a handful still open with deadlines coming up.

Written in bulk (like the demo's cases) from the same deadline rules the services use.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from serviceops.cases.models import Case
from serviceops.complaints.models import (
    Action,
    Cause,
    Complaint,
    ComplaintCategory,
    ComplaintCause,
    Gesture,
    Outcome,
    Regime,
    Stage,
)
from serviceops.complaints.services import regime_deadlines
from serviceops.people.models import Staff

PRODUCTS = ("Current account", "Credit card", "Savings", "Mobile app", "Branch service")
OUTCOMES = ((Outcome.UPHELD, 0.38), (Outcome.PARTLY_UPHELD, 0.2),
            (Outcome.NOT_UPHELD, 0.37), (Outcome.WITHDRAWN, 0.05))
GESTURES = (("apology", 0, 0), ("refund", 10, 120), ("credit", 5, 50),
            ("goodwill_gift", 10, 40), ("fee_waiver", 5, 35))


def seed(rng: random.Random, *, now: datetime, handlers: list[Staff], share: float = 0.01
         ) -> int:
    """Make complaints of about `share` of the cases; return how many."""
    regimes = {r.key: r for r in Regime.objects.all()}
    categories = list(ComplaintCategory.objects.exclude(parent=None))
    causes = list(Cause.objects.all())
    if not regimes or not categories or not causes or not handlers:
        return 0
    # Some causes recur far more than others (what the Pareto is for).
    weights = [1 / (k + 1) ** 1.1 for k in range(len(causes))]
    rng.shuffle(causes)
    step = max(1, round(1 / share))
    ids = list(Case.objects.filter(merged_into=None).order_by("id")
               .values_list("id", flat=True))[::step]
    picked = (Case.objects.filter(id__in=ids).order_by("id")
              .values_list("id", "opened_at", "team_id", "customer_id", "channel",
                           "description").iterator(chunk_size=2000))
    complaints, links, gestures, actions = [], [], [], []
    for case_id, opened, team_id, customer_id, channel, description in picked:
        regime = regimes["fca-disp"] if rng.random() < 0.4 and "fca-disp" in regimes \
            else regimes.get("general") or next(iter(regimes.values()))
        received = opened + timedelta(minutes=rng.randint(5, 600))
        if received > now:
            continue
        due = regime_deadlines(regime, received)
        handler = rng.choice(handlers)
        fields = dict(
            case_id=case_id, regime=regime, received_at=received, channel=channel,
            account=description or "The customer is unhappy with how this was handled.",
            desired_outcome=rng.choice(("An apology", "A refund", "The fee removed",
                                        "It fixed, and to be kept informed")),
            category=rng.choice(categories), product=rng.choice(PRODUCTS),
            severity=rng.choices((1, 2, 3, 4), (0.3, 0.45, 0.2, 0.05))[0],
            vulnerable=rng.random() < 0.08, team_id=team_id, customer_id=customer_id,
            handler=handler, acknowledge_due=due.acknowledge, summary_due=due.summary,
            holding_due=due.holding, final_due=due.final, listened=True, empathised=True)
        age = now - received
        open_case = age < timedelta(days=12) and rng.random() < 0.7
        ack_delay = timedelta(hours=rng.choice((2, 6, 20, 30, 70)))
        if received + ack_delay < now:
            fields.update(acknowledged_at=received + ack_delay, stage=Stage.INVESTIGATE)
        if not open_case:
            took = timedelta(days=rng.choice((1, 2, 5, 9, 14, 20, 30, 45)),
                             hours=rng.randint(0, 8))
            resolved = min(received + took, now - timedelta(hours=1))
            outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
            closed = resolved + timedelta(days=rng.randint(3, 10))
            fields.update(
                resolved_at=resolved, outcome=outcome, apologised=outcome != "not_upheld",
                outcome_agreed=True, next_steps_explained=True,
                summary_resolution=due.summary is not None and resolved <= due.summary,
                resolution="Investigated with the team; explained what happened.",
                stage=Stage.CLOSED if closed < now else Stage.FOLLOW_UP,
                closed_at=closed if closed < now else None,
                followed_up_at=closed if closed < now else None,
                confidence_restored=(rng.random() < 0.8) if closed < now else None,
                follow_up_due=(resolved + timedelta(days=3)).date())
        complaints.append(Complaint(**fields))
    with transaction.atomic():
        Complaint.objects.bulk_create(complaints, batch_size=500)
        for complaint in Complaint.objects.filter(outcome__in=(Outcome.UPHELD,
                                                               Outcome.PARTLY_UPHELD)):
            chosen = {rng.choices(causes, weights)[0] for _ in range(rng.choice((1, 1, 2)))}
            links += [ComplaintCause(complaint=complaint, cause=c,
                                     received_at=complaint.received_at) for c in chosen]
            if rng.random() < 0.45:
                kind, low, high = rng.choice(GESTURES)
                gestures.append(Gesture(
                    complaint=complaint, kind=kind, amount=Decimal(rng.randint(low, high)),
                    approved_by=complaint.handler, given_at=complaint.resolved_at,
                    received_at=complaint.received_at))
            if rng.random() < 0.15:
                cause = next(iter(chosen))
                due_on = (complaint.resolved_at + timedelta(days=21)).date()
                done = due_on < now.date() and rng.random() < 0.7
                actions.append(Action(
                    complaint=complaint, cause=cause, kind=rng.choice(("corrective",
                                                                      "preventive")),
                    description=f"Stop '{cause.name.lower()}' recurring",
                    owner=complaint.handler, due_on=due_on,
                    state="done" if done else "open",
                    done_at=datetime.combine(due_on, datetime.min.time(),
                                             tzinfo=now.tzinfo) if done else None,
                    check_on=due_on + timedelta(days=30), created_by=complaint.handler,
                    created_at=complaint.resolved_at))
        ComplaintCause.objects.bulk_create(links, batch_size=1000)
        Gesture.objects.bulk_create(gestures, batch_size=1000)
        Action.objects.bulk_create(actions, batch_size=1000)
    return len(complaints)
