"""The language of refusals: JSON bodies translated, WWW-Authenticate challenges in English.

RFC 6750 section 3 allows only printable ASCII in ``error_description``, so the challenge
always carries the English message while the body's ``detail`` follows the request's language.
Also pinned here: the 401 body and the ``WWW-Authenticate`` value are kept between requests,
and what is kept never goes stale (settings changes, request-specific challenges, exception
handlers that add to the body).

The package ships no translations: a French catalogue is written for each test that needs
one, into its own ``tmp_path``, and is gone again when the test ends.
"""

import gettext
import re
import struct
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import path
from django.utils import translation
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from iiniit_auth import keys
from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.challenges import challenge
from iiniit_auth.handlers import exception_handler
from iiniit_auth.permissions import HasScopes

INVALID = "Invalid, expired or revoked credential."
TABS = "Separate the scheme and the credential with spaces, not tabs."
QUERY_TOKEN = (
    "Access tokens are not accepted in the query string: send Authorization: Bearer <token>."
)
TWICE = "The %(p)s parameter is given more than once."
NO_SCHEME = "The Authorization header has no scheme."  # deliberately left untranslated

LACKS = "This credential lacks the scope(s): %(scopes)s."

FRENCH = {
    LACKS: "Cet identifiant n'a pas le(s) scope(s) : %(scopes)s.",
    INVALID: "Identifiant invalide, expiré ou révoqué.",
    TABS: "Séparez le schéma et l'identifiant par des espaces, pas par des tabulations.",
    QUERY_TOKEN: (
        "Les jetons d'accès ne sont pas acceptés dans la chaîne de requête : "
        "envoyez Authorization: Bearer <token>."
    ),
    TWICE: "Le paramètre %(p)s est donné plus d'une fois.",
}

METADATA = (
    "Content-Type: text/plain; charset=UTF-8\n"
    "Language: fr\n"
    "Plural-Forms: nplurals=2; plural=(n > 1);\n"
)

REFUSED_KEY_HEADER = (
    f'ApiKey realm="api", error="invalid_token", error_description="{INVALID}", Bearer realm="api"'
)
REFUSED_TOKEN_HEADER = (
    f'Bearer realm="api", error="invalid_token", error_description="{INVALID}", ApiKey realm="api"'
)
NO_CREDENTIAL_HEADER = 'ApiKey realm="api", Bearer realm="api"'


# -- the catalogue ----------------------------------------------------------------------------


def write_mo(target: Path, messages: dict[str, str]) -> None:
    """Write a GNU gettext .mo file (little-endian, no hash table) holding ``messages``."""
    entries = sorted(
        ((k.encode(), v.encode()) for k, v in {"": METADATA, **messages}.items()),
        key=lambda entry: entry[0],
    )
    count = len(entries)
    originals_at = 7 * 4
    translations_at = originals_at + 8 * count
    data_at = translations_at + 8 * count
    data = b""
    tables: list[list[tuple[int, int]]] = [[], []]
    for column in (0, 1):
        for entry in entries:
            tables[column].append((len(entry[column]), data_at + len(data)))
            data += entry[column] + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    body = b"".join(struct.pack("<2I", *pair) for table in tables for pair in table)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(header + body + data)


@contextmanager
def french_catalogue(directory: Path, messages: dict[str, str] = FRENCH):
    """English and French, with the French catalogue from ``directory`` for as long as it lasts.

    Overriding LOCALE_PATHS and LANGUAGES makes Django drop its loaded catalogues and the
    active translation (django.test.signals.language_changed) both on entering and on leaving,
    and makes the package drop its translated 401 bodies: nothing French survives the block.
    """
    mo = directory / "fr" / "LC_MESSAGES" / "django.mo"
    write_mo(mo, messages)
    with mo.open("rb") as handle:
        loaded = gettext.GNUTranslations(handle)
    assert loaded.gettext(INVALID) == messages[INVALID]
    assert loaded.info()["content-type"] == "text/plain; charset=UTF-8"
    with override_settings(
        LOCALE_PATHS=[str(directory)],
        LANGUAGES=[("en", "English"), ("fr", "French")],
        LANGUAGE_CODE="en",
        USE_I18N=True,
    ):
        yield


