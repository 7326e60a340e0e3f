"""The examples of docs/limits.md, run as written."""

import re
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIRequestFactory

from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKey
from iiniit_auth.oauth.models import ApplicationPolicy

PAGE = Path(__file__).resolve().parents[2] / "docs" / "limits.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


def block(containing):
    (found,) = [code for code in BLOCKS if containing in code]
    return found


def test_the_settings_example_is_valid():
    names = {}
    exec(block("IINIIT_AUTH = {"), names)  # noqa: S102 (our own documentation)
    with override_settings(CACHES=names["CACHES"], IINIIT_AUTH=names["IINIIT_AUTH"]):
        settings = auth_settings()
        assert str(settings.DEFAULT_RATE) == "1000/hour"
        assert str(settings.FAILED_AUTH_LIMIT) == "60/min"


def test_the_view_example_limits(issue):
    names = {}
    exec(block("class OrdersView"), names)  # noqa: S102
    _, plaintext = issue(rate="1/day")
    view = names["OrdersView"].as_view()
    factory = APIRequestFactory()
    first = view(factory.get("/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}"))
    assert first.status_code == 200
    assert first["RateLimit-Limit"] == "1"
    assert view(factory.get("/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")).status_code == 429


def test_the_default_throttle_example_names_the_class():
    names = {}
    exec(block("DEFAULT_THROTTLE_CLASSES"), names)  # noqa: S102
    from django.utils.module_loading import import_string

    (path,) = names["REST_FRAMEWORK"]["DEFAULT_THROTTLE_CLASSES"]
    assert import_string(path).__name__ == "CredentialRateThrottle"


@pytest.mark.django_db
def test_the_key_and_application_examples_run(user, staff, oauth_app):
    exec(block("APIKey.objects.issue("), {"user": user, "staff_user": staff})  # noqa: S102
    key = APIKey.objects.get()
    assert key.rate == ""  # set at issue, changed, then back to the default
    example = block("ApplicationPolicy.objects.set_rate(")
    exec(example, {"application": oauth_app, "staff_user": staff})  # noqa: S102
    assert ApplicationPolicy.objects.rate(oauth_app) == "5000/day"


def test_the_subclass_example_runs():
    from iiniit_auth.throttling import CredentialRateThrottle

    names = {"CredentialRateThrottle": CredentialRateThrottle}  # imported by the block above
    exec(block("class ExportThrottle"), names)  # noqa: S102
    assert names["ExportThrottle"].scope == "export"


def test_the_test_fixture_example_compiles():
    compile(block("_fresh_counters"), "limits.md", "exec")
