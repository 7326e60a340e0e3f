"""The optional API-key lookup cache: off by default, no query on a hit, and every
write that changes an answer seen by the very next request. One process, locmem; the same with
two processes sharing a Redis is in test_cache_redis.py."""

import math
import pickle
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth import cache as key_cache_module
from iiniit_auth import lookup
from iiniit_auth.authentication import APIKeyAuthentication
from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKey, CredentialEvent
from tests.conftest import ADDED, configure
from tests.orgkeys.models import TeamAPIKey


class WhoView(APIView):
    required_scopes: list[str] = []

    def get(self, request):
        return Response({"user": request.user.get_username(), "key": request.auth.public_id})


urlpatterns = [path("who/", WhoView.as_view()), path("", include("tests.urls"))]
pytestmark = pytest.mark.urls(__name__)


class BrokenCache(BaseCache):
    """A cache whose server is down: every call fails, as a Redis client's would."""

    def __init__(self, location, params):
        super().__init__(params)

    def get(self, key, default=None, version=None):
        raise ConnectionError("cache down")

    def add(self, key, value, timeout=None, version=None):
        raise ConnectionError("cache down")

    def set_many(self, data, timeout=None, version=None):
        raise ConnectionError("cache down")

    def delete(self, key, version=None):
        raise ConnectionError("cache down")


def who(api, plaintext, **extra):
    return api.get("/who/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}", **extra)


def warm(api, plaintext, django_assert_num_queries):
    """Fill the cache and prove the next request is a hit."""
    assert who(api, plaintext).status_code == 200
    with django_assert_num_queries(0):
        assert who(api, plaintext).status_code == 200


# -- settings -------------------------------------------------------------------------------


def test_the_cache_is_off_by_default(key, api, django_assert_num_queries):
    _key, plaintext = key
    assert auth_settings().CACHE is None
    assert auth_settings().CACHE_TTL.total_seconds() == 60
    assert key_cache_module.key_cache() is None
    who(api, plaintext)

    with django_assert_num_queries(1):
        assert who(api, plaintext).status_code == 200


@pytest.mark.parametrize("value", ["nope", 1, b"keys", ["keys"]])
def test_cache_must_name_a_configured_cache(settings, value):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE": value}

    with pytest.raises(ImproperlyConfigured, match=r"\['CACHE'\].*CACHES"):
        auth_settings()


@pytest.mark.parametrize(
    ("value", "seconds"), [(5, 5), (1, 1), (1.5, 1.5), (timedelta(minutes=2), 120), (86400, 86400)]
)
def test_cache_ttl_takes_seconds_or_a_timedelta(settings, value, seconds):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE_TTL": value}

    assert auth_settings().CACHE_TTL.total_seconds() == seconds


@pytest.mark.parametrize(
    "value",
    [
        0,
        0.5,
        -1,
        timedelta(0),
        timedelta(milliseconds=999),
        math.inf,
        math.nan,
        True,
        "60",
        None,
        10**20,
    ],
)
def test_cache_ttl_must_be_a_finite_duration_of_a_second_or_more(settings, value):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE_TTL": value}

    with pytest.raises(ImproperlyConfigured, match=r"\['CACHE_TTL'\]"):
        auth_settings()


# -- hits -------------------------------------------------------------------------------------


def test_a_hit_costs_no_query(cached, key, api, user, django_assert_num_queries):
    stored, plaintext = key
    with django_assert_num_queries(2):  # the lookup and the first last_used_at stamp
        first = who(api, plaintext)

    with django_assert_num_queries(0):
        second = who(api, plaintext, REMOTE_ADDR="192.0.2.1")

    assert first.json() == second.json() == {"user": user.username, "key": stored.public_id}


