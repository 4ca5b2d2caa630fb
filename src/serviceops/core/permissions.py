"""The one place that decides who may see and do what (pages, API and CLI all call it)."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from serviceops.core.roles import ROLE_PERMS, Perm, Role

if TYPE_CHECKING:
    from serviceops.cases.models import Case
    from serviceops.people.models import Staff


def staff_of(user) -> Staff | None:
    """Return the Staff record of `user`, or None for anonymous users and bare accounts."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        return user.staff
    except Exception:  # RelatedObjectDoesNotExist: a login without a staff record
        return None


def role_of(user) -> str | None:
    """Return the role of `user`; a superuser without a staff record acts as admin."""
    staff = staff_of(user)
    if staff is not None and staff.is_active:
        return staff.role
    if user is not None and getattr(user, "is_superuser", False) and user.is_active:
        return Role.ADMIN
    return None


def allowed(user, perm: Perm) -> bool:
    """Return whether `user` may take the action `perm`."""
    role = role_of(user)
    return role is not None and perm in ROLE_PERMS.get(role, frozenset())


def require(user, perm: Perm) -> None:
    """Raise PermissionDenied unless `user` may take the action `perm`."""
    if not allowed(user, perm):
        raise PermissionDenied(f"Your role does not allow this ({perm.value.replace('_', ' ')}).")


def team_ids_of(user) -> list[int]:
    """Return the ids of the teams of `user`'s staff record ([] without one)."""
    staff = staff_of(user)
    return staff.team_ids() if staff else []


def case_scope(user, queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """Return the cases `user` may see: all teams' for managers and assessors, else their teams'.

    A case's assignee is always a member of its team (the assignment services enforce it),
    so "my cases" are within "my teams' cases"; a plain team filter also lets the database
    walk the queue indexes.
    """
    from serviceops.cases.models import Case

    qs = Case.objects.all() if queryset is None else queryset
    if role_of(user) is None:
        return qs.none()
    if allowed(user, Perm.VIEW_ALL_TEAMS):
        return qs
    return qs.filter(team_id__in=team_ids_of(user))


def can_see_case(user, case: Case) -> bool:
    """Return whether `case` is within what `user` may see."""
    return case_scope(user).filter(pk=case.pk).exists()


def require_case(user, case: Case, perm: Perm | None = None) -> None:
    """Raise PermissionDenied unless `user` sees `case` (and, if given, may do `perm`)."""
    if not can_see_case(user, case):
        raise PermissionDenied("This case belongs to a team you are not in.")
    if perm is not None:
        require(user, perm)


def requires(perm: Perm):
    """View decorator: the signed-in user must be allowed `perm` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.user, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
