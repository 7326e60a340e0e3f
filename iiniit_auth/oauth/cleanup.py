"""The clean-up of OAuth 2.0 rows nothing can use any more, with a trace in the audit log.

django-oauth-toolkit's ``cleartokens`` deletes expired tokens and codes without a word, so an
audit trail that ends with ``issued`` would point at a row that is gone, with nothing saying
where it went. :func:`clear_expired` deletes by the same rules, and the redeemed codes no live
token came from (:class:`~iiniit_auth.models.RedeemedCode`), and records one ``cleared`` event
with the counts, in the transaction that deletes them. ``manage.py oauthapp cleartokens`` runs
it; schedule that one instead of django-oauth-toolkit's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings

from iiniit_auth import signals
from iiniit_auth.models import CredentialEvent
from iiniit_auth.models.audit import AnyUser, record_and_send
from iiniit_auth.oauth.models import RedeemedCode

__all__ = ["CLEARED_ID", "clear_expired"]

#: The audit log's credential id of a clean-up run: it concerns every token.
CLEARED_ID = "*"


def _delete(queryset: models.QuerySet[Any]) -> int:
    """Delete the rows of ``queryset`` in batches of ``CLEAR_EXPIRED_TOKENS_BATCH_SIZE`` (so a
    large backlog is never loaded at once); return how many of its model were deleted."""
    model, size = queryset.model, oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_SIZE
    total = 0
    while batch := list(queryset.values_list("pk", flat=True)[:size]):
        _all, per_model = model._default_manager.filter(pk__in=batch).delete()
        deleted = per_model.get(model._meta.label, 0)
        if not deleted:
            break
        total += deleted
    return total


def _dead_refresh_tokens(now: Any) -> Q:
    """The refresh tokens django-oauth-toolkit's clean-up deletes at ``now``.

    Revoked ones once no replay of them needs recognising (with reuse protection, as long as a
    live one would live; otherwise after the grace period); live ones whose access token is
    gone (django-oauth-toolkit refuses them); and live ones idle past
    ``REFRESH_TOKEN_EXPIRE_SECONDS`` since their access token expired.
    """
    lifetime = refresh_token_expire_timedelta()  # ImproperlyConfigured for a bad value
    idle_before = now - lifetime if lifetime else None
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        revoked_before = idle_before
    else:
        grace = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0)
        revoked_before = now - grace
    dead = Q(revoked__isnull=True, access_token__isnull=True)
    if revoked_before is not None:
        dead |= Q(revoked__lte=revoked_before)
    if idle_before is not None:
        dead |= Q(revoked__isnull=True, access_token__expires__lte=idle_before)
    return dead


def clear_expired(*, actor: AnyUser | None = None) -> dict[str, int]:
    """Delete what can no longer be used; return the counts, by kind of row.

    In one transaction: the dead refresh tokens (:func:`_dead_refresh_tokens`), the expired
    access tokens no live refresh token is bound to, the expired ID tokens no access token
    holds, the expired authorization codes, and the redeemed codes whose access token expired
    and whose refresh token family has no live member. Then one ``cleared`` event (credential
    ``*``, the counts in its details) is recorded and ``oauth_tokens_cleared`` sent, even when
    nothing was deleted: the log shows each run. Nothing that can still authenticate, refresh
    or be redeemed is deleted. Raises ``ImproperlyConfigured`` (deleting nothing) for a
    ``REFRESH_TOKEN_EXPIRE_SECONDS`` django-oauth-toolkit refuses.
    """
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    IDToken, Grant = get_id_token_model(), get_grant_model()
    now = timezone.now()
    dead_refresh = _dead_refresh_tokens(now)
    bound = RefreshToken._default_manager.filter(access_token=OuterRef("pk"))
    held = AccessToken._default_manager.filter(id_token=OuterRef("pk"))
    with transaction.atomic(using=router.db_for_write(AccessToken)):
        # Refresh tokens first: an access token is kept while one is bound to it.
        counts: dict[str, Any] = {
            "refresh_tokens": _delete(RefreshToken._default_manager.filter(dead_refresh)),
            "access_tokens": _delete(
                AccessToken._default_manager.filter(expires__lt=now).exclude(Exists(bound))
            ),
            "id_tokens": _delete(
                IDToken._default_manager.filter(expires__lt=now).exclude(Exists(held))
            ),
            "authorization_codes": _delete(Grant._default_manager.filter(expires__lt=now)),
            "redeemed_codes": _delete(RedeemedCode.objects.prunable(now)),
        }
        record_and_send(
            signals.oauth_tokens_cleared,
            AccessToken,
            CredentialEvent.Kind.OAUTH_TOKEN,
            CLEARED_ID,
            CredentialEvent.Event.CLEARED,
            actor=actor,
            details=counts,
            **counts,
        )
    return counts