def test_a_hit_gives_real_instances_equal_to_the_rows(cached, key, user, staff):
    stored, plaintext = key
    request = RequestFactory().get("/who/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    APIKeyAuthentication().authenticate(Request(request))
    stored.refresh_from_db()
    user.refresh_from_db()

    owner, found = APIKeyAuthentication().authenticate(
        Request(RequestFactory().get("/who/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}"))
    )

    assert type(found) is APIKey
    assert type(owner) is type(user)
    assert found.owner is owner
    assert not found._state.adding
    assert not owner._state.adding
    for field in APIKey._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
    assert owner.get_deferred_fields() == {"password"}
    for field in type(user)._meta.concrete_fields:
        if field.attname != "password":
            assert getattr(owner, field.attname) == getattr(user, field.attname), field.name


def test_the_owner_password_hash_loads_on_access_only(
    cached, key, api, user, django_assert_num_queries
):
    _stored, plaintext = key
    who(api, plaintext)
    with django_assert_num_queries(0):
        owner, _found = APIKeyAuthentication().authenticate(
            Request(RequestFactory().get("/who/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}"))
        )

    with django_assert_num_queries(1):
        assert owner.check_password("ann-password")


def test_an_entry_holds_neither_the_key_nor_the_password_hash(cached, key, api, user):
    stored, plaintext = key
    who(api, plaintext)

    entry = cached.get(key_cache_module.entry_key(APIKey, stored.public_id))
    dumped = pickle.dumps(entry)

    assert plaintext.encode() not in dumped
    assert plaintext[len("iik_") + 10 :].encode() not in dumped  # the secret part
    user.refresh_from_db()
    assert user.password.encode() not in dumped
    assert stored.digest.encode() in dumped  # what the database holds, and what is compared


class TeamAuthentication(APIKeyAuthentication):
    model = TeamAPIKey


def test_a_key_subclass_is_cached_under_its_own_model(cached, user, commit):
    with commit():
        key, plaintext = TeamAPIKey.objects.issue(owner=user, name="ci", team="platform")
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    TeamAuthentication().authenticate(Request(request))
    store = key_cache_module.key_cache()

    hit = store.get(TeamAPIKey, key.public_id)

    assert type(hit) is TeamAPIKey
    assert hit.team == "platform"
    assert store.get(APIKey, key.public_id) is None


@pytest.mark.parametrize(
    "entry",
    [
        ("old", (), ()),  # the form entries had before they were bytes
        pickle.dumps(("0123456789abcdef", (1,), ())),  # another layout's version
        b"\x80\x05not a pickle",
        pickle.dumps(["a", "list"]),
    ],
    ids=["tuple", "other-version", "garbage", "list"],
)
def test_an_entry_of_another_layout_is_a_miss(cached, key, api, django_assert_num_queries, entry):
    stored, plaintext = key
    cached.set(key_cache_module.entry_key(APIKey, stored.public_id), entry)

    with django_assert_num_queries(2):
        assert who(api, plaintext).status_code == 200


def test_an_entry_with_the_right_version_but_other_fields_is_a_miss(cached):
    found = key_cache_module.layout(APIKey)
    short = pickle.dumps((found.version, (1, 2), (3,)))

    assert found.load(short, "default") is None


def test_an_entry_of_another_version_is_a_miss_even_when_its_fields_fit(
    cached, key, api, commit, django_assert_num_queries
):
    # Written by a process whose fields differ in name or type but not in number: read as
    # this layout, its values would land in the wrong fields. Here the stale entry says the
    # key is live, and the database says it is revoked.
    stored, plaintext = key
    found = key_cache_module.layout(APIKey)
    _version, db, key_row, owner_row = pickle.loads(found.dump(stored))  # noqa: S301 (ours)
    other = pickle.dumps(("0" * len(found.version), db, key_row, owner_row))
    assert found.load(pickle.dumps((found.version, db, key_row, owner_row)), "default") is not None
    with commit():
        stored.revoke(reason="leaked")
    cached.set(key_cache_module.entry_key(APIKey, stored.public_id), other)

    assert found.load(other, "default") is None
    # A miss: the key is read from the database (one query), and its refusal audited (one).
    with django_assert_num_queries(2):
        assert who(api, plaintext).status_code == 401
    assert CredentialEvent.objects.get(event="refused").details == {"reason": "revoked", "count": 1}


def test_another_models_entry_is_a_miss(cached, key):
    # Entries are keyed by model name without the app; the layout names the app too, so a
    # model of the same name in another app takes this entry for a miss, as TeamAPIKey does.
    stored, _plaintext = key
    entry = key_cache_module.layout(APIKey).dump(stored)

    assert key_cache_module.layout(TeamAPIKey).load(entry, "default") is None
    assert key_cache_module.layout(APIKey).load(entry, "default") is not None


def test_hits_of_one_entry_share_no_mutable_value(cached, issue, commit):
    with commit():
        _stored, plaintext = issue(allowed_networks=["192.0.2.0/24"])

    def hit():
        request = RequestFactory().get(
            "/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}", REMOTE_ADDR="192.0.2.7"
        )
        return APIKeyAuthentication().authenticate(Request(request))[1]

    hit()  # fills the cache
    first = hit()
    first.allowed_networks.append("0.0.0.0/0")

    assert hit().allowed_networks == ["192.0.2.0/24"]


def test_the_cache_connection_follows_a_change_of_caches(settings):
    configure(settings)
    store = key_cache_module.key_cache()
    assert store.cache is caches["keys"]

    configure(settings, backend=f"{__name__}.BrokenCache")

    assert isinstance(key_cache_module.key_cache().cache, BrokenCache)


def test_each_thread_uses_its_own_cache_connection(cached):
    import threading

    store = key_cache_module.key_cache()
    seen = {}

    def other():
        seen["store"] = store.cache
        seen["django"] = caches["keys"]

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()

    assert store.cache is caches["keys"]
    assert seen["store"] is seen["django"]
    assert seen["store"] is not store.cache


def test_a_failing_cache_falls_back_to_the_database(
    settings, key, api, commit, caplog, django_assert_num_queries
):
    configure(settings, backend=f"{__name__}.BrokenCache")
    stored, plaintext = key

    with django_assert_num_queries(2):
        assert who(api, plaintext).status_code == 200
    with commit():
        stored.revoke()
    assert who(api, plaintext).status_code == 401
    assert "API key cache 'keys' failed" in caplog.text
    assert plaintext not in caplog.text


# -- every write is seen by the very next request --------------------------------------------


def test_revocation(cached, key, api, commit, django_assert_num_queries):
    stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)

    with commit():
        stored.revoke(reason="lost laptop")

    assert who(api, plaintext).status_code == 401


