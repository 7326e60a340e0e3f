"""Middleware for requests that carry a key in the query string.

RFC 6750 section 2.3: a response to a request with a credential in the URI should carry
``Cache-Control: no-store``, so no shared or browser cache keeps it; and the URL should not
travel on in the ``Referer`` header of the next request, hence ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from iiniit_auth.redaction import contains_key


def carries_key(request: HttpRequest) -> bool:
    """Return whether the request's query string holds a key parameter or a key-shaped value.

    Requests without a query string are answered from one dictionary lookup; only a non-empty
    query string is searched (it is not parsed).
    """
    query: str = request.META.get("QUERY_STRING", "")
    return bool(query) and contains_key(query)


def protect(response: HttpResponseBase) -> HttpResponseBase:
    """Set ``Cache-Control: no-store`` (replacing any other) and ``Referrer-Policy: no-referrer``
    on ``response``, and return it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class QueryParamKeyMiddleware:
    """Marks every response to a request with a key in its query string as not to be stored
    and not to be referred from, whatever its status and whether the key authenticated.

    Add ``"iiniit_auth.middleware.QueryParamKeyMiddleware"`` to ``MIDDLEWARE`` right after
    ``SecurityMiddleware``, so it sees the final response of the view, of DRF and of Django's
    exception handling (404, 500). Works under WSGI and ASGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        response = cast(HttpResponseBase, self.get_response(request))
        return protect(response) if carries_key(request) else response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        result = await cast(Awaitable[HttpResponseBase], self.get_response(request))
        return protect(result) if carries_key(request) else result