@pytest.fixture(autouse=True)
def no_language_left_active():
    """LocaleMiddleware activates the request's language in the test's own thread and leaves it
    active after the response: deactivate it after every test here, so that no later test, in
    this module or another, answers in French."""
    yield
    translation.deactivate()


@pytest.fixture
def french(tmp_path):
    with french_catalogue(tmp_path):
        yield


def with_locale_middleware() -> list[str]:
    middleware = list(settings.MIDDLEWARE)
    sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    middleware.insert(sessions + 1, "django.middleware.locale.LocaleMiddleware")
    return middleware


@pytest.fixture
def locale_middleware():
    with override_settings(MIDDLEWARE=with_locale_middleware()):
        yield


# -- views ------------------------------------------------------------------------------------


class Orders(APIView):
    authentication_classes = [APIKeyAuthentication, OAuth2Authentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"orders": []})


class WriteOrders(Orders):
    permission_classes = [HasScopes]
    required_scopes = ["orders:write"]


class KeyOrBasic(Orders):
    authentication_classes = [APIKeyAuthentication, BasicAuthentication]


class TenantBasic(BasicAuthentication):
    """Basic authentication whose realm is the tenant named in the query string."""

    def authenticate_header(self, request):
        return f'Basic realm="{request._request.GET.get("tenant", "api")}"'


class KeyOrTenantBasic(Orders):
    authentication_classes = [APIKeyAuthentication, TenantBasic]


class ScopedKeyAuthentication(APIKeyAuthentication):
    """An API key challenge that names the scope the request asks about (``?scope=``)."""

    def challenge(self, request):
        wanted = request._request.GET.get("scope")
        if wanted is None:
            return super().challenge(request)
        return challenge(self.scheme(), scope=wanted)


class ScopedKeyFirst(Orders):
    authentication_classes = [ScopedKeyAuthentication, OAuth2Authentication]


class ScopedKeySecond(Orders):
    authentication_classes = [OAuth2Authentication, ScopedKeyAuthentication]


urlpatterns = [
    path("orders/", Orders.as_view()),
    path("write-orders/", WriteOrders.as_view()),
    path("key-or-basic/", KeyOrBasic.as_view()),
    path("key-or-tenant-basic/", KeyOrTenantBasic.as_view()),
    path("scoped-first/", ScopedKeyFirst.as_view()),
    path("scoped-second/", ScopedKeySecond.as_view()),
]

pytestmark = pytest.mark.urls(__name__)


def unknown_key() -> str:
    return keys.generate("iik").plaintext


def refused_key(api, url="/orders/", **extra):
    return api.get(url, HTTP_AUTHORIZATION=f"ApiKey {unknown_key()}", **extra)


def error_description(header: str) -> list[str]:
    return re.findall(r'error_description="([^"]*)"', header)


# -- the catalogue is real --------------------------------------------------------------------


def test_catalogue_translates_through_django(french):
    with translation.override("fr"):
        assert translation.gettext(INVALID) == "Identifiant invalide, expiré ou révoqué."
        assert translation.gettext(TWICE) % {"p": "api_key"} == (
            "Le paramètre api_key est donné plus d'une fois."
        )
        assert translation.gettext(NO_SCHEME) == NO_SCHEME
    with translation.override("en"):
        assert translation.gettext(INVALID) == INVALID


def test_french_does_not_outlive_the_catalogue(db, api, tmp_path, locale_middleware):
    with french_catalogue(tmp_path):
        inside = refused_key(api, HTTP_ACCEPT_LANGUAGE="fr")
    # Django knows French without the catalogue, so the request is still in French, but the
    # package's kept French body went with the catalogue: the message is untranslated again.
    after = refused_key(api, HTTP_ACCEPT_LANGUAGE="fr")

    assert inside.json()["detail"] == FRENCH[INVALID]
    assert after["Content-Language"] == "fr"
    assert after.json() == {"detail": INVALID, "error": "invalid_token"}
    with translation.override("fr"):
        assert translation.gettext(INVALID) == INVALID


