"""The HTTP semantics table of issue 2, section 5, whichever order the classes are listed in.

Each test runs against two views that differ only in the order of their authentication
classes: API key first, bearer first.
"""

import random
import re
from datetime import timedelta

import pytest
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth import keys
from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.models import APIKey
from iiniit_auth.permissions import HasScopes


class KeyFirst(APIView):
    authentication_classes = [APIKeyAuthentication, OAuth2Authentication]
    permission_classes = [HasScopes]
    required_scopes = {"GET": ["orders:read"], "POST": ["orders:write", "reports:read"]}

    def get(self, request):
        return Response({"orders": []})

    def post(self, request):
        return Response({"created": True}, status=201)


class BearerFirst(KeyFirst):
    authentication_classes = [OAuth2Authentication, APIKeyAuthentication]


class BearerOnly(KeyFirst):
    authentication_classes = [OAuth2Authentication]


urlpatterns = [
    path("key-first/", KeyFirst.as_view()),
    path("bearer-first/", BearerFirst.as_view()),
    path("bearer-only/", BearerOnly.as_view()),
]

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(params=["key-first", "bearer-first"])
def url(request):
    return f"/{request.param}/"


def schemes(header):
    """The auth-schemes a WWW-Authenticate value names, in order."""
    return re.findall(r'(?:^|, )([A-Za-z]+) realm="api"', header)


# -- no credential ----------------------------------------------------------------------------


