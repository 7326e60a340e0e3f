"""iiniit_auth.lookup: one precompiled statement that reads a credential and what it belongs to,
and gives back exactly what the ORM's ``select_related()`` would have (issue 5)."""

import secrets
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.test.utils import isolate_apps
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth import lookup
from iiniit_auth.models import APIKey
from tests.orgkeys.models import TeamAPIKey


def row(instance):
    return [getattr(instance, field.attname) for field in instance._meta.concrete_fields]


def assert_same(found, expected):
    assert type(found) is type(expected)
    assert row(found) == row(expected)
    assert [type(value) for value in row(found)] == [type(value) for value in row(expected)]
    assert not found._state.adding
    assert found._state.db == expected._state.db == "default"


@pytest.fixture
def used_key(issue, user, staff):
    """A key with every kind of column filled: networks (JSON), dates, a creator, a stamp."""
    key, _plaintext = issue(
        allowed_networks=["10.0.0.0/8", "2001:db8::/32"],
        created_by=staff,
        scopes=["orders:read", "reports:read"],
    )
    key.record_use(timezone.now() - timedelta(minutes=5))
    user.last_login = timezone.now()
    user.first_name = "Ann"
    user.save()
    return key


def test_key_and_owner_are_what_the_orm_reads(used_key, django_assert_num_queries):
    expected = APIKey.objects.select_related("owner").get(public_id=used_key.public_id)

    with django_assert_num_queries(1):
        found = lookup.find_key(APIKey, used_key.public_id)
        owner = found.owner  # already there: no second query

    assert_same(found, expected)
    assert_same(owner, expected.owner)
    assert isinstance(owner, get_user_model())
    assert found.allowed_networks == ["10.0.0.0/8", "2001:db8::/32"]
    assert timezone.is_aware(found.expires_at)
    assert timezone.is_aware(found.last_used_at)
    assert found.scope_set == {"orders:read", "reports:read"}


