"""The async contenders: ADRF views with ``async def get``, one with no authentication (the
async baseline) and one with ``AsyncAPIKeyAuthentication``.

The run calls every view synchronously, as WSGI does, so this one is called through
``async_to_sync``, which is how Django itself serves an async view under WSGI: an event loop
for the request, the view on it, and the authentication's sync path back on the calling
thread (``sync_to_async``, thread-sensitive). Its overhead is the authentication's plus that
round trip; under an ASGI server the loop is already running. The bare async view pays the
round trip alone: what authentication costs in an async view is the difference of the two.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any


def async_views() -> dict[str, Callable[[Any], Any]]:
    """The contenders' views by name, as sync callables; none when ADRF is not installed."""
    if find_spec("adrf") is None:
        return {}
    from adrf.views import APIView
    from asgiref.sync import async_to_sync
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.request import Request
    from rest_framework.response import Response

    from iiniit_auth.contrib.adrf import AsyncAPIKeyAuthentication, AsyncOAuth2Authentication

    class BareAsyncView(APIView):
        """No authentication at all: the async baseline."""

        authentication_classes: list[Any] = []
        permission_classes: list[Any] = []

        async def get(self, request: Request) -> Response:
            return Response({"ok": True})

    class OursAsyncView(BareAsyncView):
        """iiniit_auth's async classes, API key first, as OursView lists the sync ones."""

        authentication_classes = [AsyncAPIKeyAuthentication, AsyncOAuth2Authentication]
        permission_classes = [IsAuthenticated]

    return {
        "bare_async": async_to_sync(BareAsyncView.as_view()),
        "ours_key_async": async_to_sync(OursAsyncView.as_view()),
    }