# -- 401 invalid_token ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["api key", "bearer token"])
def test_401_body_in_requested_language_challenge_in_english(
    db, api, french, locale_middleware, kind
):
    if kind == "api key":
        credential, expected_header = f"ApiKey {unknown_key()}", REFUSED_KEY_HEADER
    else:
        credential, expected_header = "Bearer no-such-token", REFUSED_TOKEN_HEADER

    french_answer = api.get("/orders/", HTTP_AUTHORIZATION=credential, HTTP_ACCEPT_LANGUAGE="fr")
    english_answer = api.get("/orders/", HTTP_AUTHORIZATION=credential, HTTP_ACCEPT_LANGUAGE="en")
    french_again = api.get("/orders/", HTTP_AUTHORIZATION=credential, HTTP_ACCEPT_LANGUAGE="fr")

    assert french_answer.status_code == 401
    assert french_answer["Content-Language"] == "fr"
    assert french_answer.json() == {"detail": FRENCH[INVALID], "error": "invalid_token"}
    header = french_answer["WWW-Authenticate"]
    assert header == expected_header
    assert header.isascii()
    assert error_description(header) == [INVALID]

    assert english_answer.status_code == 401
    assert english_answer["Content-Language"] == "en"
    assert english_answer.json() == {"detail": INVALID, "error": "invalid_token"}
    assert english_answer["WWW-Authenticate"] == expected_header

    assert french_again.json() == {"detail": FRENCH[INVALID], "error": "invalid_token"}
    assert french_again["WWW-Authenticate"] == expected_header


def test_401_without_locale_middleware_follows_language_code(db, api, french):
    english = refused_key(api, HTTP_ACCEPT_LANGUAGE="fr")  # nothing reads Accept-Language
    with override_settings(LANGUAGE_CODE="fr"):
        in_french = refused_key(api)
    english_again = refused_key(api)

    assert english.json() == {"detail": INVALID, "error": "invalid_token"}
    assert in_french.status_code == 401
    assert in_french.json() == {"detail": FRENCH[INVALID], "error": "invalid_token"}
    assert in_french["WWW-Authenticate"] == REFUSED_KEY_HEADER
    assert english_again.json() == {"detail": INVALID, "error": "invalid_token"}


# -- 400 invalid_request ----------------------------------------------------------------------

MALFORMED = [
    pytest.param(
        {"HTTP_AUTHORIZATION": "ApiKey\tabc"},
        "ApiKey",
        TABS,
        FRENCH[TABS],
        id="tab",
    ),
    pytest.param(
        {"QUERY_STRING": "access_token=x"},
        "Bearer",
        QUERY_TOKEN,
        FRENCH[QUERY_TOKEN],
        id="access_token",
    ),
    pytest.param(
        {"QUERY_STRING": "api_key=a&api_key=b"},
        "ApiKey",
        "The api_key parameter is given more than once.",
        "Le paramètre api_key est donné plus d'une fois.",
        id="api_key-twice",
    ),
    pytest.param(
        {"HTTP_AUTHORIZATION": "(ApiKey) abc"},
        "ApiKey",
        NO_SCHEME,
        NO_SCHEME,  # no French in the catalogue: English in the body too
        id="untranslated",
    ),
]


@pytest.mark.parametrize(("extra", "scheme", "english", "in_french"), MALFORMED)
def test_400_body_in_requested_language_challenge_in_english(
    db, api, french, locale_middleware, extra, scheme, english, in_french
):
    french_answer = api.get("/orders/", HTTP_ACCEPT_LANGUAGE="fr", **extra)
    english_answer = api.get("/orders/", HTTP_ACCEPT_LANGUAGE="en", **extra)

    assert french_answer.status_code == 400
    assert french_answer.json() == {"detail": in_french, "error": "invalid_request"}
    header = french_answer["WWW-Authenticate"]
    assert header == (
        f'{scheme} realm="api", error="invalid_request", error_description="{english}"'
    )
    assert header.isascii()

    assert english_answer.status_code == 400
    assert english_answer.json() == {"detail": english, "error": "invalid_request"}
    assert english_answer["WWW-Authenticate"] == header


