"""The OAuth 2.0 system checks, iiniit_auth.W010 to W019: each triggered, and not.

The suite's settings use RECOMMENDED_OAUTH2_PROVIDER, so none is reported until a test departs
from it. The checks run through Django's own ``run_checks``, so their registration and tags are
tested too.
"""

import subprocess
import sys
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.checks import ERROR, WARNING, run_checks
from oauth2_provider.admin import GrantAdmin
from oauth2_provider.models import get_application_model, get_grant_model
from oauth2_provider.settings import oauth2_settings

from iiniit_auth.oauth import RECOMMENDED_OAUTH2_PROVIDER
from iiniit_auth.oauth.admin import ADMIN_CLASSES, ReadOnlyGrantAdmin
from iiniit_auth.oauth.validators import OAuth2Validator

OAUTH_CHECKS = [f"iiniit_auth.W0{n}" for n in range(10, 20)]


def found(check_id, *, deploy=True, databases=()):
    # databases=(): no database unless a test asks for one; Django 6.1's model checks would
    # otherwise open every connection.
    return [
        message
        for message in run_checks(include_deployment_checks=deploy, databases=list(databases))
        if message.id == check_id
    ]


def depart(settings, **changes):
    settings.OAUTH2_PROVIDER = {**RECOMMENDED_OAUTH2_PROVIDER, **changes}


def assert_one_warning(check_id, *, deploy=True, databases=(), mentions=()):
    (message,) = found(check_id, deploy=deploy, databases=databases)
    assert message.level == WARNING
    assert message.hint
    assert "RECOMMENDED_OAUTH2_PROVIDER" in message.hint
    for text in mentions:
        assert text in message.msg + message.hint
    return message


@pytest.mark.django_db
def test_the_recommended_block_passes_every_check():
    messages = run_checks(include_deployment_checks=True, databases=["default"])
    assert [m.id for m in messages if m.id in OAUTH_CHECKS] == []
    # django-oauth-toolkit's own RFC 9700 checks: only W008, for the http scheme that loopback
    # redirect URIs need (iiniit_auth's validator limits it to loopback; W019 checks the URIs).
    assert {m.id for m in messages if m.id.startswith("oauth2_provider.")} == {
        "oauth2_provider.W008"
    }


def test_django_oauth_toolkit_defaults_trigger_the_deploy_checks(settings):
    settings.OAUTH2_PROVIDER = {"SCOPES_BACKEND_CLASS": "iiniit_auth.oauth.scopes.ScopesBackend"}
    ids = {m.id for m in run_checks(include_deployment_checks=True, databases=[])}
    expected = {f"iiniit_auth.W0{n}" for n in (10, 14, 15, 16, 17)}
    assert expected <= ids
    assert {"iiniit_auth.W012", "iiniit_auth.W013", "iiniit_auth.W018"}.isdisjoint(ids)


def test_the_recommended_block_imports_before_django_is_configured():
    # A settings module imports it: it must not touch django.conf.settings or the app registry.
    code = "from iiniit_auth.oauth import RECOMMENDED_OAUTH2_PROVIDER as r; print(len(r))"
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(RECOMMENDED_OAUTH2_PROVIDER)


# -- W010: plaintext token storage --------------------------------------------------------------


def test_w010_plaintext_tokens(settings):
    depart(settings, COMPLIANT_BCP_RFC9700_TOKEN_STORAGE=False)
    assert_one_warning("iiniit_auth.W010", mentions=["COMPLIANT_BCP_RFC9700_TOKEN_STORAGE"])
    assert found("iiniit_auth.W010", deploy=False) == []


def test_w010_not_for_hashed_tokens():
    assert found("iiniit_auth.W010") == []


# -- W011 (database): implicit or password grant applications ----------------------------------


@pytest.mark.django_db
def test_w011_refused_grant_applications(user):
    Application = get_application_model()
    Application.objects.create(
        name="Legacy SPA",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_IMPLICIT,
        redirect_uris="https://spa.example.com/cb",
    )
    Application.objects.create(
        name="Legacy mobile",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_PASSWORD,
    )

    message = assert_one_warning(
        "iiniit_auth.W011", databases=["default"], mentions=["Legacy SPA", "Legacy mobile"]
    )
    assert "authorization-code" in message.hint
    # A database check: not run when no database is checked.
    assert found("iiniit_auth.W011") == []


@pytest.mark.django_db
def test_w011_not_for_code_and_client_credentials_applications(oauth_app):
    assert found("iiniit_auth.W011", databases=["default"]) == []


# -- W012: wildcard redirect URIs ----------------------------------------------------------------


def test_w012_wildcards(settings):
    depart(settings, ALLOW_URI_WILDCARDS=True)
    assert_one_warning("iiniit_auth.W012", mentions=["ALLOW_URI_WILDCARDS"])


def test_w012_not_without_wildcards():
    assert found("iiniit_auth.W012") == []


# -- W013: PKCE not required ---------------------------------------------------------------------


def test_w013_pkce_not_required(settings):
    depart(settings, PKCE_REQUIRED=False)
    assert_one_warning("iiniit_auth.W013", mentions=["PKCE_REQUIRED"])


def test_w013_not_for_a_per_client_callable(settings):
    depart(settings, PKCE_REQUIRED=lambda client_id: True)
    assert found("iiniit_auth.W013") == []


