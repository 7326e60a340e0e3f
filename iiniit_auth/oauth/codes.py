"""Authorization codes: each buys one token pair, and a code presented again revokes it.

RFC 6749 section 4.1.2: a client MUST NOT use a code more than once; if it does, the server
MUST deny the request and SHOULD revoke every token issued from the code (section 10.5 says it
again). django-oauth-toolkit reads the code's row several times while validating a redemption
and deletes it only after the tokens are saved, in a transaction of their own: two redemptions
at the same moment could both mint a token pair, or fail with a 500 when one deleted the row
between the other's reads; and once the row is gone nothing says which tokens it bought.

The validator (:class:`~iiniit_auth.oauth.audited.AuditedValidator`) calls these instead:

* :func:`claim` takes the code's row first, in the transaction that saves its tokens, so of
  two redemptions at once the second waits for the first (its row lock; on SQLite its write
  lock) and then finds nothing to claim: it saves nothing and gets ``invalid_grant``;
* :func:`remember`, last in that transaction, deletes the row and keeps the code's digest with
  what it bought (:class:`~iiniit_auth.models.RedeemedCode`);
* :func:`refuse_replay`, for a code presented after its redemption, revokes every token issued
  from it (its refresh token family, rotations included), recorded as a replayed refresh token
  is: ``refused`` on the access token issued from the code, then ``revoked``
  (``via=reuse_detection``) and ``oauth_token_revoked`` for each token;
* :func:`record_simultaneous`, for a redemption that lost to one under way at the same moment:
  ``refused``, and nothing revoked, so the winner's pair is the one token pair of the code.
"""

from __future__ import annotations

from typing import Any

from django.db import router, transaction
from django.db.models import F
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import (
    AnyApplication,
    RedeemedCode,
    RevokedVia,
    access_token_credential_id,
    application_credential_id,
    code_digest,
)
from iiniit_auth.oauth.tokens import (
    AnyToken,
    lock_live_family,
    record_replay_refused,
    revoke_token,
)

__all__ = ["REUSED", "claim", "record_simultaneous", "refuse_replay", "remember"]

#: ``details["reason"]`` of the ``refused`` event of a code presented again.
REUSED = "code_reused"


@sensitive_variables("code")
def claim(code: str, application: AnyApplication) -> bool:
    """Take ``code``'s row (django-oauth-toolkit's ``Grant``) for this transaction; return
    whether it was still there.

    Call it first in the transaction that saves the code's tokens, and :func:`remember` last.
    The row stays locked until the transaction ends, so a second claim of the same code waits,
    then finds the row gone and claims nothing. An UPDATE that changes nothing, rather than
    ``select_for_update``: SQLite ignores the latter, and a transaction there that reads before
    it writes cannot wait for another writer; a write takes the lock as it starts. The row
    stays until :func:`remember`, since django-oauth-toolkit reads the resources (RFC 8707)
    the code was granted for while saving its tokens. The transaction locks nothing before
    this row and after it only inserts, so the wait cannot deadlock with a refresh, a
    revocation or the clean-up.
    """
    taken = (
        get_grant_model()
        ._default_manager.filter(code=code, application=application)
        .update(expires=F("expires"))
    )
    return bool(taken)


@sensitive_variables("code")
def remember(
    code: str,
    application: AnyApplication,
    access_token: AnyToken | None,
    refresh_token: AnyToken | None,
) -> RedeemedCode | None:
    """Delete the row of the ``code`` just claimed and keep its digest with the tokens it
    bought; None when it bought none."""
    get_grant_model()._default_manager.filter(code=code, application=application).delete()
    if access_token is None:
        return None
    return RedeemedCode.objects.create(
        digest=code_digest(code),
        application=application,
        access_token_pk=access_token.pk,
        token_family=refresh_token.token_family if refresh_token is not None else None,
        expires=access_token.expires,
    )


def _details(application: AnyApplication, **more: Any) -> dict[str, Any]:
    return {"reason": REUSED, "application": application_credential_id(application), **more}


@sensitive_variables("code")
def refuse_replay(code: str, application: AnyApplication, *, ip: str | None) -> bool:
    """Revoke the tokens issued from ``code`` if it was redeemed; return whether it was.

    Records ``refused`` on the access token issued from the code (``grant_revoked`` says
    whether anything was still live), and a ``revoked`` event (``via=reuse_detection``) and
    ``oauth_token_revoked`` for each token revoked, in one transaction. A code unknown to
    ``application`` changes nothing.
    """
    redeemed = RedeemedCode.objects.of(code, application).first()
    if redeemed is None:
        return False
    RefreshToken = get_refresh_token_model()
    credential_id = access_token_credential_id(redeemed.access_token_pk)
    with transaction.atomic(using=router.db_for_write(RefreshToken)):
        if redeemed.token_family is None:
            # A pair without a refresh token: only the access token to revoke.
            access = (
                get_access_token_model()
                ._default_manager.filter(pk=redeemed.access_token_pk)
                .first()
            )
            revoked = access is not None and revoke_token(
                access, ip=ip, via=RevokedVia.REUSE_DETECTION
            )
            CredentialEvent.record(
                CredentialEvent.Kind.OAUTH_TOKEN,
                credential_id,
                CredentialEvent.Event.REFUSED,
                ip=ip,
                details=_details(application, grant_revoked=revoked),
            )
            return True
        live = lock_live_family(redeemed.token_family)
        owner = (
            RefreshToken._default_manager.filter(token_family=redeemed.token_family)
            .select_related("user")
            .first()
        )
        # django-oauth-toolkit's revocation of a replayed refresh token's family.
        RefreshToken.revoke_family(redeemed.token_family)
        record_replay_refused(
            live,
            credential_id=credential_id,
            revoked=_details(application, grant_revoked=True),
            otherwise=_details(application, grant_revoked=False),
            application=application,
            user=owner.user if owner is not None else None,
            ip=ip,
        )
    return True


@sensitive_variables("code")
def record_simultaneous(code: str, application: AnyApplication, *, ip: str | None) -> None:
    """Record that ``code`` was refused because a redemption under way took it first.

    The two requests were in flight together, so neither could have seen the other's
    tokens: the winner's pair stays (``grant_revoked`` is False, ``simultaneous`` True).
    Nothing is recorded for a code whose row went another way (an application's revocation,
    the clean-up).
    """
    redeemed = RedeemedCode.objects.of(code, application).first()
    if redeemed is None:
        return
    CredentialEvent.record(
        CredentialEvent.Kind.OAUTH_TOKEN,
        access_token_credential_id(redeemed.access_token_pk),
        CredentialEvent.Event.REFUSED,
        ip=ip,
        details=_details(application, grant_revoked=False, simultaneous=True),
    )
