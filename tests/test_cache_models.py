"""The lookup cache with the ways a project extends its models, and when the cache itself fails.

A user saved through a proxy or a child model, a key read through a proxy or a parent model,
a key model with a file, a class with a lookup of its own, a creator deleted: each write is
seen by the very next request. A Redis that refuses writes but serves reads still loses the
entry of a revoked key. Models: tests/orgkeys/models.py.
"""

import shutil
import socket
import subprocess
import time
from time import monotonic

import pytest
from django.core.cache import caches
from django.urls import path
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth import cache as key_cache_module
from iiniit_auth.authentication import APIKeyAuthentication
from iiniit_auth.models import APIKey
from iiniit_auth.models.managers import APIKeyManager
from tests.conftest import configure
from tests.orgkeys.models import ContractKey, Employee, ProxyAPIKey, ProxyUser, TeamAPIKey


class ProxyKeyAuthentication(APIKeyAuthentication):
    model = ProxyAPIKey


class ContractKeyAuthentication(APIKeyAuthentication):
    model = ContractKey


class TeamKeyAuthentication(APIKeyAuthentication):
    model = TeamAPIKey


class OpsOnlyAuthentication(APIKeyAuthentication):
    """A lookup of its own: only keys named "ops" exist for it."""

    def lookup(self, public_id):
        found = super().lookup(public_id)
        return found if found is not None and found.name == "ops" else None


class CheckedOpsAuthentication(OpsOnlyAuthentication):
    cacheable = True  # the project's word that its lookup may be skipped


def view(authentication):
    class Who(APIView):
        authentication_classes = [authentication]
        permission_classes = [IsAuthenticated]

        def get(self, request):
            contract = getattr(request.auth, "contract", None)
            return Response(
                {
                    "user": request.user.get_username(),
                    "created_by": request.auth.created_by_id,
                    "contract": contract.name if contract else None,
                }
            )

    return Who.as_view()


urlpatterns = [
    path("who/", view(APIKeyAuthentication)),
    path("proxy/", view(ProxyKeyAuthentication)),
    path("contract/", view(ContractKeyAuthentication)),
    path("team/", view(TeamKeyAuthentication)),
    path("ops/", view(OpsOnlyAuthentication)),
]
pytestmark = pytest.mark.urls(__name__)


def call(api, where, plaintext):
    return api.get(f"/{where}/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")


def warm(api, where, plaintext, django_assert_num_queries):
    assert call(api, where, plaintext).status_code == 200
    with django_assert_num_queries(0):
        assert call(api, where, plaintext).status_code == 200


# -- the owner saved through another class ---------------------------------------------------


def test_a_user_deactivated_through_a_proxy_is_refused_next(
    cached, key, api, commit, django_assert_num_queries
):
    stored, plaintext = key
    warm(api, "who", plaintext, django_assert_num_queries)

    owner = ProxyUser.objects.get(pk=stored.owner_id)
    owner.is_active = False
    with commit():
        owner.save()  # post_save is sent with ProxyUser as its sender

    assert call(api, "who", plaintext).status_code == 401


def test_a_user_deactivated_through_a_child_model_is_refused_next(
    db, cached, api, commit, django_assert_num_queries
):
    employee = Employee.objects.create_user("dana", badge="A-17")
    with commit():
        _key, plaintext = APIKey.objects.issue(owner=employee, name="ops", scopes=[])
    warm(api, "who", plaintext, django_assert_num_queries)

    employee.is_active = False
    with commit():
        employee.save()

    assert call(api, "who", plaintext).status_code == 401


# -- the key read through another class ------------------------------------------------------


def test_a_key_revoked_through_its_model_is_refused_by_a_proxy_class(
    cached, key, api, commit, django_assert_num_queries
):
    stored, plaintext = key
    warm(api, "proxy", plaintext, django_assert_num_queries)

    with commit():
        stored.revoke(reason="leaked")

    assert call(api, "proxy", plaintext).status_code == 401


def test_a_child_key_revoked_through_the_child_is_refused_by_the_parent_class(
    cached, user, api, commit, django_assert_num_queries
):
    with commit():
        child, plaintext = ContractKey.objects.issue(owner=user, name="contract", scopes=[])
    warm(api, "who", plaintext, django_assert_num_queries)
    warm(api, "contract", plaintext, django_assert_num_queries)

    with commit():
        child.revoke(reason="leaked")

    assert call(api, "who", plaintext).status_code == 401
    assert call(api, "contract", plaintext).status_code == 401


# -- what an entry holds ---------------------------------------------------------------------


def test_an_entry_of_a_key_with_a_file_holds_no_password_hash(
    cached, user, api, commit, django_assert_num_queries
):
    # A FieldFile pickles the instance it belongs to, and with it the owner it has loaded.
    with commit():
        child, plaintext = ContractKey.objects.issue(owner=user, name="contract", scopes=[])
    ContractKey.objects.filter(pk=child.pk).update(contract="contracts/signed.pdf")
    warm(api, "contract", plaintext, django_assert_num_queries)

    entry = cached.get(key_cache_module.entry_key(ContractKey, child.public_id))
    assert isinstance(entry, bytes)
    assert user.password.encode() not in entry
    with django_assert_num_queries(0):
        assert call(api, "contract", plaintext).json()["contract"] == "contracts/signed.pdf"


