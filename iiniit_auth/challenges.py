"""The HTTP side of authentication: reading ``Authorization`` by RFC 9110, the 400 and 401
errors, and ``WWW-Authenticate`` challenges that name every scheme a view accepts.

Shared by both authentication classes (``iiniit_auth.authentication``) and the exception
handler. Nothing here touches the database.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.request import Request

from iiniit_auth.conf import auth_settings

#: Longer Authorization values or key parameters are refused unread (400).
MAX_CREDENTIAL_LENGTH = 2048

_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 section 5.6.2 token (tchar)
TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 9110 section 11.2
# What this module keeps on a request, read back with vars(): a DRF request hands an unknown
# attribute on to Django's request, at the cost of two exceptions, on every request.
_CHALLENGE_ERROR = "_iiniit_challenge_error"
_INPUT_CHECKED = "_iiniit_input_checked"
_READ = "_iiniit_read"


class _Read:
    """What an authenticator read from a request, kept for the rest of the request.

    Its repr never shows the credential: the request may end up in an error report.
    """

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<credential read: [redacted]>"


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
    """400 ``invalid_request`` (RFC 6750 section 3.1) with its challenge. Never a DB query."""

    status_code = 400
    default_code = "invalid_request"

    def __init__(self, scheme: str, message: str) -> None:
        super().__init__({"detail": message, "error": "invalid_request"}, code="invalid_request")
        self.auth_header = challenge(scheme, error="invalid_request", error_description=message)


def _why_malformed(rest: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in rest):
        if "\t" in rest:
            return str(_("Separate the scheme and the credential with spaces, not tabs."))
        return str(_("The Authorization header contains control characters."))
    if not rest.isascii():
        return str(_("The Authorization header contains non-ASCII characters."))
    if not rest.strip():
        return str(_("The Authorization header has a scheme but no credential."))
    if not rest.startswith(" "):
        return str(_("Separate the scheme and the credential with a space."))
    return str(_("Send exactly one credential after the scheme, with no other parts."))


def read_authorization(request: Request, scheme: str) -> str | None:
    """Return the credential of an ``Authorization: <scheme> <token68>`` header.

    Returns None when there is no header or its scheme (compared case-insensitively, RFC 9110
    section 11.1) is another. Raises :class:`InvalidRequest` when the header is ours but not
    exactly the scheme, one or more spaces and one token68; or when it has no scheme at all.
    """
    header: str | None = request._request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    found = _SCHEME.match(header)
    if found is None:
        raise InvalidRequest(scheme, str(_("The Authorization header has no scheme.")))
    if found.group().lower() != scheme.lower():
        return None
    if len(header) > MAX_CREDENTIAL_LENGTH:
        raise InvalidRequest(scheme, str(_("The Authorization header is too long.")))
    rest = header[found.end() :]
    credential = rest.lstrip(" ")
    if rest.startswith(" ") and TOKEN68.fullmatch(credential):
        return credential
    raise InvalidRequest(scheme, _why_malformed(rest))


#: Made once: building a lazy translation costs more than translating it.
_INVALID_CREDENTIAL = _("Invalid, expired or revoked credential.")


class InvalidToken(exceptions.AuthenticationFailed):
    """401 ``invalid_token``: ``{"detail": <message>, "error": "invalid_token"}``."""

    def __init__(self, message: str) -> None:
        # The same detail APIException.__init__ would build, made directly: every refused
        # credential raises one, so this sits on the path of the cheapest refusals.
        self.detail = {
            "detail": exceptions.ErrorDetail(message, code="invalid_token"),
            "error": exceptions.ErrorDetail("invalid_token", code="invalid_token"),
        }


def refuse(request: Request, scheme: str) -> exceptions.AuthenticationFailed:
    """The one generic 401 for a credential that does not authenticate, whatever the reason."""
    message = str(_INVALID_CREDENTIAL)
    setattr(request, _CHALLENGE_ERROR, (scheme, message))
    return InvalidToken(message)


class ChallengeMixin:
    """What our authentication classes share: a challenge, a ``WWW-Authenticate`` for 401s that
    names every scheme the view accepts (DRF asks only the first class listed), and malformed
    input refused the same way whichever class DRF asks first."""

    def scheme(self) -> str:
        raise NotImplementedError

    def read_credential(self, request: Request) -> str | None:
        """Return the well-formed credential of this class the request sends, or None.

        Raises :class:`InvalidRequest` when the request is malformed for this class; no query.
        """
        raise NotImplementedError

    def read_once(self, request: Request) -> str | None:
        """Return :meth:`read_credential` for ``request``, reading it only once per request.

        ``check_request`` reads every class's credential to refuse malformed input, and
        ``authenticate`` needs the same value again: the first read is kept on the request,
        wrapped so that no repr (of the request's attributes, of this frame's locals in an
        error report) shows it.
        """
        memo: dict[ChallengeMixin, _Read] | None = vars(request).get(_READ)
        if memo is None:
            memo = {}
            setattr(request, _READ, memo)
        read = memo.get(self)
        if read is None:
            read = memo[self] = _Read(self.read_credential(request))
        return read.value

    def check_input(self, request: Request) -> None:
        """Raise :class:`InvalidRequest` if the request is malformed for this class; no query."""
        self.read_once(request)

    def check_request(self, request: Request) -> None:
        """Run, once per request, ``check_input`` of every one of our classes the view lists.

        DRF stops at the first class that authenticates, so a check made only by a class listed
        later (``?access_token=`` next to a good API key) would pass or fail depending on the
        order of ``authentication_classes``; the HTTP answers must not (issue 2, section 5).
        """
        if vars(request).get(_INPUT_CHECKED):
            return
        setattr(request, _INPUT_CHECKED, True)
        for authenticator in getattr(request, "authenticators", None) or [self]:
            if isinstance(authenticator, ChallengeMixin):
                authenticator.check_input(request)

    def challenge(self, request: Request) -> str:
        error = vars(request).get(_CHALLENGE_ERROR)
        if error is not None and error[0] == self.scheme():
            return challenge(self.scheme(), error="invalid_token", error_description=error[1])
        return challenge(self.scheme())

    def authenticate_header(self, request: Request) -> str:
        parts: list[str] = []
        for authenticator in getattr(request, "authenticators", None) or [self]:
            if isinstance(authenticator, ChallengeMixin):
                part = authenticator.challenge(request)
            else:
                part = authenticator.authenticate_header(request)
            if part and part not in parts:
                parts.append(part)
        return ", ".join(parts)
