"""APIKeyAuthentication and OAuth2Authentication: what they accept, what they refuse, and how.

Issue 2, section 5. Every refusal of a well-formed credential is the same 401, byte for byte;
the reason goes to the audit log only.
"""

import secrets
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import include, path
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth import keys
from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.challenges import InvalidRequest
from iiniit_auth.conf import auth_settings
from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.signals import credential_refused


class EchoView(APIView):
    """Says who ``request.user`` and ``request.auth`` are."""

    required_scopes: list[str] = []

    def get(self, request):
        return Response(
            {
                "user_type": type(request.user).__name__,
                "user_pk": request.user.pk,
                "user": str(request.user),
                "auth_type": type(request.auth).__name__,
                "auth_pk": request.auth.pk,
            }
        )


urlpatterns = [
    path("echo/", EchoView.as_view()),
    path("", include("tests.urls")),
]

pytestmark = pytest.mark.urls(__name__)


def ok(response):
    assert response.status_code == 200, (response.status_code, response.content)
    return response.json()


def whole(response):
    """Everything a caller sees of a response."""
    return response.status_code, response.content, tuple(sorted(response.headers.items()))


def by_header(api, credential, url="/echo/", **extra):
    return api.get(url, HTTP_AUTHORIZATION=f"ApiKey {credential}", **extra)


def by_query(api, credential, url="/echo/", **extra):
    return api.get(url, {"api_key": credential}, **extra)


# -- accepted -------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["ApiKey", "apikey", "APIKEY", "aPIkEY"])
@pytest.mark.parametrize("spaces", [" ", "  ", "     "])
def test_header_scheme_is_case_insensitive_and_spaces_may_repeat(issue, api, scheme, spaces):
    key, plaintext = issue()

    body = ok(api.get("/echo/", HTTP_AUTHORIZATION=f"{scheme}{spaces}{plaintext}"))

    assert body["auth_pk"] == key.pk


def test_the_scheme_folds_ascii_case_only(issue, api):
    # "\u212a" (Kelvin sign) folds to "k" in Unicode: "Api\u212aey" is not "ApiKey".
    _key, plaintext = issue()

    response = api.get("/echo/", HTTP_AUTHORIZATION=f"Api\u212aey {plaintext}")

    assert response.status_code in (400, 401)
    assert "auth_pk" not in response.json()


def test_query_parameter_is_accepted(issue, api):
    key, plaintext = issue()

    body = ok(by_query(api, plaintext))

    assert body["auth_pk"] == key.pk


@pytest.mark.parametrize("send", [by_header, by_query])
def test_user_is_the_owner_and_auth_is_the_key(issue, api, user, send):
    key, plaintext = issue()

    body = ok(send(api, plaintext))

    assert body == {
        "user_type": type(user).__name__,
        "user_pk": user.pk,
        "user": user.username,
        "auth_type": "APIKey",
        "auth_pk": key.pk,
    }


def test_ping_answers_who_calls_with_which_credential(issue, api, user):
    _key, plaintext = issue(scopes=["orders:read", "reports:read"])

    body = ok(by_header(api, plaintext, url="/api/ping/"))

    assert body == {"user": "ann", "kind": "api_key", "scopes": ["orders:read", "reports:read"]}


def test_key_of_another_owner_authenticates_as_that_owner(issue, api, other_user):
    _key, plaintext = issue(owner=other_user)

    assert ok(by_header(api, plaintext))["user_pk"] == other_user.pk


def test_rotated_key_within_grace_is_still_accepted(issue, api):
    key, old = issue()
    successor, new = key.rotate(grace=timedelta(hours=1))

    assert ok(by_header(api, old))["auth_pk"] == key.pk
    assert ok(by_header(api, new))["auth_pk"] == successor.pk


@pytest.mark.parametrize("address", ["10.1.2.3", "192.0.2.7", "2001:db8::1", "::ffff:10.9.9.9"])
def test_request_from_inside_the_key_networks_is_accepted(issue, api, address):
    key, plaintext = issue(allowed_networks=["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"])

    assert ok(by_header(api, plaintext, REMOTE_ADDR=address))["auth_pk"] == key.pk


