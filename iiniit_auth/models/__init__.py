"""The models: API keys and the audit log (``CredentialEvent``)."""

from iiniit_auth.models.apikey import AbstractAPIKey, APIKey
from iiniit_auth.models.audit import CredentialEvent, CredentialEventQuerySet
from iiniit_auth.models.managers import NEVER, APIKeyManager, APIKeyQuerySet
from iiniit_auth.models.oauth import ApplicationPolicy, ApplicationPolicyManager

__all__ = [
    "NEVER",
    "APIKey",
    "APIKeyManager",
    "APIKeyQuerySet",
    "AbstractAPIKey",
    "ApplicationPolicy",
    "ApplicationPolicyManager",
    "CredentialEvent",
    "CredentialEventQuerySet",
]
