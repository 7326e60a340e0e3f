"""HasScopes: a list, a per-method mapping, misconfiguration, composition with & | ~, and the
exception handler that adds RFC 6750's insufficient_scope challenge. Each behaviour is checked
with an API key and with a real django-oauth-toolkit access token.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import path
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from iiniit_auth.handlers import add_insufficient_scope
from iiniit_auth.permissions import HasScopes


class Base(APIView):
    permission_classes = [HasScopes]

    def get(self, request):
        return Response({"ok": True})


class ListView(Base):
    required_scopes = ["orders:read", "reports:read"]


class EmptyListView(Base):
    required_scopes: list[str] = []


class MappedView(Base):
    # Keys are matched case-insensitively; an empty list means "any credential".
    required_scopes = {"GET": ["orders:read"], "POST": ["orders:write"], "patch": []}

    def post(self, request):
        return Response({"created": True}, status=201)

    def put(self, request):  # implemented but not mapped: a configuration error
        return Response({"replaced": True})

    def patch(self, request):
        return Response({"patched": True})


class MappedReadOnlyView(MappedView):
    # post() and put() are inherited, but DRF dispatches only these.
    http_method_names = ["get", "head", "options"]


class GeneratorScopesView(Base):
    # Empty from the second request on: it would then require nothing.
    required_scopes = (name for name in ["orders:read"])


class UnregisteredView(Base):
    required_scopes = ["orders:read", "orders:delete"]


class MappedUnregisteredView(Base):
    required_scopes = {"GET": ["orders:reed"]}


class NoScopesView(Base):
    pass


class StringScopesView(Base):
    required_scopes = "orders:read"


class OrAdminView(Base):
    permission_classes = [HasScopes | IsAdminUser]
    required_scopes = ["reports:read"]


class AndAdminView(Base):
    permission_classes = [HasScopes & IsAdminUser]
    required_scopes = ["reports:read"]


class NotScopesView(Base):
    permission_classes = [~HasScopes]
    required_scopes = ["reports:read"]


class OrAdminThenViewDeniesView(OrAdminView):
    def get(self, request):
        raise PermissionDenied("Not your order.")


class NotScopesThenAdminView(Base):
    permission_classes = [~HasScopes, IsAdminUser]
    required_scopes = ["reports:read"]


urlpatterns = [
    path("list/", ListView.as_view()),
    path("empty/", EmptyListView.as_view()),
    path("mapped/", MappedView.as_view()),
    path("mapped-read-only/", MappedReadOnlyView.as_view()),
    path("generator-scopes/", GeneratorScopesView.as_view()),
    path("unregistered/", UnregisteredView.as_view()),
    path("mapped-unregistered/", MappedUnregisteredView.as_view()),
    path("no-scopes/", NoScopesView.as_view()),
    path("string-scopes/", StringScopesView.as_view()),
    path("or-admin/", OrAdminView.as_view()),
    path("and-admin/", AndAdminView.as_view()),
    path("not-scopes/", NotScopesView.as_view()),
    path("or-admin-then-view-denies/", OrAdminThenViewDeniesView.as_view()),
    path("not-scopes-then-admin/", NotScopesThenAdminView.as_view()),
]

pytestmark = pytest.mark.urls(__name__)


def own_handler(exc, context):
    """A project's own exception handler that reuses ours."""
    return add_insufficient_scope(drf_exception_handler(exc, context), exc, context)


@pytest.fixture(params=["api_key", "oauth_token"])
def credential(request, issue, oauth_token, user):
    """credential(*scopes, owner=user) -> Authorization header value, of either kind."""

    def make(*scopes, owner=user):
        if request.param == "api_key":
            _key, plaintext = issue(scopes=list(scopes), owner=owner)
            return f"ApiKey {plaintext}"
        _token, value = oauth_token(scope=" ".join(scopes), owner=owner)
        return f"Bearer {value}"

    return make


def call(api, method, url, authorization=None):
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return getattr(api, method)(url, **extra)


def assert_missing(response, required, missing):
    assert response.status_code == 403, response.content
    assert response.json() == {
        "detail": f"This credential lacks the scope(s): {', '.join(missing)}.",
        "error": "insufficient_scope",
        "missing_scopes": missing,
    }
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert f'scope="{" ".join(required)}"' in response["WWW-Authenticate"]


