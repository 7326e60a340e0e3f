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
* **audit**: every token issued, rotated or revoked is written to the audit log
  (:class:`~iiniit_auth.oauth.audited.AuditedValidator`);
* **input django-oauth-toolkit would fail on** is refused first (:mod:`iiniit_auth.oauth.inputs`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2.rfc6749 import errors, utils

from iiniit_auth.oauth import redirects
from iiniit_auth.oauth.audited import AuditedValidator
from iiniit_auth.oauth.inputs import RESOURCE_UNPARSEABLE, holds_nul, unparseable_resource
from iiniit_auth.oauth.models import REFUSED_GRANTS, ApplicationPolicy

#: Grants an application may be registered for but never use here (RFC 9700).
REFUSED_APPLICATION_GRANTS = REFUSED_GRANTS
_ALLOWED_SCOPES = "_iiniit_allowed_scopes"


class OAuth2Validator(AuditedValidator):
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
        a narrowing of the application's allowed scopes.
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

    @sensitive_variables("credentials")
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
