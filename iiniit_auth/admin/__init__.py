"""iiniit_auth in Django admin: one module per model family, plus their forms and views.

Importing this package (Django's admin autodiscovery does) registers:

* ``apikeys.APIKeyAdmin`` for :class:`~iiniit_auth.models.APIKey`: issue (shown once), list,
  read-only change page, rotate, revoke;
* ``audit.CredentialEventAdmin`` for the audit log, read-only;
* ``oauth.ApplicationAdmin``, ``oauth_tokens.AccessTokenAdmin`` and ``RefreshTokenAdmin`` in
  place of django-oauth-toolkit's own: applications registered with the client secret shown
  once, allowed scopes, rotate secret, revoke all tokens; read-only, revocable tokens;
* the overview (``overview.py``), in the admin index (``overview/``) and on the app index, with the OAuth
  sections ``oauth.py`` adds.

Every write goes through a lifecycle method; nothing here edits a credential by itself.
"""

from __future__ import annotations

from iiniit_auth.admin import apikeys, audit, oauth, overview
from iiniit_auth.admin.apikeys import APIKeyAdmin
from iiniit_auth.admin.audit import CredentialEventAdmin
from iiniit_auth.admin.oauth import ApplicationAdmin
from iiniit_auth.admin.oauth_tokens import AccessTokenAdmin, RefreshTokenAdmin

__all__ = [
    "APIKeyAdmin",
    "AccessTokenAdmin",
    "ApplicationAdmin",
    "CredentialEventAdmin",
    "RefreshTokenAdmin",
    "apikeys",
    "audit",
    "oauth",
    "overview",
]