def test_accepted_request_writes_no_audit_event(issue, api):
    _key, plaintext = issue()
    before = CredentialEvent.objects.count()

    ok(by_header(api, plaintext))

    assert CredentialEvent.objects.count() == before


# -- refused: one answer for every state ------------------------------------------------------


def _expire(key):
    # Time passing: a key cannot be issued already expired.
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def unknown_public_id(issue, user):
    return None, keys.generate(auth_settings().KEY_PREFIX).plaintext, {}


def wrong_secret(issue, user):
    key, _plaintext = issue()
    return key, keys.generate(auth_settings().KEY_PREFIX, public_id=key.public_id).plaintext, {}


def bad_checksum(issue, user):
    _key, plaintext = issue()
    last = "A" if plaintext[-1] != "A" else "B"
    return None, plaintext[:-1] + last, {}


def other_prefix(issue, user):
    _key, plaintext = issue()
    return None, "xyz" + plaintext[3:], {}


def expired(issue, user):
    key, plaintext = issue()
    _expire(key)
    return key, plaintext, {}


def revoked(issue, user):
    key, plaintext = issue()
    key.revoke(reason="lost laptop")
    return key, plaintext, {}


def rotated_out(issue, user):
    key, plaintext = issue()
    key.rotate(grace=timedelta(0))
    return key, plaintext, {}


def inactive_owner(issue, user):
    key, plaintext = issue()
    user.is_active = False
    user.save()
    return key, plaintext, {}


def outside_networks(issue, user):
    key, plaintext = issue(allowed_networks=["10.0.0.0/8"])
    return key, plaintext, {"REMOTE_ADDR": "192.0.2.50"}


REFUSALS = {
    unknown_public_id: None,
    wrong_secret: "digest_mismatch",
    bad_checksum: None,
    other_prefix: None,
    expired: "expired",
    revoked: "revoked",
    rotated_out: "rotated",
    inactive_owner: "owner_inactive",
    outside_networks: "network",
}


@pytest.mark.parametrize("send", [by_header, by_query])
@pytest.mark.parametrize("make", list(REFUSALS), ids=lambda f: f.__name__)
def test_every_refusal_is_the_same_401(issue, api, user, make, send):
    baseline = whole(send(api, keys.generate(auth_settings().KEY_PREFIX).plaintext))
    _key, credential, extra = make(issue, user)

    response = send(api, credential, **extra)

    assert whole(response) == baseline
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid, expired or revoked credential.",
        "error": "invalid_token",
    }
    assert response["WWW-Authenticate"] == (
        'ApiKey realm="api", error="invalid_token", '
        'error_description="Invalid, expired or revoked credential.", Bearer realm="api"'
    )


@pytest.mark.parametrize("send", [by_header, by_query])
@pytest.mark.parametrize("make", list(REFUSALS), ids=lambda f: f.__name__)
def test_refusal_of_a_known_key_is_audited_with_its_reason(issue, api, user, make, send):
    key, credential, extra = make(issue, user)
    before = set(CredentialEvent.objects.values_list("pk", flat=True))

    response = send(api, credential, **extra)

    new = CredentialEvent.objects.exclude(pk__in=before)
    reason = REFUSALS[make]
    if reason is None:
        assert not new.exists()
    else:
        event = new.get()
        assert event.event == CredentialEvent.Event.REFUSED
        assert event.kind == CredentialEvent.Kind.API_KEY
        assert event.credential_id == key.public_id
        assert event.details == {"reason": reason, "count": 1}
        assert event.ip == extra.get("REMOTE_ADDR", "127.0.0.1")
        assert credential not in str(event.details)
    seen = response.content.decode() + str(response.headers)
    assert credential not in seen
    if key is not None:
        assert key.public_id not in seen
    assert (reason or "unknown") not in seen.replace("expired or revoked", "")


