"""Finding a credential and what it belongs to: one SQL statement, compiled once.

Building a query through the ORM costs far more than running it (issue 5: ~40 µs for the
indexed lookup on SQLite against ~900 µs through ``select_related(...).get()``). So, per model,
lookup column, related objects and database, the ``SELECT ... JOIN`` is written once from the
models' ``_meta`` (columns of ``concrete_fields``, names quoted by the connection), together
with the converters the ORM would apply to each column. A lookup then runs that statement
through Django's cursor (so it is logged, counted, instrumented and its errors wrapped like any
query) and builds the instances as ``Model.from_db()`` does (:func:`instance`), the related ones
cached on the credential as ``select_related()`` caches them. ``request.user`` and
``request.auth`` are real model instances, for custom user models and key models with extra
fields alike.

Models whose row is spread over several tables (multi-table inheritance) use the ORM instead.
On PostgreSQL the statement is prepared on the server when the project allows prepared
statements, and dates are read by psycopg's compiled loader when it gives what Django's gives
(:func:`_postgresql_cursor`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, time, timedelta
from decimal import Decimal
from functools import cache
from inspect import getattr_static
from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init

from iiniit_auth.models import AbstractAPIKey

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


@cache
def _init_only_sets_fields(model: type[models.Model]) -> bool:
    """Whether ``model(*row)`` does nothing but set each field's attribute on a new instance.

    True when the model has neither an ``__init__`` nor a ``from_db`` of its own, and no field's
    attribute is behind a descriptor that could do more on assignment than store the value (a
    foreign key's ``ForeignKeyDeferredAttribute`` clears a cached related object, and a new
    instance has none). The ``pre_init`` and ``post_init`` receivers are checked on every build:
    they can be connected at any time.
    """
    for name in ("__init__", "from_db"):
        if getattr_static(model, name) is not getattr_static(models.Model, name):
            return False
    for field in model._meta.concrete_fields:
        descriptor = getattr_static(model, field.attname, None)
        if hasattr(type(descriptor), "__set__") and not isinstance(
            descriptor, ForeignKeyDeferredAttribute
        ):
            return False
    return True


def instance(model: type[M], db: str, attnames: Sequence[str], values: Sequence[Any]) -> M:
    """Return ``model.from_db(db, attnames, values)``: the instance of a row read from ``db``.

    ``attnames`` are concrete fields in ``concrete_fields`` order; the others are deferred.
    When nothing could tell the difference (see :func:`_init_only_sets_fields`, and no
    ``pre_init`` or ``post_init`` receiver for the model), the instance is built as
    ``Model.__init__`` would build it, without the call: every request builds the key and its
    owner, and ``__init__`` is most of what building one costs.
    """
    if not _builds_directly(model):
        return model.from_db(db, attnames, values)
    new = _read_from(model, db)
    new.__dict__.update(zip(attnames, values, strict=True))
    return new


def _read_from(model: type[M], db: str) -> M:
    """A new ``model`` instance with no field set, in the state of one read from ``db``."""
    new = model.__new__(model)
    state = new._state = ModelState()
    state.adding = False
    state.db = db
    return new


def _builds_directly(model: type[models.Model]) -> bool:
    return _init_only_sets_fields(model) and not (
        # Asking each signal about the model costs more than building the instance: first
        # whether any receiver is connected at all.
        (pre_init.receivers and pre_init.has_listeners(model))
        or (post_init.receivers and post_init.has_listeners(model))
    )


def instance_of_fields(
    model: type[M],
    db: str,
    fields: dict[str, Any],
    copies: Sequence[tuple[str, Callable[[Any], Any]]] = (),
) -> M:
    """Return :func:`instance` of the values ``fields`` maps attnames to (``concrete_fields``
    order; the others deferred), with ``copier(value)`` in place of each value ``copies``
    names: a row kept for many requests (the lookup cache), each given its own instance.

    Built by merging the mapping into the new instance, which costs a fraction of pairing
    names and values anew.
    """
    if not _builds_directly(model):
        copied = dict(fields)
        for name, copier in copies:
            copied[name] = copier(copied[name])
        return model.from_db(db, list(copied), list(copied.values()))
    new = _read_from(model, db)
    attributes = new.__dict__
    attributes.update(fields)
    for name, copier in copies:
        attributes[name] = copier(fields[name])
    return new


#: Values that the instances of several requests can share: none is ever changed in place.
IMMUTABLE = (
    type(None),
    bool,
    int,
    float,
    str,
    bytes,
    Decimal,
    UUID,
    date,  # and datetime
    time,
    timedelta,
)


def copier(value: Any) -> Callable[[Any], Any] | None:
    """How each instance gets a copy of ``value`` of its own: None when it can share it, a
    shallow copy for a list or dict of plain values (a JSON field's usual content), else a deep
    copy."""
    if isinstance(value, IMMUTABLE):
        return None
    if type(value) is list and all(isinstance(each, IMMUTABLE) for each in value):
        return list
    if type(value) is dict and all(isinstance(each, IMMUTABLE) for each in value.values()):
        return dict
    return copy.deepcopy


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
    cursor, kept = _cursor(connection)
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


class _ServerBindingDebugWrapper(CursorDebugWrapper):
    """Django's debug cursor, logging the statement with its values.

    Django reads the executed SQL back from psycopg's client-side cursors; a server-side one
    has only the ``$1`` form, and none once the statement is prepared.
    """

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


@dataclass(frozen=True)
class _Psycopg:
    """What the lookup uses of psycopg 3 and Django's backend for it."""

    server_binding_cursor: type
    timestamptz_oid: int
    text: Any  # psycopg.pq.Format.TEXT
    #: psycopg's own loader, and Django's function that registers its own on a context.
    timestamptz_loader: type
    register_tzloader: Callable[[Any, Any], None]


@cache
def _psycopg() -> _Psycopg | None:
    """psycopg 3's parts (imported once, on the first lookup); None with psycopg 2."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if not is_psycopg3:
        return None
    from django.db.backends.postgresql import base
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format
    from psycopg.types.datetime import TimestamptzLoader

    return _Psycopg(
        server_binding_cursor=base.ServerBindingCursor,
        timestamptz_oid=base.TIMESTAMPTZ_OID,
        text=Format.TEXT,
        timestamptz_loader=TimestamptzLoader,
        register_tzloader=register_tzloader,
    )


def _cursor(connection: BaseDatabaseWrapper) -> tuple[Any, _Kept | None]:
    """Return a Django cursor for a lookup and, when its driver's cursor is kept for the next
    lookups, the record of it (busy until the caller sets ``busy = False``; a cursor without
    one is to be closed): ``connection.cursor()``, except on PostgreSQL with psycopg 3
    (:func:`_postgresql_cursor`)."""
    if connection.vendor != "postgresql" or (psycopg := _psycopg()) is None:
        return connection.cursor(), None
    return _postgresql_cursor(connection, psycopg)


@dataclass
class _Kept:
    """The driver's cursor a connection's lookups run on, what it was made for, and whether a
    lookup is using it (one running inside another, from an ``execute_wrapper()`` say, gets a
    cursor of its own: it must not replace the outer lookup's result before it is fetched)."""

    connection: Any  # the psycopg connection (Django reconnects with a new one)
    prepared: bool
    cursor: Any
    busy: bool = True


#: Where a DatabaseWrapper keeps its lookups' cursor (an attribute of its own; Django gives
#: each thread, and each asynchronous context, a DatabaseWrapper of its own).
_KEPT = "_iiniit_auth_lookup_cursor"


def _postgresql_cursor(
    connection: BaseDatabaseWrapper, psycopg: _Psycopg
) -> tuple[Any, _Kept | None]:
    """Return a Django cursor for a lookup on PostgreSQL, cheaper than ``connection.cursor()``
    in three ways, and the record of its driver's cursor if that is kept (see :func:`_cursor`).

    Prepared, when the project allows prepared statements (``OPTIONS["prepare_threshold"]``):
    Django binds parameters on the client by default, and psycopg prepares only statements
    bound on the server. Then the lookup's cursor binds on the server, so psycopg prepares
    the statement after ``prepare_threshold`` runs on a connection: the server parses and
    plans it once per connection, not once per request. The project's choice is kept:
    prepared statements need connections that outlive a request (``CONN_MAX_AGE`` or the
    pool) and no pooler that drops them (PgBouncer in transaction mode before 1.21).

    Dates read by psycopg's own loader, compiled, where it gives the very datetimes Django's
    would: Django in UTC (``USE_TZ``, no ``TIME_ZONE`` of the database's) and the session's
    time zone UTC. Django's loader is psycopg's pure-Python one plus a ``replace(tzinfo=...)``;
    it costs several microseconds a value, and a lookup reads five or more.

    Kept: in that case, unless the connection is shared between threads, the driver's cursor
    is made once per psycopg connection and reused, since making one and setting its loader
    costs more than the rest of the lookup's Python. It is wrapped anew each time as Django
    wraps its own, so the lookup is still logged, counted, instrumented (``execute_wrapper()``)
    and its errors translated. It keeps the last lookup's result until the next one.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    options = connection.settings_dict["OPTIONS"]
    prepared = (
        options.get("prepare_threshold") is not None
        and options.get("server_side_binding") is not True  # Django's own bind on the server
    )
    compiled_dates = connection.timezone is UTC and raw.pgconn.parameter_status(b"TimeZone") == (
        b"UTC"
    )
    # Never kept for a connection shared between threads (allowed in tests): two lookups at
    # once on one cursor could each fetch the other's row.
    keep = compiled_dates and not connection.allow_thread_sharing
    record: _Kept | None = connection.__dict__.get(_KEPT)
    kept = None
    if (
        keep
        and record is not None
        and record.connection is raw
        and record.prepared is prepared
        and not record.busy
        and not record.cursor.closed
    ):
        kept = record
        kept.busy = True
        driver = kept.cursor
    else:
        with connection.wrap_database_errors:
            if prepared:
                driver = psycopg.server_binding_cursor(raw)
                # What Django's create_cursor() does for its own cursors: the connection
                # reads dates in the time zone Django had when it connected, which may have
                # changed since (USE_TZ or TIME_ZONE overridden in a test).
                loader = raw.adapters.get_loader(psycopg.timestamptz_oid, psycopg.text)
                if connection.timezone != loader.timezone:
                    psycopg.register_tzloader(connection.timezone, driver)
            else:
                driver = connection.create_cursor()
        if compiled_dates:
            driver.adapters.register_loader(psycopg.timestamptz_oid, psycopg.timestamptz_loader)
        if keep and (record is None or not record.busy):
            kept = connection.__dict__[_KEPT] = _Kept(raw, prepared, driver)
    if connection.queries_logged:
        if prepared:
            return _ServerBindingDebugWrapper(driver, connection), kept
        return connection.make_debug_cursor(driver), kept
    return connection.make_cursor(driver), kept


def find_key(model: type[AbstractAPIKey], public_id: str) -> AbstractAPIKey | None:
    """Return the key of ``model`` with ``public_id``, its owner loaded; None if unknown."""
    return fetch(model, "public_id", public_id, ("owner",))
