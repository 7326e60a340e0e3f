"""One view of ``request.auth`` for every credential kind: kind, id, scopes, owner.

Permissions, throttles, views and logs ask these questions without caring whether the caller
sent an API key or an OAuth 2.0 bearer token.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from iiniit_auth import scopes
from iiniit_auth.models import AbstractAPIKey, CredentialEvent


@dataclass(frozen=True)
class Credential:
    """What a request's credential is, whatever its kind.

    ``kind`` is ``"api_key"`` or ``"oauth_token"`` (the audit log's kinds); ``id`` is the
    non-secret identifier (a key's public id, a token's database id); ``owner`` is the user
    the credential acts for, or None for a client-credentials token; ``application`` is the
    OAuth application, or None for an API key.
    """

    kind: str
    id: str
    scopes: frozenset[str]
    owner: Any
    application: Any


class ClientPrincipal:
    """The principal of a client-credentials token: the application, not a user.

    It answers what DRF and Django ask of ``request.user`` (``is_authenticated`` is True:
    the client did authenticate), has no permissions, and is never staff.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, application: Any) -> None:
        self.application = application
        self.username = f"client:{application.client_id}"

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"<ClientPrincipal {self.username}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientPrincipal) and other.application == self.application

    def __hash__(self) -> int:
        return hash(self.username)

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False


def describe(auth: Any) -> Credential | None:
    """Return the :class:`Credential` for ``request.auth``, or None for anything else."""
    if isinstance(auth, AbstractAPIKey):
        return Credential(
            kind=CredentialEvent.Kind.API_KEY,
            id=auth.public_id,
            scopes=auth.scope_set,
            owner=auth.owner,
            application=None,
        )
    if _is_access_token(auth):
        return Credential(
            kind=CredentialEvent.Kind.OAUTH_TOKEN,
            id=str(auth.pk),
            scopes=frozenset(auth.scope.split()),
            owner=auth.user,
            application=auth.application,
        )
    return None


def _is_access_token(auth: Any) -> bool:
    """Whether ``auth`` is a django-oauth-toolkit access token. Until its models are imported
    nothing can be one, so a project with API keys alone never imports django-oauth-toolkit."""
    dot = sys.modules.get("oauth2_provider.models")
    return dot is not None and isinstance(auth, dot.AbstractAccessToken)


def carried_scopes(auth: Any) -> frozenset[str]:
    """Return the scopes ``request.auth`` carries, registered or not; none for anything else.

    ``HasScopes`` compares them with scopes a view requires, which are all registered: no need
    to read the registry again there. Elsewhere, :func:`scopes_of`.
    """
    if isinstance(auth, AbstractAPIKey):
        return auth.scope_set
    if _is_access_token(auth):
        return frozenset(auth.scope.split())
    return frozenset()


def scopes_of(auth: Any) -> frozenset[str]:
    """Return the scopes ``request.auth`` grants; an unknown credential grants none.

    Only registered scopes: one removed from ``IINIIT_AUTH["SCOPES"]`` stays on the keys and
    tokens that carry it, and grants nothing, in a view's own check as in ``HasScopes``.
    """
    return carried_scopes(auth).intersection(scopes.registry())
