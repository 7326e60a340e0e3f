"""iiniit_auth.oauth.validators.OAuth2Validator, method by method, with oauthlib's own requests;
and iiniit_auth.oauth.redirects (pure)."""

import base64
import hashlib
import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from iiniit_auth.oauth import redirects
from iiniit_auth.oauth.models import ApplicationPolicy
from iiniit_auth.oauth.scopes import ScopesBackend
from iiniit_auth.oauth.validators import OAuth2Validator


@pytest.fixture
def validator():
    return OAuth2Validator()


def oauthlib_request(client=None, **params):
    request = Request("https://server.example.com/o/token/")
    request.client = client
    for name, value in params.items():
        setattr(request, name, value)
    return request


def application(user, **fields):
    Application = get_application_model()
    fields.setdefault("client_type", Application.CLIENT_PUBLIC)
    fields.setdefault("authorization_grant_type", Application.GRANT_AUTHORIZATION_CODE)
    fields.setdefault("redirect_uris", "http://127.0.0.1:8765/callback")
    return Application.objects.create(name="app", user=user, **fields)


# -- scopes ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_scopes_inside_the_allowed_set_pass(validator, oauth_app):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read", "orders:write"])
    request = oauthlib_request(oauth_app)

    assert validator.validate_scopes(oauth_app.client_id, ["orders:read"], oauth_app, request)
    assert validator.validate_scopes(oauth_app.client_id, [], oauth_app, request)


@pytest.mark.django_db
def test_a_scope_outside_the_allowed_set_is_invalid_scope_naming_it(validator, oauth_app):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"])

    with pytest.raises(errors.InvalidScopeError) as raised:
        validator.validate_scopes(
            oauth_app.client_id,
            ["orders:read", "reports:read"],
            oauth_app,
            oauthlib_request(oauth_app),
        )

    assert (
        raised.value.description == "This application may not request the scope(s): reports:read."
    )


@pytest.mark.django_db
def test_without_a_policy_every_scope_is_refused_with_a_reason(validator, oauth_app):
    with pytest.raises(errors.InvalidScopeError) as raised:
        validator.validate_scopes(
            oauth_app.client_id, ["orders:read"], oauth_app, oauthlib_request(oauth_app)
        )

    assert "no allowed scopes" in raised.value.description


@pytest.mark.django_db
def test_an_unregistered_scope_is_refused_by_the_registry(validator, oauth_app):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"])

    assert not validator.validate_scopes(
        oauth_app.client_id, ["orders:delete"], oauth_app, oauthlib_request(oauth_app)
    )


class GenerousDefaults(ScopesBackend):
    """A project's backend that hands out default scopes."""

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return ["orders:read", "reports:read"]


@pytest.mark.django_db
def test_default_scopes_are_cut_to_the_allowed_set(validator, oauth_app, settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "SCOPES_BACKEND_CLASS": f"{__name__}.GenerousDefaults",
    }
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read", "orders:write"])

    assert validator.get_default_scopes(oauth_app.client_id, oauthlib_request(oauth_app)) == [
        "orders:read"
    ]


@pytest.mark.django_db
def test_the_original_scopes_of_a_refresh_are_cut_to_the_allowed_set(validator, oauth_app, user):
    access = get_access_token_model().objects.create(
        user=user,
        application=oauth_app,
        token="access-token-value",
        scope="orders:read orders:write",
        expires=timezone.now() + timedelta(hours=1),
    )
    refresh = get_refresh_token_model().objects.create(
        user=user, application=oauth_app, token="refresh-token-value", access_token=access
    )
    request = oauthlib_request(oauth_app, refresh_token_instance=refresh)
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"])

    assert validator.get_original_scopes("refresh-token-value", request) == ["orders:read"]
    assert not validator.is_within_original_scope(["orders:write"], "refresh-token-value", request)


def stored_code(application, user, scope, verifier=None):
    """An authorization code as django-oauth-toolkit stores one at consent: a Grant row."""
    challenge = {}
    if verifier is not None:
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = {
            "code_challenge": base64.urlsafe_b64encode(digest).decode("ascii").rstrip("="),
            "code_challenge_method": "S256",
        }
    code = secrets.token_urlsafe(30)
    get_grant_model().objects.create(
        application=application,
        user=user,
        code=code,
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri=application.default_redirect_uri,
        scope=scope,
        **challenge,
    )
    return code


def test_a_code_issued_before_a_narrowing_yields_only_what_is_still_allowed(
    validator, public_app, user
):
    code = stored_code(public_app, user, "orders:read orders:write")
    ApplicationPolicy.objects.set_allowed_scopes(public_app, ["orders:read"])
    request = oauthlib_request(public_app)

    assert validator.validate_code(public_app.client_id, code, public_app, request)
    assert request.scopes == ["orders:read"]
    assert request.user == user


def test_a_code_redeemed_after_a_narrowing_gets_a_narrowed_token(public_app, user):
    verifier = secrets.token_urlsafe(48)
    code = stored_code(public_app, user, "orders:read orders:write", verifier=verifier)
    ApplicationPolicy.objects.set_allowed_scopes(public_app, ["orders:read"])

    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": public_app.default_redirect_uri,
            "client_id": public_app.client_id,
            "code_verifier": verifier,
        },
        secure=True,
    )

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "orders:read"
    assert get_access_token_model().objects.get().scope == "orders:read"


