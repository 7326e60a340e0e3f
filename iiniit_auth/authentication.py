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

from iiniit_auth import keys, signals
from iiniit_auth.conf import auth_settings
from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.exceptions import MalformedKey, RefusalReason
from iiniit_auth.models import AbstractAPIKey, APIKey, CredentialEvent

#: Longer Authorization values or key parameters are refused unread (400).
MAX_CREDENTIAL_LENGTH = 2048

_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 section 5.6.2 token (tchar)
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 9110 section 11.2
_CHALLENGE_ERROR = "_iiniit_challenge_error"
_INPUT_CHECKED = "_iiniit_input_checked"


def quote(value: str) -> str:
    """Return ``value`` as the inside of an RFC 9110 quoted-string (no CR/LF, escaped quotes)."""
    value = value.replace("\r", " ").replace("\n", " ")
    return value.replace("\\", "\\\\").replace('"', '\\"')


def challenge(scheme: str, **params: str) -> str:
    """Return one ``WWW-Authenticate`` challenge: ``scheme realm="…", k="v", …``."""
    pairs = {"realm": auth_settings().REALM, **params}
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
    header: str | None = request.META.get("HTTP_AUTHORIZATION")
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


def _refuse(request: Request, scheme: str) -> exceptions.AuthenticationFailed:
    """The one generic 401 for a credential that does not authenticate, whatever the reason."""
    message = str(_("Invalid, expired or revoked credential."))
    setattr(request, _CHALLENGE_ERROR, (scheme, message))
    return exceptions.AuthenticationFailed(
        {"detail": message, "error": "invalid_token"}, code="invalid_token"
    )


class ChallengeMixin:
    """What our authentication classes share: a challenge, a ``WWW-Authenticate`` for 401s that
    names every scheme the view accepts (DRF asks only the first class listed), and malformed
    input refused the same way whichever class DRF asks first."""

    def scheme(self) -> str:
        raise NotImplementedError

    def check_input(self, request: Request) -> None:
        """Raise :class:`InvalidRequest` if the request is malformed for this class; no query."""
        raise NotImplementedError

    def check_request(self, request: Request) -> None:
        """Run, once per request, ``check_input`` of every one of our classes the view lists.

        DRF stops at the first class that authenticates, so a check made only by a class listed
        later (``?access_token=`` next to a good API key) would pass or fail depending on the
        order of ``authentication_classes``; the HTTP answers must not (issue 2, section 5).
        """
        if getattr(request, _INPUT_CHECKED, False):
            return
        setattr(request, _INPUT_CHECKED, True)
        for authenticator in getattr(request, "authenticators", None) or [self]:
            if isinstance(authenticator, ChallengeMixin):
                authenticator.check_input(request)

    def challenge(self, request: Request) -> str:
        error = getattr(request, _CHALLENGE_ERROR, None)
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
        params = _api_key_params(request)
        header_key = read_authorization(request, scheme)
        if not params:
            return header_key
        name = conf.QUERY_PARAM_NAME
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

    def check_input(self, request: Request) -> None:
        self.read_key(request)

    @sensitive_variables("key")
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, AbstractAPIKey] | None:
        self.check_request(request)
        key = self.read_key(request)
        return None if key is None else self.authenticate_key(request, key)

    @sensitive_variables("key")
    def authenticate_key(
        self, request: Request, key: str
    ) -> tuple[AbstractBaseUser, AbstractAPIKey]:
        """Check a well-formed key string; return ``(owner, key)`` or raise the generic 401."""
        conf = auth_settings()
        try:
            public_id = keys.parse(key, conf.KEY_PREFIX)
        except MalformedKey:
            raise _refuse(request, conf.HEADER_SCHEME) from None
        found = self.lookup(public_id)
        if found is None:
            raise _refuse(request, conf.HEADER_SCHEME)
        now = timezone.now()
        address = request.META.get("REMOTE_ADDR")
        if not keys.matches(key, found.digest, conf.PEPPER):
            reason: RefusalReason | None = RefusalReason.DIGEST_MISMATCH
        elif not found.owner.is_active:
            reason = RefusalReason.OWNER_INACTIVE
        else:
            reason = found.refusal_reason(now, address or "")
        if reason is not None:
            self.record_refusal(found, reason, address)
            raise _refuse(request, conf.HEADER_SCHEME)
        found.record_use(now)
        return found.owner, found

    def lookup(self, public_id: str) -> AbstractAPIKey | None:
        """Return the key with ``public_id`` and its owner, in one query; None if unknown."""
        return (
            self.model._default_manager.select_related("owner").filter(public_id=public_id).first()
        )

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

    def check_input(self, request: Request) -> None:
        self.read_token(request)

    @sensitive_variables("token")
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        self.check_request(request)
        token = self.read_token(request)
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
        access_token = (
            get_access_token_model()
            ._default_manager.select_related("user", "application")
            .filter(token_checksum=checksum)
            .first()
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
