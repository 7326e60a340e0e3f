"""OAuth 2.0 tokens: the audited ways they are issued (recorded) and revoked.

django-oauth-toolkit's models are not swapped; a token is revoked the way django-oauth-toolkit
revokes it (an access token is deleted, a refresh token marked revoked), and each revocation is
recorded in the audit log with who did it and through which door (:class:`RevokedVia`), and
sent as ``oauth_token_revoked``. Admin screens, views and commands revoke through
:func:`revoke_token` and :func:`revoke_application_tokens`; the validator records issuance
through :func:`record_token_issued`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import router, transaction
from oauth2_provider.models import (
    AbstractRefreshToken,
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from iiniit_auth import signals
from iiniit_auth.models import CredentialEvent
from iiniit_auth.models.audit import AnyUser, record_and_send, username
from iiniit_auth.oauth.models import (
    AnyApplication,
    RevokedVia,
    access_token_credential_id,
    application_credential_id,
    refresh_token_credential_id,
    require_saved,
)

#: An instance of django-oauth-toolkit's (possibly swapped) AccessToken or RefreshToken model.
AnyToken = Any

__all__ = [
    "RevokedVia",
    "lock_live_family",
    "record_replay_refused",
    "record_token_issued",
    "record_tokens_revoked",
    "revoke_application_tokens",
    "revoke_token",
]


def record_token_issued(
    access_token: AnyToken,
    *,
    grant_type: str,
    refresh_token: AnyToken | None = None,
    refreshed_from: AnyToken | None = None,
    actor: AnyUser | None = None,
    ip: str | None = None,
) -> CredentialEvent:
    """Record that ``access_token`` was issued, and send ``oauth_token_issued``.

    The event names the grant type, the application, the user and the scopes, and links the
    refresh token issued with it (and, for a refresh, the one it replaced, whose ``rotated``
    event names its successor). Never the token itself.
    """
    application = access_token.application
    user = access_token.user
    refresh_id = refresh_token_credential_id(refresh_token.pk) if refresh_token else None
    event = CredentialEvent.record(
        CredentialEvent.Kind.OAUTH_TOKEN,
        access_token_credential_id(access_token.pk),
        CredentialEvent.Event.ISSUED,
        actor=actor,
        ip=ip,
        details={
            "grant_type": grant_type,
            "application": application_credential_id(application) if application else None,
            "user": username(user) if user is not None else None,
            "scopes": access_token.scope.split(),
            "expires": access_token.expires,
            "refresh_token": refresh_id,
        },
    )
    if refreshed_from is not None:
        CredentialEvent.record(
            CredentialEvent.Kind.OAUTH_TOKEN,
            refresh_token_credential_id(refreshed_from.pk),
            CredentialEvent.Event.ROTATED,
            actor=actor,
            ip=ip,
            details={
                "successor": refresh_id,
                "access_token": access_token_credential_id(access_token.pk),
                # Rotation deletes the access token the old refresh token was bound to.
                "previous_access_token": (
                    access_token_credential_id(refreshed_from.access_token_id)
                    if refreshed_from.access_token_id is not None
                    else None
                ),
            },
        )
    signals.oauth_token_issued.send(
        sender=type(access_token),
        token=access_token,
        refresh_token=refresh_token,
        grant_type=grant_type,
        application=application,
        user=user,
    )
    return event


def record_tokens_revoked(
    *,
    application: AnyApplication,
    user: AnyUser | None,
    access_token_ids: Iterable[Any] = (),
    refresh_token_ids: Iterable[Any] = (),
    via: RevokedVia,
    actor: AnyUser | None = None,
    ip: str | None = None,
) -> None:
    """Record a ``revoked`` event and send ``oauth_token_revoked`` for each token given by id.

    For revocations made by django-oauth-toolkit itself (reuse detection revokes a whole grant
    in bulk); the functions below record their own.
    """
    ids = [
        *(refresh_token_credential_id(pk) for pk in refresh_token_ids),
        *(access_token_credential_id(pk) for pk in access_token_ids),
    ]
    for credential_id in ids:
        _record_revoked(credential_id, application, user, via=via, actor=actor, ip=ip)


def lock_live_family(token_family: Any) -> list[tuple[Any, Any]]:
    """``(pk, access_token_id)`` of the live refresh tokens of ``token_family``, locked until
    the transaction ends; call it in one.

    Locked in primary-key order, refresh tokens before access tokens, as django-oauth-toolkit's
    rotation and :func:`revoke_token` lock them: a concurrent revocation of the same family
    waits for this one and then finds nothing live, so each revocation is recorded once.
    """
    return list(
        get_refresh_token_model()
        ._default_manager.select_for_update()
        .filter(token_family=token_family, revoked__isnull=True)
        .order_by("pk")
        .values_list("pk", "access_token_id")
    )


def record_replay_refused(
    live: list[tuple[Any, Any]],
    *,
    credential_id: str,
    revoked: dict[str, Any],
    otherwise: dict[str, Any],
    application: AnyApplication,
    user: AnyUser | None,
    ip: str | None,
) -> bool:
    """Record a replayed credential's refusal, after its family was revoked.

    ``live`` is what :func:`lock_live_family` found before the revocation. Records a
    ``refused`` event on ``credential_id``, with the details ``revoked`` when some of ``live``
    is revoked now and ``otherwise`` when another revocation had taken them all; then a
    ``revoked`` event (``via=reuse_detection``) and ``oauth_token_revoked`` for each token
    revoked now. Returns whether any was.
    """
    revoked_now = set(
        get_refresh_token_model()
        ._default_manager.filter(pk__in=[pk for pk, _at in live], revoked__isnull=False)
        .values_list("pk", flat=True)
    )
    CredentialEvent.record(
        CredentialEvent.Kind.OAUTH_TOKEN,
        credential_id,
        CredentialEvent.Event.REFUSED,
        ip=ip,
        details=revoked if revoked_now else otherwise,
    )
    record_tokens_revoked(
        application=application,
        user=user,
        refresh_token_ids=sorted(revoked_now),
        access_token_ids=sorted(at for pk, at in live if pk in revoked_now and at),
        via=RevokedVia.REUSE_DETECTION,
        ip=ip,
    )
    return bool(revoked_now)


def _record_revoked(
    credential_id: str,
    application: AnyApplication,
    user: AnyUser | None,
    *,
    via: RevokedVia,
    actor: AnyUser | None,
    ip: str | None,
) -> None:
    model = get_refresh_token_model() if credential_id.startswith("refresh:") else None
    record_and_send(
        signals.oauth_token_revoked,
        model or get_access_token_model(),
        CredentialEvent.Kind.OAUTH_TOKEN,
        credential_id,
        CredentialEvent.Event.REVOKED,
        actor=actor,
        ip=ip,
        details={
            "via": str(via),
            "application": application_credential_id(application) if application else None,
            "user": username(user) if user is not None else None,
        },
        credential_id=credential_id,
        application=application,
        user=user,
        via=via,
    )


def revoke_token(
    token: AnyToken,
    *,
    actor: AnyUser | None = None,
    ip: str | None = None,
    via: RevokedVia = RevokedVia.LIFECYCLE,
) -> bool:
    """Revoke an access or refresh token, and the token bound to it; return whether it was live.

    Revoking a refresh token revokes its access token, and revoking an access token revokes its
    refresh token (RFC 7009 section 2.1 allows both; either alone would leave the other able to
    act for the grant). Refused from the very next request. Records a ``revoked`` event (with
    ``via``) and sends ``oauth_token_revoked`` for each token revoked; a token already revoked
    or deleted changes nothing and returns False.
    """
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    with transaction.atomic(using=router.db_for_write(AccessToken)):
        refresh: Any = None
        if isinstance(token, AbstractRefreshToken):
            refresh = (
                RefreshToken._default_manager.select_for_update()
                .filter(pk=token.pk, revoked__isnull=True)
                .first()
            )
            if refresh is None:
                return False
            holder = refresh
        else:
            # Locked in the order a refresh token's revocation locks them (its refresh token,
            # then the access token), so two revocations of one grant wait for each other: the
            # second finds nothing left to revoke, and records nothing.
            refresh = (
                RefreshToken._default_manager.select_for_update()
                .filter(access_token_id=token.pk, revoked__isnull=True)
                .first()
            )
            holder = AccessToken._default_manager.select_for_update().filter(pk=token.pk).first()
            if holder is None:
                return False
        application, user = holder.application, holder.user
        if refresh is not None:
            revoked = [refresh_token_credential_id(refresh.pk)]
            if refresh.access_token_id is not None:
                revoked.append(access_token_credential_id(refresh.access_token_id))
            # django-oauth-toolkit's own revoke: marks it revoked and deletes its access token.
            refresh.revoke()
        else:
            revoked = [access_token_credential_id(holder.pk)]
            holder.revoke()
        for credential_id in revoked:
            _record_revoked(credential_id, application, user, via=via, actor=actor, ip=ip)
    return True


def revoke_application_tokens(
    application: AnyApplication,
    *,
    actor: AnyUser | None = None,
    ip: str | None = None,
    via: RevokedVia = RevokedVia.LIFECYCLE,
) -> int:
    """Revoke every live token of ``application`` and its pending authorization codes.

    Returns how many access and refresh tokens were revoked. Each token gets its ``revoked``
    event and ``oauth_token_revoked`` signal; the application gets a ``revoked`` event with the
    counts, and ``oauth_application_tokens_revoked`` is sent. The application itself stays
    registered and may obtain new tokens.
    """
    require_saved(application)
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    with transaction.atomic(using=router.db_for_write(AccessToken)):
        refresh_count = access_count = 0
        live_refresh = RefreshToken._default_manager.filter(
            application=application, revoked__isnull=True
        ).select_related("user")
        for refresh in live_refresh:
            bound = refresh.access_token_id is not None
            if revoke_token(refresh, actor=actor, ip=ip, via=via):
                refresh_count += 1
                access_count += int(bound)
        for access in AccessToken._default_manager.filter(application=application):
            if revoke_token(access, actor=actor, ip=ip, via=via):
                access_count += 1
        # A pending authorization code would otherwise still buy a token.
        codes, _deleted = (
            get_grant_model()._default_manager.filter(application=application).delete()
        )
        record_and_send(
            signals.oauth_application_tokens_revoked,
            type(application),
            CredentialEvent.Kind.OAUTH_APPLICATION,
            application_credential_id(application),
            CredentialEvent.Event.REVOKED,
            actor=actor,
            ip=ip,
            details={
                "via": str(via),
                "access_tokens": access_count,
                "refresh_tokens": refresh_count,
                "authorization_codes": codes,
            },
            application=application,
            access_tokens=access_count,
            refresh_tokens=refresh_count,
            authorization_codes=codes,
            via=via,
        )
    return access_count + refresh_count
