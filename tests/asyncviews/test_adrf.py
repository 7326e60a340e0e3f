"""iiniit_auth.contrib.adrf: an ADRF async view answers every case of docs/http.md as its sync
twin does, with the same queries."""

import inspect

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.core.exceptions import SynchronousOnlyOperation
from rest_framework.test import APIRequestFactory

from iiniit_auth.contrib.adrf import AsyncAPIKeyAuthentication, AsyncOAuth2Authentication
from iiniit_auth.throttling import forget_reached_limits
from tests.asyncviews.answers import answer
from tests.asyncviews.urls import AsyncOrders

pytestmark = [pytest.mark.urls("tests.asyncviews.urls"), pytest.mark.django_db]


def test_the_classes_are_async_for_adrf():
    # ADRF tells an async authenticator by this, and then runs it as one.
    assert inspect.iscoroutinefunction(AsyncAPIKeyAuthentication.authenticate)
    assert inspect.iscoroutinefunction(AsyncOAuth2Authentication.authenticate)


@pytest.mark.parametrize("path", ["/async/", "/async-sync-classes/"])
def test_async_view_answers_as_its_sync_twin(case, path):
    method, query, headers, status = case()
    sync = answer("/sync/", method, query, headers, asynchronous=False)
    method, query, headers, _ = case()
    asynchronous = answer(path, method, query, headers, asynchronous=True)

    assert sync[0] == status
    assert asynchronous[0] == status
    assert asynchronous[1] == sync[1]  # the body
    assert asynchronous[2] == sync[2]  # every header, WWW-Authenticate included
    assert len(asynchronous[3]) == len(sync[3])


def test_async_view_answers_under_the_lookup_cache_as_its_sync_twin(settings, case):
    settings.CACHES = {
        **settings.CACHES,
        "keys": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "async"},
    }
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE": "keys"}
    method, query, headers, _status = case()
    # Twice each: the first fills the cache, the second is served from it (no query).
    answer("/sync/", method, query, headers, asynchronous=False)
    sync = answer("/sync/", method, query, headers, asynchronous=False)
    method, query, headers, _ = case()
    answer("/async/", method, query, headers, asynchronous=True)
    asynchronous = answer("/async/", method, query, headers, asynchronous=True)

    assert (asynchronous[0], asynchronous[1], asynchronous[2]) == (sync[0], sync[1], sync[2])
    assert len(asynchronous[3]) == len(sync[3])


def test_a_key_costs_one_query_in_the_async_view(issue):
    _key, plaintext = issue()
    answer("/async/", "GET", "", {"Authorization": f"ApiKey {plaintext}"}, asynchronous=True)

    status, _body, _headers, queries = answer(
        "/async/", "GET", "", {"Authorization": f"ApiKey {plaintext}"}, asynchronous=True
    )

    assert status == 200
    assert len(queries) == 1  # the lookup; last use was stamped by the first request


def test_authenticate_never_queries_on_the_event_loop(issue):
    # Called on the event loop, the sync class raises; the async one does not.
    _key, plaintext = issue()
    factory = APIRequestFactory()
    view = AsyncOrders()
    request = view.initialize_request(
        factory.get("/async/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    )
    twin = AsyncAPIKeyAuthentication()

    async def on_the_loop():
        return await twin.authenticate(request)

    async def sync_on_the_loop():
        from iiniit_auth.authentication import APIKeyAuthentication

        return APIKeyAuthentication.authenticate(twin, request)

    user, key = async_to_sync(on_the_loop)()
    assert key.public_id == _key.public_id
    assert user == _key.owner
    with pytest.raises(SynchronousOnlyOperation):
        async_to_sync(sync_on_the_loop)()


def test_a_cached_key_costs_no_query_in_the_async_view(settings, issue):
    settings.CACHES = {
        **settings.CACHES,
        "keys": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hits"},
    }
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE": "keys"}
    _key, plaintext = issue()
    answer("/async/", "GET", "", {"Authorization": f"ApiKey {plaintext}"}, asynchronous=True)

    status, _body, _headers, queries = answer(
        "/async/", "GET", "", {"Authorization": f"ApiKey {plaintext}"}, asynchronous=True
    )

    assert status == 200
    assert queries == []


def test_composed_permission_answers_as_its_sync_twin(issue):
    headers = {"Authorization": f"ApiKey {issue(scopes=['reports:read'])[1]}"}
    sync = answer("/sync-composed/", "GET", "", headers, asynchronous=False)
    asynchronous = answer("/async-composed/", "GET", "", headers, asynchronous=True)

    assert sync[0] == 403
    assert asynchronous[:3] == sync[:3]


def test_failed_authentication_limit_answers_as_in_the_sync_twin(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "FAILED_AUTH_LIMIT": "2/min"}
    bad = {"Authorization": "ApiKey iik_nope"}
    answers = {}
    for path, asynchronous in (("/sync/", False), ("/async/", True)):
        caches["default"].clear()
        forget_reached_limits()
        for _ in range(2):
            assert answer(path, "GET", "", bad, asynchronous=asynchronous)[0] == 401
        answers[path] = answer(path, "GET", "", bad, asynchronous=asynchronous)

    sync, asynchronous = answers["/sync/"], answers["/async/"]
    assert sync[0] == 429
    # The seconds to wait (body and Retry-After) may tick between the two.
    assert asynchronous[0] == sync[0]
    assert asynchronous[1].keys() == sync[1].keys()
    assert asynchronous[1]["error"] == sync[1]["error"] == "rate_limited"
    assert asynchronous[2].keys() == sync[2].keys()
    assert len(asynchronous[3]) == len(sync[3]) == 0
