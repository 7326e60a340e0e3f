"""The models: API keys, the audit log (``CredentialEvent``), OAuth application policies and
redeemed authorization codes."""

from iiniit_auth.models.apikey import AbstractAPIKey, APIKey
from iiniit_auth.models.audit import CredentialEvent, CredentialEventQuerySet
from iiniit_auth.models.managers import NEVER, APIKeyManager, APIKeyQuerySet
from iiniit_auth.models.oauth import ApplicationPolicy, ApplicationPolicyManager
from iiniit_auth.models.oauth_codes import RedeemedCode
from iiniit_auth.models.overview import Overview
from iiniit_auth.models.usage import Usage

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
    "Overview",
    "RedeemedCode",
    "Usage",
]
