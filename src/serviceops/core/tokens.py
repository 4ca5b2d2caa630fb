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
    The user comes with its staff record (or with none), as every request asks its role."""
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
    """The one statement every API request makes: the token, its user and the user's staff
    record. It is written out once, from the models' fields, rather than built by the ORM on
    each request: building it took about 2 ms of CPU, a fifth of a whole case creation.
    The rows become models as a queryset's would (the database's values converted, then
    `Model.from_db`)."""

    def __init__(self):
        user_model = get_user_model()
        staff_relation = user_model._meta.get_field("staff")
        self.staff_model = staff_relation.related_model
        self.user_fields = list(user_model._meta.concrete_fields)
        self.staff_fields = list(self.staff_model._meta.concrete_fields)
        self.staff_pk_index = self.staff_fields.index(self.staff_model._meta.pk)
        self.user_attnames = [f.attname for f in self.user_fields]
        self.staff_attnames = [f.attname for f in self.staff_fields]
        self.user_model = user_model
        self.staff_relation = staff_relation
        token_fields = [ApiToken._meta.get_field(name) for name in ("id", "last_used_at")]
        self.converters = [self._converters(f)
                           for f in [*token_fields, *self.user_fields, *self.staff_fields]]

        def column(alias, field):
            return f"{alias}.{connection.ops.quote_name(field.column)}"

        def table(model, alias):
            return f"{connection.ops.quote_name(model._meta.db_table)} {alias}"

        token = ApiToken._meta.get_field
        columns = [column("t", f) for f in token_fields]
        columns += [column("u", f) for f in self.user_fields]
        columns += [column("s", f) for f in self.staff_fields]
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {table(ApiToken, 't')} "
            f"JOIN {table(user_model, 'u')} "
            f"ON {column('u', user_model._meta.pk)} = {column('t', token('user'))} "
            f"LEFT JOIN {table(self.staff_model, 's')} "
            f"ON {column('s', staff_relation.field)} = {column('u', user_model._meta.pk)} "
            f"WHERE {column('t', token('key_hash'))} = %s "
            f"AND {column('t', token('revoked_at'))} IS NULL"
        )

    @staticmethod
    def _converters(field):
        column = field.get_col(field.model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        return column, functions

    def run(self, key_hash: str):
        """Return (token id, token last used, user with its staff record) or None."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key_hash])
            row = cursor.fetchone()
        if row is None:
            return None
        values = []
        for value, (column, functions) in zip(row, self.converters, strict=True):
            for function in functions:
                value = function(value, column, connection)
            values.append(value)
        token_id, last_used_at = values[:2]
        user_values = values[2:2 + len(self.user_fields)]
        staff_values = values[2 + len(self.user_fields):]
        user = self.user_model.from_db(connection.alias, self.user_attnames, user_values)
        staff = None
        if staff_values[self.staff_pk_index] is not None:  # the user has a staff record
            staff = self.staff_model.from_db(connection.alias, self.staff_attnames,
                                             staff_values)
            self.staff_relation.field.set_cached_value(staff, user)
        self.staff_relation.set_cached_value(user, staff)
        return token_id, last_used_at, user


@cache
def _token_lookup() -> _TokenLookup:
    return _TokenLookup()