@pytest.mark.parametrize(("extra", "scheme", "english", "in_french"), MALFORMED)
def test_400_body_follows_active_translation(db, french, extra, scheme, english, in_french):
    request = APIRequestFactory().get("/orders/", **extra)

    with translation.override("fr"):
        response = Orders.as_view()(request)
        response.render()

    assert response.status_code == 400
    assert response.data == {"detail": in_french, "error": "invalid_request"}
    assert response.data["detail"].code == "invalid_request"
    assert response["WWW-Authenticate"] == (
        f'{scheme} realm="api", error="invalid_request", error_description="{english}"'
    )


# -- the kept WWW-Authenticate value ----------------------------------------------------------


def test_header_is_kept_per_refusal(db, api):
    first = api.get("/orders/")
    refused = refused_key(api)
    refused_again = refused_key(api)
    bearer_refused = api.get("/orders/", HTTP_AUTHORIZATION="Bearer no-such-token")
    again = api.get("/orders/")

    assert first.status_code == again.status_code == 401
    assert first["WWW-Authenticate"] == again["WWW-Authenticate"] == NO_CREDENTIAL_HEADER
    assert refused["WWW-Authenticate"] == refused_again["WWW-Authenticate"] == REFUSED_KEY_HEADER
    assert bearer_refused["WWW-Authenticate"] == REFUSED_TOKEN_HEADER


def test_header_is_built_once_for_our_classes(db):
    def header():
        request = Request(
            APIRequestFactory().get("/orders/"),
            authenticators=[APIKeyAuthentication(), OAuth2Authentication()],
        )
        return request.authenticators[0].authenticate_header(request)

    first, second = header(), header()

    assert first == NO_CREDENTIAL_HEADER
    assert second is first  # the kept value, not one joined again


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"REALM": "other"}, 'ApiKey realm="other", Bearer realm="other"'),
        ({"HEADER_SCHEME": "Token"}, 'Token realm="api", Bearer realm="api"'),
    ],
    ids=["realm", "header-scheme"],
)
def test_header_follows_iiniit_auth_setting(db, api, changes, expected):
    before = api.get("/orders/")
    with override_settings(IINIIT_AUTH={**settings.IINIIT_AUTH, **changes}):
        during = api.get("/orders/")
        during_again = api.get("/orders/")
    after = api.get("/orders/")

    assert before["WWW-Authenticate"] == NO_CREDENTIAL_HEADER
    assert during.status_code == 401
    assert during["WWW-Authenticate"] == during_again["WWW-Authenticate"] == expected
    assert after["WWW-Authenticate"] == NO_CREDENTIAL_HEADER


def test_refused_key_header_follows_realm(db, api):
    refused_key(api)
    with override_settings(IINIIT_AUTH={**settings.IINIIT_AUTH, "REALM": "other"}):
        refused = refused_key(api)

    assert refused["WWW-Authenticate"] == (
        f'ApiKey realm="other", error="invalid_token", error_description="{INVALID}", '
        'Bearer realm="other"'
    )


def test_header_with_drf_basic_authentication(db, api):
    missing = api.get("/key-or-basic/")
    refused = refused_key(api, "/key-or-basic/")

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'ApiKey realm="api", Basic realm="api"'
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == (
        f'ApiKey realm="api", error="invalid_token", error_description="{INVALID}", '
        'Basic realm="api"'
    )


def test_header_with_a_class_not_ours_is_built_each_time(db, api):
    answers = [api.get(f"/key-or-tenant-basic/?tenant={tenant}") for tenant in "aba"]

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert [answer["WWW-Authenticate"] for answer in answers] == [
        'ApiKey realm="api", Basic realm="a"',
        'ApiKey realm="api", Basic realm="b"',
        'ApiKey realm="api", Basic realm="a"',
    ]


