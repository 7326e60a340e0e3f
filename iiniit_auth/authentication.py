"""DRF authentication classes: API keys (``ApiKey``) and OAuth 2.0 bearer tokens (``Bearer``).

The contract is DRF's: ``authenticate()`` returns None when the request carries no credential
of its kind, ``(user, credential)`` when it carries a good one, and raises when it carries a bad
one. Answers, whichever order the classes are listed in:

* malformed input (RFC 9110 section 11.6.2 syntax, two credentials, a 10 KB value): 400
  ``invalid_request``, before any database query;
* a credential that does not authenticate, for whatever reason: 401 ``invalid_token``, one
  generic answer (the reason goes to the audit log, never to the caller);
* no credential: 401 whose ``WWW-Authenticate`` names every scheme the view accepts.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.contrib.rest_framework import (
    OAuth2Authentication as DOTOAuth2Authentication,
)
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from iiniit_auth import keys, lookup, signals
from iiniit_auth.cache import key_cache
from iiniit_auth.conf import auth_settings
from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.exceptions import MalformedKey, RefusalReason
from iiniit_auth.models import AbstractAPIKey, APIKey, CredentialEvent

#: Longer Authorization values or key parameters are refused unread (400).
MAX_CREDENTIAL_LENGTH = 2048

_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 section 5.6.2 token (tchar)
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 9110 section 11.2
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
    if rest.startswith(" ") and _TOKEN68.fullmatch(credential):
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


def _refuse(request: Request, scheme: str) -> exceptions.AuthenticationFailed:
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


def _api_key_params(request: Request) -> list[str]:
    name = auth_settings().QUERY_PARAM_NAME
    return request._request.GET.getlist(name) if name in request._request.GET else []


class APIKeyAuthentication(ChallengeMixin, BaseAuthentication):
    """Authenticates ``Authorization: ApiKey <key>`` or ``?api_key=<key>``.

    On success ``request.user`` is the key's owner and ``request.auth`` the key. Refuses
    (401, generically) unknown, expired, revoked and rotated-out keys, keys of inactive users,
    and requests from outside the key's networks; each refusal of a known key is audited.
    Set ``model`` on a subclass to authenticate a custom key model.
    """

    model: type[AbstractAPIKey] = APIKey

    def scheme(self) -> str:
        return auth_settings().HEADER_SCHEME

    @sensitive_variables("key", "header_key", "params")
    def read_key(self, request: Request) -> str | None:
        """Return the well-formed key the request sends, or None if it sends none.

        Raises :class:`InvalidRequest` for a malformed header, a parameter that is not allowed,
        given twice or not a token68, or a key both in the header and the query string.
        Touches no database.
        """
        conf = auth_settings()
        scheme = conf.HEADER_SCHEME
        name = conf.QUERY_PARAM_NAME
        query = request._request.GET
        params = query.getlist(name) if name in query else []
        header_key = read_authorization(request, scheme)
        if not params:
            return header_key
        if not conf.ALLOW_QUERY_PARAM:
            raise InvalidRequest(
                scheme,
                str(
                    _(
                        "Keys are not accepted in the query string here: send Authorization: %(s)s <key>."
                    )
                )
                % {"s": scheme},
            )
        if len(params) > 1:
            raise InvalidRequest(
                scheme, str(_("The %(p)s parameter is given more than once.")) % {"p": name}
            )
        if "HTTP_AUTHORIZATION" in request.META:
            raise InvalidRequest(
                scheme,
                str(
                    _(
                        "Send one credential: an Authorization header and the %(p)s parameter were both given."
                    )
                )
                % {"p": name},
            )
        key = params[0]
        if len(key) > MAX_CREDENTIAL_LENGTH or not _TOKEN68.fullmatch(key):
            raise InvalidRequest(
                scheme, str(_("The %(p)s parameter is not a well-formed key.")) % {"p": name}
            )
        return key

    def read_credential(self, request: Request) -> str | None:
        return self.read_key(request)

    @sensitive_variables("key")
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, AbstractAPIKey] | None:
        self.check_request(request)
        key = self.read_once(request)
        return None if key is None else self.authenticate_key(request, key)

    @sensitive_variables("key")
    def authenticate_key(
        self, request: Request, key: str
    ) -> tuple[AbstractBaseUser, AbstractAPIKey]:
        """Check a well-formed key string; return ``(owner, key)`` or raise the generic 401.

        A key whose form or checksum is wrong costs no query. Otherwise the key and its owner
        come from the lookup cache when it is on and holds them (no query), else from
        :meth:`lookup` (one query), and every check runs on them alike. An accepted key's
        ``last_used_at`` is stamped at most once per ``LAST_USED_UPDATE_INTERVAL``.
        """
        conf = auth_settings()
        try:
            public_id = keys.parse(key, conf.KEY_PREFIX)
        except MalformedKey:
            raise _refuse(request, conf.HEADER_SCHEME) from None
        store = key_cache()
        found = None if store is None else store.get(self.model, public_id)
        cached = found is not None
        if found is None:
            found = self.lookup(public_id)
        if found is None:
            raise _refuse(request, conf.HEADER_SCHEME)
        now = timezone.now()
        address = request._request.META.get("REMOTE_ADDR")
        owner = found.owner
        if not keys.matches(key, found.digest, conf.PEPPER):
            reason: RefusalReason | None = RefusalReason.DIGEST_MISMATCH
        elif not owner.is_active:
            reason = RefusalReason.OWNER_INACTIVE
        else:
            reason = found.refusal_reason(now, address or "")
        if reason is not None:
            self.record_refusal(found, reason, address)
            raise _refuse(request, conf.HEADER_SCHEME)
        if store is None:
            found.record_use(now)
        elif cached:
            store.record_use(found, now)
        else:
            found.record_use(now)
            store.add(found, now)
        return owner, found

    def lookup(self, public_id: str) -> AbstractAPIKey | None:
        """Return the key with ``public_id`` and its owner, in one query; None if unknown.

        The query is precompiled (:mod:`iiniit_auth.lookup`); override this to look keys up
        another way.
        """
        return lookup.find_key(self.model, public_id)

    def record_refusal(
        self, key: AbstractAPIKey, reason: RefusalReason, address: str | None
    ) -> None:
        """Audit a refused use of a known key and send ``credential_refused``."""
        CredentialEvent.record(
            CredentialEvent.Kind.API_KEY,
            key.public_id,
            CredentialEvent.Event.REFUSED,
            ip=address,
            details={"reason": reason.value},
        )
        signals.credential_refused.send(
            sender=type(key),
            kind=CredentialEvent.Kind.API_KEY,
            credential_id=key.public_id,
            reason=reason,
            ip=address,
        )


class OAuth2Authentication(ChallengeMixin, DOTOAuth2Authentication):  # type: ignore[misc]
    """Authenticates ``Authorization: Bearer <token>`` against django-oauth-toolkit's tokens.

    The token is looked up by its SHA-256 checksum (django-oauth-toolkit's own index, which
    works with hashed token storage) in one query with its user and application; an expired,
    revoked (deleted) or unknown token, a token of an inactive user, or one restricted
    (RFC 8707 ``resource``) to other resource servers, is refused with ``invalid_token``.
    A client-credentials token, which has no user, authenticates as a
    :class:`~iiniit_auth.credentials.ClientPrincipal` for its application. Tokens in the query
    string (``?access_token=``) are refused (RFC 9700 section 2.5). When django-oauth-toolkit is
    set up as a resource server that introspects remotely, its own validation runs instead.
    """

    def scheme(self) -> str:
        return "Bearer"

    @sensitive_variables("token")
    def read_token(self, request: Request) -> str | None:
        """Return the well-formed bearer token the request sends, or None if it sends none.

        Raises :class:`InvalidRequest` for ``?access_token=``, a malformed header, or a bearer
        token next to a key parameter. Touches no database.
        """
        if "access_token" in request._request.GET:
            raise InvalidRequest(
                "Bearer",
                str(
                    _(
                        "Access tokens are not accepted in the query string: send Authorization: Bearer <token>."
                    )
                ),
            )
        token = read_authorization(request, "Bearer")
        if token is not None and _api_key_params(request):
            raise InvalidRequest(
                "Bearer",
                str(
                    _(
                        "Send one credential: a bearer token and the %(p)s parameter were both given."
                    )
                )
                % {"p": auth_settings().QUERY_PARAM_NAME},
            )
        return token

    def read_credential(self, request: Request) -> str | None:
        return self.read_token(request)

    @sensitive_variables("token")
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        self.check_request(request)
        token = self.read_once(request)
        if token is None:
            return None
        if oauth2_settings.RESOURCE_SERVER_INTROSPECTION_URL:
            result = super().authenticate(request)
            if result is None:
                raise _refuse(request, "Bearer")
            user, access_token = result
            if user is None:
                # A client-credentials token introspected remotely has no user either.
                if getattr(access_token, "application", None) is None:
                    raise _refuse(request, "Bearer")
                return ClientPrincipal(access_token.application), access_token
            return user, access_token
        checksum = hashlib.sha256(token.encode("ascii")).hexdigest()
        access_token = lookup.fetch(
            get_access_token_model(), "token_checksum", checksum, ("user", "application")
        )
        if access_token is None or access_token.is_expired():
            raise _refuse(request, "Bearer")
        # RFC 8707: a token restricted to other resource servers is not good here; the same
        # check django-oauth-toolkit makes (against the URI without its query string).
        if access_token.resource and not access_token.allows_audience(
            request._request.build_absolute_uri(request._request.path)
        ):
            raise _refuse(request, "Bearer")
        user = access_token.user
        if user is None:
            if access_token.application is None:
                raise _refuse(request, "Bearer")
            return ClientPrincipal(access_token.application), access_token
        if not user.is_active:
            raise _refuse(request, "Bearer")
        return user, access_token

    def authenticate_header(self, request: Request) -> str:
        return ChallengeMixin.authenticate_header(self, request)
