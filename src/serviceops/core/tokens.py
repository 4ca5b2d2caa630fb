"""Personal API tokens: shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from serviceops.core.models import ApiToken
from serviceops.core.permissions import require
from serviceops.core.roles import Perm
from serviceops.core.rows import Columns, column, prepared_cursor, table

TOKEN_PREFIX = "so_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user, name: str, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user` and return it with its secret (the only time it is known)."""
    require(user, Perm.API_TOKENS)
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name or "API token", prefix=key[:10], key_hash=_hash(key),
        created_at=now or timezone.now(),
    )
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> None:
    """Revoke `token`; requests that present it are refused from now on."""
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at"])


def api_token_user(key: str, *, now: datetime | None = None):
    """Return the active user owning `key`, or None for unknown, revoked or forged keys.
    The user comes with its staff record (or with none) and that record's team ids, as
    every request asks its role and most what it may see."""
    if not key or not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    found = _token_lookup().run(_hash(key))
    if found is None:
        return None
    token_id, last_used_at, user = found
    if not user.is_active:
        return None
    moment = now or timezone.now()
    # Touch at most once a minute: a busy integration should not write on every request.
    if last_used_at is None or (moment - last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=moment)
    return user


class _TokenLookup:
    """The one statement every API request makes: the token, its user, the user's staff
    record and the ids of that person's teams. It is written out once, from the models'
    fields (`core.rows`), rather than built by the ORM on each request: building it took
    about 2 ms of CPU, a fifth of a whole case creation. The team ids are kept on the staff
    record (`Staff.loaded_team_ids`) for the one request."""

    def __init__(self):
        user_model = get_user_model()
        self.staff_relation = user_model._meta.get_field("staff")
        staff_model = self.staff_relation.related_model
        self.token = Columns(ApiToken, "t", ["id", "last_used_at"])
        self.user = Columns(user_model, "u")
        self.staff = Columns(staff_model, "s")
        self.staff_pk_index = self.staff.fields.index(staff_model._meta.pk)
        token = ApiToken._meta.get_field
        membership = staff_model.teams.through
        member = membership._meta.get_field
        team_id = column("m", member("team"))
        joined = (f"string_agg(CAST({team_id} AS text), ',')"
                  if connection.vendor == "postgresql" else f"group_concat({team_id}, ',')")
        self.sql = (
            f"SELECT {self.token.sql}, {self.user.sql}, {self.staff.sql}, "
            f"(SELECT {joined} FROM {table(membership, 'm')} "
            f"WHERE {column('m', member('staff'))} = {column('s', staff_model._meta.pk)}) "
            f"FROM {table(ApiToken, 't')} "
            f"JOIN {table(user_model, 'u')} "
            f"ON {column('u', user_model._meta.pk)} = {column('t', token('user'))} "
            f"LEFT JOIN {table(staff_model, 's')} "
            f"ON {column('s', self.staff_relation.field)} = {column('u', user_model._meta.pk)} "
            f"WHERE {column('t', token('key_hash'))} = %s "
            f"AND {column('t', token('revoked_at'))} IS NULL"
        )

    def run(self, key_hash: str):
        """Return (token id, token last used, user with its staff record) or None."""
        with prepared_cursor() as cursor:
            cursor.execute(self.sql, [key_hash])
            row = cursor.fetchone()
        if row is None:
            return None
        *row, team_ids = row
        token_id, last_used_at = self.token.values(row[:len(self.token)])
        row = row[len(self.token):]
        user = self.user.instance(row[:len(self.user)])
        staff_row = row[len(self.user):]
        staff = None
        if staff_row[self.staff_pk_index] is not None:  # the user has a staff record
            staff = self.staff.instance(staff_row)
            staff.loaded_team_ids = sorted(int(i) for i in (team_ids or "").split(",") if i)
            self.staff_relation.field.set_cached_value(staff, user)
        self.staff_relation.set_cached_value(user, staff)
        return token_id, last_used_at, user


@cache
def _token_lookup() -> _TokenLookup:
    return _TokenLookup()
