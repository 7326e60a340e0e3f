"""iiniit_auth.cursors: on PostgreSQL with psycopg 3, a lookup prepared where the project allows
it, dates read by psycopg's compiled loader where it gives Django's datetimes, and one cursor
kept per connection; the same answers as the ORM's everywhere (issue 5)."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from iiniit_auth import cursors, lookup
from iiniit_auth.models import APIKey
from tests.rows import assert_same


def psycopg3():
    """Whether the database is PostgreSQL through psycopg 3 (Django also runs on psycopg 2)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's")
#: Prepared lookups, the compiled date loader, the kept cursor and Django's pool are psycopg 3's;
#: with psycopg 2 a lookup runs on Django's own cursor.
psycopg3_only = pytest.mark.skipif(
    not psycopg3(), reason="psycopg 3's prepared statements, loaders and cursors"
)


@pytest.fixture
def prepare_threshold(db):
    """The project allows prepared statements: OPTIONS["prepare_threshold"] = 2, as Django
    passes it to psycopg on connecting (set on the open connection too)."""
    options = connection.settings_dict["OPTIONS"]
    connection.ensure_connection()
    before = connection.connection.prepare_threshold
    options["prepare_threshold"] = 2
    connection.connection.prepare_threshold = 2
    yield 2
    del options["prepare_threshold"]
    connection.connection.prepare_threshold = before


@pytest.fixture(params=[False, True], ids=["client-binding", "prepared"])
def binding(request):
    """Runs a test twice: with Django's client-side binding, and with prepared lookups (psycopg
    3 only)."""
    if request.param:
        if not psycopg3():
            pytest.skip("prepared lookups need psycopg 3")
        request.getfixturevalue("prepare_threshold")
    return request.param


def prepared_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def is_the_lookup(statement):
    return 'FROM "iiniit_auth_apikey" t INNER JOIN' in statement


@psycopg3_only
def test_the_lookup_is_prepared_when_the_project_allows_it(
    used_key, prepare_threshold, django_assert_num_queries
):
    # psycopg prepares a statement run more than prepare_threshold times on a connection.
    for _ in range(prepare_threshold + 1):
        assert not [each for each in prepared_statements() if is_the_lookup(each)]
        with django_assert_num_queries(1) as captured:  # still logged and counted by Django
            found = lookup.find_key(APIKey, used_key.public_id)
        assert_same(found, APIKey.objects.select_related("owner").get(pk=used_key.pk))
    # Logged as Django logs its own queries: the statement with its value.
    assert is_the_lookup(captured.captured_queries[0]["sql"])
    assert captured.captured_queries[0]["sql"].endswith(f"= '{used_key.public_id}'")
    # Prepared on the server, with its parameter bound there ($1), not spelled into the text.
    [statement] = [each for each in prepared_statements() if is_the_lookup(each)]
    assert statement.endswith('WHERE t."public_id" = $1')
    assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk
    assert lookup.find_key(APIKey, "0000000000") is None


@postgresql_only
def test_without_the_option_nothing_is_prepared(used_key):
    assert connection.settings_dict["OPTIONS"].get("prepare_threshold") is None
    for _ in range(10):
        assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk
    assert not [each for each in prepared_statements() if is_the_lookup(each)]


@psycopg3_only
def test_a_failing_prepared_lookup_is_a_django_database_error(used_key, prepare_threshold):
    from django.db import DatabaseError, transaction

    for _ in range(prepare_threshold + 1):
        lookup.find_key(APIKey, used_key.public_id)
    with pytest.raises(DatabaseError), transaction.atomic():
        # Django's error wrapping still applies: a bad value for the column's type is an
        # error of Django's, not psycopg's.
        lookup.fetch(APIKey, "id", "not a number")
    # The kept cursor survives its error.
    assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk


def timestamptz_loaders():
    """The loader of ``timestamptz`` text on a lookup's cursor, on Django's connection, and
    psycopg's default one (compiled where psycopg's C extension is installed). psycopg 3 only:
    psycopg 2 has no loaders, and the lookup reads dates through Django's cursor there."""
    import psycopg
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from psycopg.pq import Format

    lookups = drivers_cursor()[0].adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    djangos = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    return lookups, djangos, psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