def test_refusal_sends_credential_refused(issue, api, user):
    key, plaintext = issue()
    key.revoke()
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    credential_refused.connect(receiver)
    try:
        by_header(api, plaintext)
    finally:
        credential_refused.disconnect(receiver)

    assert len(received) == 1
    assert received[0]["credential_id"] == key.public_id
    assert received[0]["reason"] == "revoked"
    assert received[0]["ip"] == "127.0.0.1"
    assert plaintext not in str(received[0])


def test_the_revocation_takes_effect_on_the_next_request(issue, api):
    key, plaintext = issue()
    ok(by_header(api, plaintext))

    key.revoke()

    assert by_header(api, plaintext).status_code == 401


def test_inactive_owner_refused_even_for_an_otherwise_good_key(issue, api, user):
    _key, plaintext = issue()
    ok(by_header(api, plaintext))
    user.is_active = False
    user.save()

    assert by_header(api, plaintext).status_code == 401
    user.is_active = True
    user.save()
    ok(by_header(api, plaintext))


def test_key_with_networks_and_no_client_address_is_refused(issue, api):
    _key, plaintext = issue(allowed_networks=["10.0.0.0/8"])

    response = by_header(api, plaintext, REMOTE_ADDR="")

    assert response.status_code == 401
    assert CredentialEvent.objects.get(event="refused").details == {"reason": "network", "count": 1}


def test_key_with_networks_and_no_remote_addr_at_all_is_refused(issue, rf):
    # ASGI over a unix socket gives no client address: META has no REMOTE_ADDR whatever.
    _key, plaintext = issue(allowed_networks=["10.0.0.0/8"])
    request = rf.get("/echo/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    del request.META["REMOTE_ADDR"]

    response = EchoView.as_view()(request)

    assert response.status_code == 401
    refused = CredentialEvent.objects.get(event="refused")
    assert refused.details == {"reason": "network", "count": 1}
    assert refused.ip is None


def test_key_without_networks_and_no_remote_addr_is_accepted(issue, rf):
    key, plaintext = issue()
    request = rf.get("/echo/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    del request.META["REMOTE_ADDR"]

    response = EchoView.as_view()(request)

    assert response.status_code == 200
    assert response.data["auth_pk"] == key.pk


# -- settings -----------------------------------------------------------------------------------


def override(settings, **values):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, **values}


def test_query_parameter_off_is_refused_with_400(issue, api, settings):
    override(settings, ALLOW_QUERY_PARAM=False)
    _key, plaintext = issue()

    response = by_query(api, plaintext)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Keys are not accepted in the query string here: send Authorization: ApiKey <key>.",
        "error": "invalid_request",
    }
    assert 'error="invalid_request"' in response["WWW-Authenticate"]
    assert plaintext not in response.content.decode()
    ok(by_header(api, plaintext))


def test_query_parameter_off_keeps_the_scopes(issue, api, settings):
    override(settings, ALLOW_QUERY_PARAM=False)
    _key, plaintext = issue(scopes=["orders:read"])

    assert by_header(api, plaintext, url="/api/orders/").status_code == 200
    assert by_header(api, plaintext, url="/api/reports/").status_code == 403


def test_query_parameter_name_is_configurable(issue, api, settings):
    override(settings, QUERY_PARAM_NAME="key")
    key, plaintext = issue()

    assert ok(api.get("/echo/", {"key": plaintext}))["auth_pk"] == key.pk
    # The default name is then nobody's parameter: no credential.
    response = api.get("/echo/", {"api_key": plaintext})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_header_scheme_is_configurable(issue, api, settings):
    override(settings, HEADER_SCHEME="Token")
    key, plaintext = issue()

    assert ok(api.get("/echo/", HTTP_AUTHORIZATION=f"token {plaintext}"))["auth_pk"] == key.pk
    response = by_header(api, plaintext)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api", Bearer realm="api"'


