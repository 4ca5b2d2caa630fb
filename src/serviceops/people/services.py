"""Use cases that change staff and teams."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from serviceops.core.roles import Role
from serviceops.people.models import Staff, Team


@transaction.atomic
def staff_create_login(
    *, username: str, name: str, role: str, password: str | None, email: str = "",
    team_names: Sequence[str] = (), check_password: bool = True,
) -> Staff:
    """Create a login with a staff record in `role` and the named teams (created if new)."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r} (choose {', '.join(Role.values)})."})
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username {username!r} is taken."})
    user = User(username=username, email=email, first_name=name.split()[0] if name else "")
    if password:
        if check_password:
            validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    staff = Staff(user=user, name=name, email=email, role=role)
    staff.full_clean()
    staff.save()
    for team_name in team_names:
        team, _ = Team.objects.get_or_create(name=team_name)
        staff.teams.add(team)
    return staff
