"""The core's models: API keys, the audit log (``CredentialEvent``), usage counts and the admin
overview. The OAuth 2.0 server's models live in its own app (:mod:`iiniit_auth.oauth.models`)."""

from iiniit_auth.models.apikey import AbstractAPIKey, APIKey
from iiniit_auth.models.audit import CredentialEvent, CredentialEventQuerySet
from iiniit_auth.models.managers import NEVER, APIKeyManager, APIKeyQuerySet
from iiniit_auth.models.overview import Overview
from iiniit_auth.models.usage import Usage

__all__ = [
    "NEVER",
    "APIKey",
    "APIKeyManager",
    "APIKeyQuerySet",
    "AbstractAPIKey",
    "CredentialEvent",
    "CredentialEventQuerySet",
    "Overview",
    "Usage",
]