def test_one_statement_joins_the_owner_by_quoted_names(used_key, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        lookup.find_key(APIKey, used_key.public_id)

    (sql,) = [query["sql"] for query in captured.captured_queries]
    quote = connection.ops.quote_name
    assert "JOIN" in sql.upper()
    assert quote(APIKey._meta.db_table) in sql
    assert quote(get_user_model()._meta.db_table) in sql
    assert quote("public_id") in sql
    assert used_key.public_id in sql  # the parameter, bound by the driver


def test_an_unknown_public_id_is_none(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert lookup.find_key(APIKey, "0123456789") is None


def test_an_inactive_owner_is_read_as_it_is(used_key, user):
    user.is_active = False
    user.save()

    found = lookup.find_key(APIKey, used_key.public_id)

    assert found.owner.is_active is False


def test_a_key_subclass_brings_its_own_fields(user, django_assert_num_queries):
    key, _ = TeamAPIKey.objects.issue(owner=user, name="ci", team="platform")
    expected = TeamAPIKey.objects.select_related("owner").get(pk=key.pk)

    with django_assert_num_queries(1):
        found = lookup.find_key(TeamAPIKey, key.public_id)

    assert_same(found, expected)
    assert found.team == "platform"
    assert lookup.find_key(APIKey, key.public_id) is None


def make_token(application, user):
    return get_access_token_model().objects.create(
        user=user,
        application=application,
        token=secrets.token_urlsafe(30),
        scope="orders:read",
        expires=timezone.now() + timedelta(hours=1),
        resource=["https://api.example.com/"],
    )


@pytest.mark.parametrize("with_user", [True, False], ids=["user", "client-credentials"])
def test_nullable_relations_are_left_joins(oauth_app, user, with_user, django_assert_num_queries):
    token = make_token(oauth_app, user if with_user else None)
    expected = (
        get_access_token_model()
        .objects.select_related("user", "application")
        .get(token_checksum=token.token_checksum)
    )

    with django_assert_num_queries(1):
        found = lookup.fetch(
            get_access_token_model(),
            "token_checksum",
            token.token_checksum,
            ("user", "application"),
        )
        found_user, application = found.user, found.application

    assert_same(found, expected)
    assert found.resource == ["https://api.example.com/"]
    assert_same(application, expected.application)
    if with_user:
        assert_same(found_user, expected.user)
    else:
        assert found_user is None


def test_a_relation_without_its_row_on_a_nullable_key_is_none(oauth_app, user):
    token = make_token(None, user)

    found = lookup.fetch(
        get_access_token_model(), "token_checksum", token.token_checksum, ("application",)
    )

    assert found.application is None
    assert found.application_id is None


def test_only_foreign_keys_can_be_joined(db):
    with pytest.raises(ImproperlyConfigured, match="foreign key"):
        lookup.compile_statement(APIKey, "public_id", ("name",), "default")
    with pytest.raises(ImproperlyConfigured, match="foreign key"):
        lookup.compile_statement(get_application_model(), "client_id", ("user", "name"), "default")


@isolate_apps("tests.orgkeys")
def test_multi_table_inheritance_is_left_to_the_orm():
    class Person(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10, unique=True)

        class Meta:
            app_label = "orgkeys"

    class Employee(Person):  # noqa: DJ008
        badge = models.CharField(max_length=10)

        class Meta:
            app_label = "orgkeys"

    assert lookup.compile_statement(Person, "name", (), "default") is not None
    assert lookup.compile_statement(Employee, "name", (), "default") is None


# -- building instances -------------------------------------------------------------------------


def built_both_ways(model, attnames, values):
    """The instance lookup.instance() builds and the one from_db() builds, for one row."""
    return lookup.instance(model, "default", attnames, values), model.from_db(
        "default", attnames, values
    )


def assert_built_alike(fast, slow):
    assert type(fast) is type(slow)
    assert {k: v for k, v in vars(fast).items() if k != "_state"} == {
        k: v for k, v in vars(slow).items() if k != "_state"
    }
    assert (fast._state.adding, fast._state.db) == (slow._state.adding, slow._state.db)
    assert fast.get_deferred_fields() == slow.get_deferred_fields()
    assert fast._state.fields_cache == slow._state.fields_cache == {}


def test_instances_are_built_as_from_db_builds_them(used_key, user):
    for instance in (used_key, user):
        model = type(instance)
        attnames = [field.attname for field in model._meta.concrete_fields]
        fast, slow = built_both_ways(model, attnames, row(instance))
        assert_built_alike(fast, slow)
        assert lookup._init_only_sets_fields(model)
    # Some fields left out: deferred, loaded on access, as from_db() leaves them.
    attnames = [f.attname for f in user._meta.concrete_fields if f.attname != "password"]
    values = [getattr(user, name) for name in attnames]
    fast, slow = built_both_ways(type(user), attnames, values)
    assert_built_alike(fast, slow)
    assert fast.get_deferred_fields() == {"password"}
    assert fast.password == user.password  # one query, as for any deferred field
    # A foreign key set on the new instance: the related object is fetched through it.
    fast, _slow = built_both_ways(
        APIKey, [f.attname for f in APIKey._meta.concrete_fields], row(used_key)
    )
    assert fast.created_by == used_key.created_by


def test_instances_of_kept_fields_are_built_as_from_db_builds_them(used_key, user):
    # lookup.instance_of_fields(): the same instance, from a mapping of attnames to values.
    for instance, left_out in ((used_key, set()), (user, {"password"})):
        model = type(instance)
        fields = {
            f.attname: getattr(instance, f.attname)
            for f in model._meta.concrete_fields
            if f.attname not in left_out
        }
        fast = lookup.instance_of_fields(model, "default", fields)
        slow = model.from_db("default", list(fields), list(fields.values()))
        assert_built_alike(fast, slow)
        assert fast.get_deferred_fields() == left_out


def test_instances_of_kept_fields_get_their_copies_and_signals(used_key):
    from django.db.models.signals import post_init

    fields = {f.attname: getattr(used_key, f.attname) for f in APIKey._meta.concrete_fields}
    copies = (("allowed_networks", list),)
    seen = []

    def on_post_init(sender, instance, **kwargs):
        seen.append(instance.allowed_networks)

    for connected in (False, True):
        if connected:
            post_init.connect(on_post_init, sender=APIKey)
        try:
            built = lookup.instance_of_fields(APIKey, "default", fields, copies)
        finally:
            post_init.disconnect(on_post_init, sender=APIKey)
        assert built.allowed_networks == fields["allowed_networks"]
        assert built.allowed_networks is not fields["allowed_networks"]
        assert_built_alike(built, APIKey.from_db("default", list(fields), list(fields.values())))
    assert len(seen) == 1  # from_db() (the receiver) only while one is connected
    assert seen[0] is not fields["allowed_networks"]


def test_a_subclass_with_fields_of_its_own_is_built_alike(user):
    key, _plaintext = TeamAPIKey.objects.issue(owner=user, name="team", team="ops")
    fast, slow = built_both_ways(
        TeamAPIKey, [f.attname for f in TeamAPIKey._meta.concrete_fields], row(key)
    )
    assert_built_alike(fast, slow)
    assert fast.team == "ops"


def test_init_receivers_are_sent_their_signals(used_key):
    from django.db.models.signals import post_init, pre_init

    seen = []

    def on_pre_init(sender, **kwargs):
        seen.append(("pre_init", sender))

    def on_post_init(sender, instance, **kwargs):
        seen.append(("post_init", sender, instance.pk))

    user_model = get_user_model()
    for signal, receiver in ((pre_init, on_pre_init), (post_init, on_post_init)):
        signal.connect(receiver, sender=user_model)
        try:
            found = lookup.find_key(APIKey, used_key.public_id)
        finally:
            signal.disconnect(receiver, sender=user_model)
        assert found.owner.pk == used_key.owner_id
    assert seen == [("pre_init", user_model), ("post_init", user_model, used_key.owner_id)]


@isolate_apps("tests.orgkeys")
def test_a_model_whose_init_does_more_is_built_by_its_init():
    class Marked(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "orgkeys"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.marked = True

    class Loud:
        """A descriptor that does more than store the value."""

        def __set_name__(self, owner, name):
            self.name = name

        def __get__(self, instance, owner=None):
            return self if instance is None else instance.__dict__[self.name]

        def __set__(self, instance, value):
            instance.__dict__[self.name] = value.upper()

    class Shouting(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "orgkeys"

    Shouting.name = Loud()
    Shouting.name.__set_name__(Shouting, "name")

    class Plain(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)
        other = models.ForeignKey("self", null=True, on_delete=models.CASCADE)

        class Meta:
            app_label = "orgkeys"

    assert not lookup._init_only_sets_fields(Marked)
    assert lookup.instance(Marked, "default", ["id", "name"], [1, "a"]).marked is True
    assert not lookup._init_only_sets_fields(Shouting)
    assert lookup.instance(Shouting, "default", ["id", "name"], [1, "a"]).name == "A"
    assert lookup._init_only_sets_fields(Plain)
    plain = lookup.instance(Plain, "default", ["id", "name", "other_id"], [1, "a", None])
    assert (plain.pk, plain.name, plain.other_id, plain._state.adding) == (1, "a", None, False)


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


@postgresql_only
def test_a_database_time_zone_keeps_djangos_loader(used_key, binding):
    from zoneinfo import ZoneInfo

    settings_dict = connection.settings_dict
    before = settings_dict["TIME_ZONE"]
    settings_dict["TIME_ZONE"] = "Europe/Paris"
    try:
        del connection.timezone, connection.timezone_name
        connection.ensure_timezone()
        assert_read_by_the_compiled_loader(False)
        found = assert_dates_as_the_orm_reads_them(used_key)
        assert found.created_at.tzinfo == ZoneInfo("Europe/Paris")
    finally:
        settings_dict["TIME_ZONE"] = before
        del connection.timezone, connection.timezone_name
        connection.ensure_timezone()
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
    cursor, kept = lookup._cursor(connections[DEFAULT_DB_ALIAS])
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


def json_converter(model, name, by, related):
    """The converters the lookup of ``model`` by ``by`` applies to its field ``name``."""
    compiled = lookup.statement(model, by, related, "default")
    position = compiled.table.attnames.index(name)
    [functions] = [each for at, each, _column in compiled.table.converters if at == position]
    return functions


def test_a_plain_json_field_remembers_what_each_text_decodes_to(issue, user):
    (converter,) = json_converter(APIKey, "allowed_networks", "public_id", ("owner",))
    assert isinstance(converter, lookup._KeptJSON)
    key, _plaintext = issue(owner=user, allowed_networks=["10.0.0.0/8"])

    first = lookup.find_key(APIKey, key.public_id)
    first.allowed_networks.append("0.0.0.0/0")  # one request changes its own copy
    second = lookup.find_key(APIKey, key.public_id)

    assert second.allowed_networks == ["10.0.0.0/8"]
    assert second.allowed_networks is not first.allowed_networks
    assert converter.decoded['["10.0.0.0/8"]'] == (["10.0.0.0/8"], list)


def test_a_kept_json_value_is_what_from_db_value_gives(db):
    field = APIKey._meta.get_field("allowed_networks")
    column = field.get_col("t")
    kept = lookup._KeptJSON(field)
    texts = ['["a", "b"]', "[]", '{"k": 1}', '"text"', "3", "null", "not json", '[{"n": [1]}]']
    for text in texts:
        for _ in range(2):  # decoded, then remembered
            assert kept(text, column, connection) == field.from_db_value(text, column, connection)
    nested = kept('[{"n": [1]}]', column, connection)
    nested[0]["n"].append(2)
    assert kept('[{"n": [1]}]', column, connection) == [{"n": [1]}]  # decoded anew each time
    assert '[{"n": [1]}]' not in kept.decoded
    assert kept(None, column, connection) is None


def test_kept_json_texts_are_bounded(db, monkeypatch):
    monkeypatch.setattr(lookup, "KEPT_JSON", 3)
    field = APIKey._meta.get_field("allowed_networks")
    kept = lookup._KeptJSON(field)
    for number in range(10):
        assert kept(f'["{number}"]', field.get_col("t"), connection) == [str(number)]
        assert len(kept.decoded) <= 3


@isolate_apps("tests.orgkeys")
def test_json_fields_of_their_own_keep_their_own_converter():
    import json

    class Decoder(json.JSONDecoder):
        pass

    class Loud(models.JSONField):
        def from_db_value(self, value, expression, connection):
            return ["loud", *super().from_db_value(value, expression, connection)]

    class Holder(models.Model):  # noqa: DJ008
        plain = models.JSONField(default=list)
        decoded = models.JSONField(default=list, decoder=Decoder)
        loud = Loud(default=list)

        class Meta:
            app_label = "orgkeys"

    def converters(name):
        field = Holder._meta.get_field(name)
        return field, lookup._converters(field, field.get_col("t"), connection)

    assert isinstance(converters("plain")[1][0], lookup._KeptJSON)
    for name in ("decoded", "loud"):
        field, functions = converters(name)
        assert functions == (field.from_db_value,)