@pytest.mark.parametrize("url", ["/scoped-first/", "/scoped-second/"])
def test_header_with_a_challenge_of_its_own_is_built_each_time(db, api, url):
    answers = [
        api.get(url, {"scope": "orders:read"}),
        api.get(url, {"scope": "reports:read"}),
        api.get(url),
        api.get(url, {"scope": "orders:read"}),
    ]
    scoped = {
        "orders:read": 'ApiKey realm="api", scope="orders:read"',
        "reports:read": 'ApiKey realm="api", scope="reports:read"',
        None: 'ApiKey realm="api"',
    }
    bearer = 'Bearer realm="api"'

    def expected(scope):
        parts = [scoped[scope], bearer]
        return ", ".join(parts if url == "/scoped-first/" else reversed(parts))

    assert [answer.status_code for answer in answers] == [401] * 4
    assert [answer["WWW-Authenticate"] for answer in answers] == [
        expected("orders:read"),
        expected("reports:read"),
        expected(None),
        expected("orders:read"),
    ]


# -- exception handlers that add to the body --------------------------------------------------


def tracing_exception_handler(exc, context):
    """The package's handler, then the caller's trace id added to the body when one is sent."""
    response = exception_handler(exc, context)
    trace = context["request"].META.get("HTTP_X_TRACE")
    if response is not None and trace:
        response.data["trace"] = trace
    return response


@pytest.fixture
def tracing_handler():
    handler = f"{__name__}.tracing_exception_handler"
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "EXCEPTION_HANDLER": handler}
    ):
        yield


@pytest.mark.parametrize("credential", ["ApiKey", "Bearer"])
def test_handler_additions_stay_in_their_response(db, api, tracing_handler, credential):
    value = unknown_key() if credential == "ApiKey" else "no-such-token"
    authorization = f"{credential} {value}"

    traced = api.get("/orders/", HTTP_AUTHORIZATION=authorization, HTTP_X_TRACE="t-1")
    plain = api.get("/orders/", HTTP_AUTHORIZATION=authorization)
    traced_again = api.get("/orders/", HTTP_AUTHORIZATION=authorization, HTTP_X_TRACE="t-2")

    assert traced.status_code == plain.status_code == traced_again.status_code == 401
    assert traced.json() == {"detail": INVALID, "error": "invalid_token", "trace": "t-1"}
    assert plain.json() == {"detail": INVALID, "error": "invalid_token"}
    assert traced_again.json() == {"detail": INVALID, "error": "invalid_token", "trace": "t-2"}


def test_handler_additions_stay_in_their_response_in_french(
    db, api, french, locale_middleware, tracing_handler
):
    traced = refused_key(api, HTTP_ACCEPT_LANGUAGE="fr", HTTP_X_TRACE="t-1")
    plain = refused_key(api, HTTP_ACCEPT_LANGUAGE="fr")

    assert traced.json() == {"detail": FRENCH[INVALID], "error": "invalid_token", "trace": "t-1"}
    assert plain.json() == {"detail": FRENCH[INVALID], "error": "invalid_token"}


def test_a_translation_with_other_placeholders_still_answers_400(db, tmp_path):
    broken = {**FRENCH, TWICE: "Le paramètre %(q)s est donné plus d'une fois."}
    request = APIRequestFactory().get("/orders/", {"api_key": ["a", "b"]})

    with french_catalogue(tmp_path, broken), translation.override("fr"):
        assert translation.gettext(TWICE) == broken[TWICE]
        response = Orders.as_view()(request)
        response.render()

    assert response.status_code == 400
    assert response.data == {
        "detail": "The api_key parameter is given more than once.",
        "error": "invalid_request",
    }


def test_403_body_in_requested_language_challenge_in_english(issue, api, french, locale_middleware):
    _key, plaintext = issue(scopes=["orders:read"])

    response = api.get(
        "/write-orders/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}", HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Cet identifiant n'a pas le(s) scope(s) : orders:write.",
        "error": "insufficient_scope",
        "missing_scopes": ["orders:write"],
    }
    assert response["WWW-Authenticate"] == (
        'ApiKey realm="api", error="insufficient_scope", '
        'error_description="This credential lacks the scope(s): orders:write.", '
        'scope="orders:write"'
    )
