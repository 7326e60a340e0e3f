"""The models: API keys and the audit log (``CredentialEvent``)."""

from iiniit_auth.models.apikey import NEVER, AbstractAPIKey, APIKey, APIKeyManager, APIKeyQuerySet
from iiniit_auth.models.audit import CredentialEvent, CredentialEventQuerySet

__all__ = [
    "NEVER",
    "APIKey",
    "APIKeyManager",
    "APIKeyQuerySet",
    "AbstractAPIKey",
    "CredentialEvent",
    "CredentialEventQuerySet",
]
