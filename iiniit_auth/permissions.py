"""DRF permissions: one scope check for every credential kind.

A view declares ``required_scopes = ["orders:read"]`` (django-oauth-toolkit's attribute name)
or a per-method mapping ``{"GET": ["orders:read"], "POST": ["orders:write"]}``; ``HasScopes``
checks it against ``request.auth``, an API key or an OAuth 2.0 token alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import AND, NOT, OR, BasePermission
from rest_framework.request import Request

from iiniit_auth import scopes
from iiniit_auth.credentials import carried_scopes

#: The request attribute that carries ``(required, missing)`` scopes of a refusal to the
#: exception handler, which turns it into RFC 6750's ``insufficient_scope`` challenge
#: (after :func:`scope_refusal` confirms the refusal decided the 403).
INSUFFICIENT_SCOPE = "_iiniit_insufficient_scope"


def required_scopes(view: Any, request: Request) -> frozenset[str] | None:
    """Return the scopes ``view`` requires for ``request.method``.

    Returns None when the view does not implement the method (DRF then answers 405) or the
    method is OPTIONS and unmapped (DRF's metadata). Raises ``ImproperlyConfigured`` when the
    view declares nothing, maps no scopes for a method it implements, or names a scope that is
    not in the registry: a typo there would otherwise lock everybody out, or nobody.
    """
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        raise ImproperlyConfigured(
            f"{type(view).__name__} uses HasScopes but sets no required_scopes "
            '(e.g. required_scopes = ["orders:read"]).'
        )
    method = request.method or "GET"
    # DRF's own test of whether the view implements the method (its dispatch): a name outside
    # http_method_names (DISPATCH, SETUP, a method left out on purpose) is DRF's 405 to
    # answer, whatever the scopes say.
    handler = method.lower()
    if handler not in getattr(view, "http_method_names", ()) or not hasattr(view, handler):
        return None
    if isinstance(declared, Mapping):
        by_method = {str(m).upper(): v for m, v in declared.items()}
        if method == "HEAD" and "HEAD" not in by_method:
            method = "GET"
        if method not in by_method:
            if method == "OPTIONS":
                return None
            raise ImproperlyConfigured(
                f"{type(view).__name__}.required_scopes maps no scopes for {method}, "
                "which the view implements. Map it (an empty list means no scope)."
            )
        declared = by_method[method]
    # A list, a tuple or a set: a generator or an iterator would be empty from the second
    # request on, and then require nothing.
    if not isinstance(declared, list | tuple | set | frozenset):
        raise ImproperlyConfigured(
            f"{type(view).__name__}.required_scopes must be a list of scope names."
        )
    wanted = frozenset(declared)
    unknown = sorted(wanted - scopes.registry().keys())
    if unknown:
        raise ImproperlyConfigured(
            f"{type(view).__name__}.required_scopes names unregistered scope(s) {', '.join(unknown)}; "
            "declare them in IINIIT_AUTH['SCOPES']."
        )
    return wanted


class HasScopes(BasePermission):
    """Allows a request whose credential carries every scope the view requires.

    Works for API keys and OAuth 2.0 tokens; composes with DRF's ``&``, ``|`` and ``~``.
    A request without a credential gets 401; one whose credential lacks a scope gets 403 naming
    the missing scopes (with ``iiniit_auth.handlers.exception_handler``, also RFC 6750's
    ``WWW-Authenticate: … error="insufficient_scope", scope="…"``).
    """

    message: Any = _("This credential lacks a required scope.")
    code = "insufficient_scope"

    def has_permission(self, request: Request, view: Any) -> bool:
        wanted = required_scopes(view, request)
        if not wanted:
            return request.auth is not None
        # ``wanted`` holds registered scopes only (required_scopes() refuses others).
        missing = wanted - carried_scopes(request.auth)
        if not missing:
            return True
        named = sorted(missing)
        setattr(request, INSUFFICIENT_SCOPE, (sorted(wanted), named))
        self.message = insufficient_scope_body(named)
        return False


#: The 403 message, in English: the challenge's ``error_description`` (RFC 6750 section 3
#: allows only ASCII there); the body's ``detail`` is its translation.
INSUFFICIENT_SCOPE_MESSAGE = gettext_noop("This credential lacks the scope(s): %(scopes)s.")


def insufficient_scope_description(missing: list[str]) -> str:
    """The 403 challenge's ``error_description``: the English message."""
    return INSUFFICIENT_SCOPE_MESSAGE % {"scopes": ", ".join(missing)}


def insufficient_scope_body(missing: list[str]) -> dict[str, Any]:
    """The 403 body: a message, RFC 6750's error code, and the missing scopes."""
    params = {"scopes": ", ".join(missing)}
    try:
        detail = gettext(INSUFFICIENT_SCOPE_MESSAGE) % params
    except (KeyError, TypeError, ValueError):
        detail = INSUFFICIENT_SCOPE_MESSAGE % params  # a translation with other placeholders
    return {"detail": detail, "error": "insufficient_scope", "missing_scopes": missing}


def _evaluate(permission: Any, leaf: Callable[[Any], bool]) -> bool:
    """Evaluate ``permission``'s ``&``, ``|`` and ``~`` through their operands, each operand
    that is not composed by ``leaf(operand)``.

    Not through the operators' own ``has_permission``: ADRF makes them async operators whose
    ``has_permission`` is a coroutine function, and the 403 path runs on the event loop there.
    """
    # DRF's stubs do not declare the operands of its composed permissions.
    composed: Any = permission
    if isinstance(permission, AND):
        return _evaluate(composed.op1, leaf) and _evaluate(composed.op2, leaf)
    if isinstance(permission, OR):
        return _evaluate(composed.op1, leaf) or _evaluate(composed.op2, leaf)
    if isinstance(permission, NOT):
        return not _evaluate(composed.op1, leaf)
    return leaf(permission)


def scope_refusal(request: Request, view: Any) -> tuple[list[str], list[str]] | None:
    """Return ``(required, missing)`` scopes if missing scopes are why ``view`` refused
    ``request``; None if the refusal was for another reason.

    ``HasScopes`` notes every refusal on the request, but inside ``|`` or ``~`` its refusal may
    be overruled, and a later 403 (another permission, an object permission, the view itself)
    must not then be answered as ``insufficient_scope``. So the view's permissions are asked
    again: the first one that refuses must be one that would pass had the credential every
    scope. Runs only on the 403 path, and only after ``HasScopes`` refused.
    """
    if getattr(request, INSUFFICIENT_SCOPE, None) is None or view is None:
        return None

    def passes(permission: Any) -> bool:
        return bool(permission.has_permission(request, view))

    def passes_with_every_scope(permission: Any) -> bool:
        if isinstance(permission, HasScopes):
            return request.auth is not None
        return passes(permission)

    for permission in view.get_permissions():
        if not _evaluate(permission, passes):
            if not _evaluate(permission, passes_with_every_scope):
                return None
            refusal: tuple[list[str], list[str]] | None = getattr(request, INSUFFICIENT_SCOPE, None)
            return refusal
    return None