# -- W014: access tokens over an hour ------------------------------------------------------------


def test_w014_long_access_tokens(settings):
    depart(settings, ACCESS_TOKEN_EXPIRE_SECONDS=36000)
    assert_one_warning("iiniit_auth.W014", mentions=["36000", "3600"])


def test_w014_not_for_an_hour_or_less(settings):
    depart(settings, ACCESS_TOKEN_EXPIRE_SECONDS=900)
    assert found("iiniit_auth.W014") == []


# -- W015: refresh tokens that never expire -----------------------------------------------------


@pytest.mark.parametrize("value", [None, 0])
def test_w015_refresh_tokens_never_expire(settings, value):
    depart(settings, REFRESH_TOKEN_EXPIRE_SECONDS=value)
    assert_one_warning("iiniit_auth.W015", mentions=["REFRESH_TOKEN_EXPIRE_SECONDS"])


def test_w015_not_when_refresh_tokens_expire():
    assert found("iiniit_auth.W015") == []


# -- W016: no rotation or no reuse protection ---------------------------------------------------


@pytest.mark.parametrize(
    "change", [{"REFRESH_TOKEN_REUSE_PROTECTION": False}, {"ROTATE_REFRESH_TOKEN": False}]
)
def test_w016_no_reuse_protection(settings, change):
    depart(settings, **change)
    assert_one_warning("iiniit_auth.W016", mentions=["REFRESH_TOKEN_REUSE_PROTECTION"])


def test_w016_not_with_rotation_and_reuse_protection():
    assert found("iiniit_auth.W016") == []


# -- W017: not iiniit_auth's validator ----------------------------------------------------------


class ProjectValidator(OAuth2Validator):
    """A project's own validator built on ours."""


def test_w017_another_validator(settings):
    depart(settings, OAUTH2_VALIDATOR_CLASS="oauth2_provider.oauth2_validators.OAuth2Validator")
    # Not a deployment matter: without it, applications get scopes beyond their allowed set.
    assert_one_warning("iiniit_auth.W017", deploy=False, mentions=["OAUTH2_VALIDATOR_CLASS"])


@pytest.mark.parametrize(
    "validator",
    [
        f"{__name__}.ProjectValidator",
        ProjectValidator,
        "iiniit_auth.oauth.validators.OAuth2Validator",
    ],
)
def test_w017_not_for_ours_or_a_subclass(settings, validator):
    depart(settings, OAUTH2_VALIDATOR_CLASS=validator)
    assert found("iiniit_auth.W017", deploy=False) == []


# -- W018: a refresh grace period ---------------------------------------------------------------


def test_w018_refresh_grace_period(settings):
    depart(settings, REFRESH_TOKEN_GRACE_PERIOD_SECONDS=120)
    assert_one_warning("iiniit_auth.W018", mentions=["120", "REFRESH_TOKEN_GRACE_PERIOD_SECONDS"])


def test_w018_not_without_a_grace_period():
    assert found("iiniit_auth.W018") == []


# -- W019 (database): redirect URIs the validator refuses ---------------------------------------


@pytest.mark.django_db
def test_w019_plain_http_redirect_uris(user):
    Application = get_application_model()
    Application.objects.create(
        name="Plain http",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://ok.example.com/cb http://ok.example.com/cb",
    )

    assert_one_warning("iiniit_auth.W019", databases=["default"], mentions=["Plain http"])


@pytest.mark.django_db
def test_w019_not_for_https_and_loopback(user, oauth_app):
    Application = get_application_model()
    Application.objects.create(
        name="Native",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1:8765/callback http://[::1]/cb",
    )
    assert found("iiniit_auth.W019", databases=["default"]) == []


# -- E009: django-oauth-toolkit's own admin registered ----------------------------------------


@contextmanager
def registered(model, model_admin):
    """``model`` registered in admin with ``model_admin`` (or not at all, for None) for a while."""
    ours = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    if model_admin is not None:
        admin.site.register(model, model_admin)
    try:
        yield
    finally:
        if model_admin is not None:
            admin.site.unregister(model)
        admin.site.register(model, ours)


def test_e009_not_with_the_recommended_admin_classes():
    assert found("iiniit_auth.E009", deploy=False) == []


def test_e009_django_oauth_toolkits_own_grant_admin():
    with registered(get_grant_model(), GrantAdmin):
        (message,) = found("iiniit_auth.E009", deploy=False)
    assert message.level == ERROR
    assert "grant" in message.msg
    assert '"GRANT_ADMIN_CLASS"' in message.hint
    assert "RECOMMENDED_OAUTH2_PROVIDER" in message.hint


def test_e009_not_for_a_model_left_out_of_admin_or_a_subclass_of_ours():
    class StricterGrantAdmin(ReadOnlyGrantAdmin):
        pass

    with registered(get_grant_model(), None):
        assert found("iiniit_auth.E009", deploy=False) == []
    with registered(get_grant_model(), StricterGrantAdmin):
        assert found("iiniit_auth.E009", deploy=False) == []


def test_the_recommended_block_registers_our_admin_for_every_model():
    for setting, expected in ADMIN_CLASSES.items():
        model = apps.get_model(getattr(oauth2_settings, setting.replace("_ADMIN_CLASS", "_MODEL")))
        assert type(admin.site.get_model_admin(model)) is expected, setting
