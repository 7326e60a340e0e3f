"""DRF authentication classes: API keys (``ApiKey``) and OAuth 2.0 bearer tokens (``Bearer``).

The contract is DRF's: ``authenticate()`` returns None when the request carries no credential
of its kind, ``(user, credential)`` when it carries a good one, and raises when it carries a bad
one. Answers, whichever order the classes are listed in:

* malformed input (RFC 9110 section 11.6.2 syntax, two credentials, a 10 KB value): 400
  ``invalid_request``, before any database query;
* a credential that does not authenticate, for whatever reason: 401 ``invalid_token``, one
  generic answer (the reason goes to the audit log, never to the caller);
* a credential from an address, or a key with a public id, refused ``FAILED_AUTH_LIMIT``
  times in this window: 429 ``rate_limited``, before any database query
  (:mod:`iiniit_auth.throttling`);
* no credential: 401 whose ``WWW-Authenticate`` names every scheme the view accepts.
"""

from __future__ import annotations

import hashlib
from time import monotonic
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from django.views.decorators.debug import sensitive_variables
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from iiniit_auth import keys, lookup, signals, usage
from iiniit_auth.cache import key_cache
from iiniit_auth.challenges import (
    MAX_CREDENTIAL_LENGTH,
    TOKEN68,
    ChallengeMixin,
    InvalidRequest,
    read_authorization,
    refuse,
)
from iiniit_auth.conf import auth_settings
from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.deferred import after_request
from iiniit_auth.exceptions import RefusalReason
from iiniit_auth.models import AbstractAPIKey, APIKey, CredentialEvent
from iiniit_auth.throttling import check_failed_auth, claim_refusal_audit, record_failed_auth


def refused(
    request: Request, scheme: str, public_id: str | None = None
) -> exceptions.AuthenticationFailed:
    """The generic 401 (:func:`~iiniit_auth.challenges.refuse`), the refusal counted against
    the client's address and, for a well-formed key, its public id. No query."""
    record_failed_auth(request, public_id)
    return refuse(request, scheme)


