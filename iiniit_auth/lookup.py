"""Finding a credential and what it belongs to: one SQL statement, written once.

Building a query through the ORM costs several times what running it costs. So, per model,
lookup column, related objects and database, the ``SELECT ... JOIN`` is written once from the
models' ``_meta`` (the ``concrete_fields`` that ``Model.from_db()`` takes, names quoted by the
connection), with the converters the ORM applies to each column. A lookup runs it on
``connection.cursor()``, so it is logged, counted, instrumented and its errors wrapped like any
query, and builds every instance with ``Model.from_db()``; a related object is assigned to the
credential, so reading it costs no query, as after ``select_related()``. ``request.user`` and
``request.auth`` are real model instances, for custom user models and key models with extra
fields alike.

Rows are read as the model's base manager reads them (``Model._base_manager``, which Django
uses for related objects and ``refresh_from_db()``): every row of the table, whatever a custom
default manager leaves out. A model whose row is spread over several tables (multi-table
inheritance) is read through the ORM instead, with that same manager, so both ways give the
same row.

Lookups read the primary, not a replica that may lag behind a revocation, unless the project
accepts a lag (``LOOKUP_READS_REPLICA``); see :func:`database`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

from iiniit_auth.conf import auth_settings
from iiniit_auth.models import AbstractAPIKey

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


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
        """Return ``Model.from_db()`` of ``values`` as read from the database ``db``, each
        value converted as the ORM converts it."""
        row = list(values)
        for position, functions, column in self.converters:
            value = row[position]
            for function in functions:
                value = function(value, column, connection)
            row[position] = value
        return self.model.from_db(db, self.attnames, row)


@dataclass(frozen=True)
class Join:
    """A related object selected with the row: its table, where its columns are, its field."""

    table: Table
    start: int
    end: int
    name: str


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


def readable(model: type[M], db: str) -> models.QuerySet[M]:
    """Every row of ``model`` on database ``db`` that a lookup can find: its base manager's.

    The one definition of the rows a lookup reads, for the compiled statement, the ORM's
    lookup and whoever must find the same rows again (the cache's invalidation).
    """
    return model._base_manager.db_manager(db).all()


def database(model: type[models.Model]) -> str:
    """Return the alias of the database a lookup of ``model`` reads.

    The router's write database for ``model`` (the primary): a replica that lags would still
    hold a revoked credential, and revocation takes effect on the next request. Where the
    router sends reads only when ``LOOKUP_READS_REPLICA`` names the lag the project accepts.
    """
    if auth_settings().LOOKUP_READS_REPLICA is None:
        return router.db_for_write(model)
    return router.db_for_read(model)


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
    # The converters the ORM's compiler applies to each column: the backend's, then the
    # field's (from_db_value). The backend's are bound to this thread's connection of the
    # alias; they read only the alias's settings (its time zone), the same in every thread.
    for position, field in enumerate(fields):
        column = field.get_col(alias)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((position, tuple(functions), column))
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
    for number, field in enumerate(fields):
        alias = f"r{number}"
        target = models_[number + 1]
        joined, joined_columns = _table(target, alias, connection)
        kind = "LEFT OUTER JOIN" if field.null else "INNER JOIN"
        clauses.append(
            f"{kind} {quote(target._meta.db_table)} {alias} ON "
            f"(t.{quote(_column(field))} = {alias}.{quote(_column(field.target_field))})"
        )
        start = len(columns)
        columns += joined_columns
        joins.append(Join(joined, start, len(columns), field.name))
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

    One query, on the database :func:`database` gives for ``model``.
    """
    db = database(model)
    compiled = statement(model, by, related, db)
    if compiled is None:
        return readable(model, db).select_related(*related).filter(**{by: value}).first()
    connection = connections[db]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, {"value": value})
        row = cursor.fetchone()
    if row is None:
        return None
    found: M = compiled.table.build(db, connection, row[: compiled.end])
    for join in compiled.joins:
        values = row[join.start : join.end]
        # Assigned as any related object is: reading it later costs no query. A LEFT JOIN that
        # found no row leaves the link alone: it is NULL, and Django reads it as None unasked.
        if values[join.table.pk_position] is not None:
            setattr(found, join.name, join.table.build(db, connection, values))
    return found


def find_key(model: type[AbstractAPIKey], public_id: str) -> AbstractAPIKey | None:
    """Return the key of ``model`` with ``public_id``, its owner loaded; None if unknown."""
    return fetch(model, "public_id", public_id, ("owner",))
