"""Read models of complaints: what each user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from serviceops.complaints.models import Complaint
from serviceops.core.permissions import allowed, role_of, staff_of, team_ids_of
from serviceops.core.roles import Perm


def complaint_scope(user, queryset: QuerySet[Complaint] | None = None) -> QuerySet[Complaint]:
    """The complaints `user` may see: all for those who see every team; a complaint handler
    their teams' complaints and those handled by or escalated to them; anyone else the
    complaints they logged, handle, or whose case is assigned to them."""
    qs = Complaint.objects.all() if queryset is None else queryset
    staff = staff_of(user)
    if role_of(user) is None:
        return qs.none()
    if allowed(user, Perm.VIEW_ALL_TEAMS):
        return qs
    own = Q(logged_by=staff) | Q(handler=staff) | Q(escalated_to=staff) | Q(
        case__assignee=staff) if staff is not None else Q(pk__in=[])
    if allowed(user, Perm.COMPLAINT_HANDLE):
        own |= Q(team_id__in=team_ids_of(user))
    return qs.filter(own)
