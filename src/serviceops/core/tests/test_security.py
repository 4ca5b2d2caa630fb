from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from serviceops.cases.services import case_create
from serviceops.core.permissions import allowed, case_scope, require
from serviceops.core.roles import ROLE_PERMS, Perm, Role
from serviceops.core.throttle import login_failure_record, login_is_locked, login_success_record
from serviceops.core.tokens import api_token_create, api_token_revoke, api_token_user


def test_case_scope_limits_agents_to_their_teams_but_not_managers_or_assessors(org):
    mine = case_create(by=org.agent.user, subject="mine", team=org.billing)
    theirs = case_create(by=org.outsider.user, subject="theirs", team=org.technical)
    assert set(case_scope(org.agent.user)) == {mine}
    assert set(case_scope(org.outsider.user)) == {theirs}
    assert set(case_scope(org.manager.user)) == {mine, theirs}
    assert set(case_scope(org.assessor.user)) == {mine, theirs}


def test_assessor_may_do_nothing_but_read(org):
    assert allowed(org.assessor.user, Perm.VIEW_ALL_TEAMS)
    assert allowed(org.assessor.user, Perm.API_TOKENS)  # to read through the API
    for perm in set(Perm) - {Perm.VIEW_ALL_TEAMS, Perm.API_TOKENS}:
        with pytest.raises(PermissionDenied):
            require(org.assessor.user, perm)


def test_inactive_staff_lose_every_permission(org):
    org.manager.is_active = False
    org.manager.save()
    org.manager.user.refresh_from_db()
    assert not allowed(org.manager.user, Perm.CASE_WORK)
    assert not case_scope(org.manager.user).exists()


def test_every_role_has_a_permission_set():
    assert set(Role.values) == {str(role) for role in ROLE_PERMS}


def test_api_token_resolves_to_its_user_until_revoked_and_forgeries_fail(org):
    token, key = api_token_create(user=org.agent.user, name="integration")
    assert api_token_user(key) == org.agent.user
    assert api_token_user(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert api_token_user("not-a-token") is None
    api_token_revoke(token=token)
    assert api_token_user(key) is None
    assert token.key_hash != key and key not in token.key_hash


def test_api_token_user_is_the_stored_user_and_staff_record_in_one_query(
        org, django_assert_num_queries):
    from django.contrib.auth import get_user_model

    from serviceops.core.permissions import role_of
    from serviceops.people.models import Staff

    org.agent.last_assigned_at = timezone.now() - timedelta(hours=3)
    org.agent.save()
    _, key = api_token_create(user=org.agent.user, name="integration")
    api_token_user(key)  # the first use records itself
    with django_assert_num_queries(1):
        user = api_token_user(key)
        assert role_of(user) == Role.AGENT
    stored_user = get_user_model().objects.get(pk=org.agent.user.pk)
    stored_staff = Staff.objects.get(pk=org.agent.pk)
    for field in get_user_model()._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(stored_user, field.attname), field
    for field in Staff._meta.concrete_fields:
        assert getattr(user.staff, field.attname) == getattr(stored_staff, field.attname), field
    assert user.staff.user is user
    assert not user._state.adding and not user.staff._state.adding
    # A change of role counts from the next request.
    Staff.objects.filter(pk=org.agent.pk).update(role=Role.MANAGER)
    assert role_of(api_token_user(key)) == Role.MANAGER


def test_api_token_user_comes_with_its_teams_for_that_request_only(
        org, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from serviceops.core.permissions import team_ids_of

    org.leader.teams.add(org.technical)
    _, leader_key = api_token_create(user=org.leader.user, name="integration")
    _, manager_key = api_token_create(user=org.manager.user, name="integration")
    api_token_user(leader_key)  # the first use records itself
    with django_assert_num_queries(1):
        leader = api_token_user(leader_key)
        assert team_ids_of(leader) == sorted([org.billing.pk, org.technical.pk])
    with CaptureQueriesContext(connection) as opening:
        case_create(by=leader, subject="Card not arrived", team=org.technical)
    assert not [q for q in opening.captured_queries if "people_staff_teams" in q["sql"]]
    assert team_ids_of(api_token_user(manager_key)) == []
    # Leaving a team counts from the next request.
    org.leader.teams.remove(org.technical)
    leader = api_token_user(leader_key)
    assert team_ids_of(leader) == [org.billing.pk]
    with pytest.raises(ValidationError, match="your own teams"):
        case_create(by=leader, subject="Card not arrived", team=org.technical)


def test_api_token_of_a_login_without_a_staff_record(org):
    from django.contrib.auth import get_user_model

    from serviceops.core.permissions import role_of, staff_of

    root = get_user_model().objects.create_superuser("root", password="x-long-password-1")
    _, key = api_token_create(user=root, name="admin script")
    user = api_token_user(key)
    assert user == root and staff_of(user) is None and role_of(user) == Role.ADMIN
    root.is_active = False
    root.save()
    assert api_token_user(key) is None


def test_staff_without_a_role_cannot_create_api_tokens(org):
    org.trainer.is_active = False
    org.trainer.save()
    org.trainer.user.refresh_from_db()
    with pytest.raises(PermissionDenied):
        api_token_create(user=org.trainer.user, name="x")


def test_login_locks_after_the_limit_and_unlocks_after_the_window(db, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    now = timezone.now()
    for _ in range(3):
        assert not login_is_locked(username="Ada", address="10.0.0.1", now=now)
        login_failure_record(username="Ada", address="10.0.0.1", now=now)
    assert login_is_locked(username="ada", address="10.0.0.9", now=now)
    assert not login_is_locked(username="ada", address="10.0.0.9",
                               now=now + timedelta(seconds=601))
    login_success_record(username="ADA", now=now)
    assert not login_is_locked(username="ada", address="10.0.0.9", now=now)


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from django.conf import settings as django_settings
    from django.test.utils import override_settings

    import serviceops.settings as project

    assert project.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=project.PASSWORD_HASHERS):
        from django.contrib.auth.hashers import make_password

        assert make_password("a-long-Passphrase-42").startswith("argon2$")
    assert django_settings.PASSWORD_HASHERS != project.PASSWORD_HASHERS  # tests use a fast one
