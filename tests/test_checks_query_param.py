"""System checks E005 and W006: keys in the query string need the middleware and the reporters."""

from django.core.checks import Error, Tags, Warning, run_checks

from iiniit_auth.checks.core import check_exception_reporter, check_query_param_middleware
from iiniit_auth.middleware import QueryParamKeyMiddleware
from iiniit_auth.redaction import ExceptionReporter, SafeExceptionReporterFilter

MIDDLEWARE_PATH = "iiniit_auth.middleware.QueryParamKeyMiddleware"


class OwnMiddleware(QueryParamKeyMiddleware):
    pass


class OwnReporter(ExceptionReporter):
    pass


class OwnFilter(SafeExceptionReporterFilter):
    pass


def ids(messages):
    return [message.id for message in messages]


def without_middleware(settings):
    settings.MIDDLEWARE = [entry for entry in settings.MIDDLEWARE if entry != MIDDLEWARE_PATH]


# E005


def test_e005_silent_with_the_middleware():
    assert check_query_param_middleware() == []


def test_e005_without_the_middleware(settings):
    without_middleware(settings)
    [message] = check_query_param_middleware()
    assert isinstance(message, Error)
    assert message.id == "iiniit_auth.E005"
    assert MIDDLEWARE_PATH in message.hint
    assert "ALLOW_QUERY_PARAM" in message.hint
    assert "iiniit_auth.E005" in ids(run_checks(tags=[Tags.security], databases=[]))


def test_e005_silent_when_query_param_is_off(settings):
    without_middleware(settings)
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": False}
    assert check_query_param_middleware() == []


def test_e005_accepts_a_subclass(settings):
    settings.MIDDLEWARE = [f"{__name__}.OwnMiddleware"]
    assert check_query_param_middleware() == []


def test_e005_with_an_unimportable_entry(settings):
    settings.MIDDLEWARE = ["no.such.Middleware"]
    assert ids(check_query_param_middleware()) == ["iiniit_auth.E005"]


def test_e005_with_invalid_settings_leaves_it_to_e001(settings):
    without_middleware(settings)
    settings.IINIIT_AUTH = {"ALLOW_QUERY_PARAM": "yes"}
    assert check_query_param_middleware() == []
    found = ids(run_checks(tags=[Tags.security], databases=[]))
    assert "iiniit_auth.E001" in found
    assert "iiniit_auth.E005" not in found


# W006


def test_w006_silent_with_our_reporter_and_filter():
    assert check_exception_reporter() == []
    assert "iiniit_auth.W006" not in ids(run_checks(tags=[Tags.security], databases=[]))


def test_w006_with_djangos_reporter(settings):
    settings.DEFAULT_EXCEPTION_REPORTER = "django.views.debug.ExceptionReporter"
    [message] = check_exception_reporter()
    assert isinstance(message, Warning)
    assert message.id == "iiniit_auth.W006"
    assert "DEFAULT_EXCEPTION_REPORTER is" in message.msg
    assert 'DEFAULT_EXCEPTION_REPORTER = "iiniit_auth.redaction.ExceptionReporter"' in message.hint
    assert "DEFAULT_EXCEPTION_REPORTER_FILTER" not in message.hint
    assert "iiniit_auth.W006" in ids(run_checks(tags=[Tags.security], databases=[]))


def test_w006_with_djangos_filter(settings):
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "django.views.debug.SafeExceptionReporterFilter"
    [message] = check_exception_reporter()
    assert message.id == "iiniit_auth.W006"
    assert (
        'DEFAULT_EXCEPTION_REPORTER_FILTER = "iiniit_auth.redaction.SafeExceptionReporterFilter"'
        in message.hint
    )


def test_w006_names_both_when_both_are_djangos(settings):
    settings.DEFAULT_EXCEPTION_REPORTER = "django.views.debug.ExceptionReporter"
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "django.views.debug.SafeExceptionReporterFilter"
    [message] = check_exception_reporter()
    assert "DEFAULT_EXCEPTION_REPORTER, DEFAULT_EXCEPTION_REPORTER_FILTER are" in message.msg


def test_w006_accepts_subclasses(settings):
    settings.DEFAULT_EXCEPTION_REPORTER = f"{__name__}.OwnReporter"
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = f"{__name__}.OwnFilter"
    assert check_exception_reporter() == []


def test_w006_silent_when_query_param_is_off(settings):
    settings.DEFAULT_EXCEPTION_REPORTER = "django.views.debug.ExceptionReporter"
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": False}
    assert check_exception_reporter() == []


def test_w006_with_invalid_settings_does_not_crash(settings):
    settings.DEFAULT_EXCEPTION_REPORTER = "django.views.debug.ExceptionReporter"
    settings.IINIIT_AUTH = ["not", "a", "dict"]
    assert check_exception_reporter() == []