def test_rotation_keeps_the_old_key_for_its_grace_only(
    cached, key, api, commit, django_assert_num_queries
):
    stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)
    with commit():
        successor, new = stored.rotate(grace=timedelta(hours=1))
    assert who(api, plaintext).status_code == 200
    assert who(api, new).status_code == 200
    warm(api, new, django_assert_num_queries)

    with commit():
        _third, newest = successor.rotate(grace=timedelta(0))

    assert who(api, new).status_code == 401
    assert who(api, newest).status_code == 200


def test_owner_deactivation(cached, key, api, user, commit, django_assert_num_queries):
    _stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)

    with commit():
        user.is_active = False
        user.save()

    assert who(api, plaintext).status_code == 401


def test_any_change_of_the_owner(cached, key, api, user, commit, django_assert_num_queries):
    _stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)

    with commit():
        user.username = "annie"
        user.save()

    assert who(api, plaintext).json()["user"] == "annie"


def test_a_saved_key_row(cached, key, api, commit, django_assert_num_queries):
    stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)

    with commit():
        stored.allowed_networks = ["10.0.0.0/8"]
        stored.save()

    assert who(api, plaintext).status_code == 401
    assert who(api, plaintext, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_a_deleted_owner(cached, key, api, user, commit, django_assert_num_queries):
    _stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)

    with commit():
        user.delete()

    assert who(api, plaintext).status_code == 401


