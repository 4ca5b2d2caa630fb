from django.urls import reverse

from serviceops.customers.models import Customer


def test_customer_page_shows_timeline_and_audit_and_saves_changes(client, billing_case, org):
    client.force_login(org.agent.user)
    url = reverse("customers:detail", args=[org.customer.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Refund not received" in page.content
    response = client.post(url, {"kind": "person", "name": "Ada King", "tier": "gold",
                                 "email": "ada@example.org", "consent_surveys": "on"})
    assert response.status_code == 302
    org.customer.refresh_from_db()
    assert (org.customer.name, org.customer.tier) == ("Ada King", "gold")
    assert b"Ada Lovelace" in client.get(url).content  # the audit trail keeps the old name


def test_assessor_cannot_create_customers_or_adjustments(client, org):
    client.force_login(org.assessor.user)
    assert client.post(reverse("customers:list"), {"kind": "person", "name": "Z",
                                                    "tier": "standard"}).status_code == 403
    assert client.post(reverse("customers:adjustment_add", args=[org.customer.pk]),
                       {"kind": "braille"}).status_code == 403
    assert not Customer.objects.filter(name="Z").exists()
    assert not org.customer.adjustments.filter(kind="braille").exists()


def test_adjustment_added_from_the_page(client, org):
    client.force_login(org.agent.user)
    client.post(reverse("customers:adjustment_add", args=[org.customer.pk]),
                {"kind": "text_relay", "detail": "Relay UK"})
    assert org.customer.adjustments.filter(kind="text_relay", detail="Relay UK").exists()
