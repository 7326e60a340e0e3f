"""iiniit_auth.lookup: one precompiled statement that reads a credential and what it belongs to,
and gives back exactly what the ORM's ``select_related()`` would have (issue 5)."""

import secrets
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.test.utils import isolate_apps
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth import lookup
from iiniit_auth.models import APIKey
from tests.orgkeys.models import TeamAPIKey
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