class APIKeyAuthentication(ChallengeMixin, BaseAuthentication):
    """Authenticates ``Authorization: ApiKey <key>`` or ``?api_key=<key>``.

    On success ``request.user`` is the key's owner and ``request.auth`` the key. Refuses
    (401, generically) unknown, expired, revoked and rotated-out keys, keys of inactive users,
    and requests from outside the key's networks; each refusal of a known key is audited.
    Set ``model`` on a subclass to authenticate a custom key model.
    """

    model: type[AbstractAPIKey] = APIKey
    reads_authorization_only = True
    #: Whether keys may come from the lookup cache (when it is on). Entries are shared by every
    #: class of the same model, so a subclass that overrides :meth:`lookup` (to refuse some
    #: keys, say) reads the database on every request: a hit would skip its lookup.
    cacheable = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "cacheable" not in cls.__dict__:
            cls.cacheable = cls.cacheable and cls.lookup is APIKeyAuthentication.lookup

    def scheme(self) -> str:
        return auth_settings().HEADER_SCHEME

    @sensitive_variables("key", "params")
    def read_credential(self, request: Request) -> str | None:
        """Return the well-formed key the request sends, or None if it sends none.

        Raises :class:`InvalidRequest` for a malformed header, a parameter that is not allowed,
        given twice or not a token68, or a key both in the header and the query string.
        Touches no database.
        """
        conf = auth_settings()
        scheme = conf.HEADER_SCHEME
        name = conf.QUERY_PARAM_NAME
        query = request._request.GET
        if name not in query:
            return read_authorization(request, scheme)
        params = query.getlist(name)
        read_authorization(request, scheme)  # a malformed header is refused first
        if not conf.ALLOW_QUERY_PARAM:
            raise InvalidRequest(
                scheme,
                gettext_noop(
                    "Keys are not accepted in the query string here: send Authorization: %(s)s <key>."
                ),
                {"s": scheme},
            )
        if len(params) > 1:
            raise InvalidRequest(
                scheme, gettext_noop("The %(p)s parameter is given more than once."), {"p": name}
            )
        if "HTTP_AUTHORIZATION" in request._request.META:
            raise InvalidRequest(
                scheme,
                gettext_noop(
                    "Send one credential: an Authorization header and the %(p)s parameter were both given."
                ),
                {"p": name},
            )
        key = params[0]
        if len(key) > MAX_CREDENTIAL_LENGTH or not TOKEN68.fullmatch(key):
            raise InvalidRequest(
                scheme, gettext_noop("The %(p)s parameter is not a well-formed key."), {"p": name}
            )
        return key

    @sensitive_variables("key")
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, AbstractAPIKey] | None:
        """Return ``(owner, key)`` for the key the request sends, None if it sends none, or
        raise the generic 401.

        A key whose form or checksum is wrong costs no query. Otherwise the key and its owner
        come from the lookup cache when it is on and holds them (no query), else from
        :meth:`lookup` (one query), and every check runs on them alike. An accepted key's
        ``last_used_at`` is stamped at most once per ``LAST_USED_UPDATE_INTERVAL``.
        """
        # One method, not two: each @sensitive_variables wrapper costs a call on every request.
        key = self.read_once(request)
        if key is None:
            return None
        conf = auth_settings()
        public_id = keys.public_id_of(key, conf.KEY_PREFIX)
        check_failed_auth(request, public_id)
        if public_id is None:
            raise refused(request, conf.HEADER_SCHEME)
        store = key_cache() if self.cacheable else None
        found = None if store is None else store.get(self.model, public_id)
        cached = found is not None
        if found is None:
            read_at = monotonic()
            found = self.lookup(public_id)
        if found is None:
            raise refused(request, conf.HEADER_SCHEME, public_id)
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
            raise refused(request, conf.HEADER_SCHEME, public_id)
        if store is None:
            found.record_use(now)
        elif cached:
            store.record_use(found, now)
        else:
            found.record_use(now)
            store.add(found, now, read_at)
        usage.count(found, now)
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
        """Audit a refused use of a known key and send ``credential_refused``.

        The signal goes out for every refusal; the audit event at most once per key, reason
        and minute, with the number of refusals it stands for in ``details["count"]``
        (:func:`~iiniit_auth.throttling.claim_refusal_audit`), so a flood of wrong secrets for
        a known key cannot flood the log. Under ``ATOMIC_REQUESTS`` DRF rolls the request's
        transaction back on the 401, and the audit row would go with it: then the write waits
        until the request has finished.
        """

        def write() -> None:
            refusals = claim_refusal_audit(type(key), key.public_id, reason.value)
            if refusals is not None:
                CredentialEvent.record(
                    CredentialEvent.Kind.API_KEY,
                    key.public_id,
                    CredentialEvent.Event.REFUSED,
                    ip=address,
                    details={"reason": reason.value, "count": refusals},
                )
            signals.credential_refused.send(
                sender=type(key),
                kind=CredentialEvent.Kind.API_KEY,
                credential_id=key.public_id,
                reason=reason,
                ip=address,
            )

        connection = transaction.get_connection(key._state.db)
        if connection.settings_dict.get("ATOMIC_REQUESTS") and connection.in_atomic_block:
            after_request(write)
        else:
            write()


