"""System checks for misconfiguration. Ids are stable and never reused (docs/checks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from iiniit_auth.conf import auth_settings

SCOPES_BACKEND = "iiniit_auth.scopes.ScopesBackend"
EXCEPTION_HANDLER = "iiniit_auth.handlers.exception_handler"


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
def check_oauth_scopes(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W002: django-oauth-toolkit does not read the one scope registry."""
    provider = getattr(settings, "OAUTH2_PROVIDER", {}) or {}
    if provider.get("SCOPES_BACKEND_CLASS") != SCOPES_BACKEND:
        return [
            Warning(
                "OAuth 2.0 tokens are not limited to the scopes in IINIIT_AUTH['SCOPES'].",
                hint=f'Set OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"] = "{SCOPES_BACKEND}".',
                id="iiniit_auth.W002",
            )
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


@register(Tags.security, deploy=True)
def check_query_param_deploy(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W004 (deploy): keys are accepted in the query string, where URLs get logged."""
    try:
        allowed = auth_settings().ALLOW_QUERY_PARAM
    except ImproperlyConfigured:
        return []
    if allowed:
        return [
            Warning(
                "API keys are accepted in the query string (?api_key=). URLs end up in proxy, "
                "server and browser logs and in Referer headers (RFC 6750 section 2.3).",
                hint='Set IINIIT_AUTH["ALLOW_QUERY_PARAM"] = False unless clients cannot send a header.',
                id="iiniit_auth.W004",
            )
        ]
    return []