def assert_plain_403(response, detail):
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": detail}
    assert "WWW-Authenticate" not in response


NOT_ALLOWED = "You do not have permission to perform this action."


# -- a list -------------------------------------------------------------------------------------


def test_list_with_every_scope_is_allowed(api, credential):
    assert call(api, "get", "/list/", credential("orders:read", "reports:read")).status_code == 200


def test_list_with_more_scopes_than_needed_is_allowed(api, credential):
    header = credential("orders:read", "orders:write", "reports:read")

    assert call(api, "get", "/list/", header).status_code == 200


def test_list_lacking_one_scope_names_it(api, credential):
    response = call(api, "get", "/list/", credential("orders:read"))

    assert_missing(response, ["orders:read", "reports:read"], ["reports:read"])


def test_list_lacking_every_scope_names_them_all(api, credential):
    response = call(api, "get", "/list/", credential())

    assert_missing(response, ["orders:read", "reports:read"], ["orders:read", "reports:read"])


def test_list_without_credential_is_401(db, api):
    response = call(api, "get", "/list/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_empty_list_lets_any_credential_through_but_not_none(db, api, credential):
    assert call(api, "get", "/empty/", credential()).status_code == 200
    assert call(api, "get", "/empty/").status_code == 401


# -- a per-method mapping -----------------------------------------------------------------------


def test_mapping_get_and_post(api, credential):
    reader = credential("orders:read")
    writer = credential("orders:write")

    assert call(api, "get", "/mapped/", reader).status_code == 200
    assert call(api, "post", "/mapped/", writer).status_code == 201
    assert_missing(call(api, "get", "/mapped/", writer), ["orders:read"], ["orders:read"])
    assert_missing(call(api, "post", "/mapped/", reader), ["orders:write"], ["orders:write"])


def test_mapping_head_falls_back_to_get(api, credential):
    assert call(api, "head", "/mapped/", credential("orders:read")).status_code == 200
    response = call(api, "head", "/mapped/", credential("orders:write"))
    assert response.status_code == 403
    assert 'scope="orders:read"' in response["WWW-Authenticate"]


def test_mapping_options_unmapped_is_allowed_for_any_credential(db, api, credential):
    assert call(api, "options", "/mapped/", credential()).status_code == 200
    assert call(api, "options", "/mapped/").status_code == 401


def test_mapping_keys_are_case_insensitive_and_empty_means_any_credential(api, credential):
    assert call(api, "patch", "/mapped/", credential()).status_code == 200


def test_mapping_method_the_view_does_not_implement_is_405(db, api, credential):
    response = call(api, "delete", "/mapped/", credential())

    assert response.status_code == 405
    assert call(api, "delete", "/mapped/").status_code == 401


@pytest.mark.parametrize(
    ("method", "url"),
    [
        # Names of the view's own attributes, which DRF never dispatches to: a client could
        # send these to any mapped view, credential or not, and they were a 500.
        ("DISPATCH", "/mapped/"),
        ("SETUP", "/mapped/"),
        ("REQUIRED_SCOPES", "/mapped/"),
        # Implemented, but left out of http_method_names on purpose.
        ("POST", "/mapped-read-only/"),
        ("PUT", "/mapped-read-only/"),
    ],
)
def test_mapping_method_drf_does_not_dispatch_is_405(db, api, credential, method, url):
    assert api.generic(method, url).status_code == 401
    assert api.generic(method, url, HTTP_AUTHORIZATION=credential()).status_code == 405


def test_mapping_method_implemented_but_not_mapped_is_improperly_configured(api, credential):
    header = credential("orders:read", "orders:write")

    with pytest.raises(ImproperlyConfigured, match=r"MappedView.required_scopes maps no .* PUT"):
        call(api, "put", "/mapped/", header)


# -- misconfiguration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/unregistered/", r"unregistered scope\(s\) orders:delete"),
        ("/mapped-unregistered/", r"unregistered scope\(s\) orders:reed"),
        ("/no-scopes/", r"NoScopesView uses HasScopes but sets no required_scopes"),
        ("/string-scopes/", r"must be a list of scope names"),
        ("/generator-scopes/", r"must be a list of scope names"),
    ],
)
def test_misconfigured_view_is_improperly_configured(api, credential, url, message):
    header = credential("orders:read", "orders:write", "reports:read")

    with pytest.raises(ImproperlyConfigured, match=message):
        call(api, "get", url, header)


