"""The authorization server end to end: a real OAuth 2.0 client (requests-oauthlib, oauthlib)
against the live server, with the recommended settings (tests/settings.py)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oauthlib.oauth2 import BackendApplicationClient, WebApplicationClient
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests_oauthlib import OAuth2Session

from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import ApplicationPolicy

from .conftest import REDIRECT_URI, local

pytestmark = pytest.mark.django_db(transaction=True)


def query(location):
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def refused(call, error):
    """Run ``call``; assert oauthlib raised the OAuth 2.0 error ``error`` from the server."""
    with pytest.raises(OAuth2Error) as raised:
        call()
    assert raised.value.error == error, raised.value
    return raised.value


def bearer(token):
    session = local(requests.Session())
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    return session


def service_session(service, scope):
    return local(
        OAuth2Session(client=BackendApplicationClient(client_id=service.client_id, scope=scope))
    )


# -- authorization code + PKCE ----------------------------------------------------------------


def test_authorization_code_with_pkce_then_the_api(server, browser, public_app, user):
    session = server.session(public_app, scope=["orders:read"])
    location = server.consent(browser, session)
    assert location.startswith(REDIRECT_URI + "?")
    answer = query(location)
    assert answer["state"] == session._state
    assert answer["iss"] == f"{server.url}/o"  # RFC 9207, against mix-up attacks

    token = session.fetch_token(
        server.token_url, authorization_response=location, include_client_id=True
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["orders:read"]
    assert 0 < token["expires_in"] <= 3600
    assert token["refresh_token"]

    orders = session.get(f"{server.url}/api/orders/")
    assert orders.status_code == 200
    ping = session.get(f"{server.url}/api/ping/").json()
    assert ping == {"user": user.username, "kind": "oauth_token", "scopes": ["orders:read"]}

    # A scope the token lacks: 403 insufficient_scope, per RFC 6750.
    create = session.post(f"{server.url}/api/orders/")
    assert create.status_code == 403
    assert create.json()["error"] == "insufficient_scope"
    assert create.json()["missing_scopes"] == ["orders:write"]
    challenge = create.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="orders:write"' in challenge


def test_the_issued_token_is_audited_without_its_value(server, browser, public_app, user):
    _session, token = server.authorize(browser, public_app)

    (issued,) = CredentialEvent.objects.filter(
        kind=CredentialEvent.Kind.OAUTH_TOKEN, event=CredentialEvent.Event.ISSUED
    )
    assert issued.actor == user
    assert issued.details["grant_type"] == "authorization_code"
    assert issued.details["application"] == public_app.client_id
    assert issued.details["user"] == user.username
    assert issued.details["scopes"] == ["orders:read"]
    assert issued.details["refresh_token"].startswith("refresh:")
    everything = repr(list(CredentialEvent.objects.values()))
    assert token["access_token"] not in everything
    assert token["refresh_token"] not in everything


def test_the_consent_page_shows_the_application_and_each_scope(server, browser, public_app):
    session = server.session(public_app, scope=["orders:read", "orders:write"])
    url, _state = session.authorization_url(server.authorize_url)
    page = browser.get(url, allow_redirects=False)

    assert page.status_code == 200
    assert "Test client" in page.text
    assert "Read orders" in page.text
    assert "Create and change orders" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in page.headers["Cache-Control"]


def test_denying_consent_sends_access_denied(server, browser, public_app):
    session = server.session(public_app)
    location = server.consent(browser, session, allow=False)

    assert location.startswith(REDIRECT_URI + "?")
    assert query(location)["error"] == "access_denied"
    refused(
        lambda: session.fetch_token(
            server.token_url, authorization_response=location, include_client_id=True
        ),
        "access_denied",
    )


def test_the_same_code_twice_is_refused(server, browser, public_app):
    session = server.session(public_app)
    location = server.consent(browser, session)
    session.fetch_token(server.token_url, authorization_response=location, include_client_id=True)

    again = server.session(public_app)
    again._code_verifier = session._code_verifier  # the same client, replaying its code
    refused(
        lambda: again.fetch_token(
            server.token_url, authorization_response=location, include_client_id=True
        ),
        "invalid_grant",
    )


def test_a_code_without_the_verifier_is_refused(server, browser, public_app):
    session = server.session(public_app)
    location = server.consent(browser, session)
    code = query(location)["code"]

    without_pkce = local(OAuth2Session(public_app.client_id, redirect_uri=REDIRECT_URI))
    refused(
        lambda: without_pkce.fetch_token(server.token_url, code=code, include_client_id=True),
        "invalid_request",
    )
    # Nor with a verifier that is not the one the challenge was made from.
    refused(
        lambda: without_pkce.fetch_token(
            server.token_url,
            code=code,
            include_client_id=True,
            code_verifier=WebApplicationClient(public_app.client_id).create_code_verifier(64),
        ),
        "invalid_grant",
    )


def test_an_authorization_request_without_pkce_or_with_plain_is_refused(
    server, browser, public_app
):
    for pkce in (None, "plain"):
        session = server.session(public_app, pkce=pkce)
        url, _state = session.authorization_url(server.authorize_url)
        answer = browser.get(url, allow_redirects=False)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith(REDIRECT_URI + "?")
        assert query(answer.headers["Location"])["error"] == "invalid_request"


def test_a_wrong_redirect_uri_is_refused(server, browser, public_app):
    # At the authorization endpoint: an error page, never a redirect to the unknown URI.
    elsewhere = server.session(public_app, redirect_uri="http://127.0.0.1:8765/elsewhere")
    url, _state = elsewhere.authorization_url(server.authorize_url)
    answer = browser.get(url, allow_redirects=False)
    assert answer.status_code == 400
    assert "Location" not in answer.headers

    # At the token endpoint: the code is bound to the URI it was issued for.
    session = server.session(public_app)
    location = server.consent(browser, session)
    other = server.session(public_app, redirect_uri="http://127.0.0.1:8765/elsewhere")
    other._code_verifier = session._code_verifier
    refused(
        lambda: other.fetch_token(
            server.token_url, code=query(location)["code"], include_client_id=True
        ),
        "invalid_request",
    )


def test_an_unauthenticated_user_is_sent_to_sign_in(server, public_app):
    anonymous = local(requests.Session())
    url, _state = server.session(public_app).authorization_url(server.authorize_url)

    answer = anonymous.get(url, allow_redirects=False)

    assert answer.status_code == 302
    assert urlsplit(answer.headers["Location"]).path == "/accounts/login/"


# -- client credentials -----------------------------------------------------------------------


def test_client_credentials_token_calls_the_api_within_its_scopes(server, service):
    session = service_session(service, ["orders:read"])
    token = session.fetch_token(
        server.token_url, client_id=service.client_id, client_secret=service.plaintext_secret
    )
    assert token["scope"] == ["orders:read"]
    assert "refresh_token" not in token

    ping = session.get(f"{server.url}/api/ping/").json()
    assert ping == {
        "user": f"client:{service.client_id}",
        "kind": "oauth_token",
        "scopes": ["orders:read"],
    }
    assert session.get(f"{server.url}/api/orders/").status_code == 200
    create = session.post(f"{server.url}/api/orders/")
    assert create.status_code == 403
    assert create.json()["missing_scopes"] == ["orders:write"]

    issued = CredentialEvent.objects.get(kind="oauth_token", event="issued")
    assert issued.details["grant_type"] == "client_credentials"
    assert issued.actor_name == f"client:{service.client_id}"


def test_client_credentials_with_a_wrong_secret_is_refused(server, service):
    session = service_session(service, ["orders:read"])
    refused(
        lambda: session.fetch_token(
            server.token_url, client_id=service.client_id, client_secret="not-the-secret"
        ),
        "invalid_client",
    )


# -- scopes outside the application's allowed set ---------------------------------------------


def test_a_scope_outside_the_allowed_set_is_refused_at_the_authorization_endpoint(
    server, browser, public_app
):
    session = server.session(public_app, scope=["orders:read", "reports:read"])
    url, _state = session.authorization_url(server.authorize_url)

    answer = browser.get(url, allow_redirects=False)

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    assert "reports:read" in query(location)["error_description"]
    refused(
        lambda: session.fetch_token(
            server.token_url, authorization_response=location, include_client_id=True
        ),
        "invalid_scope",
    )


def test_a_scope_outside_the_allowed_set_is_refused_at_the_token_endpoint(server, service):
    for scope in (["orders:write"], ["orders:read", "reports:read"], ["not-a-scope"]):
        session = service_session(service, scope)
        refused(
            lambda session=session: session.fetch_token(
                server.token_url,
                client_id=service.client_id,
                client_secret=service.plaintext_secret,
            ),
            "invalid_scope",
        )


def test_an_application_without_a_policy_gets_no_scope(server, browser, register):
    bare = register(allowed=None)
    session = server.session(bare, scope=["orders:read"])
    url, _state = session.authorization_url(server.authorize_url)

    answer = browser.get(url, allow_redirects=False)

    answer_query = query(answer.headers["Location"])
    assert answer_query["error"] == "invalid_scope"
    assert "no allowed scopes" in answer_query["error_description"]


# -- refresh ----------------------------------------------------------------------------------


def refresh(server, session, application, **kwargs):
    return session.refresh_token(server.token_url, client_id=application.client_id, **kwargs)


def test_refresh_rotates_and_the_old_refresh_token_is_refused(server, browser, public_app):
    session, first = server.authorize(browser, public_app)

    second = refresh(server, session, public_app)

    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == ["orders:read"]
    assert bearer(second).get(f"{server.url}/api/orders/").status_code == 200
    # Rotation retired the first access token along with its refresh token.
    assert bearer(first).get(f"{server.url}/api/orders/").status_code == 401
    rotated = CredentialEvent.objects.get(kind="oauth_token", event="rotated")
    assert rotated.details["successor"].startswith("refresh:")

    # The first refresh token is used up: presenting it again is a replay.
    replay = local(OAuth2Session(public_app.client_id, token=first))
    refused(lambda: refresh(server, replay, public_app), "invalid_grant")


def test_a_replayed_refresh_token_revokes_the_whole_grant(server, browser, public_app):
    session, first = server.authorize(browser, public_app)
    second = refresh(server, session, public_app)

    replay = local(OAuth2Session(public_app.client_id, token=first))
    refused(lambda: refresh(server, replay, public_app), "invalid_grant")

    # Reuse protection (RFC 9700 section 4.14.2): the legitimate-looking newer tokens die too.
    assert bearer(second).get(f"{server.url}/api/orders/").status_code == 401
    refused(
        lambda: refresh(
            server, local(OAuth2Session(public_app.client_id, token=second)), public_app
        ),
        "invalid_grant",
    )
    replayed, presented_again = CredentialEvent.objects.filter(
        kind="oauth_token", event="refused"
    ).order_by("id")
    assert replayed.details == {"reason": "reused", "grant_revoked": True}
    assert presented_again.details == {"reason": "revoked"}
    revoked = CredentialEvent.objects.filter(kind="oauth_token", event="revoked")
    assert {event.details["via"] for event in revoked} == {"reuse_detection"}
    assert len(revoked) == 2  # the live refresh token and its access token


def test_a_refresh_cannot_widen_the_scopes(server, browser, public_app):
    session, _token = server.authorize(browser, public_app, scope=["orders:read"])

    session.scope = ["orders:read", "orders:write"]  # allowed to the application, not granted
    refused(lambda: refresh(server, session, public_app), "invalid_scope")


def test_narrowing_the_allowed_set_narrows_the_next_refresh(server, browser, register, staff):
    application = register(allowed=["orders:read", "orders:write"])
    session, token = server.authorize(browser, application, scope=["orders:read", "orders:write"])
    assert token["scope"] == ["orders:read", "orders:write"]

    ApplicationPolicy.objects.set_allowed_scopes(application, ["orders:read"], actor=staff)

    # Asking again for what is no longer allowed: invalid_scope, and the grant lives on.
    refused(lambda: refresh(server, session, application), "invalid_scope")
    # Asking for the grant's scopes as they stand (no scope parameter, RFC 6749 section 6).
    session.scope = None
    narrowed = refresh(server, session, application)
    assert narrowed["scope"] == ["orders:read"]
    assert bearer(narrowed).post(f"{server.url}/api/orders/").status_code == 403
    assert bearer(narrowed).get(f"{server.url}/api/orders/").status_code == 200

    # Narrowed to nothing: the next refresh carries no scope at all.
    ApplicationPolicy.objects.set_allowed_scopes(application, [], actor=staff)
    empty = refresh(server, session, application)
    assert empty["scope"] == [""]
    assert bearer(empty).get(f"{server.url}/api/orders/").status_code == 403


# -- revocation (RFC 7009) --------------------------------------------------------------------


def revoke(server, application, token_value, hint):
    """Revoke through oauthlib's client: a public client names itself with client_id."""
    client = WebApplicationClient(application.client_id)
    url, headers, body = client.prepare_token_revocation_request(
        server.revoke_url, token_value, token_type_hint=hint, client_id=application.client_id
    )
    return local(requests.Session()).post(url, data=body, headers=headers, timeout=10)


