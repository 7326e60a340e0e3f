"""iiniit_auth.oauth.urls and views through Django's test client: the consent page, the URL set,
what discovery advertises, refused grants, introspection's methods, a user revoking a grant."""

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from oauth2_provider.models import (
    Grant,
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)
from oauthlib.oauth2 import LegacyApplicationClient, WebApplicationClient

from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import ApplicationPolicy

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture
def app(user):
    Application = get_application_model()
    application = Application.objects.create(
        name="Shop app",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )
    ApplicationPolicy.objects.set_allowed_scopes(application, ["orders:read", "orders:write"])
    return application


def basic(client_id, secret):
    """An HTTP Basic ``Authorization`` value for a client (RFC 6749 section 2.3.1)."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def authorization_url(application, scope="orders:read", **params):
    client = WebApplicationClient(application.client_id)
    verifier = client.create_code_verifier(64)
    params.setdefault("code_challenge", client.create_code_challenge(verifier, "S256"))
    params.setdefault("code_challenge_method", "S256")
    return client.prepare_request_uri(
        "https://testserver/o/authorize/",
        redirect_uri=REDIRECT_URI,
        scope=scope,
        state="s1",
        **params,
    )


def test_the_consent_page_lists_each_scope_with_its_description(client, user, app):
    client.force_login(user)

    page = client.get(authorization_url(app, scope="orders:read orders:write"))

    assert page.status_code == 200
    assert page.templates[0].name == "iiniit_auth/oauth/authorize.html"
    assert page.context["application"] == app
    assert page.context["requested_scopes"] == [
        ("orders:read", "Read orders"),
        ("orders:write", "Create and change orders"),
    ]
    assert page.context["redirect_host"] == "127.0.0.1:8765"
    html = page.content.decode()
    assert "Authorize Shop app?" in html
    assert 'name="allow"' in html
    assert "Deny" in html
    assert page["X-Frame-Options"] == "DENY"
    assert "no-store" in page["Cache-Control"]


def test_an_unknown_client_gets_an_error_page_not_a_redirect(client, user):
    client.force_login(user)

    page = client.get(
        "/o/authorize/?response_type=code&client_id=nobody&redirect_uri=" + REDIRECT_URI
    )

    assert page.status_code == 400
    assert "cannot be completed" in page.content.decode()


def test_the_implicit_grant_is_refused(client, user):
    Application = get_application_model()
    spa = Application.objects.create(
        name="Legacy SPA",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_IMPLICIT,
        redirect_uris=REDIRECT_URI,
    )
    ApplicationPolicy.objects.set_allowed_scopes(spa, ["orders:read"])
    client.force_login(user)
    url = (
        WebApplicationClient(spa.client_id)
        .prepare_request_uri(
            "https://testserver/o/authorize/",
            redirect_uri=REDIRECT_URI,
            scope="orders:read",
            state="s1",
        )
        .replace("response_type=code", "response_type=token")
    )

    answer = client.get(url)

    assert answer.status_code == 302
    assert "error=unauthorized_client" in answer["Location"]
    assert not get_access_token_model().objects.exists()


@pytest.fixture
def legacy(user):
    """A public application registered for the password grant, allowed orders:read."""
    Application = get_application_model()
    application = Application.objects.create(
        name="Legacy mobile",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_PASSWORD,
    )
    ApplicationPolicy.objects.set_allowed_scopes(application, ["orders:read"])
    return application


def test_the_password_grant_is_refused(client, user, legacy):
    body = LegacyApplicationClient(legacy.client_id).prepare_request_body(
        username=user.username,
        password="ann-password",
        scope="orders:read",
        include_client_id=True,
    )

    answer = client.post("/o/token/", body, content_type="application/x-www-form-urlencoded")

    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"
    assert not get_access_token_model().objects.exists()


@pytest.mark.parametrize("password", ["ann-password", "wrong", "\x00"])
def test_the_refused_password_grant_tells_no_right_password_from_a_wrong_one(
    client, user, legacy, password
):
    # oauthlib checks the user before the grant type: the refusal must come before the password
    # is looked at, or its answer (unauthorized_client against invalid_grant) would tell.
    body = {"grant_type": "password", "username": user.username, "password": password}

    answer = client.post("/o/token/", {**body, "client_id": legacy.client_id})

    assert answer.status_code == 400
    assert json.loads(answer.content) == {"error": "unauthorized_client"}


def test_discovery_advertises_only_what_is_accepted(client):
    metadata = client.get("/o/.well-known/oauth-authorization-server").json()

    assert metadata["response_types_supported"] == ["code"]
    assert metadata["grant_types_supported"] == [
        "authorization_code",
        "client_credentials",
        "refresh_token",
    ]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["introspection_endpoint"] == "http://testserver/o/introspect/"
    assert metadata["revocation_endpoint"] == "http://testserver/o/revoke_token/"


@pytest.mark.parametrize(
    "path",
    ["/o/applications/", "/o/applications/register/", "/o/device-authorization/", "/o/userinfo/"],
)
def test_self_service_registration_and_other_flows_are_not_offered(client, user, path):
    client.force_login(user)
    assert client.get(path).status_code == 404


def test_introspection_accepts_post_only(client):
    assert client.get("/o/introspect/?token=anything").status_code == 405
    assert client.put("/o/introspect/").status_code == 405


@pytest.fixture
def users_token(user, app):
    """An access token of ``user`` for ``app``, as a grant on their authorized tokens page."""
    return get_access_token_model().objects.create(
        user=user,
        application=app,
        token="user-token-value",
        scope="orders:read",
        expires=timezone.now() + timedelta(hours=1),
    )


def test_a_user_revokes_an_application_from_their_list(client, user, users_token):
    token = users_token
    client.force_login(user)

    listing = client.get("/o/authorized_tokens/")
    assert listing.status_code == 200
    assert "Shop app" in listing.content.decode()
    answer = client.post(f"/o/authorized_tokens/{token.pk}/delete/")

    assert answer.status_code == 302
    assert not get_access_token_model().objects.filter(pk=token.pk).exists()
    event = CredentialEvent.objects.get(kind="oauth_token", event="revoked")
    assert event.credential_id == str(token.pk)
    assert event.actor == user
    assert event.details["via"] == "authorized_tokens"


def test_an_http_delete_of_an_authorized_token_is_refused(client, user, users_token):
    # Django's DeletionMixin deleted the token straight away, with no audit event.
    token = users_token
    client.force_login(user)

    assert client.delete(f"/o/authorized_tokens/{token.pk}/delete/").status_code == 405
    assert get_access_token_model().objects.filter(pk=token.pk).exists()


def test_denying_consent_redirects_with_access_denied(client, user, app):
    client.force_login(user)
    page = client.get(authorization_url(app))
    fields = {name: value for name, value in page.context["form"].initial.items() if value}

    answer = client.post("/o/authorize/", fields)

    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert parse_qs(location.query)["error"] == ["access_denied"]
    assert parse_qs(location.query)["state"] == ["s1"]


def test_a_refresh_without_rotation_is_audited_as_issued(client, settings, user, app):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "ROTATE_REFRESH_TOKEN": False,
        "REFRESH_TOKEN_REUSE_PROTECTION": False,
    }
    access = get_access_token_model().objects.create(
        user=user,
        application=app,
        token="old-access-value",
        scope="orders:read",
        expires=timezone.now() + timedelta(minutes=5),
    )
    get_refresh_token_model().objects.create(
        user=user, application=app, token="kept-refresh-value", access_token=access
    )
    body = WebApplicationClient(app.client_id).prepare_refresh_body(
        refresh_token="kept-refresh-value", client_id=app.client_id
    )

    answer = client.post("/o/token/", body, content_type="application/x-www-form-urlencoded")

    assert answer.status_code == 200
    assert answer.json()["refresh_token"] == "kept-refresh-value"
    (issued,) = CredentialEvent.objects.filter(kind="oauth_token", event="issued")
    assert issued.credential_id == str(access.pk)  # the same row, given a new value
    assert issued.details["grant_type"] == "refresh_token"
    assert not CredentialEvent.objects.filter(event="rotated").exists()


def consent_fields(page):
    """What a browser posts from the consent page: every hidden field, empty ones too."""
    return {name: value or "" for name, value in page.context["form"].initial.items()}


def test_a_request_without_scope_is_approved_for_a_token_with_no_scope(client, user, app):
    # RFC 6749 section 3.3: no scope asked and no default, so the grant carries none.
    oauth = WebApplicationClient(app.client_id)
    verifier = oauth.create_code_verifier(64)
    url = oauth.prepare_request_uri(
        "https://testserver/o/authorize/",
        redirect_uri=REDIRECT_URI,
        state="s1",
        code_challenge=oauth.create_code_challenge(verifier, "S256"),
        code_challenge_method="S256",
    )
    client.force_login(user)
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["requested_scopes"] == []
    assert "It asks for no permissions" in page.content.decode()

    answer = client.post("/o/authorize/", {**consent_fields(page), "allow": "on"})

    assert answer.status_code == 302
    (code,) = parse_qs(urlsplit(answer["Location"]).query)["code"]
    token = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.content
    assert token.json()["scope"] == ""
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/ping/", **bearer).status_code == 200
    assert client.get("/api/orders/", **bearer).status_code == 403


def test_denying_a_request_without_scope_redirects_with_access_denied(client, user, app):
    client.force_login(user)
    page = client.get(authorization_url(app, scope=None))

    answer = client.post("/o/authorize/", consent_fields(page))

    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["access_denied"]


@pytest.mark.parametrize(
    "altered",
    [
        {"client_id": None},
        {"redirect_uri": None},
        {"response_type": None},
        {"client_id": "no-such-client"},
        {"resource": "http://[::1"},
    ],
)
def test_an_incomplete_or_altered_consent_form_gets_an_error_page(client, user, app, altered):
    client.force_login(user)
    page = client.get(authorization_url(app))
    fields = {**consent_fields(page), "allow": "on", **altered}
    fields = {name: value for name, value in fields.items() if value is not None}

    answer = client.post("/o/authorize/", fields)

    assert answer.status_code == 400
    html = answer.content.decode()
    assert "cannot be completed" in html
    assert "The authorization form arrived incomplete or altered" in html
    assert not Grant.objects.exists()


def test_a_resource_that_is_not_a_uri_is_invalid_target(client, user, app):
    client.force_login(user)

    answer = client.get(authorization_url(app, resource="http://[::1"))

    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["error"] == ["invalid_target"]
    assert query["state"] == ["s1"]


def test_a_resource_that_is_not_a_uri_is_invalid_target_at_the_token_endpoint(client, service):
    answer = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "orders:read", "resource": "http://[::1"},
        HTTP_AUTHORIZATION=basic(service.client_id, service.plaintext_secret),
    )

    assert answer.status_code == 400
    assert json.loads(answer.content)["error"] == "invalid_target"
    assert not get_access_token_model().objects.exists()


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/"])
@pytest.mark.parametrize("value", ["Basic \xff\xfe", "Basic é" + "A" * 8, "Basic"])
def test_a_basic_header_that_is_not_base64_is_invalid_client(client, path, value):
    answer = client.post(
        path, {"grant_type": "client_credentials", "token": "t"}, HTTP_AUTHORIZATION=value
    )

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize("pk", ["abc", "1.5", "99999999999999999999999"])
def test_a_grant_that_is_not_a_number_is_not_found(client, user, pk):
    client.force_login(user)

    assert client.get(f"/o/authorized_tokens/{pk}/delete/").status_code == 404
    assert client.post(f"/o/authorized_tokens/{pk}/delete/").status_code == 404


# -- text PostgreSQL cannot store or compare, and other input the server must not fail on ------


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "client_credentials", "client_id": "\x00", "client_secret": "x"},
        {"grant_type": "refresh_token", "client_id": "a\x00", "refresh_token": "r"},
        {"grant_type": "authorization_code", "client_id": "\x00", "code": "c"},
    ],
)
def test_a_client_id_with_a_nul_is_an_unknown_client(client, form):
    answer = client.post("/o/token/", form)

    assert answer.status_code == 401
    assert json.loads(answer.content)["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/o/revoke_token/", "/o/introspect/"])
def test_a_client_id_with_a_nul_is_refused_at_revocation_and_introspection(client, path):
    answer = client.post(path, {"token": "t", "client_id": "\x00", "client_secret": "x"})

    assert answer.status_code == 401


def test_a_basic_client_id_with_a_nul_is_an_unknown_client(client):
    answer = client.post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic("a\x00", "s")
    )

    assert answer.status_code == 401
    assert json.loads(answer.content)["error"] == "invalid_client"


def test_an_authorization_request_from_a_client_id_with_a_nul_gets_the_error_page(client, user):
    client.force_login(user)

    page = client.get("/o/authorize/?response_type=code&client_id=%00&redirect_uri=" + REDIRECT_URI)

    assert page.status_code == 400
    assert "cannot be completed" in page.content.decode()


@pytest.mark.parametrize("field", ["code", "refresh_token"])
def test_a_code_or_refresh_token_with_a_nul_is_invalid_grant(client, app, field):
    grant = "authorization_code" if field == "code" else "refresh_token"
    answer = client.post(
        "/o/token/",
        {
            "grant_type": grant,
            "client_id": app.client_id,
            field: "\x00",
            "redirect_uri": REDIRECT_URI,
            "code_verifier": "v" * 43,
        },
    )

    assert answer.status_code == 400
    assert json.loads(answer.content)["error"] == "invalid_grant"
    assert not get_access_token_model().objects.exists()


def test_a_resource_with_a_control_character_is_invalid_target(client, service):
    answer = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "resource": "https://api.example.com/\x00"},
        HTTP_AUTHORIZATION=basic(service.client_id, service.plaintext_secret),
    )

    assert answer.status_code == 400
    assert json.loads(answer.content)["error"] == "invalid_target"
    assert not get_access_token_model().objects.exists()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge": "A" * 129}, "invalid_request"),
        ({"code_challenge": "A" * 42}, "invalid_request"),
        ({"code_challenge": "A" * 42 + "\x00"}, "invalid_request"),
        ({"nonce": "n" * 256}, "invalid_request"),
        ({"resource": "https://api.example.com/\x00"}, "invalid_target"),
    ],
)
def test_what_django_oauth_toolkit_could_not_store_is_refused_by_redirect(
    client, user, app, params, error
):
    client.force_login(user)

    answer = client.get(authorization_url(app, **params))

    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["error"] == [error]
    assert query["state"] == ["s1"]


@pytest.mark.parametrize(
    "altered", [{"code_challenge": "A" * 129}, {"nonce": "n" * 256}, {"client_id": "\x00"}]
)
def test_a_consent_form_altered_past_what_can_be_stored_gets_the_error_page(
    client, user, app, altered
):
    client.force_login(user)
    page = client.get(authorization_url(app))

    answer = client.post("/o/authorize/", {**consent_fields(page), "allow": "on", **altered})

    assert answer.status_code == 400
    assert not Grant.objects.exists()


@pytest.mark.parametrize("form", [{}, {"device_code": "\x00"}, {"device_code": "d"}])
def test_the_device_code_grant_is_not_offered(client, service, form):
    answer = client.post(
        "/o/token/",
        {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", **form},
        HTTP_AUTHORIZATION=basic(service.client_id, service.plaintext_secret),
    )

    assert answer.status_code == 400
    assert answer.json() == {"error": "unsupported_grant_type"}
    assert answer["Cache-Control"] == "no-store"


def test_a_denial_carries_iss_like_an_approval(client, user, app):
    # RFC 9207 section 2: every authorization response names its issuer, refusals included.
    client.force_login(user)
    page = client.get(authorization_url(app))
    denied = client.post("/o/authorize/", consent_fields(page))
    approved = client.post("/o/authorize/", {**consent_fields(page), "allow": "on"})
    denied_query = parse_qs(urlsplit(denied["Location"]).query)
    approved_query = parse_qs(urlsplit(approved["Location"]).query)
    assert denied_query["error"] == ["access_denied"]
    assert denied_query["iss"] == approved_query["iss"] == ["http://testserver/o"]


def test_the_consent_page_marks_scopes_that_change_data(client, user, app):
    client.force_login(user)
    page = client.get(authorization_url(app, scope="orders:read orders:write"))
    assert page.context["writing_scopes"] == {"orders:write"}
    html = page.content.decode()
    assert html.count("can change data") == 1
    write_row = next(line for line in html.splitlines() if "<code>orders:write</code>" in line)
    assert "can change data" in write_row


def test_approve_is_the_primary_button_and_deny_the_secondary(client, user, app):
    client.force_login(user)
    html = client.get(authorization_url(app)).content.decode()
    assert '<button type="submit" name="allow" value="on" class="btn btn-primary">' in html
    assert '<button type="submit" class="iiniit-deny">Deny</button>' in html


def test_not_you_signs_out_and_comes_back_to_the_same_request(client, user, app):
    client.force_login(user)
    url = authorization_url(app)
    page = client.get(url)
    assert f"Not {user.username}?" in page.content.decode()
    back = client.post("/o/authorize/sign-out/", {"next": page.context["this_request"]})
    assert back.status_code == 302
    assert back["Location"] == page.context["this_request"]
    assert "_auth_user_id" not in client.session
    # The same request now asks whoever is at the browser to sign in.
    assert client.get(back["Location"])["Location"].startswith("/accounts/login/?next=")
