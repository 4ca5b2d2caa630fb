"""Lookups shared by the complaints API's endpoints: scoped so that what the caller may not
see is a 404, and objects named in a body a 422 on their field (paging and the generic
lookups are in `serviceops.api.lookups`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from serviceops.complaints import selectors
from serviceops.complaints.models import Action, Complaint, Regime
from serviceops.core.permissions import allowed, staff_of
from serviceops.core.roles import Perm

# --- lookups ----------------------------------------------------------------------------


@contextmanager
def fields_as(**names: str) -> Iterator[None]:
    """Report a service's refusal on `field` under the API's name for it (`field_id`)."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError({names.get(k, k): v for k, v in error.error_dict.items()}
                              ) from None


def regime_by_key(key: str | None, field: str = "regime") -> Regime | None:
    if key is None:
        return None
    found = Regime.objects.filter(key=key).first()
    if found is None:
        raise ValidationError({field: f"There is no regime {key!r}."})
    return found


def complaint_or_404(request, complaint_id: int) -> Complaint:
    found = selectors.complaint_scope(request.auth).select_related("case", "regime").filter(
        pk=complaint_id).first()
    if found is None:
        raise Http404(f"There is no complaint {complaint_id}.")
    return found


def detail_or_404(request, complaint_id: int) -> Complaint:
    try:
        return selectors.complaint_detail(request.auth, complaint_id)
    except Complaint.DoesNotExist:
        raise Http404(f"There is no complaint {complaint_id}.") from None


def visible_actions(request) -> QuerySet[Action]:
    """Actions on complaints the caller sees, and the caller's own."""
    scope = Q(complaint__in=selectors.complaint_scope(request.auth).values("pk"))
    staff = staff_of(request.auth)
    if staff is not None:
        scope |= Q(owner=staff)
    return Action.objects.filter(scope).select_related("owner")


def action_or_404(request, action_id: int) -> Action:
    found = visible_actions(request).select_related("complaint").filter(pk=action_id).first()
    if found is None:
        raise Http404(f"There is no action {action_id}.")
    return found


def require_settings_reader(request, perm: Perm = Perm.COMPLAINT_SETTINGS) -> None:
    """The settings are read by those who change them and by those who see every team."""
    if not (allowed(request.auth, perm) or allowed(request.auth, Perm.VIEW_ALL_TEAMS)):
        raise PermissionDenied("Your role does not include the complaint settings.")
