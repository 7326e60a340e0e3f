"""What a key's status is, as a badge, a list filter and an overview count.

Admin and the developer portal show the same badge. The badge, admin's "Status" filter and
its overview count the same thing because all three are built from the ``Q`` objects here:
a number on the overview is exactly the length of the list its link opens. Each key has exactly one badge:

===========  ==================================================================
``active``   authenticates, not rotated, no expiry within ``EXPIRING_WITHIN``
``expiring`` authenticates, not rotated, expires within ``EXPIRING_WITHIN``
``expired``  past its expiry, never rotated nor revoked
``rotated``  replaced by a successor; may still authenticate for its grace period
``revoked``  revoked (whatever else is true of it)
===========  ==================================================================

The "active" filter is broader than the badge: it lists every key that authenticates now
(``APIKey.objects.active()``), expiring and in-grace ones included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from iiniit_auth.models import AbstractAPIKey
from iiniit_auth.models.managers import authenticating

#: A key whose expiry is this near is flagged "expiring".
EXPIRING_WITHIN: Final = timedelta(days=7)
#: An active key not used for this long (and at least this old) counts as unused.
UNUSED_FOR: Final = timedelta(days=90)
#: The overview counts keys revoked within this window.
RECENTLY_REVOKED_WITHIN: Final = timedelta(days=30)


class Status(models.TextChoices):
    """A key's badge."""

    ACTIVE = "active", _("active")
    EXPIRING = "expiring", _("expiring")
    EXPIRED = "expired", _("expired")
    ROTATED = "rotated", _("rotated")
    REVOKED = "revoked", _("revoked")


def _unrotated(now: datetime) -> Q:
    return authenticating(now) & Q(rotated_at__isnull=True)


def badge_q(status: Status, now: datetime) -> Q:
    """The keys that wear ``status``'s badge at ``now``."""
    soon = now + EXPIRING_WITHIN
    if status == Status.ACTIVE:
        return _unrotated(now) & (Q(expires_at__isnull=True) | Q(expires_at__gt=soon))
    if status == Status.EXPIRING:
        return _unrotated(now) & Q(expires_at__lte=soon)
    if status == Status.EXPIRED:
        return Q(revoked_at__isnull=True, rotated_at__isnull=True, expires_at__lte=now)
    if status == Status.ROTATED:
        return Q(revoked_at__isnull=True, rotated_at__isnull=False)
    return Q(revoked_at__isnull=False)


def unused_q(now: datetime) -> Q:
    """Keys that authenticate but were not used for ``UNUSED_FOR`` (nor ever, if older)."""
    cutoff = now - UNUSED_FOR
    return authenticating(now) & (
        Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, created_at__lt=cutoff)
    )


def recently_revoked_q(now: datetime) -> Q:
    """Keys revoked within ``RECENTLY_REVOKED_WITHIN`` before ``now``."""
    return Q(revoked_at__gte=now - RECENTLY_REVOKED_WITHIN)


def status_of(key: AbstractAPIKey, now: datetime) -> Status:
    """Return the badge of ``key`` at ``now``; the same answer as :func:`badge_q`, in Python."""
    if key.revoked_at is not None:
        return Status.REVOKED
    if key.rotated_at is not None:
        return Status.ROTATED
    if key.expires_at is None or key.expires_at > now + EXPIRING_WITHIN:
        return Status.ACTIVE
    return Status.EXPIRING if key.expires_at > now else Status.EXPIRED


def can_rotate(key: AbstractAPIKey) -> bool:
    """Whether ``key.rotate()`` would accept ``key``: active and never rotated."""
    return key.is_active and key.rotated_at is None


def can_revoke(key: AbstractAPIKey) -> bool:
    """Whether revoking ``key`` changes anything: it still authenticates (grace included).

    A rotated key in its grace period can be revoked to end the grace at once.
    """
    return key.is_active
