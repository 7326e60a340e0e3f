"""Domain errors of iiniit_auth. They know nothing of HTTP: the DRF layer maps them."""

from __future__ import annotations

from enum import StrEnum


class IiniitAuthError(Exception):
    """Base class of every error this package raises on purpose."""


class MalformedKey(IiniitAuthError):
    """The string is not a key of this installation: wrong prefix, length, alphabet or checksum.

    Raised before any database query. The message never contains the key.
    """


class InvalidScope(IiniitAuthError, ValueError):
    """A scope that is not in the registry (``IINIIT_AUTH["SCOPES"]``)."""

    def __init__(self, unknown: list[str]) -> None:
        self.unknown = unknown
        super().__init__(
            f"Unknown scope(s): {', '.join(unknown)}. Declare them in IINIIT_AUTH['SCOPES']."
        )


class KeyStateError(IiniitAuthError):
    """A lifecycle call that the key's state forbids (revoking a revoked key, rotating it twice)."""


class RefusalReason(StrEnum):
    """Why a presented credential was refused. Recorded in the audit log, never sent to a client."""

    DIGEST_MISMATCH = "digest_mismatch"
    REVOKED = "revoked"
    EXPIRED = "expired"
    ROTATED = "rotated"
    OWNER_INACTIVE = "owner_inactive"
    NETWORK = "network"