def assert_read_by_the_compiled_loader(compiled):
    """Whether the lookup reads dates with psycopg's compiled loader (``compiled``) or with
    Django's. Only psycopg 3 has loaders; with psycopg 2 there is nothing to tell apart."""
    if psycopg3():
        lookups, _djangos, psycopgs = timestamptz_loaders()
        assert (lookups is psycopgs) is compiled


def assert_dates_as_the_orm_reads_them(key):
    expected = APIKey.objects.select_related("owner").get(pk=key.pk)
    found = lookup.find_key(APIKey, key.public_id)
    assert_same(found, expected)
    assert_same(found.owner, expected.owner)
    pairs = [
        (found.created_at, expected.created_at),
        (found.last_used_at, expected.last_used_at),
        (found.expires_at, expected.expires_at),
        (found.owner.last_login, expected.owner.last_login),
        (found.owner.date_joined, expected.owner.date_joined),
    ]
    for got, wanted in pairs:
        assert got == wanted
        assert got.tzinfo is wanted.tzinfo  # the same time zone object, not an equal instant
    return found


@psycopg3_only
def test_dates_are_read_by_psycopgs_compiled_loader_when_it_gives_djangos_datetimes(
    used_key, binding
):
    from datetime import UTC

    assert connection.timezone is UTC  # USE_TZ, no TIME_ZONE of the database's
    lookups, djangos, psycopgs = timestamptz_loaders()
    assert lookups is psycopgs
    assert djangos is not psycopgs  # Django's own: psycopg's Python loader, and a replace()
    found = assert_dates_as_the_orm_reads_them(used_key)
    assert found.created_at.tzinfo is UTC


def change_time_zone():
    """Have the connection take its settings' TIME_ZONE anew, as Django does when a test
    changes it (its cached time zone dropped, whether or not anything has read it yet)."""
    for name in ("timezone", "timezone_name"):
        connections[DEFAULT_DB_ALIAS].__dict__.pop(name, None)
    connection.ensure_timezone()


@postgresql_only
def test_a_database_time_zone_keeps_djangos_loader(used_key, binding):
    from zoneinfo import ZoneInfo

    settings_dict = connection.settings_dict
    before = settings_dict["TIME_ZONE"]
    settings_dict["TIME_ZONE"] = "Europe/Paris"
    try:
        change_time_zone()
        assert_read_by_the_compiled_loader(False)
        found = assert_dates_as_the_orm_reads_them(used_key)
        assert found.created_at.tzinfo == ZoneInfo("Europe/Paris")
    finally:
        settings_dict["TIME_ZONE"] = before
        change_time_zone()
    assert_read_by_the_compiled_loader(True)


@postgresql_only
def test_a_session_in_another_time_zone_keeps_djangos_loader(used_key, binding):
    # Django assumes the session is in UTC; where something else set it otherwise, the lookup
    # does not guess: it reads dates as Django's loader does, whatever that gives.
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
    try:
        assert_read_by_the_compiled_loader(False)
        assert_dates_as_the_orm_reads_them(used_key)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")


@postgresql_only
def test_without_use_tz_dates_are_naive_as_the_orm_reads_them(used_key, settings, binding):
    settings.USE_TZ = False
    assert_read_by_the_compiled_loader(False)
    found = assert_dates_as_the_orm_reads_them(used_key)
    assert timezone.is_naive(found.created_at)


def drivers_cursor():
    """The driver's cursor the next lookup runs on, and whether it is kept."""
    # This thread's DatabaseWrapper itself, as lookup.fetch() passes it: django.db.connection
    # is a proxy, whose attributes are its own.
    cursor, kept = cursors.lookup_cursor(connections[DEFAULT_DB_ALIAS])
    if kept is None:
        cursor.close()
    else:
        kept.busy = False
    return cursor.cursor, kept is not None


@psycopg3_only
def test_a_connections_lookups_run_on_one_kept_cursor_each_logged_and_wrapped(
    used_key, binding, django_assert_num_queries
):
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, context["cursor"].cursor))
        return execute(sql, params, many, context)

    first, kept = drivers_cursor()
    assert kept
    with connection.execute_wrapper(wrapper):
        for _ in range(4):
            with django_assert_num_queries(1):  # still counted (and logged) by Django
                assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk
    assert len(seen) == 4
    assert all(is_the_lookup(sql) and driver is first for sql, driver in seen)
    assert drivers_cursor() == (first, True)
    assert not first.closed


