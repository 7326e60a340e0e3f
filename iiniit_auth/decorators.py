"""A key or a token with scopes, for plain Django views (sync and async), without DRF views.

``@requires_credential(scopes=["orders:read"])`` answers a request as a DRF view with
``HasScopes`` and ``required_scopes = ["orders:read"]`` does: the project's authentication
classes, permission check, throttles, exception handler and renderers decide the 400, 401 and
403 (docs/http.md), because DRF's own ``APIView`` steps run them. Only a request that passes
reaches the view, with ``request.user`` and ``request.auth`` set.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.permissions import HasScopes

V = TypeVar("V", bound=Callable[..., Any])


def _stand_in(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
    # Never called: it makes every method one the gate "implements", which is what
    # required_scopes() asks before it applies the scopes to a method.
    raise NotImplementedError


class CredentialGate(APIView):
    """DRF's ``APIView`` up to, not including, its handler: authentication, ``HasScopes``,
    throttles, and the exception handler's answer when one of them refuses.

    One instance per request, as DRF makes one per request.
    """

    permission_classes: Sequence[type[BasePermission]] = [HasScopes]
    required_scopes: list[str] = []
    get = post = put = patch = delete = head = options = trace = _stand_in

    def get_authenticators(self) -> list[Any]:
        """DRF's, refusing classes whose ``authenticate`` is a coroutine function, which DRF's
        ``Request`` would call without awaiting (``ImproperlyConfigured``)."""
        authenticators: list[Any] = super().get_authenticators()
        for each in authenticators:
            if iscoroutinefunction(each.authenticate):
                raise ImproperlyConfigured(
                    f"requires_credential takes sync authentication classes, not "
                    f"{type(each).__name__}: it runs them off the event loop itself."
                )
        return authenticators

    @property
    def default_response_headers(self) -> dict[str, str]:
        # Without DRF's ``Allow``: the gate stands for every method; which ones the view
        # answers, only the view knows.
        headers: dict[str, str] = super().default_response_headers
        headers.pop("Allow", None)
        return headers

    def refusal(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase | None:
        """Return the rendered refusal of ``request``, or None (``request.user`` and
        ``request.auth`` then set) if it may reach the view.

        Runs the authentication classes, which may query the database: call it off the event
        loop.
        """
        self.args = args
        self.kwargs = kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            self.initial(drf_request, *args, **kwargs)
        except Exception as exc:
            response = self.finalize_response(
                drf_request, self.handle_exception(exc), *args, **kwargs
            )
            if isinstance(response, Response):
                response.render()
            return response
        # A DRF Request sets the user on the HttpRequest too; the credential it keeps itself.
        request.user = drf_request.user
        request.auth = drf_request.auth  # type: ignore[attr-defined]
        return None


def requires_credential(
    scopes: Sequence[str] = (),
    *,
    authentication_classes: Sequence[type[Any]] | None = None,
) -> Callable[[V], V]:
    """Decorate a plain Django view, sync or async, so that only a request with a valid key or
    token carrying every scope of ``scopes`` reaches it.

    Refusals are DRF's and the exception handler's answers (400, 401, 403; docs/http.md).
    ``scopes`` must be registered (``IINIIT_AUTH["SCOPES"]``), an empty list asking for any
    valid credential; ``authentication_classes`` default to DRF's
    ``DEFAULT_AUTHENTICATION_CLASSES`` and must be sync classes (else ``ImproperlyConfigured``
    on the first request): in an async view they run in one hop to Django's thread-sensitive
    worker thread. The view is exempt from CSRF, as DRF's
    views are: a key or a token is not sent by a browser on its own.
    """
    attributes: dict[str, Any] = {"required_scopes": list(scopes)}
    if authentication_classes is not None:
        attributes["authentication_classes"] = list(authentication_classes)
    gate = type("CredentialGate", (CredentialGate,), attributes)

    def decorate(view: V) -> V:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refused = await sync_to_async(gate().refusal, thread_sensitive=True)(
                    request, *args, **kwargs
                )
                if refused is not None:
                    return refused
                return await view(request, *args, **kwargs)

            wrapper: Any = async_wrapper
        else:

            @functools.wraps(view)
            def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refused = gate().refusal(request, *args, **kwargs)
                if refused is not None:
                    return refused
                return view(request, *args, **kwargs)

            wrapper = sync_wrapper
        wrapper.csrf_exempt = True
        return cast(V, wrapper)

    return decorate
