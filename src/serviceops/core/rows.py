"""Statements written once from a model's fields, for the reads and writes that every API
request makes, instead of the ORM building and compiling the same SQL on each call (for a
short statement that costs more processor than the database takes to run it).

Rows read become instances as a queryset's would: the database's values pass through the
backend's and the fields' converters, then `Model.from_db`. `row_insert` writes a new row
as `Model.save` would (defaults, `pre_save`, the values prepared by each field, the new
primary key set on the instance) but sends no signals: ServiceOps has no receivers.

On PostgreSQL these statements bind their values on the server and are prepared on each
connection the first time they run (`prepared_cursor`), so that PostgreSQL stops parsing
them on every request: about 40 % of its processor time for a case created through the API.
Statements are built for the default database, the only one ServiceOps uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache

from django.db import connection
from django.db.models import Field, Model


@contextmanager
def prepared_cursor() -> Iterator:
    """A cursor of the default connection for statements that run on every request.

    On PostgreSQL, with prepared statements on (`env.database_config`), its statements bind
    their values on the server, and psycopg prepares each on the connection the first time
    it runs. Only statements written here go through it: Django's own cursors bind on the
    client, which has no limit on parameters for bulk writes and long `IN` lists, and plan
    every run of a queue or search query for its values. It is wrapped as Django wraps its
    own (errors, wrappers). Elsewhere, and while queries are logged (DEBUG, or a test
    counting them: a prepared statement's run cannot be read back with its values), it is
    a plain cursor.
    """
    if (connection.vendor != "postgresql" or connection.queries_logged
            or connection.settings_dict["OPTIONS"].get("prepare_threshold") is None):
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    # As `connection.cursor()` opens one, with psycopg's server-binding class instead.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection._prepare_cursor(ServerBindingCursor(connection.connection))
    with cursor:
        yield cursor


def column(alias: str, field: Field) -> str:
    return f"{alias}.{connection.ops.quote_name(field.column)}"


def table(model: type[Model], alias: str) -> str:
    return f"{connection.ops.quote_name(model._meta.db_table)} {alias}"


class Columns:
    """Fields of `model` (all its concrete fields unless `names` are given) as columns of a
    hand-written SELECT, under the table alias `alias`."""

    def __init__(self, model: type[Model], alias: str, names: Iterable[str] | None = None):
        meta = model._meta
        self.model = model
        self.fields = (list(meta.concrete_fields) if names is None
                       else [meta.get_field(name) for name in names])
        self.attnames = [field.attname for field in self.fields]
        self.sql = ", ".join(column(alias, field) for field in self.fields)
        self._converters = []
        for field in self.fields:
            expression = field.get_col(meta.db_table)
            functions = (connection.ops.get_db_converters(expression)
                         + field.get_db_converters(connection))
            self._converters.append((expression, functions))

    def __len__(self) -> int:
        return len(self.fields)

    def values(self, row: Sequence) -> list:
        """The Python values of these columns' part of a row."""
        values = []
        for value, (expression, functions) in zip(row, self._converters, strict=True):
            for function in functions:
                value = function(value, expression, connection)
            values.append(value)
        return values

    def instance(self, row: Sequence) -> Model:
        """The model instance these columns' part of a row is (all concrete fields)."""
        return self.model.from_db(connection.alias, self.attnames, self.values(row))


@cache
def _by_pk(model: type[Model]) -> tuple[str, Columns]:
    columns = Columns(model, "r")
    sql = (f"SELECT {columns.sql} FROM {table(model, 'r')} "
           f"WHERE {column('r', model._meta.pk)} = %s")
    return sql, columns


def row_by_pk(model: type[Model], pk):
    """Return the `model` row whose primary key is `pk`, as `model.objects.get(pk=pk)`
    would, or raise `model.DoesNotExist`."""
    sql, columns = _by_pk(model)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [model._meta.pk.get_db_prep_value(pk, connection)])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
    return columns.instance(row)


@cache
def _insert(model: type[Model], with_pk: bool) -> tuple[str, list[Field], bool]:
    meta = model._meta
    fields = [field for field in meta.concrete_fields
              if not field.generated and (with_pk or field is not meta.pk)]
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(meta.db_table)} "
           f"({', '.join(quote(field.column) for field in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    returning = connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {quote(meta.pk.column)}"
    return sql, fields, returning


def row_insert(instance: Model) -> Model:
    """Insert `instance` as a new row and return it, its primary key set, as
    `instance.save()` would for a new object in the caller's transaction."""
    meta = instance._meta
    instance._prepare_related_fields_for_save(operation_name="save")  # refuses unsaved ones
    sql, fields, returning = _insert(type(instance), instance.pk is not None)
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection)
              for field in fields]
    with prepared_cursor() as cursor:
        cursor.execute(sql, values)
        if instance.pk is None:
            pk = (cursor.fetchone()[0] if returning
                  else connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column))
            setattr(instance, meta.pk.attname, pk)
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance
