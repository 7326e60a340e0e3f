"""The OAuth 2.0 server in Django admin, registered through django-oauth-toolkit's own
``*_ADMIN_CLASS`` settings (``RECOMMENDED_OAUTH2_PROVIDER`` names them all), in place of its
admins:

* :class:`ApplicationAdmin`: applications registered with the client secret shown once,
  allowed scopes, rotate secret, revoke all tokens (``applications.py``, with its forms in
  ``forms.py`` and its screens in ``views.py``);
* :class:`AccessTokenAdmin`, :class:`RefreshTokenAdmin`: read-only, revocable tokens;
  :class:`ReadOnlyGrantAdmin`: authorization codes and ID tokens, never their values
  (``tokens.py``);
* two sections of the admin overview: applications and access tokens.

The check ``iiniit_auth.E009`` reports a django-oauth-toolkit model still registered with
another admin.
"""

from iiniit_auth.oauth.admin.applications import ApplicationAdmin
from iiniit_auth.oauth.admin.tokens import AccessTokenAdmin, ReadOnlyGrantAdmin, RefreshTokenAdmin

#: django-oauth-toolkit's admin settings and the class each must name (or extend).
ADMIN_CLASSES = {
    "APPLICATION_ADMIN_CLASS": ApplicationAdmin,
    "ACCESS_TOKEN_ADMIN_CLASS": AccessTokenAdmin,
    "REFRESH_TOKEN_ADMIN_CLASS": RefreshTokenAdmin,
    "GRANT_ADMIN_CLASS": ReadOnlyGrantAdmin,
    "ID_TOKEN_ADMIN_CLASS": ReadOnlyGrantAdmin,
}

__all__ = [
    "ADMIN_CLASSES",
    "AccessTokenAdmin",
    "ApplicationAdmin",
    "ReadOnlyGrantAdmin",
    "RefreshTokenAdmin",
]