def test_refusal_challenge_follows_the_configured_scheme(db, api, settings):
    override(settings, HEADER_SCHEME="Token")

    response = api.get("/echo/", HTTP_AUTHORIZATION="Token " + keys.generate("iik").plaintext)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Token realm="api", error="invalid_token"')


def test_key_prefix_is_configurable(api, settings, user):
    override(settings, KEY_PREFIX="acme")
    key, plaintext = APIKey.objects.issue(owner=user, name="acme", scopes=["orders:read"])

    assert plaintext.startswith("acme_")
    assert ok(by_header(api, plaintext))["auth_pk"] == key.pk
    # A key of the default prefix is not a key of this installation any more.
    override(settings, KEY_PREFIX="iik")
    assert by_header(api, plaintext).status_code == 401


# -- bearer tokens ------------------------------------------------------------------------------


def bearer(api, token, url="/echo/", **extra):
    return api.get(url, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_token_is_accepted(oauth_token, api, user, scheme):
    token, value = oauth_token()

    body = ok(api.get("/echo/", HTTP_AUTHORIZATION=f"{scheme}  {value}"))

    assert body["auth_type"] == type(token).__name__
    assert body["auth_pk"] == token.pk
    assert body["user_pk"] == user.pk


def test_ping_answers_for_a_bearer_token(oauth_token, api):
    _token, value = oauth_token(scope="orders:read orders:write")

    body = ok(bearer(api, value, url="/api/ping/"))

    assert body == {"user": "ann", "kind": "oauth_token", "scopes": ["orders:read", "orders:write"]}


BEARER_401 = (
    'Bearer realm="api", error="invalid_token", '
    'error_description="Invalid, expired or revoked credential.", ApiKey realm="api"'
)


def test_expired_bearer_token_is_401_invalid_token(oauth_token, api):
    _token, value = oauth_token(expires_in=-60)

    response = bearer(api, value)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response["WWW-Authenticate"] == BEARER_401


def test_revoked_bearer_token_is_401(oauth_token, api):
    token, value = oauth_token()
    ok(bearer(api, value))

    token.revoke()  # django-oauth-toolkit revokes by deleting

    response = bearer(api, value)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == BEARER_401


def test_unknown_bearer_token_is_401(db, api):
    response = bearer(api, "no-such-token")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == BEARER_401


@pytest.mark.parametrize("introspection", [False, True], ids=["local", "introspecting"])
def test_bearer_token_of_inactive_user_is_401(request, oauth_token, api, user, introspection):
    # django-oauth-toolkit itself checks is_active in neither mode.
    if introspection:
        request.getfixturevalue("introspecting")
    _token, value = oauth_token()
    user.is_active = False
    user.save()

    response = bearer(api, value)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == BEARER_401


def test_every_bearer_refusal_is_the_same_answer(oauth_token, api, user, db):
    _, expired_value = oauth_token(expires_in=-1)
    revoked_token, revoked_value = oauth_token()
    revoked_token.revoke()
    other = get_user_model().objects.create_user("carl", is_active=False)
    _, inactive_value = oauth_token(owner=other)

    answers = {
        whole(bearer(api, value))
        for value in ("unknown", expired_value, revoked_value, inactive_value)
    }

    assert len(answers) == 1


def test_access_token_in_the_query_string_is_400(oauth_token, api):
    _token, value = oauth_token()

    response = api.get("/echo/", {"access_token": value})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Access tokens are not accepted in the query string: send Authorization: Bearer <token>.",
        "error": "invalid_request",
    }
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_request"')
    assert value not in response.content.decode()


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        ([], 200),
        (["http://testserver/echo/"], 200),
        (["http://testserver/"], 200),
        (["https://elsewhere.example.com/"], 401),
        (["http://testserver/api/"], 401),
    ],
)
def test_bearer_token_restricted_to_other_resources_is_refused(oauth_token, api, resource, status):
    token, value = oauth_token()
    token.resource = resource
    token.save()

    assert bearer(api, value).status_code == status


