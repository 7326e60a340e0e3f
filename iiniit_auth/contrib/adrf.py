"""Authentication classes for ADRF's async views (``adrf.views.APIView`` with ``async def``).

Each class is its sync twin with ``authenticate`` as a coroutine function, which is how ADRF
tells an async authenticator from a sync one. The sync ``authenticate`` runs whole, in one
hop to Django's thread-sensitive worker thread (``sync_to_async``): the lookup is one
compiled SQL statement on ``connection.cursor()``, for which Django has no async path, and
the checks, the audit of a refusal, the ``last_used_at`` stamp and the lookup cache go with it.
So the answers, the headers and the queries are the sync class's own, the event loop never
waits on the database, and nothing runs where Django raises ``SynchronousOnlyOperation``.
One hop rather than one per step: Django's async cache and ORM methods on the built-in
backends are themselves ``sync_to_async`` around the sync ones, and each would be a hop.

``HasScopes`` needs no twin: it reads the credential already on the request, with no query,
and ADRF runs sync permissions off the event loop.

Use the sync classes in sync views (DRF's, or ADRF's ``def`` handlers): DRF's ``Request``
calls ``authenticate`` without awaiting it.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from rest_framework.request import Request

from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication


class AsyncAPIKeyAuthentication(APIKeyAuthentication):
    """:class:`~iiniit_auth.authentication.APIKeyAuthentication` for ADRF async views.

    Returns, raises and writes what the sync class does (it runs it); ``request.user`` is the
    key's owner and ``request.auth`` the key.
    """

    # An override of a sync method by a coroutine function: ADRF's contract, not DRF's.
    async def authenticate(self, request: Request) -> Any:  # type: ignore[override]
        return await sync_to_async(super().authenticate, thread_sensitive=True)(request)


class AsyncOAuth2Authentication(OAuth2Authentication):
    """:class:`~iiniit_auth.authentication.OAuth2Authentication` for ADRF async views.

    Returns, raises and writes what the sync class does (it runs it), remote introspection
    included.
    """

    async def authenticate(self, request: Request) -> Any:  # type: ignore[override]
        return await sync_to_async(super().authenticate, thread_sensitive=True)(request)