def test_a_revoked_access_token_gets_401_and_its_refresh_token_dies_too(
    server, browser, public_app
):
    session, token = server.authorize(browser, public_app)
    assert session.get(f"{server.url}/api/orders/").status_code == 200

    assert revoke(server, public_app, token["access_token"], "access_token").status_code == 200

    gone = session.get(f"{server.url}/api/orders/")
    assert gone.status_code == 401
    assert 'error="invalid_token"' in gone.headers["WWW-Authenticate"]
    refused(lambda: refresh(server, session, public_app), "invalid_grant")
    revoked = CredentialEvent.objects.filter(kind="oauth_token", event="revoked")
    assert {event.details["via"] for event in revoked} == {"revoke_endpoint"}
    assert {event.actor_name for event in revoked} == {f"client:{public_app.client_id}"}


def test_revoking_a_refresh_token_revokes_its_access_token(server, browser, public_app):
    session, token = server.authorize(browser, public_app)

    assert revoke(server, public_app, token["refresh_token"], "refresh_token").status_code == 200

    assert session.get(f"{server.url}/api/orders/").status_code == 401
    refused(lambda: refresh(server, session, public_app), "invalid_grant")


def test_a_client_cannot_revoke_another_clients_token(server, browser, public_app, register):
    _session, token = server.authorize(browser, public_app)
    stranger = register(name="Stranger")

    # RFC 7009 section 2.2: 200 all the same, and nothing revoked.
    assert revoke(server, stranger, token["access_token"], "access_token").status_code == 200
    assert bearer(token).get(f"{server.url}/api/orders/").status_code == 200


