"""The portal's system checks: E007 (PORTAL_SCOPES_FOR) and E008 (PORTAL_BASE_TEMPLATE)."""

from django.core.checks import ERROR, run_checks

NOT_CALLABLE = "a string"


def scopes_for(user):
    return ["orders:read"]


def found(check_id):
    return [m for m in run_checks(databases=[]) if m.id == check_id]


def test_e007_not_raised_without_the_setting_or_with_a_function(settings):
    assert found("iiniit_auth.E007") == []
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SCOPES_FOR": f"{__name__}.scopes_for"}
    assert found("iiniit_auth.E007") == []


def test_e007_a_path_that_imports_nothing(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SCOPES_FOR": "no.such.function"}
    (error,) = found("iiniit_auth.E007")
    assert error.level == ERROR
    assert "cannot be imported" in error.msg
    assert "docs/portal.md" in error.hint


def test_e007_a_path_to_something_not_callable(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SCOPES_FOR": f"{__name__}.NOT_CALLABLE"}
    (error,) = found("iiniit_auth.E007")
    assert "is not callable" in error.msg


def test_e008_not_raised_for_the_default_or_a_template_that_exists(settings):
    assert found("iiniit_auth.E008") == []
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_BASE_TEMPLATE": "admin/base.html"}
    assert found("iiniit_auth.E008") == []


def test_e008_a_template_that_does_not_exist(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_BASE_TEMPLATE": "no/such.html"}
    (error,) = found("iiniit_auth.E008")
    assert error.level == ERROR
    assert "'no/such.html'" in error.msg
    assert '"title", "css" and "content"' in error.hint
