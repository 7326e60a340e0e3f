"""Admin's key status: :mod:`iiniit_auth.status`, which the portal shares."""

from __future__ import annotations

from iiniit_auth.status import (
    EXPIRING_WITHIN,
    RECENTLY_REVOKED_WITHIN,
    UNUSED_FOR,
    Status,
    authenticates,
    badge_q,
    can_revoke,
    can_rotate,
    recently_revoked_q,
    status_of,
    unused_q,
)

__all__ = [
    "EXPIRING_WITHIN",
    "RECENTLY_REVOKED_WITHIN",
    "UNUSED_FOR",
    "Status",
    "authenticates",
    "badge_q",
    "can_revoke",
    "can_rotate",
    "recently_revoked_q",
    "status_of",
    "unused_q",
]
