"""The cursor a lookup runs on: Django's own, or on PostgreSQL with psycopg 3 a cheaper one.

On PostgreSQL with psycopg 3 the lookup's statement is prepared when the project allows
prepared statements, dates are read by psycopg's compiled loader where it gives what Django's
gives, and one driver's cursor per connection is kept for the next lookups
(:func:`_postgresql_cursor`). Whatever the cursor, it is wrapped as Django wraps its own: the
lookup is logged, counted, instrumented and its errors translated like any query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper


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


def lookup_cursor(connection: BaseDatabaseWrapper) -> tuple[Any, _Kept | None]:
    """Return a Django cursor for a lookup and, when its driver's cursor is kept for the next
    lookups, the record of it (busy until the caller sets ``busy = False``; a cursor without
    one is to be closed): ``connection.cursor()``, except on PostgreSQL with psycopg 3
    (:func:`_postgresql_cursor`). ``connection`` is a DatabaseWrapper itself
    (``connections[alias]``), not ``django.db.connection``: that is a proxy, and the kept cursor
    is recorded in the wrapper's own attributes."""
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
    in three ways, and the record of its driver's cursor if that is kept (see :func:`lookup_cursor`).

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
