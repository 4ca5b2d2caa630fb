"""Statements written once from a model's fields read and write what the ORM would."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from serviceops.cases.models import Case, CaseEvent
from serviceops.core.rows import row_by_pk, row_insert
from serviceops.customers.models import Customer
from serviceops.insights.models import MonthlyCost
from serviceops.people.models import Team


def _same_row(found, stored) -> None:
    assert type(found) is type(stored) and not found._state.adding
    for field in type(stored)._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name


@pytest.mark.django_db
def test_rows_inserted_and_read_back_are_those_the_orm_stores_and_reads(org):
    now = timezone.now()
    customer = row_insert(Customer(
        name="Grace Hopper", kind="organisation", organisation=None, tier="priority",
        consent_marketing=True, consent_updated_at=now - timedelta(days=3), created_at=now,
    ))
    assert customer.pk is not None and not customer._state.adding
    _same_row(row_by_pk(Customer, customer.pk), Customer.objects.get(pk=customer.pk))
    assert Customer.objects.get(pk=customer.pk).consent_updated_at == now - timedelta(days=3)

    case = row_insert(Case(subject="Card not arrived", team=org.billing, customer=customer,
                           opened_at=now, updated_at=now))
    event = row_insert(CaseEvent(case=case, kind="created", at=now, actor=org.agent,
                                 to_value="new", data={"channel": "phone", "priority": 3}))
    stored = CaseEvent.objects.get(pk=event.pk)
    assert stored.data == {"channel": "phone", "priority": 3} and stored.actor == org.agent
    _same_row(row_by_pk(CaseEvent, event.pk), stored)
    _same_row(row_by_pk(Case, case.pk), Case.objects.get(pk=case.pk))
    assert Case.objects.get(pk=case.pk).status == "new"  # the model's default

    cost = row_insert(MonthlyCost(month=date(2026, 11, 1), team=org.billing,
                                  amount=Decimal("1234.50")))
    _same_row(row_by_pk(MonthlyCost, cost.pk), MonthlyCost.objects.get(pk=cost.pk))
    assert row_by_pk(MonthlyCost, cost.pk).amount == Decimal("1234.50")


@pytest.mark.django_db
def test_a_missing_row_or_an_unsaved_relation_is_refused_as_the_orm_refuses_it(org):
    with pytest.raises(Team.DoesNotExist):
        row_by_pk(Team, 10**9)
    unsaved = Team(name="Not saved")
    with pytest.raises(ValueError, match="unsaved related object"):
        row_insert(Case(subject="x", team=unsaved, opened_at=timezone.now(),
                        updated_at=timezone.now()))
    before = Team.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(Team(name="Billing"))  # the name is unique
    assert Team.objects.count() == before