@pytest.fixture
def client_credentials(db, user):
    """client_credentials(scope) -> (AccessToken, value): a token with no user."""
    Application = get_application_model()
    app = Application.objects.create(
        name="Machine",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )

    def make(scope="orders:read"):
        value = secrets.token_urlsafe(30)
        token = get_access_token_model().objects.create(
            user=None,
            application=app,
            token=value,
            scope=scope,
            expires=timezone.now() + timedelta(hours=1),
        )
        return token, value

    return make


def test_client_credentials_token_authenticates_as_its_application(client_credentials, api):
    token, value = client_credentials()

    body = ok(bearer(api, value))

    assert body["user_type"] == "ClientPrincipal"
    assert body["user_pk"] is None
    assert body["user"] == f"client:{token.application.client_id}"
    assert body["auth_pk"] == token.pk
    ping = ok(bearer(api, value, url="/api/ping/"))
    assert ping == {
        "user": f"client:{token.application.client_id}",
        "kind": "oauth_token",
        "scopes": ["orders:read"],
    }


def test_client_principal_is_authenticated_but_never_staff(client_credentials):
    token, _value = client_credentials()

    principal = ClientPrincipal(token.application)

    assert principal.is_authenticated
    assert not principal.is_anonymous
    assert not principal.is_staff
    assert not principal.is_superuser
    assert not principal.has_perm("iiniit_auth.view_apikey")
    assert principal == ClientPrincipal(token.application)


def test_client_credentials_token_gets_scope_checks(client_credentials, api):
    _token, value = client_credentials(scope="orders:read")

    assert bearer(api, value, url="/api/orders/").status_code == 200
    post = api.post("/api/orders/", HTTP_AUTHORIZATION=f"Bearer {value}")
    assert post.status_code == 403
    assert post.json()["missing_scopes"] == ["orders:write"]
    assert 'error="insufficient_scope"' in post["WWW-Authenticate"]
    reports = bearer(api, value, url="/api/reports/")
    assert reports.status_code == 403
    assert reports.json()["missing_scopes"] == ["reports:read"]


def test_expired_client_credentials_token_is_401(client_credentials, api):
    token, value = client_credentials()
    get_access_token_model().objects.filter(pk=token.pk).update(
        expires=timezone.now() - timedelta(seconds=1)
    )

    assert bearer(api, value).status_code == 401


# -- a resource server that introspects remotely ---------------------------------------------

#: Nothing listens there: the connection is refused at once, as when the server is down.
UNREACHABLE_INTROSPECTION = "http://127.0.0.1:9/introspect/"


@pytest.fixture
def introspecting(settings):
    """django-oauth-toolkit set up as a resource server introspecting at an unreachable server.

    Setting OAUTH2_PROVIDER sends setting_changed, on which django-oauth-toolkit reloads
    oauth2_settings.
    """
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "RESOURCE_SERVER_INTROSPECTION_URL": UNREACHABLE_INTROSPECTION,
        "RESOURCE_SERVER_AUTH_TOKEN": "resource-server-credential",
    }


def tried_the_introspection_server(caplog):
    return any(
        record.name == "oauth2_provider" and "Introspection: Failed POST" in record.getMessage()
        for record in caplog.records
    )


def test_introspecting_a_locally_stored_user_token_authenticates_its_user(
    introspecting, oauth_token, api, user, caplog
):
    token, value = oauth_token()

    body = ok(bearer(api, value))

    assert body["user_type"] == type(user).__name__
    assert body["user_pk"] == user.pk
    assert body["auth_pk"] == token.pk
    assert not tried_the_introspection_server(caplog)  # stored here: no need to ask


