"""Public signals. Every lifecycle write sends one, inside the transaction that made it.

Receivers run before the transaction commits: a receiver that talks to the outside world
(a webhook, an e-mail) should defer that work with ``transaction.on_commit``.

``api_key_issued``    sender=the key model; ``key``, ``actor``
``api_key_rotated``   sender=the key model; ``key`` (the old one), ``successor``, ``grace``, ``actor``
``api_key_revoked``   sender=the key model; ``key``, ``actor``, ``reason``
``credential_refused`` sender=the credential's model; ``kind``, ``credential_id``, ``reason``
                      (a :class:`~iiniit_auth.exceptions.RefusalReason`), ``ip``

None of them carries a plaintext key.
"""

from __future__ import annotations

from django.dispatch import Signal

api_key_issued = Signal()
api_key_rotated = Signal()
api_key_revoked = Signal()
credential_refused = Signal()
