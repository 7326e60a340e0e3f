"""The HTTP side of authentication: reading ``Authorization`` by RFC 9110, the 400 and 401
errors, and ``WWW-Authenticate`` challenges that name every scheme a view accepts.

Shared by both authentication classes (``iiniit_auth.authentication``) and the exception
handler. Nothing here touches the database.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from rest_framework import exceptions
from rest_framework.request import Request

from iiniit_auth.conf import HTTP_TOKEN, auth_settings

if TYPE_CHECKING:  # djangorestframework-stubs' name for the type of APIException.detail
    from rest_framework.exceptions import _Detail

#: Longer Authorization values or key parameters are refused unread (400).
MAX_CREDENTIAL_LENGTH = 2048

TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 9110 section 11.2
# What this module keeps on a request, read back with vars(): a DRF request hands an unknown
# attribute on to Django's request, at the cost of two exceptions, on every request.
_CHALLENGE_ERROR = "_iiniit_challenge_error"
_READ = "_iiniit_read"


class _Reads(dict):  # type: ignore[type-arg]
    """What each authenticator read from a request, kept for the rest of the request.

    Its repr never shows the credentials: the request may end up in an error report.
    """

    def __repr__(self) -> str:
        return "<credentials read: [redacted]>"


def quote(value: str) -> str:
    """Return ``value`` as the inside of an RFC 9110 quoted-string (no CR/LF, escaped quotes)."""
    value = value.replace("\r", " ").replace("\n", " ")
    return value.replace("\\", "\\\\").replace('"', '\\"')


def challenge(scheme: str, **params: str) -> str:
    """Return one ``WWW-Authenticate`` challenge: ``scheme realm="…", k="v", …``."""
    return _challenge(scheme, auth_settings().REALM, tuple(params.items()))


@lru_cache(maxsize=256)
def _challenge(scheme: str, realm: str, params: tuple[tuple[str, str], ...]) -> str:
    # Kept: every 401 names the same few challenges, and building one is a few string passes.
    pairs = {"realm": realm, **dict(params)}
    return f"{scheme} " + ", ".join(f'{k}="{quote(v)}"' for k, v in pairs.items())


class InvalidRequest(exceptions.APIException):
    """400 ``invalid_request`` (RFC 6750 section 3.1) with its challenge. Never a DB query.

    ``message`` is the English text, ``%(name)s`` placeholders filled from ``params``. The JSON
    body's ``detail`` is its translation; the challenge's ``error_description`` stays English,
    because RFC 6750 section 3 allows only printable ASCII there.
    """

    status_code = 400
    default_code = "invalid_request"

    def __init__(self, scheme: str, message: str, params: dict[str, Any] | None = None) -> None:
        english = message % params if params else message
        try:
            translated = gettext(message) % params if params else gettext(message)
        except (KeyError, TypeError, ValueError):
            translated = english  # a translation with other placeholders: still a 400
        super().__init__({"detail": translated, "error": "invalid_request"}, code="invalid_request")
        self.auth_header = challenge(scheme, error="invalid_request", error_description=english)


def _why_malformed(rest: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in rest):
        if "\t" in rest:
            return gettext_noop("Separate the scheme and the credential with spaces, not tabs.")
        return gettext_noop("The Authorization header contains control characters.")
    if not rest.isascii():
        return gettext_noop("The Authorization header contains non-ASCII characters.")
    if not rest.strip():
        return gettext_noop("The Authorization header has a scheme but no credential.")
    if not rest.startswith(" "):
        return gettext_noop("Separate the scheme and the credential with a space.")
    return gettext_noop("Send exactly one credential after the scheme, with no other parts.")


@lru_cache(maxsize=32)
def _exactly(scheme: str) -> re.Pattern[str]:
    # The well-formed header of one scheme, as one pattern: what nearly every request sends.
    # Case folded in the scheme only (half the cost of folding the whole pattern), and
    # ASCII-only: "K" (Kelvin sign) must not pass for "k".
    return re.compile(rf"(?i:{re.escape(scheme)}) +({TOKEN68.pattern})", re.ASCII)


def read_authorization(request: Request, scheme: str) -> str | None:
    """Return the credential of an ``Authorization: <scheme> <token68>`` header.

    Returns None when there is no header or its scheme (compared case-insensitively, RFC 9110
    section 11.1) is another. Raises :class:`InvalidRequest` when the header is ours but not
    exactly the scheme, one or more spaces and one token68; or when it has no scheme at all.
    """
    header: str | None = request._request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    if len(header) <= MAX_CREDENTIAL_LENGTH:
        well_formed = _exactly(scheme).fullmatch(header)
        if well_formed is not None:
            return well_formed.group(1)
    found = HTTP_TOKEN.match(header)
    if found is None:
        raise InvalidRequest(scheme, gettext_noop("The Authorization header has no scheme."))
    if found.group().lower() != scheme.lower():
        return None
    if len(header) > MAX_CREDENTIAL_LENGTH:
        raise InvalidRequest(scheme, gettext_noop("The Authorization header is too long."))
    raise InvalidRequest(scheme, _why_malformed(header[found.end() :]))


#: The one answer to a credential that does not authenticate, in English; translated for the
#: JSON body only (see InvalidRequest).
INVALID_CREDENTIAL = gettext_noop("Invalid, expired or revoked credential.")
_refusal_details: dict[str, dict[str, exceptions.ErrorDetail]] = {}


def _refusal_detail(request: Request) -> dict[str, exceptions.ErrorDetail]:
    """The 401 body in the request's language, translated once per language.

    The language is the one LocaleMiddleware chose for the request (``request.LANGUAGE_CODE``),
    else ``LANGUAGE_CODE``: reading the active translation costs more than the rest of a
    refusal.
    """
    language = vars(request._request).get("LANGUAGE_CODE") or settings.LANGUAGE_CODE
    detail = _refusal_details.get(language)
    if detail is None:
        if len(_refusal_details) >= 64:
            _refusal_details.clear()  # bounded, whatever sets LANGUAGE_CODE on requests
        with translation.override(language):
            message = gettext(INVALID_CREDENTIAL)
        detail = _refusal_details[language] = {
            "detail": exceptions.ErrorDetail(message, code="invalid_token"),
            "error": exceptions.ErrorDetail("invalid_token", code="invalid_token"),
        }
    return detail


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in {"LANGUAGE_CODE", "LANGUAGES", "LOCALE_PATHS", "USE_I18N"}:
        _refusal_details.clear()
    elif setting == "IINIIT_AUTH":
        _headers.clear()  # the realm, the key scheme


class InvalidToken(exceptions.AuthenticationFailed):
    """401 ``invalid_token``: ``{"detail": <message>, "error": "invalid_token"}``."""

    def __init__(self, detail: dict[str, exceptions.ErrorDetail]) -> None:
        # Made directly, not through APIException.__init__: every refused credential raises
        # one, so this sits on the path of the cheapest refusals. A copy: exception handlers
        # may add to the body. Annotated, as a dict of ErrorDetail alone is not DRF's type.
        body: dict[str, _Detail] = dict(detail)
        self.detail = body


def refuse(request: Request, scheme: str) -> exceptions.AuthenticationFailed:
    """The one generic 401 for a credential that does not authenticate, whatever the reason."""
    setattr(request, _CHALLENGE_ERROR, scheme)
    return InvalidToken(_refusal_detail(request))


class ChallengeMixin:
    """What our authentication classes share: a challenge, a ``WWW-Authenticate`` for 401s that
    names every scheme the view accepts (DRF asks only the first class listed), and malformed
    input refused the same way whichever class DRF asks first."""

    #: True where :meth:`read_credential` reads nothing but the query string and an
    #: ``Authorization`` header of :meth:`scheme`: then, on a request without a query string
    #: whose header another of our classes has already read a credential from, it would read
    #: nothing, and :meth:`read_once` does not ask it. Set in the class that defines
    #: ``read_credential``; a subclass that overrides ``read_credential`` is always asked.
    reads_authorization_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "read_credential" in vars(cls) and "reads_authorization_only" not in vars(cls):
            cls.reads_authorization_only = False

    def scheme(self) -> str:
        raise NotImplementedError

    def read_credential(self, request: Request) -> str | None:
        """Return the well-formed credential of this class the request sends, or None.

        Raises :class:`InvalidRequest` when the request is malformed for this class; no query.
        """
        raise NotImplementedError

    def read_once(self, request: Request) -> str | None:
        """Return :meth:`read_credential` for ``request``; raise for malformed input.

        The first call on a request reads the input of every one of our classes the view lists,
        and refuses the request if any of them finds it malformed. DRF stops at the first class
        that authenticates, so a check made only by a class listed later (``?access_token=``
        next to a good API key) would pass or fail depending on the order of
        ``authentication_classes``; the HTTP answers must not. The reads are kept on the request
        for the other classes, in a mapping whose repr (of the request's attributes, of a
        frame's locals in an error report) never shows them.
        """
        reads: _Reads | None = vars(request).get(_READ)
        if reads is None:
            reads = _Reads()
            setattr(request, _READ, reads)
            # Once a class that reads only the header has read a credential on a request
            # without a query string, the header is well formed, of that class's scheme, and
            # the other such classes would read None from it.
            no_query = not request._request.GET
            header_read = False
            for authenticator in getattr(request, "authenticators", None) or ():
                if not isinstance(authenticator, ChallengeMixin):
                    continue
                only_header = no_query and authenticator.reads_authorization_only
                if header_read and only_header:
                    reads[authenticator] = None
                    continue
                # Kept in ``reads`` only, never in a local: a frame's locals are printed in
                # error reports, and a bearer token has no shape redaction could find.
                reads[authenticator] = authenticator.read_credential(request)
                header_read = header_read or (only_header and reads[authenticator] is not None)
        if self not in reads:  # not one of the request's classes
            reads[self] = self.read_credential(request)
        return reads[self]  # type: ignore[no-any-return]

    def challenge(self, request: Request) -> str:
        scheme = self.scheme()
        if vars(request).get(_CHALLENGE_ERROR) == scheme:
            return challenge(scheme, error="invalid_token", error_description=INVALID_CREDENTIAL)
        return challenge(scheme)

    def authenticate_header(self, request: Request) -> str:
        authenticators = getattr(request, "authenticators", None) or (self,)
        refused = vars(request).get(_CHALLENGE_ERROR)
        index = (refused, *map(type, authenticators))
        header = _headers.get(index)
        if header is not None:
            return header
        if refused is not None:
            # The scheme of the refused credential first, whatever the classes' order (a
            # stable sort keeps the others in it): the answer must not depend on that order.
            authenticators = sorted(
                authenticators,
                key=lambda each: (
                    not (isinstance(each, ChallengeMixin) and each.scheme() == refused)
                ),
            )
        parts: list[str] = []
        for authenticator in authenticators:
            if isinstance(authenticator, ChallengeMixin):
                part = authenticator.challenge(request)
            else:
                part = authenticator.authenticate_header(request)
            if part and part not in parts:
                parts.append(part)
        header = ", ".join(parts)
        # The same classes and the same refusal give the same header: kept, unless a class may
        # answer otherwise (one not ours, or one with a challenge of its own).
        if all(
            getattr(type(each), "challenge", None) is ChallengeMixin.challenge
            for each in authenticators
        ):
            if len(_headers) >= 256:
                _headers.clear()
            _headers[index] = header
        return header


#: WWW-Authenticate values by (refused scheme, authentication classes); see authenticate_header.
_headers: dict[tuple[Any, ...], str] = {}
