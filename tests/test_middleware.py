"""QueryParamKeyMiddleware: responses to requests with a key in the URL are not stored or referred."""

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.test import AsyncClient
from django.urls import include, path
from django.views.decorators.cache import cache_control
from rest_framework.test import APIClient

from iiniit_auth.middleware import QueryParamKeyMiddleware, carries_key


@cache_control(max_age=3600, public=True)
def cacheable(request):
    return HttpResponse("cacheable")


def boom(request):
    raise RuntimeError("boom")


# A test-only URLconf: the suite's own URLs plus a cacheable view and one that fails.
urlpatterns = [
    path("cacheable/", cacheable),
    path("boom/", boom),
    path("", include("tests.urls")),
]


def assert_protected(response):
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_accepted_key_in_query_gets_no_store_and_no_referrer(api, issue):
    _key, plaintext = issue()
    response = api.get("/api/ping/", {"api_key": plaintext})
    assert response.status_code == 200
    assert response.json()["kind"] == "api_key"
    assert_protected(response)


def test_refused_key_in_query_is_protected_too(api, issue):
    key, plaintext = issue()
    key.revoke(reason="leaked")
    response = api.get("/api/ping/", {"api_key": plaintext})
    assert response.status_code == 401
    assert_protected(response)


def test_malformed_query_key_answer_is_protected(api, issue):
    _key, plaintext = issue()
    response = api.get(f"/api/ping/?api_key={plaintext}&api_key={plaintext}")
    assert response.status_code == 400
    assert_protected(response)


def test_percent_encoded_parameter_name_is_recognised(api, issue):
    _key, plaintext = issue()
    # Django decodes "api%5Fkey" to "api_key", so this key authenticates: it must be protected.
    response = api.get(f"/api/ping/?colour=teal&api%5Fkey={plaintext}")
    assert response.status_code == 200
    assert_protected(response)


def test_key_in_header_leaves_caching_headers_alone(api, issue):
    _key, plaintext = issue()
    response = api.get("/api/ping/", {"colour": "teal"}, HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert response.status_code == 200
    assert "Cache-Control" not in response
    # SecurityMiddleware's default, untouched.
    assert response["Referrer-Policy"] == "same-origin"


def test_existing_cache_control_is_replaced(settings, issue):
    settings.ROOT_URLCONF = __name__
    _key, plaintext = issue()
    client = APIClient()
    assert client.get("/cacheable/")["Cache-Control"] == "max-age=3600, public"
    response = client.get("/cacheable/", {"api_key": plaintext})
    assert response.status_code == 200
    assert_protected(response)


def test_not_found_and_server_error_are_protected(settings, issue):
    settings.ROOT_URLCONF = __name__
    _key, plaintext = issue()
    client = APIClient(raise_request_exception=False)
    assert_protected(client.get("/nowhere/", {"api_key": plaintext}))
    response = client.get("/boom/", {"api_key": plaintext})
    assert response.status_code == 500
    assert_protected(response)


def test_protected_when_query_param_is_turned_off(settings, api, issue):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": False}
    _key, plaintext = issue()
    response = api.get("/api/ping/", {"api_key": plaintext})
    # Refused, but the key has been in the URL all the same.
    assert response.status_code == 400
    assert_protected(response)


def test_follows_the_configured_parameter_name(settings, api, issue):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "QUERY_PARAM_NAME": "key"}
    _key, plaintext = issue()
    response = api.get("/api/ping/", {"key": plaintext})
    assert response.status_code == 200
    assert_protected(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", False),
        ("colour=teal&size=2", False),
        ("my_api_key=x", False),
        ("api_key=x", True),
        ("colour=teal;api_key=x", True),
        ("API%5FKEY=x", True),
        ("access_token=x", True),
        ("grant_type=client_credentials&client_secret=x", True),
        ("token=x", True),
        ("csrfmiddlewaretoken=x&token_type=bearer", False),
        ("next=%2Fa%3Fapi_key%3Dx", True),
    ],
)
def test_carries_key(rf, query, expected):
    assert carries_key(rf.get("/api/ping/", QUERY_STRING=query)) is expected


def test_key_shaped_value_under_another_name_counts(rf, issue):
    _key, plaintext = issue()
    assert carries_key(rf.get("/api/ping/", {"token": plaintext}))


def test_async_stack_protects_responses(issue):
    _key, plaintext = issue()
    response = async_to_sync(AsyncClient().get)("/api/ping/", {"api_key": plaintext})
    assert response.status_code == 200
    assert_protected(response)


def test_async_capable_middleware_runs_async(rf, issue):
    _key, plaintext = issue()

    async def view(request):
        return HttpResponse("ok", headers={"Cache-Control": "max-age=60"})

    middleware = QueryParamKeyMiddleware(view)
    with_key = async_to_sync(middleware)(rf.get("/", {"api_key": plaintext}))
    without_key = async_to_sync(middleware)(rf.get("/"))
    assert_protected(with_key)
    assert without_key["Cache-Control"] == "max-age=60"
    assert "Referrer-Policy" not in without_key
