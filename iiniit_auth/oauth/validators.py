"""django-oauth-toolkit's validator, made to enforce iiniit_auth's rules at every grant.

Set it as ``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"] = "iiniit_auth.oauth.validators.OAuth2Validator"``
(:data:`~iiniit_auth.oauth.RECOMMENDED_OAUTH2_PROVIDER` does). On top of django-oauth-toolkit's:

* **per-application scopes**: a request for a scope outside the application's allowed set
  (:class:`~iiniit_auth.models.ApplicationPolicy`; none without a policy) is refused with
  ``invalid_scope`` at the authorization and token endpoints; default scopes are cut to the set;
  a refresh cannot widen (oauthlib checks a refresh only against the original scopes, so the
  original scopes are cut to the set too: narrowing an application narrows its next refresh);
  an authorization code redeemed after a narrowing yields only what is still allowed;
* **no implicit and no password grant** (RFC 9700 sections 2.1.2 and 2.4), whatever the
  application was registered for;
* **PKCE with S256 only** (RFC 9700 section 2.1.1): a ``plain`` or missing method is refused;
* **redirect URIs** over https, or plain http to a loopback address (RFC 8252 section 7.3);
* **audit**: every token issued, rotated or revoked is written to the audit log.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.db import router, transaction
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator as DOTOAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors, utils

from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.models import ApplicationPolicy, CredentialEvent
from iiniit_auth.models.oauth import REFUSED_GRANTS, RevokedVia, refresh_token_credential_id
from iiniit_auth.oauth import redirects
from iiniit_auth.oauth.tokens import record_token_issued, record_tokens_revoked, revoke_token

#: Grants an application may be registered for but never use here (RFC 9700).
REFUSED_APPLICATION_GRANTS = REFUSED_GRANTS
_ALLOWED_SCOPES = "_iiniit_allowed_scopes"
_ISSUED = "_iiniit_issued"
_CAUSED_BY = "_iiniit_refreshed_from"


#: ASCII control characters, which no URI holds (RFC 3986 section 2).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Why a resource indicator that cannot be parsed is refused (RFC 8707 ``invalid_target``).
RESOURCE_UNPARSEABLE = "A resource is not a valid URI: send an absolute URI with a scheme and host."


def unparseable_resource(resources: Iterable[Any]) -> bool:
    """Whether an RFC 8707 ``resource`` in ``resources`` is text ``urlsplit`` cannot read, or
    holds a control character.

    django-oauth-toolkit refuses a resource that is not an absolute URI with ``invalid_target``,
    but parses each without catching the ``ValueError`` of an unclosed IPv6 literal
    (``http://[::1``), and stores one holding a NUL, which PostgreSQL's JSON refuses: a 500 at
    the authorization and token endpoints either way. The callers refuse such a resource first.
    """
    for resource in resources:
        if isinstance(resource, str):
            if _CONTROL.search(resource):
                return True
            try:
                urlsplit(resource)
            except ValueError:
                return True
    return False


def holds_nul(value: Any) -> bool:
    """Whether ``value`` is text with a NUL in it: PostgreSQL refuses such text in any query
    (a ``DataError``), where SQLite merely finds nothing. No client id, code or token has one."""
    return isinstance(value, str) and "\x00" in value


def _client_ip(request: Any) -> str | None:
    headers = getattr(request, "headers", None) or {}
    address = headers.get("REMOTE_ADDR")
    return str(address) if address else None


class OAuth2Validator(DOTOAuth2Validator):  # type: ignore[misc]
    """django-oauth-toolkit's validator with iiniit_auth's rules (see the module docstring)."""

    # -- scopes ---------------------------------------------------------------------------

    def allowed_scopes(self, client: Any, request: Any) -> frozenset[str]:
        """The scopes ``client`` may obtain, read once per oauthlib request."""
        cached = getattr(request, _ALLOWED_SCOPES, None)
        if cached is not None and cached[0] == getattr(client, "pk", None):
            return frozenset(cached[1])
        allowed = ApplicationPolicy.objects.allowed_scopes(client)
        setattr(request, _ALLOWED_SCOPES, (getattr(client, "pk", None), allowed))
        return allowed

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        """Registered scopes the application is allowed; raises ``invalid_scope`` naming the rest.

        Called at the authorization endpoint and for the client-credentials grant.
        """
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        allowed = self.allowed_scopes(client, request)
        outside = sorted({scope for scope in scopes if scope} - allowed)
        if outside:
            if allowed:
                description = str(
                    _("This application may not request the scope(s): %(scopes)s.")
                    % {"scopes": " ".join(outside)}
                )
            else:
                description = str(
                    _(
                        "This application has no allowed scopes yet: an administrator must set "
                        "them before it can request any."
                    )
                )
            raise errors.InvalidScopeError(description=description, request=request)
        return True

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> Any:
        """The scopes backend's defaults, cut to what the application is allowed."""
        defaults = utils.scope_to_list(
            super().get_default_scopes(client_id, request, *args, **kwargs)
        )
        allowed = self.allowed_scopes(request.client, request)
        return [scope for scope in defaults or [] if scope in allowed]

    def get_original_scopes(
        self, refresh_token: str, request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """The refreshed grant's scopes, cut to what the application is allowed now.

        oauthlib's refresh grant checks the requested scopes only against these, and issues
        these when none are requested: cutting them here is what keeps a refresh from outliving
        a narrowing (issue 4).
        """
        original = utils.scope_to_list(
            super().get_original_scopes(refresh_token, request, *args, **kwargs)
        )
        allowed = self.allowed_scopes(request.client, request)
        return [scope for scope in original or [] if scope in allowed]

    def is_within_original_scope(
        self, request_scopes: list[str], refresh_token: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """Never: a refresh gets at most the original scopes (RFC 6749 section 6)."""
        return False

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """django-oauth-toolkit's check; the code's scopes are cut to what is still allowed."""
        if holds_nul(code):
            return False
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        allowed = self.allowed_scopes(client, request)
        request.scopes = [scope for scope in request.scopes or [] if scope and scope in allowed]
        return True

    # -- grants and response types --------------------------------------------------------

    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        """Refuse the password grant, and any grant for an implicit or password application."""
        if grant_type == "password":
            return False
        if getattr(client, "authorization_grant_type", None) in REFUSED_APPLICATION_GRANTS:
            return False
        return bool(
            super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)
        )

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        """Only responses built on an authorization code, never a token in the front channel."""
        values = set((response_type or "").split())
        if "code" not in values or "token" in values:
            return False
        if getattr(client, "authorization_grant_type", None) in REFUSED_APPLICATION_GRANTS:
            return False
        return bool(
            super().validate_response_type(
                client_id, response_type, client, request, *args, **kwargs
            )
        )

    def is_pkce_required(self, client_id: str, request: Any) -> Any:
        """``PKCE_REQUIRED``; and a code challenge must use S256 (RFC 9700 section 2.1.1).

        oauthlib reads a challenge without a method as ``plain``, so the method must be given.
        Raises ``invalid_request`` for any other method.
        """
        challenge = getattr(request, "code_challenge", None)
        method = getattr(request, "code_challenge_method", None)
        if challenge is not None and method != "S256":
            raise errors.InvalidRequestError(
                description=str(
                    _(
                        "Only the S256 code_challenge_method is accepted; send code_challenge_method=S256."
                    )
                ),
                request=request,
            )
        return super().is_pkce_required(client_id, request)

    # -- client authentication -------------------------------------------------------------

    def _load_application(self, client_id: str, request: Any) -> Any:
        """django-oauth-toolkit's lookup of the client; None (an unknown client) for a client id
        with a NUL, which every endpoint would otherwise answer with a 500 on PostgreSQL."""
        if holds_nul(client_id):
            return None
        return super()._load_application(client_id, request)

    def validate_user(
        self, username: str, password: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """Never, and without looking at the password: the password grant is refused.

        oauthlib checks the user before the grant type, so checking the password here would
        answer a right one with ``unauthorized_client`` and a wrong one with ``invalid_grant``:
        a password oracle outside every login page's protection. Every attempt gets
        ``unauthorized_client``, as the grant's refusal says.
        """
        raise errors.UnauthorizedClientError(request=request)

    def _authenticate_basic_auth(self, request: Any) -> bool:
        """HTTP Basic client authentication; False, not an exception, for a header that is
        not base64 at all.

        django-oauth-toolkit catches the errors of decoding base64 text but not the
        ``ValueError`` that ``b64decode`` raises for characters outside ASCII (a header sent in
        Latin-1, say): that was a 500 from the token, revocation and introspection endpoints,
        before any client was known.
        """
        credentials = self._extract_basic_auth(request)
        if credentials and not credentials.isascii():
            return False
        return bool(super()._authenticate_basic_auth(request))

    # -- resource indicators (RFC 8707) ----------------------------------------------------

    def _validate_resource_uris(self, request: Any, resources: Any) -> None:
        """django-oauth-toolkit's check, after refusing what it cannot parse or store
        (``invalid_target``)."""
        if unparseable_resource(resources):
            raise errors.CustomOAuth2Error(
                error="invalid_target", description=RESOURCE_UNPARSEABLE, request=request
            )
        super()._validate_resource_uris(request, resources)

    # -- redirect URIs --------------------------------------------------------------------

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """Registered (exact match) and https, or http to a loopback address."""
        if redirects.refusal(redirect_uri) is not None:
            return False
        return bool(
            super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)
        )

    def get_default_redirect_uri(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """The one registered URI, when the request names none; refused like a named one."""
        uri = super().get_default_redirect_uri(client_id, request, *args, **kwargs)
        if uri and redirects.refusal(uri) is not None:
            raise errors.InvalidRedirectURIError(request=request)
        return uri

    # -- issuing, rotating, revoking: audited ---------------------------------------------

    def _create_access_token(
        self, expires: Any, request: Any, token: Any, source_refresh_token: Any = None
    ) -> Any:
        access_token = super()._create_access_token(
            expires, request, token, source_refresh_token=source_refresh_token
        )
        setattr(request, _ISSUED, [access_token, None])
        return access_token

    def _create_refresh_token(
        self, request: Any, refresh_token_code: str, access_token: Any, previous_refresh_token: Any
    ) -> Any:
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        issued = getattr(request, _ISSUED, None)
        if issued is not None and issued[0] is access_token:
            issued[1] = refresh_token
        return refresh_token

    def _save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        """django-oauth-toolkit's, then the ``issued`` (and ``rotated``) events, in its transaction."""
        setattr(request, _ISSUED, None)
        # django-oauth-toolkit forgets the refresh token it rotates: remember it for the event.
        setattr(request, _CAUSED_BY, getattr(request, "refresh_token_instance", None))
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        issued = getattr(request, _ISSUED, None)
        caused_by = getattr(request, _CAUSED_BY, None)
        if issued is None and caused_by is not None and caused_by.access_token_id is not None:
            # Without rotation, django-oauth-toolkit gives the refreshed grant's access token a
            # new value in place: a token issued all the same.
            reissued = get_access_token_model()._default_manager.filter(
                pk=caused_by.access_token_id
            )
            issued = [reissued.select_related("application", "user").first(), caused_by]
            setattr(request, _CAUSED_BY, None)
        if issued is not None and issued[0] is not None:
            access_token, refresh_token = issued
            actor = access_token.user
            if actor is None and access_token.application is not None:
                actor = ClientPrincipal(access_token.application)
            record_token_issued(
                access_token,
                grant_type=str(request.grant_type or "authorization_code"),
                refresh_token=refresh_token,
                refreshed_from=getattr(request, _CAUSED_BY, None),
                actor=actor,
                ip=_client_ip(request),
            )
        return result

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """django-oauth-toolkit's check; a replay that revokes the grant is audited.

        With ``REFRESH_TOKEN_REUSE_PROTECTION``, presenting a refresh token that was already
        used revokes every token of its grant (RFC 9700 section 4.14.2); those revocations are
        recorded as ``via=reuse_detection``, and the replay itself as ``refused``.
        """
        if holds_nul(refresh_token):
            return False
        # One transaction: the grant's revocation and its audit events stand or fall together.
        with transaction.atomic(using=router.db_for_write(get_refresh_token_model())):
            family = self._replayed_family(refresh_token)
            valid = bool(
                super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
            )
            if not valid and family is not None:
                self._record_family_revoked(family, request)
        return valid

    def _replayed_family(self, refresh_token: str) -> dict[str, Any] | None:
        """What a replay of ``refresh_token`` would revoke: its grant's live tokens, or None."""
        if not oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
            return None
        RefreshToken = get_refresh_token_model()
        checksum = hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()
        replayed = (
            RefreshToken._default_manager.filter(token_checksum=checksum, revoked__isnull=False)
            .select_related("application", "user")
            .order_by("-revoked")
            .first()
        )
        if replayed is None or not replayed.token_family:
            return None
        live = list(
            RefreshToken._default_manager.filter(
                token_family=replayed.token_family, revoked__isnull=True
            ).values_list("pk", "access_token_id")
        )
        return {"replayed": replayed, "live": live}

    def _record_family_revoked(self, family: dict[str, Any], request: Any) -> None:
        replayed = family["replayed"]
        live = family["live"]
        revoked_now = set(
            get_refresh_token_model()
            ._default_manager.filter(pk__in=[pk for pk, _at in live], revoked__isnull=False)
            .values_list("pk", flat=True)
        )
        ip = _client_ip(request)
        CredentialEvent.record(
            CredentialEvent.Kind.OAUTH_TOKEN,
            refresh_token_credential_id(replayed.pk),
            CredentialEvent.Event.REFUSED,
            ip=ip,
            # A used refresh token presented again revokes what lives of its grant; one
            # revoked before (by the client, an administrator or an earlier replay) is just dead.
            details={"reason": "reused", "grant_revoked": True}
            if revoked_now
            else {"reason": "revoked"},
        )
        record_tokens_revoked(
            application=replayed.application,
            user=replayed.user,
            refresh_token_ids=sorted(revoked_now),
            access_token_ids=sorted(at for pk, at in live if pk in revoked_now and at),
            via=RevokedVia.REUSE_DETECTION,
            ip=ip,
        )

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """``/o/revoke_token/`` (RFC 7009): revoke the client's own token, audited.

        Only tokens issued to the authenticated client (section 2.1); an unknown token or one
        of another client is answered 200 all the same (section 2.2), revoking nothing.
        Revoking either token of a pair revokes both.
        """
        application_pk = getattr(request.client, "pk", None)
        if application_pk is None:
            return
        models = [get_access_token_model(), get_refresh_token_model()]
        if token_type_hint == "refresh_token":  # noqa: S105 - a hint name, not a token
            models.reverse()
        lookup = {
            "token_checksum": hashlib.sha256(token.encode("utf-8")).hexdigest(),
            "application_id": application_pk,
        }
        actor = ClientPrincipal(request.client)
        for model in models:
            found = list(model._default_manager.filter(**lookup))
            for match in found:
                revoke_token(
                    match, actor=actor, ip=_client_ip(request), via=RevokedVia.REVOKE_ENDPOINT
                )
            if found:
                return
