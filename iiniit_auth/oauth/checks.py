"""System checks of the OAuth 2.0 server: where OAUTH2_PROVIDER departs from the recommended
block. Ids are stable and never reused (docs/oauth.md, "System checks").

W010, W012-W016 and W018 describe a production posture: they run under check --deploy, like
django-oauth-toolkit's own RFC 9700 checks. W017 breaks per-application scopes everywhere:
always, as do W002 (the scopes backend) and E009 (django-oauth-toolkit's own admin still
registered). W011 and W019 read the database: they run when a database is checked (migrate,
check --database default); they carry only the database tag, since Django 6.1 runs a
database check with all databases whenever any of its tags is asked for (check --tag security).
Imported by the app's ready() (``iiniit_auth.oauth.apps``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import connections
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import DEFAULTS

from iiniit_auth.checks.core import _is_or_extends
from iiniit_auth.oauth.models import REFUSED_GRANTS
from iiniit_auth.oauth.recommended import (
    MAX_ACCESS_TOKEN_SECONDS,
    SCOPES_BACKEND_CLASS,
    VALIDATOR_CLASS,
)
from iiniit_auth.oauth.redirects import refusal
from iiniit_auth.oauth.validators import OAuth2Validator

RECOMMENDED_OAUTH2 = "iiniit_auth.oauth.RECOMMENDED_OAUTH2_PROVIDER"


def _oauth2_provider() -> dict[str, Any]:
    """The effective OAUTH2_PROVIDER: django-oauth-toolkit's defaults, then the project's."""
    return {**DEFAULTS, **(getattr(settings, "OAUTH2_PROVIDER", None) or {})}


def _oauth_warning(message: str, hint: str, check_id: str) -> list[CheckMessage]:
    return [Warning(message, hint=f"{hint} See {RECOMMENDED_OAUTH2}.", id=check_id)]


@register(Tags.security)
def check_oauth_scopes(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W002: django-oauth-toolkit does not read the one scope registry."""
    provider = getattr(settings, "OAUTH2_PROVIDER", {}) or {}
    if not _is_or_extends(provider.get("SCOPES_BACKEND_CLASS"), SCOPES_BACKEND_CLASS):
        return [
            Warning(
                "OAuth 2.0 tokens are not limited to the scopes in IINIIT_AUTH['SCOPES'].",
                hint=f'Set OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"] = "{SCOPES_BACKEND_CLASS}".',
                id="iiniit_auth.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_oauth_token_storage(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W010 (deploy): access and refresh tokens are stored in plaintext."""
    if _oauth2_provider().get("COMPLIANT_BCP_RFC9700_TOKEN_STORAGE"):
        return []
    return _oauth_warning(
        "OAuth 2.0 access and refresh tokens are stored in plaintext: anyone who reads the "
        "database can use them (RFC 9700 section 4).",
        'Set OAUTH2_PROVIDER["COMPLIANT_BCP_RFC9700_TOKEN_STORAGE"] = True to store only '
        "their SHA-256 checksums.",
        "iiniit_auth.W010",
    )


def _application_rows(databases: Sequence[str] | None) -> list[tuple[str, Any]]:
    """``(database alias, application queryset)`` for each checked database that has the table."""
    Application = get_application_model()
    found = []
    for alias in databases or []:
        # Before migrate has created the table (migrate runs these checks first) there is
        # nothing to check, and a failed query would abort a PostgreSQL transaction.
        if Application._meta.db_table in connections[alias].introspection.table_names():
            found.append((alias, Application._default_manager.using(alias)))
    return found


@register(Tags.database)
def check_oauth_refused_grant_applications(
    app_configs: Sequence[Any] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """W011 (database): applications registered for the implicit or password grant."""
    names: list[str] = []
    for _alias, applications in _application_rows(databases):
        names += [
            str(application)
            for application in applications.filter(
                authorization_grant_type__in=REFUSED_GRANTS
            ).order_by("pk")
        ]
    if not names:
        return []
    return _oauth_warning(
        f"OAuth 2.0 applications registered for the implicit or password grant, which "
        f"RFC 9700 forbids and iiniit_auth's validator refuses: {', '.join(names)}.",
        "Register them again for the authorization-code grant with PKCE (or client "
        "credentials, for a server), and delete these.",
        "iiniit_auth.W011",
    )


@register(Tags.security, deploy=True)
def check_oauth_redirect_wildcards(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W012 (deploy): redirect URIs may use wildcard hosts."""
    if not _oauth2_provider().get("ALLOW_URI_WILDCARDS"):
        return []
    return _oauth_warning(
        "OAuth 2.0 redirect URIs may contain wildcard hosts: an authorization code can be sent "
        "to any matching host (RFC 9700 section 4.1.1 requires exact matching).",
        'Set OAUTH2_PROVIDER["ALLOW_URI_WILDCARDS"] = False and register every redirect URI.',
        "iiniit_auth.W012",
    )


@register(Tags.security, deploy=True)
def check_oauth_pkce(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """W013 (deploy): PKCE is not required."""
    required = _oauth2_provider().get("PKCE_REQUIRED")
    # A callable decides per client at run time: it cannot be judged here.
    if callable(required) or required:
        return []
    return _oauth_warning(
        "PKCE is not required for the authorization-code grant: an intercepted code can be "
        "exchanged for tokens (RFC 9700 section 2.1.1).",
        'Set OAUTH2_PROVIDER["PKCE_REQUIRED"] = True.',
        "iiniit_auth.W013",
    )


@register(Tags.security, deploy=True)
def check_oauth_access_token_lifetime(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W014 (deploy): access tokens live longer than an hour."""
    seconds = _oauth2_provider().get("ACCESS_TOKEN_EXPIRE_SECONDS")
    if isinstance(seconds, int | float) and 0 < seconds <= MAX_ACCESS_TOKEN_SECONDS:
        return []
    return _oauth_warning(
        f"OAuth 2.0 access tokens live {seconds!r} seconds: a leaked one stays usable that "
        f"long, and revocation cannot reach a copy (RFC 9700 section 4.14).",
        f'Set OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] to {MAX_ACCESS_TOKEN_SECONDS} '
        "or less; clients refresh them.",
        "iiniit_auth.W014",
    )


@register(Tags.security, deploy=True)
def check_oauth_refresh_token_lifetime(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W015 (deploy): refresh tokens never expire."""
    if _oauth2_provider().get("REFRESH_TOKEN_EXPIRE_SECONDS"):
        return []
    return _oauth_warning(
        "OAuth 2.0 refresh tokens never expire: a grant nobody uses any more stays usable "
        "forever (RFC 9700 section 4.14.2).",
        'Set OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"], e.g. 1209600 (14 days).',
        "iiniit_auth.W015",
    )


@register(Tags.security, deploy=True)
def check_oauth_refresh_reuse(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W016 (deploy): refresh tokens are not rotated, or a replayed one goes unnoticed."""
    provider = _oauth2_provider()
    if provider.get("ROTATE_REFRESH_TOKEN") and provider.get("REFRESH_TOKEN_REUSE_PROTECTION"):
        return []
    return _oauth_warning(
        "OAuth 2.0 refresh tokens are not rotated with reuse protection: a stolen refresh token "
        "keeps working next to the client's own (RFC 9700 section 4.14.2).",
        'Set OAUTH2_PROVIDER["ROTATE_REFRESH_TOKEN"] = True and '
        '["REFRESH_TOKEN_REUSE_PROTECTION"] = True: a replayed token then revokes its grant.',
        "iiniit_auth.W016",
    )


@register(Tags.security)
def check_oauth_validator(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W017: django-oauth-toolkit does not use iiniit_auth's validator."""
    configured = _oauth2_provider().get("OAUTH2_VALIDATOR_CLASS")
    if isinstance(configured, type):
        if issubclass(configured, OAuth2Validator):
            return []
    elif _is_or_extends(configured, VALIDATOR_CLASS):
        return []
    return _oauth_warning(
        "OAuth 2.0 applications are not limited to their allowed scopes, implicit and password "
        "grants are not refused and tokens are not audited: "
        f"OAUTH2_PROVIDER['OAUTH2_VALIDATOR_CLASS'] is {configured!r}.",
        f'Set OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"] = "{VALIDATOR_CLASS}" (or a subclass).',
        "iiniit_auth.W017",
    )


@register(Tags.security, deploy=True)
def check_oauth_refresh_grace(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W018 (deploy): a replayed refresh token is honoured during a grace period."""
    grace = _oauth2_provider().get("REFRESH_TOKEN_GRACE_PERIOD_SECONDS") or 0
    if not isinstance(grace, int | float) or grace <= 0:
        return []
    return _oauth_warning(
        f"A used OAuth 2.0 refresh token is accepted again for {grace} seconds, and such a "
        "replay is not detected as reuse.",
        'Set OAUTH2_PROVIDER["REFRESH_TOKEN_GRACE_PERIOD_SECONDS"] = 0.',
        "iiniit_auth.W018",
    )


@register(Tags.database)
def check_oauth_redirect_uris(
    app_configs: Sequence[Any] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """W019 (database): applications with redirect URIs the validator refuses."""
    names: list[str] = []
    for _alias, applications in _application_rows(databases):
        for application in applications.exclude(redirect_uris="").order_by("pk"):
            if any(refusal(uri) for uri in application.redirect_uris.split()):
                names.append(str(application))
    if not names:
        return []
    return _oauth_warning(
        "OAuth 2.0 applications with redirect URIs that are refused (plain http to a host that "
        f"is not loopback, or a wildcard host): {', '.join(names)}.",
        "Change them to https URIs (http only for 127.0.0.1, [::1] or localhost).",
        "iiniit_auth.W019",
    )


@register(Tags.admin, Tags.security)
def check_oauth_admin(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E009: a django-oauth-toolkit model is in Django admin with an admin not iiniit_auth's."""
    if not apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib import admin
    from oauth2_provider.settings import oauth2_settings

    from iiniit_auth.oauth.admin import ADMIN_CLASSES

    wrong = []
    for name, expected in ADMIN_CLASSES.items():
        model = apps.get_model(getattr(oauth2_settings, name.replace("_ADMIN_CLASS", "_MODEL")))
        if admin.site.is_registered(model) and not isinstance(
            admin.site.get_model_admin(model), expected
        ):
            wrong.append(name)
    if not wrong:
        return []
    return [
        Error(
            "django-oauth-toolkit's own admin is registered for "
            + ", ".join(name.removesuffix("_ADMIN_CLASS").lower() for name in wrong)
            + ": staff could edit authorization codes and tokens there, unaudited.",
            hint="Set OAUTH2_PROVIDER's "
            + ", ".join(f'"{name}"' for name in wrong)
            + f" as in {RECOMMENDED_OAUTH2} (or to subclasses of iiniit_auth's), or unregister "
            "those models from the admin site.",
            id="iiniit_auth.E009",
        )
    ]