# -- composition ---------------------------------------------------------------------------------


def test_or_lets_a_superuser_without_the_scope_through(api, credential, staff):
    assert call(api, "get", "/or-admin/", credential(owner=staff)).status_code == 200


def test_or_lets_the_scope_through_without_staff(api, credential):
    assert call(api, "get", "/or-admin/", credential("reports:read")).status_code == 200


def test_or_refusing_both_names_the_missing_scope(api, credential):
    response = call(api, "get", "/or-admin/", credential("orders:read"))

    assert_missing(response, ["reports:read"], ["reports:read"])


def test_and_needs_both(api, credential, staff):
    assert call(api, "get", "/and-admin/", credential("reports:read", owner=staff)).status_code == (
        200
    )
    assert_missing(
        call(api, "get", "/and-admin/", credential(owner=staff)),
        ["reports:read"],
        ["reports:read"],
    )
    # The scope is there; staff is what is missing: a plain 403, not insufficient_scope.
    assert_plain_403(call(api, "get", "/and-admin/", credential("reports:read")), NOT_ALLOWED)


def test_not_inverts(api, credential):
    assert call(api, "get", "/not-scopes/", credential()).status_code == 200
    assert_plain_403(call(api, "get", "/not-scopes/", credential("reports:read")), NOT_ALLOWED)


def test_overruled_scope_refusal_does_not_relabel_a_later_403(api, credential, staff):
    # HasScopes refused inside `|`, IsAdminUser let the superuser through, then the view
    # itself refused: the caller must see the view's reason, not a scope it does not need.
    response = call(api, "get", "/or-admin-then-view-denies/", credential(owner=staff))

    assert_plain_403(response, "Not your order.")


def test_inverted_scope_refusal_does_not_relabel_the_next_permission(api, credential):
    response = call(api, "get", "/not-scopes-then-admin/", credential())

    assert_plain_403(response, NOT_ALLOWED)


def test_client_credentials_token_is_never_admin(api, oauth_app):
    get_access_token_model().objects.create(
        user=None,
        application=oauth_app,
        token="machine-token",
        scope="orders:read",
        expires=timezone.now() + timedelta(hours=1),
    )

    response = call(api, "get", "/or-admin/", "Bearer machine-token")

    assert_missing(response, ["reports:read"], ["reports:read"])


# -- the exception handler ----------------------------------------------------------------------


def use_handler(settings, dotted):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "EXCEPTION_HANDLER": dotted}


def test_our_handler_adds_the_challenge_with_the_credential_scheme(api, credential):
    header = credential("orders:read")

    response = call(api, "get", "/list/", header)

    scheme = header.split()[0]
    assert response["WWW-Authenticate"] == (
        f'{scheme} realm="api", error="insufficient_scope", '
        'error_description="This credential lacks the scope(s): reports:read.", '
        'scope="orders:read reports:read"'
    )


def test_without_our_handler_the_403_still_names_the_missing_scopes(api, credential, settings):
    use_handler(settings, "rest_framework.views.exception_handler")

    response = call(api, "get", "/list/", credential("orders:read"))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "This credential lacks the scope(s): reports:read.",
        "error": "insufficient_scope",
        "missing_scopes": ["reports:read"],
    }
    assert "WWW-Authenticate" not in response


def test_without_our_handler_401_and_400_keep_their_challenges(db, api, settings):
    use_handler(settings, "rest_framework.views.exception_handler")

    missing = call(api, "get", "/list/")
    malformed = call(api, "get", "/list/", "ApiKey")

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'ApiKey realm="api", Bearer realm="api"'
    assert malformed.status_code == 400
    assert 'error="invalid_request"' in malformed["WWW-Authenticate"]


def test_a_project_handler_can_reuse_add_insufficient_scope(api, credential, settings):
    use_handler(settings, f"{__name__}.own_handler")

    response = call(api, "get", "/list/", credential("orders:read"))

    assert_missing(response, ["orders:read", "reports:read"], ["reports:read"])
    assert_plain_403(call(api, "get", "/not-scopes/", credential("reports:read")), NOT_ALLOWED)
