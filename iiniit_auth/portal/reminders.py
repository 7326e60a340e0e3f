"""Remind owners of keys about to expire (``manage.py apikey remind --within 14d``, from cron).

One reminder per key and window: each is recorded as a ``reminded`` audit event naming the
window and the expiry it was about, and a key with such an event is skipped. Running the
command daily sends each key's reminder once; running it with two windows (``--within 14d``
and ``--within 1d``) sends two, one per window. Each reminder sends ``api_key_expiring``
(a project can page someone with it) and, unless ``PORTAL_EMAILS`` is off or the owner has no
address, an e-mail after the event commits. Rotated keys (their successor carries on) and
the keys of inactive owners are not reminded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from iiniit_auth import signals
from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import format_duration
from iiniit_auth.models import AbstractAPIKey, APIKey, CredentialEvent
from iiniit_auth.models.audit import username
from iiniit_auth.portal import emails


@dataclass(frozen=True)
class Reminder:
    """One reminder sent: the key, and whether an e-mail went to its owner."""

    key: AbstractAPIKey
    emailed: bool


def remind(within: timedelta, *, now: datetime | None = None) -> list[Reminder]:
    """Remind the owner of each active key expiring within ``within`` of ``now``, once per key
    and window; return the reminders made now. Raises ``ValueError`` for a window of 0."""
    if within <= timedelta(0):
        raise ValueError("The window of a reminder must be longer than 0.")
    now = timezone.now() if now is None else now
    window = format_duration(within)
    due = (
        APIKey.objects.expiring_within(within, now)
        .filter(rotated_at__isnull=True)
        .select_related("owner")
        .order_by("expires_at", "pk")
    )
    made = []
    for key in due:
        if key.owner.is_active:
            reminder = _remind(key, within, window)
            if reminder is not None:
                made.append(reminder)
    return made


def _remind(key: AbstractAPIKey, within: timedelta, window: str) -> Reminder | None:
    if key.expires_at is None:  # expiring_within() finds none such
        return None
    expires = key.expires_at.isoformat()
    with transaction.atomic():
        # Locked: two runs at once remind once; a key revoked meanwhile is not reminded.
        if not APIKey.objects.select_for_update().filter(pk=key.pk, revoked_at__isnull=True):
            return None
        if CredentialEvent.objects.filter(
            kind=CredentialEvent.Kind.API_KEY,
            credential_id=key.public_id,
            event=CredentialEvent.Event.REMINDED,
            details__within=window,
            details__expires_at=expires,
        ).exists():
            return None
        to = emails.address_of(key.owner) if auth_settings().PORTAL_EMAILS else None
        CredentialEvent.record(
            CredentialEvent.Kind.API_KEY,
            key.public_id,
            CredentialEvent.Event.REMINDED,
            details={"within": window, "expires_at": expires, "emailed": to is not None},
        )
        signals.api_key_expiring.send(
            sender=type(key), key=key, expires_at=key.expires_at, within=within
        )
        if to is not None:
            context = {
                "owner": username(key.owner),
                "key_name": key.name,
                "key_id": key.display_id,
                "expires_at": key.expires_at,
                "scopes": key.scope_list,
            }
            transaction.on_commit(partial(emails.send, "key_expiring", context, to))
    return Reminder(key, emailed=to is not None)
