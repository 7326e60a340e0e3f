"""django-oauth-toolkit's validator, auditing every token it writes.

Every token issued, rotated (a refresh) or revoked (RFC 7009 revocation, or a refresh token's
replay revoking its grant) is written to the audit log, in the transaction that writes it.
:class:`~iiniit_auth.oauth.validators.OAuth2Validator`, the one to configure, adds iiniit_auth's
rules on top.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import router, transaction
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator as DOTOAuth2Validator
from oauth2_provider.settings import oauth2_settings

from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.models import CredentialEvent
from iiniit_auth.models.oauth import RevokedVia, refresh_token_credential_id
from iiniit_auth.oauth.inputs import holds_nul
from iiniit_auth.oauth.tokens import record_token_issued, record_tokens_revoked, revoke_token

_ISSUED = "_iiniit_issued"
_CAUSED_BY = "_iiniit_refreshed_from"


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
        # Locked: a concurrent replay of the same token waits for this one, and then finds
        # nothing live, so the grant's revocation is recorded once.
        live = list(
            RefreshToken._default_manager.select_for_update()
            .filter(token_family=replayed.token_family, revoked__isnull=True)
            .order_by("pk")
            .values_list("pk", "access_token_id")
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
