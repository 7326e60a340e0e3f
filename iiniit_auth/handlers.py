"""The DRF exception handler that completes RFC 6750 answers.

DRF puts ``WWW-Authenticate`` only on 401s. RFC 6750 section 3.1 wants a 403 for a valid
credential lacking a scope to say so in the header too: ``error="insufficient_scope"`` and
``scope="…"``. Set ``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "iiniit_auth.handlers.exception_handler"``
(or call :func:`add_insufficient_scope` from a handler of your own).
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from iiniit_auth.challenges import ChallengeMixin, InvalidRequest, InvalidToken, challenge
from iiniit_auth.permissions import (
    insufficient_scope_body,
    insufficient_scope_description,
    scope_refusal,
)


def add_insufficient_scope(
    response: Response | None, exc: Exception, context: dict[str, Any]
) -> Response | None:
    """Give a 403 for missing scopes its RFC 6750 challenge and body; leave others alone."""
    if response is None or not isinstance(exc, exceptions.PermissionDenied):
        return response
    request = context.get("request")
    refusal = scope_refusal(request, context.get("view")) if request is not None else None
    if refusal is None:
        return response
    required, missing = refusal
    body = insufficient_scope_body(missing)
    authenticator = getattr(request, "successful_authenticator", None)
    scheme = authenticator.scheme() if isinstance(authenticator, ChallengeMixin) else "Bearer"
    response["WWW-Authenticate"] = challenge(
        scheme,
        error="insufficient_scope",
        error_description=insufficient_scope_description(missing),
        scope=" ".join(required),
    )
    response.data = body
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the ``insufficient_scope`` challenge on 403s for missing scopes.

    Our own 400 and 401 (:class:`~iiniit_auth.challenges.InvalidRequest`,
    :class:`~iiniit_auth.challenges.InvalidToken`) get the answer DRF's handler would give,
    from :func:`refusal_response`.
    """
    if type(exc) in _REFUSALS:
        return refusal_response(exc)  # type: ignore[arg-type]
    return add_insufficient_scope(drf_exception_handler(exc, context), exc, context)


#: Our own 400 and 401 exceptions, answered by :func:`refusal_response`.
_REFUSALS = frozenset({InvalidToken, InvalidRequest})


def refusal_response(exc: exceptions.APIException) -> Response:
    """Return the response DRF's handler gives our 400 or 401, at less cost.

    The same body, status and ``WWW-Authenticate``; and the same rollback of the request's
    transaction under ``ATOMIC_REQUESTS``, but without visiting every connection of the thread
    when no database has it on: every malformed or refused credential comes this way.
    """
    header = getattr(exc, "auth_header", None)
    if any(each.get("ATOMIC_REQUESTS") for each in connections.settings.values()):
        set_rollback()
    return Response(
        exc.detail, status=exc.status_code, headers={"WWW-Authenticate": header} if header else None
    )
