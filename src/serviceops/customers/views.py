"""Customer pages: list and search, create, the customer's page with adjustments, timeline and
audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from serviceops.cases.selectors import customer_cases
from serviceops.core.audit import audit_for
from serviceops.core.permissions import require
from serviceops.core.roles import Perm
from serviceops.customers import services
from serviceops.customers.forms import AdjustmentForm, CustomerForm
from serviceops.customers.models import Adjustment, Customer
from serviceops.customers.selectors import customer_list


def _fields(form: CustomerForm) -> dict:
    return {name: form.cleaned_data[name] for name in form.Meta.fields}


@login_required
def customer_index(request: HttpRequest) -> HttpResponse:
    """Search customers; create one (POST)."""
    form = CustomerForm(request.POST or None)
    if request.method == "POST":
        require(request.user, Perm.CUSTOMER_EDIT)
        if form.is_valid():
            try:
                customer = services.customer_create(by=request.user, **_fields(form))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("customers:detail", pk=customer.pk)
    query = request.GET.get("q", "")
    return render(request, "customers/list.html", {
        "customers": customer_list(query=query, limit=100), "query": query, "form": form,
    }, status=422 if form.errors else 200)


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's page; POST saves changes to their details."""
    customer = get_object_or_404(Customer.objects.select_related("organisation"), pk=pk)
    # The form gets its own copy: validating a ModelForm writes the posted values into its
    # instance, and the service must still see the old ones to audit what changed.
    form = CustomerForm(request.POST or None, instance=Customer.objects.get(pk=pk))
    if request.method == "POST":
        require(request.user, Perm.CUSTOMER_EDIT)
        if form.is_valid():
            try:
                services.customer_update(customer=customer, by=request.user, **_fields(form))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Customer saved.")
                return redirect("customers:detail", pk=pk)
    return render(request, "customers/detail.html", {
        "customer": customer,
        "form": form,
        "adjustment_form": AdjustmentForm(),
        "cases": customer_cases(user=request.user, customer_id=pk),
        "audit": audit_for(customer),
    }, status=422 if form.errors else 200)


@login_required
@require_POST
def adjustment_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    require(request.user, Perm.CUSTOMER_EDIT)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            services.adjustment_add(customer=customer, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, "Choose an adjustment.")
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def adjustment_remove(request: HttpRequest, pk: int, adjustment_id: int) -> HttpResponse:
    adjustment = get_object_or_404(Adjustment, pk=adjustment_id, customer_id=pk)
    require(request.user, Perm.CUSTOMER_EDIT)
    services.adjustment_remove(adjustment=adjustment, by=request.user)
    return redirect("customers:detail", pk=pk)