def test_introspecting_a_client_credentials_token_authenticates_its_application(
    introspecting, client_credentials, api
):
    token, value = client_credentials()

    body = ok(bearer(api, value))

    assert body["user_type"] == "ClientPrincipal"
    assert body["user"] == f"client:{token.application.client_id}"
    assert body["auth_pk"] == token.pk
    assert bearer(api, value, url="/api/orders/").status_code == 200
    assert api.post("/api/orders/", HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 403


@pytest.mark.parametrize("state", ["unknown", "expired"])
def test_introspecting_a_token_the_server_cannot_vouch_for_is_401_invalid_token(
    introspecting, oauth_token, api, caplog, state
):
    _token, value = oauth_token(expires_in=-60 if state == "expired" else 3600)
    if state == "unknown":
        value = "not-" + value

    response = bearer(api, value)

    # Not stored here (or no longer valid): django-oauth-toolkit asked the remote server,
    # which could not be reached, and the answer is the generic refusal, not anonymity.
    assert tried_the_introspection_server(caplog)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid, expired or revoked credential.",
        "error": "invalid_token",
    }
    assert response["WWW-Authenticate"] == BEARER_401
    assert value not in caplog.text


def test_introspecting_a_token_of_neither_user_nor_application_is_401(introspecting, db, api):
    value = secrets.token_urlsafe(30)
    get_access_token_model().objects.create(
        user=None,
        application=None,
        token=value,
        scope="orders:read",
        expires=timezone.now() + timedelta(hours=1),
    )

    response = bearer(api, value)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response["WWW-Authenticate"] == BEARER_401


# -- reading each class's input once ---------------------------------------------------------


class HeaderOfItsOwn(APIKeyAuthentication):
    """Reads a key from X-Api-Key: a read_credential() of its own, always asked."""

    def read_credential(self, request):
        return request._request.META.get("HTTP_X_API_KEY")


@pytest.fixture
def bearer_reads(monkeypatch):
    """Counts the reads of the bearer class (its read_credential() replaced by a counter)."""
    calls = []
    read = OAuth2Authentication.read_credential

    def counted(self, request):
        calls.append(request)
        return read(self, request)

    monkeypatch.setattr(OAuth2Authentication, "read_credential", counted)
    return calls


def read_all(rf, classes, path="/", **headers):
    """What each of ``classes`` reads from one request, through read_once()."""
    authenticators = [each() for each in classes]
    request = Request(rf.get(path, **headers), authenticators=authenticators)
    return [each.read_once(request) for each in authenticators]


def test_a_header_read_by_one_class_is_not_read_again_by_another(rf, bearer_reads, issue):
    _stored, plaintext = issue()
    classes = [APIKeyAuthentication, OAuth2Authentication]

    reads = read_all(rf, classes, HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert reads == [plaintext, None]
    assert bearer_reads == []  # the header is an API key's: the bearer class would read None
    # With a query string the bearer class reads it (?access_token= is its to refuse).
    reads = read_all(rf, classes, "/?page=2", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert reads == [plaintext, None]
    assert len(bearer_reads) == 1
    # Without an API key, it reads the header.
    reads = read_all(rf, classes, HTTP_AUTHORIZATION="Bearer abc")
    assert reads == [None, "abc"]
    assert len(bearer_reads) == 2


def test_a_class_reading_input_of_its_own_is_always_asked(rf, bearer_reads, issue):
    _stored, plaintext = issue()
    assert APIKeyAuthentication.reads_authorization_only
    assert not HeaderOfItsOwn.reads_authorization_only  # overrides read_credential()

    reads = read_all(
        rf,
        [APIKeyAuthentication, HeaderOfItsOwn],
        HTTP_AUTHORIZATION=f"ApiKey {plaintext}",
        HTTP_X_API_KEY="from-its-own-header",
    )
    assert reads == [plaintext, "from-its-own-header"]
    # A credential from a header of its own says nothing of Authorization: the bearer class
    # still reads it, and refuses it malformed.
    with pytest.raises(InvalidRequest):
        read_all(
            rf,
            [HeaderOfItsOwn, OAuth2Authentication],
            HTTP_AUTHORIZATION="Bearer a b",
            HTTP_X_API_KEY="from-its-own-header",
        )
    assert len(bearer_reads) == 1