# -- introspection (RFC 7662) -----------------------------------------------------------------


def introspect(server, token_value, auth=None, method="post"):
    return local(requests.Session()).request(
        method, server.introspect_url, data={"token": token_value}, auth=auth, timeout=10
    )


@pytest.fixture
def resource_server(register):
    """A confidential application that may introspect every application's tokens."""
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    application = register(
        allowed=[],
        name="Resource server",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
    )
    ApplicationPolicy.objects.set_may_introspect(application, True)
    return application


def test_introspection_answers_inactive_after_revocation(
    server, browser, public_app, resource_server, user
):
    _session, token = server.authorize(browser, public_app)
    auth = (resource_server.client_id, resource_server.plaintext_secret)

    active = introspect(server, token["access_token"], auth)
    assert active.status_code == 200
    assert active.json()["active"] is True
    assert active.json()["scope"] == "orders:read"
    assert active.json()["client_id"] == public_app.client_id
    assert active.json()["username"] == user.username
    assert active.headers["Cache-Control"] == "no-store"

    revoke(server, public_app, token["access_token"], "access_token")

    assert introspect(server, token["access_token"], auth).json() == {"active": False}
    assert introspect(server, "no-such-token", auth).json() == {"active": False}


def test_introspection_refuses_unauthenticated_callers_and_get(
    server, browser, public_app, resource_server
):
    _session, token = server.authorize(browser, public_app)

    anonymous = introspect(server, token["access_token"])
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = introspect(server, token["access_token"], (resource_server.client_id, "wrong"))
    assert wrong.status_code == 401
    # A public client has no secret to prove who it is.
    assert introspect(server, token["access_token"], (public_app.client_id, "")).status_code == 401
    # A token has no place in a URL: GET is not offered, authenticated or not.
    auth = (resource_server.client_id, resource_server.plaintext_secret)
    assert introspect(server, token["access_token"], auth, method="get").status_code == 405


def test_an_application_may_introspect_only_its_own_tokens_unless_allowed(
    server, browser, public_app, service
):
    _session, user_token = server.authorize(browser, public_app)
    session = service_session(service, ["orders:read"])
    own = session.fetch_token(
        server.token_url, client_id=service.client_id, client_secret=service.plaintext_secret
    )
    auth = (service.client_id, service.plaintext_secret)

    assert introspect(server, own["access_token"], auth).json()["active"] is True
    assert introspect(server, user_token["access_token"], auth).json() == {"active": False}
