"""The recommended ``OAUTH2_PROVIDER`` block: django-oauth-toolkit set up as RFC 9700 asks.

A plain dict and nothing else, so a project's settings module can import it before Django is
configured::

    from iiniit_auth.oauth import RECOMMENDED_OAUTH2_PROVIDER

    OAUTH2_PROVIDER = {**RECOMMENDED_OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 900}

The system checks ``iiniit_auth.W010`` to ``W019`` warn where a project departs from it
dangerously (most under ``check --deploy``); docs/oauth.md explains every line.
"""

from __future__ import annotations

from typing import Any, Final

#: The dotted path of iiniit_auth's validator (per-application scopes, no implicit or password
#: grant, S256-only PKCE, loopback-only http redirects, audit).
VALIDATOR_CLASS: Final = "iiniit_auth.oauth.validators.OAuth2Validator"
#: The dotted path of iiniit_auth's scopes backend: the one registry, ``IINIIT_AUTH["SCOPES"]``.
SCOPES_BACKEND_CLASS: Final = "iiniit_auth.oauth.scopes.ScopesBackend"
#: The longest access-token lifetime the checks accept without a warning (W014).
MAX_ACCESS_TOKEN_SECONDS: Final = 3600

RECOMMENDED_OAUTH2_PROVIDER: Final[dict[str, Any]] = {
    # One scope registry for keys and tokens, and per-application allowed scopes.
    "SCOPES_BACKEND_CLASS": SCOPES_BACKEND_CLASS,
    "OAUTH2_VALIDATOR_CLASS": VALIDATOR_CLASS,
    # Short-lived access tokens (RFC 9700 section 4.14: limit the damage of a leaked token).
    "ACCESS_TOKEN_EXPIRE_SECONDS": MAX_ACCESS_TOKEN_SECONDS,
    # A refresh token dies 14 days after its access token expired, unless used before.
    "REFRESH_TOKEN_EXPIRE_SECONDS": 14 * 24 * 3600,
    # Refresh token rotation with reuse detection (RFC 9700 section 4.14.2): each refresh token
    # is good once; presenting a used one again refuses it and revokes the whole grant. No
    # grace period: a replay within it would be honoured, and hashed storage cannot serve it.
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # PKCE for every authorization code, S256 only (RFC 9700 section 2.1.1).
    "PKCE_REQUIRED": True,
    # Redirect URIs match exactly (RFC 9700 section 2.1); https, and http only for loopback
    # (RFC 8252 section 7.3), which iiniit_auth's validator enforces: django-oauth-toolkit
    # cannot allow http for one host and not another.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    "ALLOW_URI_WILDCARDS": False,
    "ALLOW_LOCALHOST_LOOPBACK": False,
    # Ask the user every time; a project may set "auto" to skip consent already given.
    "REQUEST_APPROVAL_PROMPT": "force",
    # django-oauth-toolkit's RFC 9700 gates, all on: no implicit or password grant, no "plain"
    # PKCE, no access token in a query string, the RFC 9207 iss parameter on authorization
    # responses, and tokens stored only as SHA-256 checksums. The redirect-scheme gate stays
    # off because loopback http needs "http" above (django-oauth-toolkit's W008 says so under
    # --deploy; iiniit_auth.W019 checks the registered URIs instead).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # Django admin's screens for django-oauth-toolkit's models: iiniit_auth's, which audit every
    # write, show a client secret once and never show a token or an authorization code.
    "APPLICATION_ADMIN_CLASS": "iiniit_auth.oauth.admin.ApplicationAdmin",
    "ACCESS_TOKEN_ADMIN_CLASS": "iiniit_auth.oauth.admin.AccessTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "iiniit_auth.oauth.admin.RefreshTokenAdmin",
    "GRANT_ADMIN_CLASS": "iiniit_auth.oauth.admin.ReadOnlyGrantAdmin",
    "ID_TOKEN_ADMIN_CLASS": "iiniit_auth.oauth.admin.ReadOnlyGrantAdmin",
    # What RFC 8414 discovery advertises: only what the server accepts.
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
}
