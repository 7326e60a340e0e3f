"""The models: API keys and the audit log (``CredentialEvent``)."""

from iiniit_auth.models.apikey import AbstractAPIKey, APIKey
from iiniit_auth.models.audit import CredentialEvent, CredentialEventQuerySet
from iiniit_auth.models.managers import NEVER, APIKeyManager, APIKeyQuerySet

__all__ = [
    "NEVER",
    "APIKey",
    "APIKeyManager",
    "APIKeyQuerySet",
    "AbstractAPIKey",
    "CredentialEvent",
    "CredentialEventQuerySet",
]
