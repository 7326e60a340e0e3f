"""The checks Django runs always: the settings, and what protects keys sent in the query
string. Ids are stable and never reused (docs/checks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from iiniit_auth.conf import auth_settings

EXCEPTION_HANDLER = "iiniit_auth.handlers.exception_handler"


def _is_or_extends(dotted_path: Any, expected: str) -> bool:
    """Whether ``dotted_path`` names the class ``expected`` or a subclass of it."""
    if not isinstance(dotted_path, str):
        return False
    if dotted_path == expected:
        return True
    try:
        found = import_string(dotted_path)
        wanted = import_string(expected)
    except ImportError:
        return False
    return isinstance(found, type) and issubclass(found, wanted)


@register(Tags.security)
def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """E001: IINIIT_AUTH is invalid."""
    try:
        auth_settings()
    except ImproperlyConfigured as exc:
        return [
            Error(str(exc), hint="See docs/settings.md for every setting.", id="iiniit_auth.E001")
        ]
    return []


@register(Tags.security)
def check_exception_handler(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W003: 403s for missing scopes will lack RFC 6750's insufficient_scope challenge."""
    handler = (getattr(settings, "REST_FRAMEWORK", {}) or {}).get("EXCEPTION_HANDLER")
    if handler != EXCEPTION_HANDLER:
        return [
            Warning(
                "403 answers for missing scopes will not carry WWW-Authenticate: "
                'error="insufficient_scope" (RFC 6750 section 3.1).',
                hint=f'Set REST_FRAMEWORK["EXCEPTION_HANDLER"] = "{EXCEPTION_HANDLER}", or call '
                "iiniit_auth.handlers.add_insufficient_scope from your own handler and silence "
                "this check.",
                id="iiniit_auth.W003",
            )
        ]
    return []


OAUTH2_AUTHENTICATION = "iiniit_auth.authentication.OAuth2Authentication"


@register(Tags.security)
def check_oauth_authentication_without_server(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E010: OAuth2Authentication is a default authentication class, but the OAuth 2.0 server's
    app (which installs django-oauth-toolkit's models) is not installed."""
    if apps.is_installed("iiniit_auth.oauth"):
        return []
    classes = (getattr(settings, "REST_FRAMEWORK", {}) or {}).get(
        "DEFAULT_AUTHENTICATION_CLASSES", ()
    )
    if not any(_is_or_extends(name, OAUTH2_AUTHENTICATION) for name in classes):
        return []
    return [
        Error(
            "REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES'] lists OAuth2Authentication, but "
            "the OAuth 2.0 server is not installed: every request with a bearer token would "
            "fail.",
            hint='Add "oauth2_provider" and "iiniit_auth.oauth" to INSTALLED_APPS '
            "(docs/install.md, section 10), or remove OAuth2Authentication to accept API keys "
            "alone.",
            id="iiniit_auth.E010",
        )
    ]


QUERY_PARAM_MIDDLEWARE = "iiniit_auth.middleware.QueryParamKeyMiddleware"
EXCEPTION_REPORTER = "iiniit_auth.redaction.ExceptionReporter"
EXCEPTION_REPORTER_FILTER = "iiniit_auth.redaction.SafeExceptionReporterFilter"


def _query_param_allowed() -> bool:
    try:
        return auth_settings().ALLOW_QUERY_PARAM
    except ImproperlyConfigured:
        return False  # E001 reports the invalid setting


@register(Tags.security)
def check_query_param_middleware(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E005: keys are accepted in the query string but their responses may be cached."""
    if not _query_param_allowed():
        return []
    middleware = getattr(settings, "MIDDLEWARE", None) or []
    if any(_is_or_extends(entry, QUERY_PARAM_MIDDLEWARE) for entry in middleware):
        return []
    return [
        Error(
            "API keys are accepted in the query string, but responses to such requests are not "
            "marked Cache-Control: no-store and Referrer-Policy: no-referrer (RFC 6750 section 2.3).",
            hint=f'Add "{QUERY_PARAM_MIDDLEWARE}" to MIDDLEWARE right after SecurityMiddleware, '
            'or set IINIIT_AUTH["ALLOW_QUERY_PARAM"] = False.',
            id="iiniit_auth.E005",
        )
    ]


@register(Tags.security)
def check_exception_reporter(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W006: keys are accepted in the query string, and error reports would print them."""
    if not _query_param_allowed():
        return []
    expected = {
        "DEFAULT_EXCEPTION_REPORTER": EXCEPTION_REPORTER,
        "DEFAULT_EXCEPTION_REPORTER_FILTER": EXCEPTION_REPORTER_FILTER,
    }
    missing = {
        name: path
        for name, path in expected.items()
        if not _is_or_extends(getattr(settings, name, None), path)
    }
    if not missing:
        return []
    return [
        Warning(
            "API keys are accepted in the query string, and error reports (the DEBUG 500 page, "
            "the admin error e-mail) would print them from the request URL, GET and META: "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not iiniit_auth's.",
            hint=" ".join(f'Set {name} = "{path}".' for name, path in missing.items())
            + ' Or set IINIIT_AUTH["ALLOW_QUERY_PARAM"] = False.',
            id="iiniit_auth.W006",
        )
    ]


@register(Tags.security)
def check_portal_scopes_for(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E007: PORTAL_SCOPES_FOR names no function."""
    try:
        path = auth_settings().PORTAL_SCOPES_FOR
    except ImproperlyConfigured:
        return []  # E001 reports the invalid setting
    if path is None:
        return []
    try:
        found = import_string(path)
    except ImportError as exc:
        problem = f"cannot be imported ({exc})"
    else:
        if callable(found):
            return []
        problem = "is not callable"
    return [
        Error(
            f"IINIIT_AUTH['PORTAL_SCOPES_FOR'] {problem}: the developer portal cannot tell which "
            "scopes a user may grant.",
            hint="Name a function f(user) -> scope names by its dotted path, or set None to "
            "use PORTAL_SCOPES (docs/portal.md).",
            id="iiniit_auth.E007",
        )
    ]


@register(Tags.templates)
def check_portal_base_template(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E008: PORTAL_BASE_TEMPLATE cannot be loaded."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template

    try:
        name = auth_settings().PORTAL_BASE_TEMPLATE
    except ImproperlyConfigured:
        return []
    try:
        get_template(name)
    except (TemplateDoesNotExist, TemplateSyntaxError) as exc:
        return [
            Error(
                f"IINIIT_AUTH['PORTAL_BASE_TEMPLATE'] cannot be loaded: {name!r} "
                f"({type(exc).__name__}). Every page of the developer portal extends it.",
                hint='Name a template with the blocks "title", "css" and "content", or remove '
                "the setting to use iiniit_auth/portal/base.html (docs/portal.md).",
                id="iiniit_auth.E008",
            )
        ]
    return []