class OAuth2Authentication(ChallengeMixin, BaseAuthentication):
    """Authenticates ``Authorization: Bearer <token>`` against django-oauth-toolkit's tokens.

    The token is looked up by its SHA-256 checksum (django-oauth-toolkit's own index, which
    works with hashed token storage) in one query with its user and application; an expired,
    revoked (deleted) or unknown token, a token of an inactive user, or one restricted
    (RFC 8707 ``resource``) to other resource servers, is refused with ``invalid_token``.
    A client-credentials token, which has no user, authenticates as a
    :class:`~iiniit_auth.credentials.ClientPrincipal` for its application. Tokens in the query
    string (``?access_token=``) are refused (RFC 9700 section 2.5). When django-oauth-toolkit is
    set up as a resource server that introspects remotely, its own validation runs instead.

    django-oauth-toolkit is imported when a bearer token is first verified, never before: a
    project that accepts API keys alone need not install it.
    """

    reads_authorization_only = True

    def scheme(self) -> str:
        return "Bearer"

    @sensitive_variables("token")
    def read_credential(self, request: Request) -> str | None:
        """Return the well-formed bearer token the request sends, or None if it sends none.

        Raises :class:`InvalidRequest` for ``?access_token=``, a malformed header, or a bearer
        token next to a key parameter. Touches no database.
        """
        query = request._request.GET
        if not query:
            return read_authorization(request, "Bearer")
        if "access_token" in query:
            raise InvalidRequest(
                "Bearer",
                gettext_noop(
                    "Access tokens are not accepted in the query string: send Authorization: Bearer <token>."
                ),
            )
        token = read_authorization(request, "Bearer")
        name = auth_settings().QUERY_PARAM_NAME
        if token is not None and name in query:
            raise InvalidRequest(
                "Bearer",
                gettext_noop(
                    "Send one credential: a bearer token and the %(p)s parameter were both given."
                ),
                {"p": name},
            )
        return token

    @sensitive_variables("token")
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        """Return ``(user, token)`` for the bearer token the request sends (a client-credentials
        token's user is its application's :class:`ClientPrincipal`), None if it sends none, or
        raise the generic 401; an accepted token counts in its application's usage."""
        token = self.read_once(request)
        if token is None:
            return None
        check_failed_auth(request, None)
        user, access_token = self.verify(request, token)
        usage.count(access_token)
        return user, access_token

    @sensitive_variables("token")
    def verify(self, request: Request, token: str) -> tuple[Any, Any]:
        """Return ``(user, access token)`` for ``token``, or raise the generic 401.

        Raises ``ImproperlyConfigured`` where the OAuth 2.0 server is not installed (the check
        ``iiniit_auth.E010`` reports it for the default classes).
        """
        try:
            from oauth2_provider.models import get_access_token_model
        except RuntimeError as exc:  # its models are not in an installed app
            raise ImproperlyConfigured(
                "OAuth2Authentication needs the OAuth 2.0 server: add oauth2_provider and "
                "iiniit_auth.oauth to INSTALLED_APPS."
            ) from exc
        from oauth2_provider.settings import oauth2_settings

        if oauth2_settings.RESOURCE_SERVER_INTROSPECTION_URL:
            from oauth2_provider.contrib.rest_framework import (
                OAuth2Authentication as Introspecting,
            )

            result = Introspecting().authenticate(request)
            if result is None:
                raise refused(request, "Bearer")
            user, access_token = result
            if user is None:
                # A client-credentials token introspected remotely has no user either.
                if getattr(access_token, "application", None) is None:
                    raise refused(request, "Bearer")
                return ClientPrincipal(access_token.application), access_token
            if not user.is_active:
                # django-oauth-toolkit does not check it: a deactivated user's tokens must stop
                # working here as they do without introspection.
                raise refused(request, "Bearer")
            return user, access_token
        checksum = hashlib.sha256(token.encode("ascii")).hexdigest()
        access_token = lookup.fetch(
            get_access_token_model(), "token_checksum", checksum, ("user", "application")
        )
        if access_token is None or access_token.is_expired():
            raise refused(request, "Bearer")
        # RFC 8707: a token restricted to other resource servers is not good here; the same
        # check django-oauth-toolkit makes (against the URI without its query string).
        if access_token.resource and not access_token.allows_audience(
            request._request.build_absolute_uri(request._request.path)
        ):
            raise refused(request, "Bearer")
        user = access_token.user
        if user is None:
            if access_token.application is None:
                raise refused(request, "Bearer")
            return ClientPrincipal(access_token.application), access_token
        if not user.is_active:
            raise refused(request, "Bearer")
        return user, access_token

    def authenticate_header(self, request: Request) -> str:
        return ChallengeMixin.authenticate_header(self, request)
