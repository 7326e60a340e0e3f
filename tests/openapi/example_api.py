"""Schemathesis against the example project's API and schema, run by test_schemathesis.py in a
process of its own under ``project.settings`` (the suite's settings do not install the example
app). Every operation, with an API key, with a bearer token and with no credential."""

from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.utils import timezone
from hypothesis import HealthCheck, settings
from oauth2_provider.models import get_access_token_model, get_application_model
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from iiniit_auth.models import APIKey
from project.wsgi import application

SCOPES = ["orders:read", "orders:write", "profile:read"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Made at import: a schema needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("fuzz", "fuzz@example.com", "fuzz-password")


@pytest.fixture
def credentials(owner):
    """The Authorization header of each scheme, with every scope; and none at all."""
    _key, plaintext = APIKey.objects.issue(owner=owner, name="fuzz", scopes=SCOPES)
    Application = get_application_model()
    application = Application.objects.create(
        name="fuzz app",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    token = "fuzz-token-0123456789abcdef"
    get_access_token_model().objects.create(
        user=owner,
        application=application,
        token=token,
        scope=" ".join(SCOPES),
        expires=timezone.now() + timedelta(hours=1),
    )
    return {
        "ApiKey": {"Authorization": f"ApiKey {plaintext}"},
        "Bearer": {"Authorization": f"Bearer {token}"},
        "none": {},
    }


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_schema_says(case, credentials):
    # The credential replaces any key parameter the case made up.
    if case.query:
        case.query.pop("api_key", None)
    for scheme, credential in credentials.items():
        response = case.call(headers=credential)
        case.validate_response(response, checks=CHECKS, headers=credential)
        if response.status_code == 401:
            # Header names come lowercased, each with its list of values.
            assert response.headers.get("www-authenticate"), f"{scheme}: a 401 without a challenge"
        if credential:
            # A valid credential with every scope is never refused for its scopes.
            assert b"insufficient_scope" not in response.content, scheme