@pytest.mark.django_db
def test_the_allowed_set_is_read_once_per_request(validator, oauth_app, django_assert_num_queries):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"])
    request = oauthlib_request(oauth_app)

    with django_assert_num_queries(1):
        validator.allowed_scopes(oauth_app, request)
        validator.allowed_scopes(oauth_app, request)


# -- grants and response types --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_password_grant_is_refused_even_for_a_password_application(validator, user):
    Application = get_application_model()
    password_app = application(
        user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_PASSWORD,
        redirect_uris="",
    )
    request = oauthlib_request(password_app)

    assert not validator.validate_grant_type(
        password_app.client_id, "password", password_app, request
    )
    # Nor may its old tokens be refreshed.
    assert not validator.validate_grant_type(
        password_app.client_id, "refresh_token", password_app, request
    )


@pytest.mark.django_db
def test_grants_of_allowed_applications_pass(validator, user):
    Application = get_application_model()
    code_app = application(user)
    service = application(
        user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
    )

    assert validator.validate_grant_type(
        code_app.client_id, "authorization_code", code_app, oauthlib_request(code_app)
    )
    assert validator.validate_grant_type(
        code_app.client_id, "refresh_token", code_app, oauthlib_request(code_app)
    )
    assert validator.validate_grant_type(
        service.client_id, "client_credentials", service, oauthlib_request(service)
    )
    assert not validator.validate_grant_type(
        service.client_id, "authorization_code", service, oauthlib_request(service)
    )


@pytest.mark.django_db
def test_front_channel_tokens_are_refused(validator, user):
    Application = get_application_model()
    code_app = application(user)
    implicit_app = application(user, authorization_grant_type=Application.GRANT_IMPLICIT)

    assert validator.validate_response_type(
        code_app.client_id, "code", code_app, oauthlib_request(code_app)
    )
    for response_type in ("token", "code token", "id_token token"):
        assert not validator.validate_response_type(
            implicit_app.client_id, response_type, implicit_app, oauthlib_request(implicit_app)
        )
    assert not validator.validate_response_type(
        implicit_app.client_id, "code", implicit_app, oauthlib_request(implicit_app)
    )


def test_pkce_accepts_s256_only(validator):
    assert validator.is_pkce_required("client", oauthlib_request(code_challenge=None)) is True
    assert (
        validator.is_pkce_required(
            "client", oauthlib_request(code_challenge="x" * 43, code_challenge_method="S256")
        )
        is True
    )
    for method in ("plain", None):
        with pytest.raises(errors.InvalidRequestError) as raised:
            validator.is_pkce_required(
                "client", oauthlib_request(code_challenge="x" * 43, code_challenge_method=method)
            )
        assert "S256" in raised.value.description


# -- redirect URIs --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_redirect_uris_must_be_registered_and_https_or_loopback(validator, user):
    app = application(
        user,
        redirect_uris="https://client.example.com/cb http://client.example.com/cb "
        "http://127.0.0.1:8765/callback",
    )
    request = oauthlib_request(app)

    assert validator.validate_redirect_uri(app.client_id, "https://client.example.com/cb", request)
    assert validator.validate_redirect_uri(app.client_id, "http://127.0.0.1:8765/callback", request)
    # RFC 8252 section 7.3: any port on a loopback address.
    assert validator.validate_redirect_uri(
        app.client_id, "http://127.0.0.1:50123/callback", request
    )
    # Registered, but plain http to a host on the network.
    assert not validator.validate_redirect_uri(
        app.client_id, "http://client.example.com/cb", request
    )
    # Not registered.
    assert not validator.validate_redirect_uri(
        app.client_id, "https://client.example.com/other", request
    )


@pytest.mark.django_db
def test_the_default_redirect_uri_obeys_the_same_rule(validator, user):
    good = application(user, redirect_uris="https://client.example.com/cb")
    bad = application(user, redirect_uris="http://client.example.com/cb")

    assert (
        validator.get_default_redirect_uri(good.client_id, oauthlib_request(good))
        == "https://client.example.com/cb"
    )
    with pytest.raises(errors.InvalidRedirectURIError):
        validator.get_default_redirect_uri(bad.client_id, oauthlib_request(bad))


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example.com/cb",
        "https://client.example.com:8443/cb?x=1",
        "http://127.0.0.1:8765/callback",
        "http://127.10.0.1/cb",
        "http://[::1]:8765/callback",
        "http://localhost:3000/cb",
        "com.example.app:/oauth2redirect",
    ],
)
def test_redirects_accepted(uri):
    assert redirects.refusal(uri) is None


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://client.example.com/cb", "https"),
        ("http://10.0.0.5/cb", "https"),
        ("http://localhost.example.com/cb", "https"),
        ("https://*.example.com/cb", "wildcards"),
        ("http://[::1/cb", "not a valid URI"),
        ("https://client.example.com:99999/cb", "not a valid URI"),
        ("https://client.example.com:https/cb", "not a valid URI"),
    ],
)
def test_redirects_refused(uri, why):
    assert why in redirects.refusal(uri)
