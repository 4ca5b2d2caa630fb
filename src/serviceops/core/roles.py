"""Roles and what each may do: the single permission mechanism for pages, API and CLI.

Every check in the product goes through `allowed()` / `require()` and the scoping selectors
in `core/scoping.py`; no view or endpoint tests a role by name.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    TEAM_LEADER = "team_leader", "Team leader"
    MANAGER = "manager", "Manager"
    HEAD_OF_SERVICE = "head_of_service", "Head of service"
    QUALITY_ANALYST = "quality_analyst", "Quality analyst"
    TRAINER = "trainer", "Trainer"
    ADMIN = "admin", "Administrator"
    ASSESSOR = "assessor", "Read-only assessor"


class Perm(StrEnum):
    """An action a user may be allowed to take."""

    VIEW_ALL_TEAMS = "view_all_teams"
    CASE_WORK = "case_work"  # reply, change status/priority, take cases
    CASE_NOTE = "case_note"  # internal notes only
    CASE_ASSIGN_OTHERS = "case_assign_others"
    CASE_BULK = "case_bulk"
    CASE_MERGE = "case_merge"
    CUSTOMER_EDIT = "customer_edit"
    IMPORT_EXPORT = "import_export"
    MANAGE_SETTINGS = "manage_settings"  # categories, canned responses, teams
    API_TOKENS = "api_tokens"
    MANAGE_KPIS = "manage_kpis"  # targets, manual KPI values, costs, the scorecard
    PLAN_WORKFORCE = "plan_workforce"  # forecasts, staffing plans, shift patterns, rotas
    COMPLAINT_LOG = "complaint_log"  # record a complaint on a case one can see
    COMPLAINT_HANDLE = "complaint_handle"  # work complaints: stages, RCA, actions, remedies
    COMPLAINT_SETTINGS = "complaint_settings"  # regimes, letter templates, approval limits


_WORKER = {Perm.CASE_WORK, Perm.CASE_NOTE, Perm.CUSTOMER_EDIT, Perm.API_TOKENS,
           Perm.COMPLAINT_LOG}
_LEADER = _WORKER | {Perm.CASE_ASSIGN_OTHERS, Perm.CASE_BULK, Perm.CASE_MERGE,
                     Perm.COMPLAINT_HANDLE}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.AGENT: frozenset(_WORKER),
    Role.TEAM_LEADER: frozenset(_LEADER | {Perm.MANAGE_SETTINGS, Perm.PLAN_WORKFORCE}),
    Role.MANAGER: frozenset(
        _LEADER | {Perm.VIEW_ALL_TEAMS, Perm.IMPORT_EXPORT, Perm.MANAGE_SETTINGS,
                   Perm.MANAGE_KPIS, Perm.PLAN_WORKFORCE, Perm.COMPLAINT_SETTINGS}
    ),
    # The top of the escalation hierarchy (team leader → manager → head of service).
    Role.HEAD_OF_SERVICE: frozenset(
        _LEADER | {Perm.VIEW_ALL_TEAMS, Perm.IMPORT_EXPORT, Perm.MANAGE_SETTINGS,
                   Perm.MANAGE_KPIS, Perm.PLAN_WORKFORCE, Perm.COMPLAINT_SETTINGS}
    ),
    Role.QUALITY_ANALYST: frozenset(
        {Perm.VIEW_ALL_TEAMS, Perm.CASE_NOTE, Perm.API_TOKENS}
    ),
    Role.TRAINER: frozenset({Perm.CASE_NOTE, Perm.API_TOKENS}),
    Role.ADMIN: frozenset(set(Perm)),
    # An assessor reads everything and changes nothing; a personal token lets them read
    # through the API too (it changes no service record).
    Role.ASSESSOR: frozenset({Perm.VIEW_ALL_TEAMS, Perm.API_TOKENS}),
}
