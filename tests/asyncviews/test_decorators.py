"""iiniit_auth.decorators: a plain Django view, sync or async, behind requires_credential
refuses every case of docs/http.md as the DRF view with the same scopes does."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.test import Client, RequestFactory

from iiniit_auth.decorators import requires_credential
from tests.asyncviews.answers import answer

pytestmark = [pytest.mark.urls("tests.asyncviews.urls"), pytest.mark.django_db]

PLAIN = {"sync": ("/plain/", False), "async": ("/plain-async/", True)}


@pytest.mark.parametrize("kind", list(PLAIN))
def test_plain_view_answers_as_the_drf_view(case, kind):
    if case.name == "wrong scope, POST":
        pytest.skip("the decorator asks the same scopes of every method")
    path, asynchronous = PLAIN[kind]
    method, query, headers, status = case()
    drf = answer("/sync/", method, query, headers, asynchronous=False)
    method, query, headers, _ = case()
    plain = answer(path, method, query, headers, asynchronous=asynchronous)

    assert drf[0] == status
    assert plain[0] == status
    assert len(plain[3]) == len(drf[3])
    if status == 200:
        # The view's own answer, with the credential on the request.
        assert plain[1]["user"] == drf[1]["user"]
        assert plain[1]["auth"] in {"APIKey", "AccessToken"}
        assert "WWW-Authenticate" not in plain[2]
        return
    assert plain[1] == drf[1]
    # Every header of DRF's refusal but Allow, which only the view could give.
    drf_headers = {name: value for name, value in drf[2].items() if name != "Allow"}
    assert plain[2] == drf_headers


@pytest.mark.parametrize("kind", list(PLAIN))
def test_plain_view_takes_a_post_without_csrf_token(issue, kind):
    # A key is not sent by a browser on its own: no CSRF token, as in DRF's views.
    path, _asynchronous = PLAIN[kind]
    _key, plaintext = issue()
    client = Client(enforce_csrf_checks=True)

    response = client.post(path, headers={"Authorization": f"ApiKey {plaintext}"})

    assert response.status_code == 200


def test_authentication_classes_narrow_the_schemes(oauth_token, rf: RequestFactory):
    from iiniit_auth.authentication import APIKeyAuthentication

    @requires_credential(authentication_classes=[APIKeyAuthentication])
    def keys_only(request):
        return JsonResponse({"ok": True})

    _token, value = oauth_token()

    response = keys_only(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {value}"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'ApiKey realm="api"'


def test_no_scopes_asks_for_any_valid_credential(issue, rf: RequestFactory):
    @requires_credential()
    def any_credential(request):
        return JsonResponse({"scopes": sorted(request.auth.scope_set)})

    _key, plaintext = issue(scopes=["reports:read"])

    assert any_credential(rf.get("/")).status_code == 401
    response = any_credential(rf.get("/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}"))
    assert response.status_code == 200
    assert response.content == b'{"scopes": ["reports:read"]}'


def test_async_classes_are_refused_with_a_clear_error(rf: RequestFactory):
    from iiniit_auth.contrib.adrf import AsyncAPIKeyAuthentication

    @requires_credential(authentication_classes=[AsyncAPIKeyAuthentication])
    def misconfigured(request):
        return JsonResponse({"ok": True})

    with pytest.raises(ImproperlyConfigured, match="AsyncAPIKeyAuthentication"):
        misconfigured(rf.get("/"))
