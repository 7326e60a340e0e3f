"""iiniit_auth.lookup: one statement, written once, that reads a credential and what it belongs
to through Django's cursor, and gives back exactly what the ORM's ``select_related()`` gives:
the same instances, the same dates, from the same rows."""

import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.test.utils import isolate_apps
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth import lookup
from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKey
from iiniit_auth.models.managers import APIKeyManager
from tests.orgkeys.models import ContractKey, TeamAPIKey
from tests.rows import assert_same


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
    assert found.get_deferred_fields() == owner.get_deferred_fields() == set()


def test_one_statement_joins_the_owner_by_quoted_names(used_key, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        lookup.find_key(APIKey, used_key.public_id)

    (sql,) = [query["sql"] for query in captured.captured_queries]
    quote = connection.ops.quote_name
    assert "JOIN" in sql.upper()
    assert quote(APIKey._meta.db_table) in sql
    assert quote(get_user_model()._meta.db_table) in sql
    assert quote("public_id") in sql
    assert used_key.public_id in sql  # logged with its value, as Django logs any query


def test_an_unknown_public_id_is_none(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert lookup.find_key(APIKey, "0123456789") is None


def test_an_inactive_owner_is_read_as_it_is(used_key, user):
    user.is_active = False
    user.save()

    found = lookup.find_key(APIKey, used_key.public_id)

    assert found.owner.is_active is False


def test_each_lookup_reads_the_row_as_it_is_now(used_key):
    first = lookup.find_key(APIKey, used_key.public_id)
    first.allowed_networks.append("0.0.0.0/0")  # one request changes its own copy
    APIKey.objects.filter(pk=used_key.pk).update(name="renamed")

    second = lookup.find_key(APIKey, used_key.public_id)

    assert second.name == "renamed"
    assert second.allowed_networks == ["10.0.0.0/8", "2001:db8::/32"]


def test_a_key_subclass_brings_its_own_fields(user, django_assert_num_queries):
    key, _ = TeamAPIKey.objects.issue(owner=user, name="ci", team="platform")
    expected = TeamAPIKey.objects.select_related("owner").get(pk=key.pk)

    with django_assert_num_queries(1):
        found = lookup.find_key(TeamAPIKey, key.public_id)

    assert_same(found, expected)
    assert found.team == "platform"
    assert lookup.find_key(APIKey, key.public_id) is None


def test_a_key_with_a_table_of_its_own_is_read_by_the_orm(user, django_assert_num_queries):
    key, _ = ContractKey.objects.issue(owner=user, name="contract", scopes=[])
    expected = ContractKey.objects.select_related("owner").get(pk=key.pk)

    assert lookup.statement(ContractKey, "public_id", ("owner",), "default") is None
    with django_assert_num_queries(1):
        found = lookup.find_key(ContractKey, key.public_id)
        assert_same(found.owner, expected.owner)

    assert_same(found, expected)


def test_init_receivers_are_sent_their_signals(used_key):
    # Instances come from Model.from_db(), which runs the model's __init__ and its signals.
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


# -- which rows: the base manager's, on both ways of reading -------------------------------


class HidingManager(APIKeyManager):
    """A default manager that leaves some rows out, as a project's might (archived keys)."""

    def get_queryset(self):
        return super().get_queryset().exclude(name="archived")


@isolate_apps("tests.orgkeys")
def test_the_statement_and_the_orm_read_the_same_rows_whatever_the_default_manager(
    user, django_assert_num_queries
):
    class HidingKey(APIKey):  # one table: the compiled statement
        objects = HidingManager()

        class Meta:
            proxy = True
            app_label = "orgkeys"

    class HidingContract(ContractKey):  # two tables: the ORM
        objects = HidingManager()

        class Meta:
            proxy = True
            app_label = "orgkeys"

    assert lookup.statement(HidingKey, "public_id", ("owner",), "default") is not None
    assert lookup.statement(HidingContract, "public_id", ("owner",), "default") is None
    for model, base in ((HidingKey, APIKey), (HidingContract, ContractKey)):
        for name in ("archived", "current"):
            key, _plaintext = base.objects.issue(owner=user, name=name, scopes=[])
            expected = model._base_manager.select_related("owner").get(pk=key.pk)
            assert model.objects.filter(pk=key.pk).exists() is (name == "current")

            with django_assert_num_queries(1):
                found = lookup.find_key(model, key.public_id)

            assert type(found) is model
            assert found.name == name
            assert [getattr(found, f.attname) for f in base._meta.concrete_fields] == [
                getattr(expected, f.attname) for f in base._meta.concrete_fields
            ]


# -- OAuth tokens: nullable relations ----------------------------------------------------------


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


def test_a_relation_without_its_row_on_a_nullable_key_is_none(
    oauth_app, user, django_assert_num_queries
):
    token = make_token(None, user)

    found = lookup.fetch(
        get_access_token_model(), "token_checksum", token.token_checksum, ("application",)
    )

    with django_assert_num_queries(0):
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


# -- dates, as the ORM reads them ----------------------------------------------------------------


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
        assert got.tzinfo == wanted.tzinfo
    return found


def change_time_zone():
    """Have the connection take its settings' TIME_ZONE anew, as Django does when a test
    changes it (its cached time zone dropped, whether or not anything has read it yet)."""
    for name in ("timezone", "timezone_name"):
        connections[DEFAULT_DB_ALIAS].__dict__.pop(name, None)
    if connection.vendor == "postgresql":
        connection.ensure_timezone()


def test_a_database_time_zone_gives_the_orms_dates(used_key):
    from zoneinfo import ZoneInfo

    settings_dict = connection.settings_dict
    before = settings_dict["TIME_ZONE"]
    settings_dict["TIME_ZONE"] = "Europe/Paris"
    try:
        change_time_zone()
        found = assert_dates_as_the_orm_reads_them(used_key)
        if connection.vendor == "postgresql":
            assert found.created_at.tzinfo == ZoneInfo("Europe/Paris")
    finally:
        settings_dict["TIME_ZONE"] = before
        change_time_zone()


def test_without_use_tz_dates_are_naive_as_the_orm_reads_them(used_key, settings):
    settings.USE_TZ = False

    found = assert_dates_as_the_orm_reads_them(used_key)

    assert timezone.is_naive(found.created_at)


# -- PostgreSQL: errors, and prepared statements through Django's own settings ---------------

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's")


def psycopg3():
    """Whether the database is PostgreSQL through psycopg 3 (Django also runs on psycopg 2)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


@postgresql_only
def test_a_failing_lookup_is_a_django_database_error(used_key):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        # Django's cursor wraps the driver's error: a bad value for the column's type.
        lookup.fetch(APIKey, "id", "not a number")
    assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk


def prepared_lookups():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [each for (each,) in cursor.fetchall() if 'FROM "iiniit_auth_apikey" t' in each]


@pytest.fixture(params=["persistent", "pool"])
def server_binding(request, transactional_db):
    """This thread's connection made anew with docs/performance.md's settings: Django binds
    parameters on the server and psycopg prepares a statement run twice on a connection, on
    a persistent connection or one of Django's pool."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    options = {"server_side_binding": True, "prepare_threshold": 2}
    if request.param == "pool":
        options["pool"] = {"min_size": 1, "max_size": 1, "timeout": 10}
    own = connections[DEFAULT_DB_ALIAS]
    wrapper = DatabaseWrapper(
        {**own.settings_dict, "OPTIONS": {**own.settings_dict["OPTIONS"], **options}},
        DEFAULT_DB_ALIAS,
    )
    connections[DEFAULT_DB_ALIAS] = wrapper
    yield wrapper
    connections[DEFAULT_DB_ALIAS] = own
    wrapper.close()
    if request.param == "pool":
        wrapper.close_pool()


@pytest.mark.skipif(not psycopg3(), reason="prepared statements are psycopg 3's")
def test_the_lookup_is_prepared_with_djangos_settings(
    used_key, server_binding, django_assert_num_queries
):
    assert not prepared_lookups()
    for _ in range(4):  # past prepare_threshold
        with django_assert_num_queries(1) as captured:  # still logged and counted
            found = lookup.find_key(APIKey, used_key.public_id)
        assert_same(found, APIKey.objects.select_related("owner").get(pk=used_key.pk))
    assert captured.captured_queries[0]["sql"].endswith(f"= '{used_key.public_id}'")
    [prepared] = prepared_lookups()
    assert prepared.endswith('WHERE t."public_id" = $1')
    APIKey.objects.filter(pk=used_key.pk).update(name="renamed")
    assert lookup.find_key(APIKey, used_key.public_id).name == "renamed"
    assert_dates_as_the_orm_reads_them(used_key)


@postgresql_only
def test_with_djangos_defaults_nothing_is_prepared(used_key):
    assert "server_side_binding" not in connection.settings_dict["OPTIONS"]
    for _ in range(10):
        assert lookup.find_key(APIKey, used_key.public_id).pk == used_key.pk
    assert not prepared_lookups()


# -- which database a lookup reads ---------------------------------------------------------


class ReadsElsewhere:
    """A router sending reads to a replica ("replica" need not exist: nothing connects)."""

    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS


def test_lookups_read_the_primary_whatever_the_router_reads(settings):
    settings.DATABASE_ROUTERS = [ReadsElsewhere()]

    assert lookup.database(APIKey) == DEFAULT_DB_ALIAS
    assert lookup.database(get_access_token_model()) == DEFAULT_DB_ALIAS


def test_lookups_read_the_replica_once_its_lag_is_accepted(settings):
    settings.DATABASE_ROUTERS = [ReadsElsewhere()]
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "LOOKUP_READS_REPLICA": timedelta(seconds=2)}

    assert lookup.database(APIKey) == "replica"
    assert lookup.database(get_access_token_model()) == "replica"


@pytest.mark.parametrize("lag", [timedelta(0), timedelta(seconds=-1), 2, "2s"])
def test_a_lag_that_is_no_positive_duration_is_refused(settings, lag):
    settings.IINIIT_AUTH = {"LOOKUP_READS_REPLICA": lag}

    with pytest.raises(ImproperlyConfigured, match="LOOKUP_READS_REPLICA"):
        auth_settings()


def test_a_lag_over_half_the_cache_ttl_is_refused(settings):
    settings.IINIIT_AUTH = {
        "CACHE": "default",
        "CACHE_TTL": 60,
        "LOOKUP_READS_REPLICA": timedelta(seconds=31),
    }
    with pytest.raises(ImproperlyConfigured, match="half of CACHE_TTL"):
        auth_settings()

    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "LOOKUP_READS_REPLICA": timedelta(seconds=30)}
    assert timedelta(seconds=30) == auth_settings().LOOKUP_READS_REPLICA


def test_a_revoked_credential_is_refused_at_once_while_the_replica_lags():
    """tests/production/replica_cases.py, on a second database that a router reads from."""
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/production/replica_cases.py",
            "--ds=tests.production.replica_settings",
            "-q",
            "-p",
            "no:randomly",
            "-n",
            "0",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"^7 passed", result.stdout, re.MULTILINE), result.stdout
