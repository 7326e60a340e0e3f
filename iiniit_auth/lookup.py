"""Finding a credential and what it belongs to: one SQL statement, compiled once.

Building a query through the ORM costs far more than running it (issue 5: ~40 µs for the
indexed lookup on SQLite against ~900 µs through ``select_related(...).get()``). So, per model,
lookup column, related objects and database, the ``SELECT ... JOIN`` is written once from the
models' ``_meta`` (columns of ``concrete_fields``, names quoted by the connection), together
with the converters the ORM would apply to each column. A lookup then runs that statement
through Django's cursor (so it is logged, counted, instrumented and its errors wrapped like any
query; on PostgreSQL a cheaper one, see :mod:`iiniit_auth.cursors`) and builds the instances as
``Model.from_db()`` does (:func:`iiniit_auth.instances.instance`), the related ones cached on
the credential as ``select_related()`` caches them. ``request.user`` and ``request.auth`` are
real model instances, for custom user models and key models with extra fields alike.

Models whose row is spread over several tables (multi-table inheritance) use the ORM instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

from iiniit_auth.cursors import lookup_cursor
from iiniit_auth.instances import copier, instance
from iiniit_auth.models import AbstractAPIKey

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


#: How many JSON texts a field's converter remembers (see :class:`_KeptJSON`).
KEPT_JSON = 1024


class _KeptJSON:
    """``JSONField.from_db_value`` of one field, remembering what each text it read decodes to.

    A key's JSON columns (its networks, a token's resources) hold the same text request after
    request, and decoding it costs more than the rest of converting the row. The same text
    gives the same value; each instance gets a copy of its own where the value could be
    changed in place, and a nested value is decoded anew every time (a deep copy would cost
    more than the decoding). Only for fields that keep Django's ``from_db_value`` and decoder.
    """

    def __init__(self, field: models.JSONField[Any]) -> None:
        self.field = field
        self.decoded: dict[str, tuple[Any, Callable[[Any], Any] | None]] = {}

    def __call__(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if type(value) is not str:
            return self.field.from_db_value(value, expression, connection)
        kept = self.decoded.get(value)
        if kept is None:
            decoded = self.field.from_db_value(value, expression, connection)
            copy_of = copier(decoded)
            if copy_of is copy.deepcopy:
                return decoded
            if len(self.decoded) >= KEPT_JSON:
                self.decoded.clear()
            kept = self.decoded[value] = (decoded, copy_of)
        decoded, copy_of = kept
        return decoded if copy_of is None else copy_of(decoded)


def _converters(field: Any, column: Any, connection: BaseDatabaseWrapper) -> tuple[Converter, ...]:
    """The ORM's converters of ``field``'s column (the backend's, then the field's), a plain
    JSON field's remembering what it decoded (:class:`_KeptJSON`)."""
    functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
    if (
        isinstance(field, models.JSONField)
        and type(field).from_db_value is models.JSONField.from_db_value
        and field.decoder is None
        and functions == [field.from_db_value]
    ):
        return (_KeptJSON(field),)
    return tuple(functions)


@dataclass(frozen=True)
class Table:
    """How one model's columns are read: its fields (``concrete_fields`` order), converters."""

    model: type[models.Model]
    attnames: tuple[str, ...]
    #: (position in the row, the ORM's converters for that column, the column expression)
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]
    #: Position of the primary key: NULL there means "no related object" (a LEFT JOIN miss).
    pk_position: int

    def build(self, db: str, connection: BaseDatabaseWrapper, values: Sequence[Any]) -> Any:
        """Return the model instance for ``values`` as read from the database ``db``."""
        row = list(values)
        for position, functions, column in self.converters:
            value = row[position]
            if value is None:
                continue  # SQL NULL is None whatever the column (JSON null is text "null")
            for function in functions:
                value = function(value, column, connection)
            row[position] = value
        return instance(self.model, db, self.attnames, row)


@dataclass(frozen=True)
class Join:
    """A related object selected with the row, and how to attach it."""

    table: Table
    start: int
    end: int
    nullable: bool
    attach: Callable[[models.Model, models.Model | None], None]


@dataclass(frozen=True)
class Statement:
    """One compiled lookup: the SQL, the main table's columns, the joined ones."""

    sql: str
    table: Table
    end: int
    joins: tuple[Join, ...]


_statements: dict[tuple[type[models.Model], str, tuple[str, ...], str], Statement | None] = {}


def foreign_key(model: type[models.Model], name: str) -> models.ForeignKey[Any, Any]:
    """Return the foreign key ``name`` of ``model``; raise ``ImproperlyConfigured`` if it is not
    one or points to a model that is not installed."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.ForeignKey) or not isinstance(field.related_model, type):
        raise ImproperlyConfigured(
            f"{model._meta.label}.{name} must be a foreign key to an installed model."
        )
    return field


def related_model(model: type[models.Model], name: str) -> type[models.Model]:
    """Return the model that the foreign key ``name`` of ``model`` points to."""
    return foreign_key(model, name).related_model  # a model: foreign_key() checked it


def owner_model(model: type[AbstractAPIKey]) -> type[models.Model]:
    """Return the user model that ``model``'s ``owner`` points to."""
    return related_model(model, "owner")