@psycopg3_only
def test_a_change_of_binding_gets_a_new_cursor(used_key, request):
    client_side, _ = drivers_cursor()
    request.getfixturevalue("prepare_threshold")
    server_side, kept = drivers_cursor()
    assert kept
    assert server_side is not client_side
    assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk


@psycopg3_only
def test_a_new_connection_gets_a_new_cursor(transactional_db, used_key):
    before, _ = drivers_cursor()
    connection.close()

    assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk
    after, kept = drivers_cursor()
    assert kept
    assert after is not before
    assert after.connection is connection.connection


@psycopg3_only
def test_a_cursor_is_kept_only_where_dates_are_read_by_the_compiled_loader(used_key, settings):
    settings.USE_TZ = False
    assert drivers_cursor()[1] is False
    assert timezone.is_naive(lookup.find_key(APIKey, used_key.public_id).created_at)


@psycopg3_only
def test_a_connection_shared_between_threads_keeps_no_cursor(used_key):
    connection.inc_thread_sharing()
    try:
        first, kept = drivers_cursor()
        assert not kept
        assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk
        assert drivers_cursor()[0] is not first
        assert first.closed  # a cursor that is not kept is closed after use
    finally:
        connection.dec_thread_sharing()
    assert drivers_cursor()[1] is True


@psycopg3_only
def test_a_lookup_inside_a_lookup_does_not_take_the_outer_ones_row(used_key, issue, user, binding):
    other, _plaintext = issue(owner=user)
    inner = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not inner:  # after the outer statement ran, before its row is fetched
            inner.append(None)
            inner[0] = lookup.find_key(APIKey, other.public_id)
        return result

    with connection.execute_wrapper(wrapper):
        found = lookup.find_key(APIKey, used_key.public_id)

    assert found.pk == used_key.pk
    assert inner[0].pk == other.pk
    assert drivers_cursor()[1] is True  # kept again once both are done


@pytest.fixture
def pooled(transactional_db):
    """Return a function making this thread's connection one of Django's pooled connections
    (``OPTIONS["pool"]``, psycopg_pool) with ``prepare_threshold`` as docs/performance.md
    recommends: the DatabaseWrapper of one thread after another, all sharing one pool."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings_dict = {
        **connection.settings_dict,
        "CONN_MAX_AGE": 0,  # Django's pool wants it so: a request gives its connection back
        "OPTIONS": {
            **connection.settings_dict["OPTIONS"],
            "prepare_threshold": 2,
            "pool": {"min_size": 1, "max_size": 1, "timeout": 10},
        },
    }
    own = connections[DEFAULT_DB_ALIAS]
    made = []

    def use_a_pooled_connection(wrapper=None):
        if wrapper is None:
            wrapper = DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
            made.append(wrapper)
        connections[DEFAULT_DB_ALIAS] = wrapper
        return wrapper

    yield use_a_pooled_connection
    connections[DEFAULT_DB_ALIAS] = own
    for wrapper in made:
        wrapper.close()
    if made:
        made[0].close_pool()


@psycopg3_only
def test_pooled_connections_each_keep_their_cursor_for_their_own_connection(
    used_key, pooled, django_assert_num_queries
):
    # One pooled connection, handed to one thread's DatabaseWrapper after another's: each keeps
    # the cursor it made on it, and always reads the row as it is now.
    first = pooled()
    assert first.pool is not None
    assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk
    held = first.connection
    first_cursor, kept = drivers_cursor()
    assert kept
    assert first_cursor.connection is held
    first.close()  # the end of a request: the connection goes back to the pool

    second = pooled()
    for name in ("renamed once", "renamed twice"):
        APIKey.objects.filter(pk=used_key.pk).update(name=name)
        for _ in range(3):  # past prepare_threshold: prepared on the pooled connection
            with django_assert_num_queries(1):
                assert lookup.find_key(APIKey, used_key.public_id).name == name
    assert second.connection is held  # the same connection, through the pool
    second_cursor, kept = drivers_cursor()
    assert kept
    assert second_cursor is not first_cursor
    assert [each for each in prepared_statements() if is_the_lookup(each)]
    second.close()

    pooled(first)
    APIKey.objects.filter(pk=used_key.pk).update(name="renamed again")
    found = assert_dates_as_the_orm_reads_them(used_key)
    assert found.name == "renamed again"
    assert first.connection is held
    assert drivers_cursor() == (first_cursor, True)  # its own cursor, on the same connection
    first.close()
