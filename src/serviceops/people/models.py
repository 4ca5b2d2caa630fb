"""Staff, teams and skills (PE1): who works in the service and what they can handle."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from serviceops.core.roles import ROLE_PERMS, Perm, Role


class Team(models.Model):
    """A group of staff that owns a queue of cases."""

    name = models.CharField(max_length=100, unique=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """Something a member of staff can handle, e.g. a language or a product line."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A member of staff: a login (or an imported name without one) with a role and teams."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="staff",
    )
    name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    teams = models.ManyToManyField(Team, related_name="members", blank=True)
    skills = models.ManyToManyField(Skill, related_name="staff", blank=True)
    is_active = models.BooleanField(default=True)
    # When this person was last given a case by round robin: the next one goes to whoever
    # has waited longest.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    # The ids of this person's teams when they were read with the record itself (the API's
    # token lookup does, for its one request); None: ask the database (`team_ids`).
    loaded_team_ids: list[int] | None = None

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return self.name

    def team_ids(self) -> list[int]:
        """Return the ids of this person's teams: those read with the record, if they were,
        else the database's now, so that a change of membership is seen at once."""
        if self.loaded_team_ids is not None:
            return list(self.loaded_team_ids)
        return list(self.teams.values_list("id", flat=True))

    def has_perm(self, perm: Perm) -> bool:
        """Return whether this person's role allows `perm`."""
        return self.is_active and perm in ROLE_PERMS.get(self.role, frozenset())
