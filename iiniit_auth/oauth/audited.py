"""django-oauth-toolkit's validator, auditing every token it writes.

Every token issued, rotated (a refresh) or revoked (RFC 7009 revocation, or a refresh token's
or an authorization code's replay revoking its grant) is written to the audit log, in the
transaction that writes it; and an authorization code buys one token pair, whatever arrives
at the same moment (:mod:`iiniit_auth.oauth.codes`).
:class:`~iiniit_auth.oauth.validators.OAuth2Validator`, the one to configure, adds iiniit_auth's
rules on top.
"""

from __future__ import annotations

import hashlib
from typing import Any, NoReturn

from django.db import router, transaction
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator as DOTOAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.oauth import codes
from iiniit_auth.oauth.inputs import holds_nul
from iiniit_auth.oauth.models import RevokedVia, refresh_token_credential_id
from iiniit_auth.oauth.tokens import (
    lock_live_family,
    record_replay_refused,
    record_token_issued,
    revoke_token,
)

_ISSUED = "_iiniit_issued"
_CAUSED_BY = "_iiniit_refreshed_from"
_CLAIMED = "_iiniit_code_claimed"


def _client_ip(request: Any) -> str | None:
    headers = getattr(request, "headers", None) or {}
    address = headers.get("REMOTE_ADDR")
    return str(address) if address else None


class AuditedValidator(DOTOAuth2Validator):  # type: ignore[misc]
    """django-oauth-toolkit's validator; each token it issues, rotates or revokes is audited."""

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

    # -- authorization codes: one token pair each (RFC 6749 sections 4.1.2 and 10.5) --------

    @sensitive_variables("code", "token")
    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        """django-oauth-toolkit's; for an authorization code, in one transaction, the code is
        claimed first, then its tokens saved, then the code spent and remembered.

        Raises ``invalid_grant`` when a redemption of the same code under way took it first:
        then nothing is saved (:mod:`iiniit_auth.oauth.codes`).
        """
        code = getattr(request, "code", None)
        if request.grant_type != "authorization_code" or not code:
            return super().save_bearer_token(token, request, *args, **kwargs)
        with transaction.atomic(using=router.db_for_write(get_access_token_model())):
            claimed = codes.claim(code, request.client)
            if claimed:
                result = super().save_bearer_token(token, request, *args, **kwargs)
                access_token, refresh_token = getattr(request, _ISSUED, None) or (None, None)
                codes.remember(code, request.client, access_token, refresh_token)
        if not claimed:
            self._lost_to_simultaneous(request)
        setattr(request, _CLAIMED, True)
        return result

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """Nothing left to do for a code claimed with its tokens (:meth:`save_bearer_token`)."""
        if getattr(request, _CLAIMED, False):
            return
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)

    @sensitive_variables("code")
    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """django-oauth-toolkit's check; a code presented after its redemption revokes the
        tokens issued from it, audited (:func:`iiniit_auth.oauth.codes.refuse_replay`)."""
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        codes.refuse_replay(code, client, ip=_client_ip(request))
        return False

    # django-oauth-toolkit reads the code's row again for each of these; a redemption at the
    # same moment may have deleted it since validate_code, which was a 500.

    @sensitive_variables("code")
    def get_code_challenge(self, code: str, request: Any) -> Any:
        try:
            return super().get_code_challenge(code, request)
        except get_grant_model().DoesNotExist:
            self._lost_to_simultaneous(request)

    @sensitive_variables("code")
    def get_code_challenge_method(self, code: str, request: Any) -> Any:
        try:
            return super().get_code_challenge_method(code, request)
        except get_grant_model().DoesNotExist:
            self._lost_to_simultaneous(request)

    @sensitive_variables("code")
    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        try:
            return bool(
                super().confirm_redirect_uri(
                    client_id, code, redirect_uri, client, request, *args, **kwargs
                )
            )
        except get_grant_model().DoesNotExist:
            self._lost_to_simultaneous(request)

    def _lost_to_simultaneous(self, request: Any) -> NoReturn:
        codes.record_simultaneous(request.code, request.client, ip=_client_ip(request))
        raise errors.InvalidGrantError(request=request)

    @sensitive_variables("refresh_token")
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

    @sensitive_variables("refresh_token")
    def _replayed_family(self, refresh_token: str) -> dict[str, Any] | None:
        """What a replay of ``refresh_token`` would revoke: its grant's live tokens, or None."""
        if not oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
            return None
        checksum = hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()
        replayed = (
            get_refresh_token_model()
            ._default_manager.filter(token_checksum=checksum, revoked__isnull=False)
            .select_related("application", "user")
            .order_by("-revoked")
            .first()
        )
        if replayed is None or not replayed.token_family:
            return None
        return {"replayed": replayed, "live": lock_live_family(replayed.token_family)}

    def _record_family_revoked(self, family: dict[str, Any], request: Any) -> None:
        replayed = family["replayed"]
        record_replay_refused(
            family["live"],
            credential_id=refresh_token_credential_id(replayed.pk),
            # A used refresh token presented again revokes what lives of its grant; one
            # revoked before (by the client, an administrator or an earlier replay) is just dead.
            revoked={"reason": "reused", "grant_revoked": True},
            otherwise={"reason": "revoked"},
            application=replayed.application,
            user=replayed.user,
            ip=_client_ip(request),
        )

    @sensitive_variables("token")
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
