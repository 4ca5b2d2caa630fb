import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from serviceops.core.audit import audit_for
from serviceops.customers.services import (
    adjustment_add,
    adjustment_remove,
    customer_create,
    customer_update,
)


def test_customer_changes_are_audited_field_by_field_and_consent_is_timestamped(org):
    customer = customer_create(by=org.agent.user, name="Grace Hopper", email="g@example.org")
    before = customer.consent_updated_at
    customer_update(customer=customer, by=org.agent.user, tier="gold", consent_marketing=True)
    entries = {(e.field, e.old_value, e.new_value) for e in audit_for(customer)}
    assert ("tier", "standard", "gold") in entries
    assert ("consent_marketing", "False", "True") in entries
    assert customer.consent_updated_at > before
    assert all(e.actor == org.agent.user for e in audit_for(customer))


def test_assessor_cannot_create_or_change_customers(org):
    with pytest.raises(PermissionDenied):
        customer_create(by=org.assessor.user, name="X")
    with pytest.raises(PermissionDenied):
        customer_update(customer=org.customer, by=org.assessor.user, name="Y")
    org.customer.refresh_from_db()
    assert org.customer.name == "Ada Lovelace"


def test_bad_email_and_unknown_fields_are_refused(org):
    with pytest.raises(ValidationError) as error:
        customer_create(by=org.agent.user, name="Bad", email="not-an-email")
    assert "email" in error.value.message_dict
    with pytest.raises(ValidationError):
        customer_update(customer=org.customer, by=org.agent.user, created_at=None)


def test_adjustments_are_added_and_removed_with_an_audit_record(org):
    adjustment = adjustment_add(customer=org.customer, kind="bsl_interpreter",
                                detail="Prefers video relay", by=org.agent.user)
    assert org.customer.adjustments.filter(kind="bsl_interpreter").exists()
    adjustment_remove(adjustment=adjustment, by=org.agent.user)
    assert not org.customer.adjustments.filter(kind="bsl_interpreter").exists()
    trail = [(e.old_value, e.new_value) for e in audit_for(org.customer)]
    assert ("", "BSL interpreter: Prefers video relay") in trail
    assert ("BSL interpreter: Prefers video relay", "") in trail
    with pytest.raises(ValidationError):
        adjustment_add(customer=org.customer, kind="telepathy", by=org.agent.user)
