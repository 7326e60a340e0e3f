"""iiniit_auth in Django admin: one module per model family, plus their forms and views.

Importing this package (Django's admin autodiscovery does) registers:

* ``apikeys.APIKeyAdmin`` for :class:`~iiniit_auth.models.APIKey`: issue (shown once), list,
  read-only change page, rotate, revoke;
* ``audit.CredentialEventAdmin`` for the audit log, read-only;
* the overview (``overview.py``), in the admin index (``overview/``) and on the app index.

The OAuth 2.0 server's screens are its app's own (:mod:`iiniit_auth.oauth.admin`), and add
their sections to the overview.

Every write goes through a lifecycle method; nothing here edits a credential by itself.
"""

from __future__ import annotations

from iiniit_auth.admin import apikeys, audit, overview
from iiniit_auth.admin.apikeys import APIKeyAdmin
from iiniit_auth.admin.audit import CredentialEventAdmin

__all__ = [
    "APIKeyAdmin",
    "CredentialEventAdmin",
    "apikeys",
    "audit",
    "overview",
]
