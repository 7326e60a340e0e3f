"""The OpenAPI schema drf-spectacular makes with iiniit_auth.contrib.spectacular loaded (by the
app's ready(), as in any project): security schemes, per-operation scopes, error answers."""

import json

import pytest
from django.core.management import call_command
from django.test import override_settings
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.management.commands.spectacular import Command as SpectacularCommand
from openapi_spec_validator import validate

from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.contrib.spectacular import APIKeyScheme, OAuth2Scheme
from tests.test_project import run

SCHEMA_CLASS = "iiniit_auth.contrib.spectacular.AutoSchema"
ALL_SCOPES = ["orders:read", "orders:write", "reports:read"]


@pytest.fixture(autouse=True)
def spectacular(settings):
    """The README's setting: our AutoSchema as DRF's schema class."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": SCHEMA_CLASS}
    GENERATOR_STATS.reset()
    yield
    GENERATOR_STATS.reset()


def make_schema(urlconf="tests.openapi.urls"):
    # As a project serves it: the OAuth URLs are reversed in the project's URLconf.
    with override_settings(ROOT_URLCONF=urlconf):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    # Whatever the generator kept is what a project would serve: JSON, no lazy strings.
    return json.loads(json.dumps(schema))


def operation(schema, path, method="get"):
    return schema["paths"][path][method]


def test_the_extensions_load_with_the_app_and_match_subclasses():
    from tests.openapi.urls_subclassed import OrgKeyAuthentication, TeamTokenAuthentication

    assert isinstance(
        OpenApiAuthenticationExtension.get_match(APIKeyAuthentication()), APIKeyScheme
    )
    assert isinstance(
        OpenApiAuthenticationExtension.get_match(OrgKeyAuthentication()), APIKeyScheme
    )
    assert isinstance(
        OpenApiAuthenticationExtension.get_match(OAuth2Authentication()), OAuth2Scheme
    )
    assert isinstance(
        OpenApiAuthenticationExtension.get_match(TeamTokenAuthentication()), OAuth2Scheme
    )


def test_the_schema_is_valid_openapi_and_raises_no_warning():
    schema = make_schema()
    validate(schema)
    assert not GENERATOR_STATS, "drf-spectacular warned or erred while making the schema"


def test_a_view_without_a_serializer_gets_free_form_json_not_an_error():
    schema = make_schema()
    assert not GENERATOR_STATS
    plain = operation(schema, "/api/plain/")
    assert plain["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "object"
    posting = operation(schema, "/api/plain/", "post")
    assert posting["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
    assert posting["security"][-1] == {"OAuth2": ["orders:write"]}


def test_security_schemes_are_named_stably_and_described():
    schemes = make_schema()["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKey", "api_key", "OAuth2"}
    header = schemes["ApiKey"]
    assert (header["type"], header["in"], header["name"]) == ("apiKey", "header", "Authorization")
    assert "Authorization: ApiKey <key>" in header["description"]
    assert schemes["api_key"] == {**schemes["api_key"], "type": "apiKey", "in": "query"}
    assert schemes["api_key"]["name"] == "api_key"
    oauth = schemes["OAuth2"]
    assert oauth["type"] == "oauth2"
    assert "PKCE" in oauth["description"]
    code = oauth["flows"]["authorizationCode"]
    # Reversed from this URLconf, which mounts the authorization server at /auth/.
    assert code["authorizationUrl"] == "/auth/authorize/"
    assert code["tokenUrl"] == code["refreshUrl"] == "/auth/token/"
    assert oauth["flows"]["clientCredentials"]["tokenUrl"] == "/auth/token/"
    registry = {
        "orders:read": "Read orders",
        "orders:write": "Create and change orders",
        "reports:read": "Read reports",
    }
    assert code["scopes"] == registry
    assert oauth["flows"]["clientCredentials"]["scopes"] == registry


def test_a_scoped_operation_names_its_scopes_under_every_scheme():
    schema = make_schema()
    reading = operation(schema, "/api/orders/")
    assert reading["security"] == [{"ApiKey": []}, {"api_key": []}, {"OAuth2": ["orders:read"]}]
    # OpenAPI 3.0 gives apiKey requirements no scopes: the description carries them.
    assert (
        "Required scopes, for an API key or an OAuth 2.0 token: `orders:read`."
        in (reading["description"])
    )
    assert reading["description"].startswith("Orders.")
    writing = operation(schema, "/api/orders/", "post")
    assert writing["security"] == [{"ApiKey": []}, {"api_key": []}, {"OAuth2": ["orders:write"]}]
    assert "`orders:write`" in writing["description"]
    assert "`orders:read`" not in writing["description"]
    both = operation(schema, "/api/reports/")
    assert both["security"][-1] == {"OAuth2": ["orders:read", "reports:read"]}
    assert "`orders:read`, `reports:read`" in both["description"]


def test_a_view_with_empty_required_scopes_takes_any_credential():
    ping = operation(make_schema(), "/api/any/")
    assert ping["security"] == [{"ApiKey": []}, {"api_key": []}, {"OAuth2": []}]
    assert "no scope is required" in ping["description"]
    assert "403" not in ping["responses"]


def test_a_view_without_authentication_declares_no_security():
    open_operation = operation(make_schema(), "/api/open/")
    assert "security" not in open_operation
    assert set(open_operation["responses"]) == {"200"}
    assert "scope" not in open_operation.get("description", "")


def test_subclasses_are_described_like_their_bases():
    schema = make_schema("tests.openapi.urls_subclassed")
    validate(schema)
    assert not GENERATOR_STATS
    assert operation(schema, "/api/subclassed/")["security"] == [
        {"ApiKey": []},
        {"api_key": []},
        {"OAuth2": ["reports:read"]},
    ]


def test_a_view_that_takes_tokens_only_lists_only_oauth():
    tokens = operation(make_schema(), "/api/tokens-only/")
    assert tokens["security"] == [{"OAuth2": ["orders:read"]}]
    assert "scope" not in tokens.get("description", "")


def test_the_query_parameter_scheme_is_absent_while_disallowed(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": False}
    schema = make_schema()
    validate(schema)
    assert set(schema["components"]["securitySchemes"]) == {"ApiKey", "OAuth2"}
    assert operation(schema, "/api/orders/")["security"] == [
        {"ApiKey": []},
        {"OAuth2": ["orders:read"]},
    ]


def test_the_settings_name_the_header_scheme_and_the_parameter(settings):
    settings.IINIIT_AUTH = {
        **settings.IINIIT_AUTH,
        "HEADER_SCHEME": "Key",
        "QUERY_PARAM_NAME": "key",
    }
    schemes = make_schema()["components"]["securitySchemes"]
    assert "Authorization: Key <key>" in schemes["ApiKey"]["description"]
    assert schemes["api_key"]["name"] == "key"


def test_without_the_authorization_server_tokens_are_plain_bearer():
    schema = make_schema("tests.openapi.urls_without_oauth")
    validate(schema)
    assert schema["components"]["securitySchemes"]["OAuth2"]["type"] == "http"
    assert schema["components"]["securitySchemes"]["OAuth2"]["scheme"] == "bearer"


def test_error_answers_are_documented_with_their_bodies():
    schema = make_schema()
    responses = operation(schema, "/api/orders/")["responses"]
    assert {"200", "400", "401", "403"} <= set(responses)
    assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert "WWW-Authenticate" in responses["400"]["headers"]
    components = schema["components"]["schemas"]
    credential = components["CredentialError"]
    assert set(credential["properties"]) == {"detail", "error"}
    assert credential["required"] == ["detail"]
    scope = components["ScopeError"]
    assert set(scope["properties"]) == {"detail", "error", "missing_scopes"}
    assert scope["properties"]["missing_scopes"]["type"] == "array"
    error_enums = {
        value
        for name, component in components.items()
        if name.endswith("ErrorEnum")
        for value in component["enum"]
    }
    assert error_enums == {"invalid_request", "invalid_token", "insufficient_scope"}
    # An operation with a body may also answer 400 with field errors.
    body_400 = operation(schema, "/api/orders/", "post")["responses"]["400"]
    assert len(body_400["content"]["application/json"]["schema"]["anyOf"]) == 2


def test_a_view_with_a_wrong_declaration_gets_a_warning_not_a_crash(monkeypatch):
    from tests.openapi.urls import ReportsView

    monkeypatch.setattr(ReportsView, "required_scopes", ["nonexistent:scope"])
    schema = make_schema()
    assert operation(schema, "/api/reports/")["security"][-1] == {"OAuth2": []}
    assert any("nonexistent:scope" in message for message in GENERATOR_STATS._warn_cache)


def test_the_command_validates_the_test_urlconf_without_warnings(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.openapi.urls"
    out = tmp_path / "schema.json"
    call_command(
        SpectacularCommand(),
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(out),
    )
    validate(json.loads(out.read_text()))


def test_the_example_project_schema_passes_validate_and_fail_on_warn(tmp_path):
    out = tmp_path / "schema.json"
    result = run(
        "manage.py",
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(out),
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    schema = json.loads(out.read_text())
    validate(schema)
    assert set(schema["components"]["securitySchemes"]) == {"ApiKey", "api_key", "OAuth2"}
    assert schema["paths"]["/api/orders/"]["post"]["security"][-1] == {"OAuth2": ["orders:write"]}
    assert schema["paths"]["/api/ping/"]["get"]["security"][-1] == {"OAuth2": []}
    flows = schema["components"]["securitySchemes"]["OAuth2"]["flows"]
    assert flows["authorizationCode"]["authorizationUrl"] == "/o/authorize/"
    assert set(flows["clientCredentials"]["scopes"]) == {
        "orders:read",
        "orders:write",
        "profile:read",
    }