def test_an_entry_read_from_another_database_is_a_miss(key):
    # A router that gives each tenant a database of its own: there the same public id is
    # another key, or none, and the owner's id another user.
    stored, _plaintext = key
    found = key_cache_module.layout(APIKey)
    owner_loaded = APIKey.objects.select_related("owner").get(pk=stored.pk)
    entry = found.dump(owner_loaded)

    assert found.load(entry, "default") is not None
    assert found.load(entry, "tenant_b") is None


# -- reading and caching -----------------------------------------------------------------------


def test_a_row_read_half_a_ttl_ago_is_not_cached(cached, key):
    # A write that committed after that read has put up a tombstone that may be gone by now.
    stored, _plaintext = key
    found = APIKey.objects.select_related("owner").get(pk=stored.pk)
    store = key_cache_module.key_cache()
    now = timezone.now()

    assert not store.add(found, now, read_at=monotonic() - 30)
    assert cached.get(key_cache_module.entry_key(APIKey, stored.public_id)) is None
    assert store.add(found, now, read_at=monotonic())


def test_a_class_with_a_lookup_of_its_own_takes_no_key_from_the_cache(
    cached, key, api, django_assert_num_queries
):
    stored, plaintext = key
    assert stored.name != "ops"
    warm(api, "who", plaintext, django_assert_num_queries)

    # Its lookup refuses the key; a hit on the entry the default class wrote would not ask it.
    with django_assert_num_queries(1):  # its lookup, which finds no such key
        assert call(api, "ops", plaintext).status_code == 401
    assert not OpsOnlyAuthentication.cacheable
    assert CheckedOpsAuthentication.cacheable
    assert ProxyKeyAuthentication.cacheable


def test_deleting_the_user_who_created_a_key_drops_its_entry(
    cached, user, staff, api, commit, django_assert_num_queries
):
    # Django nulls created_by with QuerySet.update(), which sends no signal: a hit would keep
    # the deleted user's id, and reading request.auth.created_by would raise.
    with commit():
        _key, plaintext = APIKey.objects.issue(
            owner=user, name="billing", scopes=[], created_by=staff
        )
    warm(api, "who", plaintext, django_assert_num_queries)
    assert call(api, "who", plaintext).json()["created_by"] == staff.pk

    with commit():
        staff.delete()

    assert call(api, "who", plaintext).json()["created_by"] is None


class HidingManager(APIKeyManager):
    """A default manager that leaves archived keys out, as a project's might."""

    def get_queryset(self):
        return super().get_queryset().exclude(name="archived")


@pytest.fixture
def hiding_default_manager(monkeypatch):
    """TeamAPIKey with :class:`HidingManager` as its default manager."""
    manager = HidingManager()
    manager.model = TeamAPIKey
    manager.name = "hiding"
    monkeypatch.setattr(TeamAPIKey._meta, "default_manager", manager)
    assert not TeamAPIKey._default_manager.filter(name="archived").exists()


@pytest.mark.parametrize("write", ["deactivate", "delete-creator"])
def test_a_key_the_default_manager_leaves_out_loses_its_entry_too(
    cached, user, staff, api, commit, hiding_default_manager, django_assert_num_queries, write
):
    # The lookup reads every row (the base manager's): the writes that drop entries must find
    # every row it may have cached.
    with commit():
        _key, plaintext = TeamAPIKey.objects.issue(
            owner=user, name="archived", team="ops", created_by=staff
        )
    warm(api, "team", plaintext, django_assert_num_queries)

    with commit():
        if write == "deactivate":
            user.is_active = False
            user.save()
        else:
            staff.delete()

    answer = call(api, "team", plaintext)
    if write == "deactivate":
        assert answer.status_code == 401
    else:
        assert answer.json()["created_by"] is None


# -- a cache that refuses writes ---------------------------------------------------------------


@pytest.fixture
def private_redis():
    """A redis-server of this test's own (the shared one must not be filled up)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - the installed redis-server, fixed arguments
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_cache_that_refuses_the_tombstone_still_loses_the_entry(
    settings, private_redis, key, api, commit, django_assert_num_queries, caplog
):
    # Redis out of memory (noeviction) refuses every write, but still reads and deletes.
    configure(settings, backend="django.core.cache.backends.redis.RedisCache")
    settings.CACHES["keys"]["LOCATION"] = private_redis
    stored, plaintext = key
    warm(api, "who", plaintext, django_assert_num_queries)
    client = caches["keys"]._cache.get_client(write=True)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", 1)

    with commit():
        stored.revoke(reason="leaked")

    assert call(api, "who", plaintext).status_code == 401
    assert "took no tombstone for" in caplog.text
