"""Tell an owner by e-mail when one of their keys is created, rotated or revoked, when that
was done by someone else or from an unusual address.

"Someone else" is any actor but the owner: a staff user in admin, a command line (no actor),
a program. An address is unusual when the owner acted on none of their credentials from it
in the :data:`KNOWN_FOR` before the change (their audit events, ``CredentialEvent.actor``);
a change with no address recorded is not judged. So the first key someone makes from a new
place is reported, and the next ones from there are not.

The receivers run in the lifecycle method's transaction (they read its audit event) and
send after it commits (``transaction.on_commit``): a rolled-back change sends nothing.
``PORTAL_EMAILS = False`` turns them off.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from django.db import transaction
from django.utils.translation import gettext

from iiniit_auth.conf import auth_settings
from iiniit_auth.models import AbstractAPIKey, CredentialEvent
from iiniit_auth.models.audit import username
from iiniit_auth.portal import emails

#: How far back the owner's own addresses count as known.
KNOWN_FOR: Final = timedelta(days=90)
SOMEONE_ELSE: Final = "someone_else"
UNUSUAL_ADDRESS: Final = "unusual_address"


def _recorded_address(key: AbstractAPIKey, event: str) -> str | None:
    """The address of the audit event the lifecycle method just wrote for ``key``."""
    found: str | None = (
        CredentialEvent.objects.filter(
            kind=CredentialEvent.Kind.API_KEY, credential_id=key.public_id, event=event
        )
        .order_by("-at", "-id")
        .values_list("ip", flat=True)
        .first()
    )
    return found


def why(owner: Any, actor: Any, ip: str | None, before: datetime) -> str | None:
    """Why the owner hears of a change made by ``actor`` from ``ip`` at ``before``, or None."""
    if actor is None or getattr(actor, "pk", None) != owner.pk:
        return SOMEONE_ELSE
    if ip is None:
        return None
    known = CredentialEvent.objects.filter(
        actor=owner, ip=ip, at__lt=before, at__gte=before - KNOWN_FOR
    ).exists()
    return None if known else UNUSUAL_ADDRESS


def notify(key: AbstractAPIKey, event: str, actor: Any, at: datetime | None, **extra: Any) -> None:
    """E-mail ``key``'s owner about ``event`` if :func:`why` finds a reason, after commit."""
    if not auth_settings().PORTAL_EMAILS or at is None:
        return
    owner = key.owner
    to = emails.address_of(owner)
    if to is None:
        return
    ip = _recorded_address(key, event)
    reason = why(owner, actor, ip, at)
    if reason is None:
        return
    context = {
        "owner": username(owner),
        "key_name": key.name,
        "key_id": key.display_id,
        "event": event,
        "at": at,
        "by_owner": reason == UNUSUAL_ADDRESS,
        "actor": username(actor) if actor is not None else gettext("a command line or program"),
        "address": ip or gettext("unknown"),
        "reason": reason,
        **extra,
    }
    transaction.on_commit(partial(emails.send, "key_notice", context, to), using=key._state.db)


def key_issued(sender: Any, key: AbstractAPIKey, actor: Any = None, **kwargs: Any) -> None:
    """``api_key_issued``: a key made by rotation is reported by :func:`key_rotated`."""
    if key.predecessor_id is None:  # type: ignore[attr-defined]
        notify(key, CredentialEvent.Event.ISSUED, actor, key.created_at)


def key_rotated(
    sender: Any, key: AbstractAPIKey, successor: AbstractAPIKey, actor: Any = None, **kwargs: Any
) -> None:
    notify(
        key,
        CredentialEvent.Event.ROTATED,
        actor,
        key.rotated_at,
        successor_id=successor.display_id,
        old_until=key.expires_at,
    )


def key_revoked(
    sender: Any, key: AbstractAPIKey, actor: Any = None, reason: str = "", **kwargs: Any
) -> None:
    notify(key, CredentialEvent.Event.REVOKED, actor, key.revoked_at, revoke_reason=reason)