def test_no_credential_is_401_naming_every_scheme(db, api, url):
    response = api.get(url)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert sorted(schemes(response["WWW-Authenticate"])) == ["ApiKey", "Bearer"]
    assert "error=" not in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header",
    [
        "Basic YW5uOmFubi1wYXNzd29yZA==",
        "Digest username=ann",
        "ApiKey_v2 abc",  # "_" is a tchar: another scheme, not ours followed by junk
        "ApiKeys abc",
        "Bearer-ish abc",
    ],
)
def test_other_scheme_is_no_credential(db, api, url, header):
    response = api.get(url, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert sorted(schemes(response["WWW-Authenticate"])) == ["ApiKey", "Bearer"]


# -- bad, expired, revoked credential ---------------------------------------------------------


def expire_key(key):
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize("state", ["unknown", "bad checksum", "expired", "revoked", "rotated"])
def test_bad_api_key_is_401_invalid_token(issue, api, url, state):
    key, plaintext = issue()
    if state == "unknown":
        plaintext = keys.generate("iik").plaintext
    elif state == "bad checksum":
        plaintext = plaintext[:-2] + ("zz" if plaintext[-2:] != "zz" else "yy")
    elif state == "expired":
        expire_key(key)
    elif state == "revoked":
        key.revoke()
    else:
        key.rotate(grace=timedelta(0))

    response = api.get(url, HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    header = response["WWW-Authenticate"]
    assert 'ApiKey realm="api", error="invalid_token"' in header
    assert schemes(header) == ["ApiKey", "Bearer"]  # the scheme used first, in either order


@pytest.mark.parametrize("state", ["unknown", "expired", "revoked"])
def test_bad_bearer_token_is_401_invalid_token(oauth_token, api, url, state):
    token, value = oauth_token(expires_in=-5 if state == "expired" else 3600)
    if state == "unknown":
        value = "x" + value
    elif state == "revoked":
        token.revoke()

    response = api.get(url, HTTP_AUTHORIZATION=f"Bearer {value}")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    header = response["WWW-Authenticate"]
    assert 'Bearer realm="api", error="invalid_token"' in header
    assert schemes(header) == ["Bearer", "ApiKey"]  # the scheme used first, in either order
    assert 'ApiKey realm="api", error' not in header


# -- good credential, enough scope ------------------------------------------------------------


def test_good_api_key_is_200_and_201(issue, api, url):
    _key, plaintext = issue(scopes=["orders:read", "orders:write", "reports:read"])

    assert api.get(url, HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code == 200
    assert api.post(url, HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code == 201
    assert api.get(url, {"api_key": plaintext}).status_code == 200


def test_good_bearer_token_is_200_and_201(oauth_token, api, url):
    _token, value = oauth_token(scope="orders:read orders:write reports:read")

    assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 200
    assert api.post(url, HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 201


# -- good credential, missing scope -----------------------------------------------------------


def assert_insufficient_scope(response, scheme, required, missing):
    assert response.status_code == 403
    assert response.json() == {
        "detail": f"This credential lacks the scope(s): {', '.join(missing)}.",
        "error": "insufficient_scope",
        "missing_scopes": missing,
    }
    header = response["WWW-Authenticate"]
    assert header.startswith(f'{scheme} realm="api", error="insufficient_scope"')
    assert f'scope="{" ".join(required)}"' in header


def test_api_key_lacking_a_scope_is_403_naming_it(issue, api, url):
    _key, plaintext = issue(scopes=["orders:read", "orders:write"])

    response = api.post(url, HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert_insufficient_scope(
        response, "ApiKey", ["orders:write", "reports:read"], ["reports:read"]
    )


def test_api_key_lacking_every_scope_is_403_naming_them_all(issue, api, url):
    _key, plaintext = issue(scopes=[])

    assert_insufficient_scope(
        api.get(url, {"api_key": plaintext}), "ApiKey", ["orders:read"], ["orders:read"]
    )
    assert_insufficient_scope(
        api.post(url, HTTP_AUTHORIZATION=f"ApiKey {plaintext}"),
        "ApiKey",
        ["orders:write", "reports:read"],
        ["orders:write", "reports:read"],
    )


def test_bearer_token_lacking_a_scope_is_403_naming_it(oauth_token, api, url):
    _token, value = oauth_token(scope="orders:read reports:read")

    response = api.post(url, HTTP_AUTHORIZATION=f"Bearer {value}")

    assert_insufficient_scope(
        response, "Bearer", ["orders:write", "reports:read"], ["orders:write"]
    )


# -- malformed input: 400 invalid_request, no database query ----------------------------------


@pytest.fixture
def creds(issue, oauth_token):
    """Two real keys and a real token, so a refusal cannot be for an unknown credential."""
    _k1, key1 = issue()
    _k2, key2 = issue()
    _t, token = oauth_token()
    return {"k1": key1, "k2": key2, "t": token}


# (id, Authorization header or None, query parameters, a phrase the message must carry)
MALFORMED = [
    ("api key scheme alone", "ApiKey", {}, "scheme but no credential"),
    ("bearer scheme alone", "Bearer", {}, "scheme but no credential"),
    ("scheme and spaces", "ApiKey   ", {}, "scheme but no credential"),
    ("extra part", "ApiKey {k1} extra", {}, "exactly one credential"),
    ("extra bearer part", "Bearer {t} extra", {}, "exactly one credential"),
    ("two keys", "ApiKey {k1} {k2}", {}, "exactly one credential"),
    ("tab", "ApiKey\t{k1}", {}, "not tabs"),
    ("bearer tab", "Bearer\t{t}", {}, "not tabs"),
    ("space then tab", "ApiKey \t{k1}", {}, "not tabs"),
    ("no separator", "ApiKey:{k1}", {}, "with a space"),
    ("nul", "ApiKey {k1}\x00", {}, "control characters"),
    ("vertical tab", "ApiKey\x0b{k1}", {}, "control characters"),
    ("escape", "Bearer \x1b[2J{t}", {}, "control characters"),
    ("delete", "ApiKey {k1}\x7f", {}, "control characters"),
    ("line break", "ApiKey {k1}\r\nX-Evil: 1", {}, "control characters"),
    ("non-ascii key", "ApiKey {k1}é", {}, "non-ASCII"),
    ("non-ascii bearer", "Bearer tökén", {}, "non-ASCII"),
    ("non-breaking space", "ApiKey\u00a0{k1}", {}, "non-ASCII"),
    ("10 KB api key", "ApiKey " + "a" * 10240, {}, "too long"),
    ("10 KB bearer", "Bearer " + "a" * 10240, {}, "too long"),
    ("two api key headers", "ApiKey {k1}, ApiKey {k2}", {}, "exactly one credential"),
    ("two bearer headers", "Bearer {t}, Bearer {t}", {}, "exactly one credential"),
    ("api key and bearer headers", "ApiKey {k1}, Bearer {t}", {}, "exactly one credential"),
    ("bearer and api key headers", "Bearer {t}, ApiKey {k1}", {}, "exactly one credential"),
    ("no scheme", ":{k1}", {}, "no scheme"),
    ("empty header", "", {}, "no scheme"),
    ("header and query", "ApiKey {k1}", {"api_key": "{k1}"}, "both given"),
    ("other header and query", "ApiKey {k2}", {"api_key": "{k1}"}, "both given"),
    ("query twice", None, {"api_key": ["{k1}", "{k1}"]}, "more than once"),
    ("query twice, two keys", None, {"api_key": ["{k1}", "{k2}"]}, "more than once"),
    ("bearer and query", "Bearer {t}", {"api_key": "{k1}"}, "both given"),
    # RFC 9110 section 11.1: the scheme is case-insensitive, so these headers are ours.
    ("lower-case scheme, extra part", "apikey {k1} extra", {}, "exactly one credential"),
    ("upper-case scheme, two parts", "APIKEY a b", {}, "exactly one credential"),
    ("upper-case bearer, extra part", "BEARER {t} extra", {}, "exactly one credential"),
    ("lower-case bearer, tab", "bearer\t{t}", {}, "not tabs"),
    ("query not a token68", None, {"api_key": "{k1} x"}, "not a well-formed key"),
    ("query empty", None, {"api_key": ""}, "not a well-formed key"),
    ("query 10 KB", None, {"api_key": "a" * 10240}, "not a well-formed key"),
    ("access token in query", None, {"access_token": "{t}"}, "query string"),
    ("api key and access token in query", "ApiKey {k1}", {"access_token": "{t}"}, "Access tokens"),
    (
        "query key and access token",
        None,
        {"api_key": "{k1}", "access_token": "{t}"},
        "Access tokens",
    ),
]


def fill(value, creds):
    if isinstance(value, list):
        return [fill(v, creds) for v in value]
    return value.format(**creds)


@pytest.mark.parametrize(
    ("header", "query", "phrase"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_input_is_400_invalid_request_without_a_query(
    api, url, creds, django_assert_num_queries, header, query, phrase
):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": fill(header, creds)}
    params = {name: fill(value, creds) for name, value in query.items()}

    with django_assert_num_queries(0):
        response = api.get(url, params, **extra)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_request"
    assert phrase in body["detail"]
    header_value = response["WWW-Authenticate"]
    assert 'error="invalid_request"' in header_value
    assert f'error_description="{body["detail"]}"' in header_value
    for secret in creds.values():
        assert secret not in response.content.decode()
        assert secret not in header_value


def test_malformed_answers_the_same_in_either_order(api, creds):
    for header, query, _phrase in [case[1:] for case in MALFORMED]:
        extra = {} if header is None else {"HTTP_AUTHORIZATION": fill(header, creds)}
        params = {name: fill(value, creds) for name, value in query.items()}
        statuses = {
            api.get(f"/{order}/", params, **extra).status_code
            for order in ("key-first", "bearer-first")
        }
        assert statuses == {400}, (header, query)


def test_a_bearer_token_next_to_a_key_parameter_is_400_where_only_bearer_is_read(
    api, creds, django_assert_num_queries
):
    # No APIKeyAuthentication on the view to notice the parameter: the bearer class must.
    with django_assert_num_queries(0):
        response = api.get(
            "/bearer-only/", {"api_key": creds["k1"]}, HTTP_AUTHORIZATION=f"Bearer {creds['t']}"
        )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Send one credential: a bearer token and the api_key parameter were both given.",
        "error": "invalid_request",
    }
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_request"')
    # The token alone is good there.
    assert api.get("/bearer-only/", HTTP_AUTHORIZATION=f"Bearer {creds['t']}").status_code == 200


def forged(plaintext, separator="_", replace=None):
    """``plaintext`` made malformed (another separator, a character outside base62 at
    ``replace = (position in the body, character)``) and given the checksum keys.py would
    compute for it: only the form check can refuse it."""
    prefix, body = plaintext[:3], plaintext[4 : 4 + keys.PUBLIC_ID_LENGTH + keys.SECRET_LENGTH]
    if replace is not None:
        at, char = replace
        body = body[:at] + char + body[at + 1 :]
    head = f"{prefix}{separator}{body}"
    return head + keys.checksum(head)


@pytest.mark.parametrize(
    "damage",
    [
        {"separator": "-"},
        {"separator": "."},
        {"replace": (20, "-")},  # in the secret
        {"replace": (3, "~")},  # in the public id
        {"replace": (37, ".")},  # the last character of the secret
    ],
    ids=["dash-separator", "dot-separator", "dash-in-secret", "tilde-in-public-id", "dot-last"],
)
def test_a_malformed_key_with_a_matching_checksum_is_refused_without_a_query(
    issue, api, url, django_assert_num_queries, damage
):
    _key, plaintext = issue()
    fake = forged(plaintext, **damage)
    assert fake != plaintext
    assert len(fake) == len(plaintext)
    assert fake[:3] == "iik"

    with django_assert_num_queries(0):
        by_header = api.get(url, HTTP_AUTHORIZATION=f"ApiKey {fake}")
        by_query = api.get(url, {"api_key": fake})

    for response in (by_header, by_query):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"


def test_post_body_key_is_not_a_credential(issue, api, url):
    _key, plaintext = issue(scopes=["orders:write", "reports:read"])

    response = api.post(url, {"api_key": plaintext}, format="json")

    assert response.status_code == 401


# -- never a 500 --------------------------------------------------------------------------------

PREFIXES = ["ApiKey ", "Bearer ", "apikey", "bearer", "ApiKey  ", "Basic ", "", " ", "iik_"]


def random_value(rng, creds):
    kind = rng.randrange(4)
    length = rng.choice([0, 1, 5, 20, 50, 60, 200, 3000])
    if kind == 0:  # printable ASCII
        body = "".join(chr(rng.randrange(32, 127)) for _ in range(length))
    elif kind == 1:  # anything in latin-1, as a WSGI server decodes header bytes
        body = "".join(chr(rng.randrange(0, 256)) for _ in range(length))
    elif kind == 2:  # a real credential, damaged in one place
        body = rng.choice(list(creds.values()))
        at = rng.randrange(len(body))
        # Never the same character: an undamaged credential would rightly get 200.
        other = chr((ord(body[at]) + rng.randrange(1, 256)) % 256)
        body = body[:at] + other + body[at + 1 :]
    else:  # a key-shaped string that is no key
        body = "iik_" + "".join(rng.choice(keys.ALPHABET) for _ in range(keys.BODY_LENGTH))
    return rng.choice(PREFIXES) + body


@pytest.fixture
def unlimited(settings):
    """Hundreds of refused credentials from one address: the failed-authentication limiter
    would answer 429 once they reach its limit within one window (tests/limits test that)."""
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "FAILED_AUTH_LIMIT": None}


@pytest.mark.usefixtures("unlimited")
def test_fuzzed_header_is_400_or_401_never_500(api, creds):
    rng = random.Random(20240611)
    seen = set()
    for _ in range(300):
        value = random_value(rng, creds)
        for order in ("key-first", "bearer-first"):
            response = api.get(f"/{order}/", HTTP_AUTHORIZATION=value)
            assert response.status_code in {400, 401}, (value, response.content)
            seen.add(response.status_code)
    assert seen == {400, 401}


@pytest.mark.usefixtures("unlimited")
def test_fuzzed_query_parameter_is_400_or_401_never_500(api, creds):
    rng = random.Random(7)
    seen = set()
    for _ in range(100):
        value = random_value(rng, creds)
        for order in ("key-first", "bearer-first"):
            response = api.get(f"/{order}/", {"api_key": value})
            assert response.status_code in {400, 401}, (value, response.content)
            seen.add(response.status_code)
    assert seen == {400, 401}