def _column(field: Any) -> str:
    column = field.column
    if not isinstance(column, str):
        raise ImproperlyConfigured(f"{field} has no database column to look it up by.")
    return column


def _single_table(model: type[models.Model]) -> bool:
    table = model._meta.db_table
    return all(field.model._meta.db_table == table for field in model._meta.concrete_fields)


def _table(
    model: type[models.Model], alias: str, connection: BaseDatabaseWrapper
) -> tuple[Table, list[str]]:
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = [f"{alias}.{quote(_column(field))}" for field in fields]
    converters = []
    # The ORM's own converters for each column (backend's, then field's from_db_value). The
    # backend's are bound to this thread's connection of the alias; they read only the alias's
    # settings (its time zone), the same for every thread's connection.
    for position, field in enumerate(fields):
        column = field.get_col(alias)
        functions = _converters(field, column, connection)
        if functions:
            converters.append((position, functions, column))
    attnames = tuple(field.attname for field in fields)
    pk_position = attnames.index(model._meta.pk.attname)
    return Table(model, attnames, tuple(converters), pk_position), columns


def compile_statement(
    model: type[models.Model], by: str, related: tuple[str, ...], db: str
) -> Statement | None:
    """Return the lookup of ``model`` by its unique field ``by`` with the foreign keys
    ``related`` joined, on database ``db``; None when the ORM must do it.

    Non-null foreign keys are INNER JOINs, nullable ones LEFT OUTER JOINs; the value of ``by``
    is the statement's one parameter, ``%(value)s``.
    """
    fields = [foreign_key(model, name) for name in related]
    models_ = [model, *(related_model(model, name) for name in related)]
    if not all(_single_table(each) for each in models_):
        return None  # multi-table inheritance: a row spread over several tables
    connection = connections[db]
    quote = connection.ops.quote_name
    table, columns = _table(model, "t", connection)
    joins: list[Join] = []
    clauses = [f"FROM {quote(model._meta.db_table)} t"]
    end = len(columns)
    for number, field in enumerate(fields):
        alias = f"r{number}"
        target = models_[number + 1]
        joined, joined_columns = _table(target, alias, connection)
        kind = "LEFT OUTER JOIN" if field.null else "INNER JOIN"
        clauses.append(
            f"{kind} {quote(target._meta.db_table)} {alias} ON "
            f"(t.{quote(_column(field))} = {alias}.{quote(_column(field.target_field))})"
        )
        start, end = end, end + len(joined_columns)
        columns += joined_columns
        joins.append(Join(joined, start, end, field.null, field.set_cached_value))
    # Short aliases and a named parameter: SQLite's cursor rewrites "%s" placeholders with a
    # regular expression over the whole statement on every execution, "%(name)s" ones with
    # one string formatting.
    sql = (
        f"SELECT {', '.join(columns)} {' '.join(clauses)} "
        f"WHERE t.{quote(_column(model._meta.get_field(by)))} = %(value)s"
    )
    return Statement(sql=sql, table=table, end=len(table.attnames), joins=tuple(joins))


def statement(
    model: type[models.Model], by: str, related: tuple[str, ...], db: str
) -> Statement | None:
    """Return the compiled lookup (see :func:`compile_statement`), compiling it on first use."""
    index = (model, by, related, db)
    try:
        return _statements[index]
    except KeyError:
        compiled = _statements[index] = compile_statement(model, by, related, db)
        return compiled


def fetch(model: type[M], by: str, value: Any, related: tuple[str, ...] = ()) -> M | None:
    """Return the ``model`` row whose unique field ``by`` is ``value``, with the foreign keys
    ``related`` loaded as ``select_related(*related)`` would; None if there is none.

    One query, on the database the router gives for reading ``model``.
    """
    db = router.db_for_read(model)
    compiled = statement(model, by, related, db)
    if compiled is None:
        return model._default_manager.select_related(*related).filter(**{by: value}).first()
    connection = connections[db]
    cursor, kept = lookup_cursor(connection)
    try:
        cursor.execute(compiled.sql, {"value": value})
        # fetchone() of the driver's cursor, its errors translated as Django's wrapper does:
        # the wrapper builds a new translating function around fetchone() on every call.
        with connection.wrap_database_errors:
            row = cursor.cursor.fetchone()
    finally:
        if kept is None:
            cursor.close()
        else:
            kept.busy = False
    if row is None:
        return None
    found: M = compiled.table.build(db, connection, row[: compiled.end])
    for join in compiled.joins:
        values = row[join.start : join.end]
        if join.nullable and values[join.table.pk_position] is None:
            join.attach(found, None)
        else:
            join.attach(found, join.table.build(db, connection, values))
    return found


def find_key(model: type[AbstractAPIKey], public_id: str) -> AbstractAPIKey | None:
    """Return the key of ``model`` with ``public_id``, its owner loaded; None if unknown."""
    return fetch(model, "public_id", public_id, ("owner",))
