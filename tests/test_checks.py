"""iiniit_auth.checks: each system check, triggered and not triggered. No database.

The checks run through Django's own ``run_checks`` (so their registration is tested too), and
the results are filtered by id; E005 and W006 are tested in their own module.
"""

from __future__ import annotations

from django.core.checks import ERROR, WARNING, Tags, run_checks

from iiniit_auth.oauth.scopes import ScopesBackend

PEPPER_TOO_SHORT = "short-pepper-value"


class NarrowScopes(ScopesBackend):
    """A project's own backend built on ours: it still reads the one registry."""


def found(check_id, *, deploy=False):
    """Return the messages with ``check_id`` from a full run of the system checks."""
    return [
        message
        # databases=[]: no database; Django 6.1's model checks would otherwise open one.
        for message in run_checks(include_deployment_checks=deploy, databases=[])
        if message.id == check_id
    ]


# -- E001: invalid IINIIT_AUTH -----------------------------------------------------------------


def test_e001_not_raised_for_valid_settings():
    assert found("iiniit_auth.E001") == []
    assert found("iiniit_auth.E001", deploy=True) == []


def test_e001_invalid_value(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "KEY_PREFIX": "Not A Prefix"}
    (error,) = found("iiniit_auth.E001")
    assert error.level == ERROR
    assert "IINIIT_AUTH['KEY_PREFIX']" in error.msg
    assert error.hint


def test_e001_unknown_setting(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "KEY_PREFIXX": "iik"}
    (error,) = found("iiniit_auth.E001")
    assert "KEY_PREFIXX" in error.msg


def test_e001_not_a_dict(settings):
    settings.IINIIT_AUTH = "iik"
    (error,) = found("iiniit_auth.E001")
    assert "IINIIT_AUTH" in error.msg


def test_e001_does_not_repeat_the_pepper(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PEPPER": PEPPER_TOO_SHORT}
    (error,) = found("iiniit_auth.E001")
    assert "IINIIT_AUTH['PEPPER']" in error.msg
    assert PEPPER_TOO_SHORT not in error.msg
    assert PEPPER_TOO_SHORT not in (error.hint or "")


def test_e001_runs_with_the_security_tag(settings):
    settings.IINIIT_AUTH = {"REALM": 'say "hi"'}
    ids = [message.id for message in run_checks(tags=[Tags.security], databases=[])]
    assert "iiniit_auth.E001" in ids


def test_e001_cleared_once_settings_are_valid_again(settings):
    settings.IINIIT_AUTH = {"KEY_PREFIX": "!"}
    assert len(found("iiniit_auth.E001")) == 1
    settings.IINIIT_AUTH = {"KEY_PREFIX": "fixed"}
    assert found("iiniit_auth.E001") == []


# -- W002: django-oauth-toolkit does not read our scope registry -------------------------------


def test_w002_not_raised_with_our_backend():
    assert found("iiniit_auth.W002") == []


def test_w002_other_backend(settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "SCOPES_BACKEND_CLASS": "oauth2_provider.scopes.SettingsScopes",
    }
    (warning,) = found("iiniit_auth.W002")
    assert warning.level == WARNING
    assert "iiniit_auth.oauth.scopes.ScopesBackend" in warning.hint


def test_w002_backend_not_set(settings):
    settings.OAUTH2_PROVIDER = {"ACCESS_TOKEN_EXPIRE_SECONDS": 3600}
    assert len(found("iiniit_auth.W002")) == 1


def test_w002_no_oauth2_provider_setting(settings):
    del settings.OAUTH2_PROVIDER
    assert len(found("iiniit_auth.W002")) == 1


def test_w002_not_raised_for_a_subclass_of_our_backend(settings):
    # A subclass still reads IINIIT_AUTH["SCOPES"]; E005 and W006 accept subclasses the same way.
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "SCOPES_BACKEND_CLASS": f"{__name__}.NarrowScopes",
    }
    assert found("iiniit_auth.W002") == []


# -- W003: the DRF exception handler is not ours -----------------------------------------------


def test_w003_not_raised_with_our_handler():
    assert found("iiniit_auth.W003") == []


def test_w003_other_handler(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
    }
    (warning,) = found("iiniit_auth.W003")
    assert warning.level == WARNING
    assert "iiniit_auth.handlers.exception_handler" in warning.hint
    assert "insufficient_scope" in warning.msg


def test_w003_handler_not_set(settings):
    settings.REST_FRAMEWORK = {
        name: value
        for name, value in settings.REST_FRAMEWORK.items()
        if name != "EXCEPTION_HANDLER"
    }
    assert len(found("iiniit_auth.W003")) == 1


def test_w003_no_rest_framework_setting(settings):
    del settings.REST_FRAMEWORK
    assert len(found("iiniit_auth.W003")) == 1


# -- W004 (deploy): keys accepted in the query string ------------------------------------------


def test_w004_raised_by_deploy_checks_while_query_param_on(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": True}
    (warning,) = found("iiniit_auth.W004", deploy=True)
    assert warning.level == WARNING
    assert "ALLOW_QUERY_PARAM" in warning.hint


def test_w004_on_by_default():
    # tests/settings.py leaves ALLOW_QUERY_PARAM at its default, which is on.
    assert len(found("iiniit_auth.W004", deploy=True)) == 1


def test_w004_only_with_deploy_checks(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": True}
    assert found("iiniit_auth.W004") == []


def test_w004_not_raised_when_query_param_off(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": False}
    assert found("iiniit_auth.W004", deploy=True) == []


def test_w004_leaves_invalid_settings_to_e001(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": "yes"}
    messages = run_checks(include_deployment_checks=True, databases=[])
    ids = [message.id for message in messages]
    assert "iiniit_auth.W004" not in ids
    assert ids.count("iiniit_auth.E001") == 1