def test_the_entry_is_dropped_when_the_write_commits(
    cached, key, api, django_capture_on_commit_callbacks, django_assert_num_queries
):
    stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)
    name = key_cache_module.entry_key(APIKey, stored.public_id)

    with django_capture_on_commit_callbacks() as callbacks:
        stored.revoke()
    assert isinstance(cached.get(name), bytes)  # not committed yet: other requests see no change
    for callback in callbacks:
        callback()

    assert cached.get(name) == key_cache_module.TOMBSTONE
    assert who(api, plaintext).status_code == 401


def test_a_read_from_before_the_write_cannot_be_put_back(cached, key, api, commit):
    stored, plaintext = key
    store = key_cache_module.key_cache()
    stale = lookup.find_key(APIKey, stored.public_id)  # a request reads the row...

    with commit():
        APIKey.objects.get(pk=stored.pk).revoke()  # ...another revokes the key and commits...

    assert not store.add(stale, timezone.now())  # ...and the first cannot cache what it read
    assert who(api, plaintext).status_code == 401


def test_issuing_a_key_leaves_it_cacheable(cached, key, api, django_assert_num_queries):
    _stored, plaintext = key  # issued, and its on-commit callbacks run

    warm(api, plaintext, django_assert_num_queries)


# -- lifetime of an entry ----------------------------------------------------------------------


def test_an_entry_lives_cache_ttl_at_most(settings, key, api):
    configure(settings, CACHE_TTL=45)
    ADDED.clear()
    stored, plaintext = key

    who(api, plaintext)

    added = dict(ADDED)
    assert added == {key_cache_module.entry_key(APIKey, stored.public_id): 45}


def test_an_entry_ends_before_the_key_expires(cached, issue, commit, api):
    with commit():
        _stored, plaintext = issue(expires_at=timezone.now() + timedelta(seconds=30.9))

    who(api, plaintext)

    (timeout,) = ADDED.values()
    assert timeout in (29, 30)  # whole seconds, rounded down: never past the expiry


def test_a_key_expiring_within_a_second_is_not_cached(cached, issue, commit, api):
    with commit():
        _stored, plaintext = issue(expires_at=timezone.now() + timedelta(milliseconds=900))

    assert who(api, plaintext).status_code == 200
    assert ADDED == {}


def test_a_rotated_key_entry_ends_with_its_grace(cached, key, api, commit):
    stored, plaintext = key
    with commit():
        stored.rotate(grace=timedelta(seconds=20))
    ADDED.clear()

    who(api, plaintext)

    assert list(ADDED.values()) in ([19], [20])


# -- last_used_at ------------------------------------------------------------------------------


def keys_queries(captured):
    """The SQL of the captured queries that touch the key table."""
    table = APIKey._meta.db_table
    return [query["sql"] for query in captured.captured_queries if table in query["sql"]]


def test_hits_stamp_last_used_once_per_interval(
    settings, cached, key, api, django_assert_num_queries
):
    stored, plaintext = key
    warm(api, plaintext, django_assert_num_queries)  # stamped once, by the first request
    stored.refresh_from_db()
    first_stamp = stored.last_used_at
    # The entry's stamp is now older than the interval: the next hit claims the one write of
    # this interval, the ones after it find the claim taken.
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "LAST_USED_UPDATE_INTERVAL": 0.001}

    # Usage is written once per interval too: only the key's own queries are counted here.
    with CaptureQueriesContext(connection) as claimed:
        who(api, plaintext)
    with CaptureQueriesContext(connection) as after:
        for _ in range(3):
            who(api, plaintext)

    assert keys_queries(after) == []
    (update,) = keys_queries(claimed)
    assert update.lstrip().upper().startswith("UPDATE")
    assert "last_used_at" in update.split("WHERE", 1)[1]  # conditional: no read-modify-write
    stored.refresh_from_db()
    assert stored.last_used_at > first_stamp
