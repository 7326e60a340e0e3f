"""Public signals. Every lifecycle write sends one, inside the transaction that made it.

Receivers run before the transaction commits: a receiver that talks to the outside world
(a webhook, an e-mail) should defer that work with ``transaction.on_commit``.

``api_key_issued``    sender=the key model; ``key``, ``actor``
``api_key_rotated``   sender=the key model; ``key`` (the old one), ``successor``, ``grace``, ``actor``
``api_key_revoked``   sender=the key model; ``key``, ``actor``, ``reason``
``credential_refused`` sender=the credential's model; ``kind``, ``credential_id``, ``reason``
                      (a :class:`~iiniit_auth.exceptions.RefusalReason`), ``ip``
``api_key_expiring``  sender=the key model; ``key``, ``expires_at``, ``within`` (the
                      reminder's window, a timedelta): one per key and window, sent by
                      ``manage.py apikey remind`` with its ``reminded`` audit event

None of them carries a plaintext key.
"""

from __future__ import annotations

from django.dispatch import Signal

api_key_issued = Signal()
api_key_rotated = Signal()
api_key_revoked = Signal()
credential_refused = Signal()
api_key_expiring = Signal()

# OAuth 2.0 applications and tokens (django-oauth-toolkit's models; iiniit_auth.oauth.models).
# ``actor`` is the user who acted, a client principal, or None; ``via`` a
# :class:`~iiniit_auth.oauth.models.RevokedVia`. None carries a token or a client secret.
#
# ``oauth_application_created``   sender=the application model; ``application``, ``actor``
# ``oauth_application_changed``   sender=the application model; ``application``, ``changes``
#                                 ({field: {"before": …, "after": …}}), ``actor``
# ``oauth_client_secret_rotated`` sender=the application model; ``application``, ``actor``
# ``oauth_scopes_changed``        sender=ApplicationPolicy; ``application``, ``policy``,
#                                 ``before``, ``after`` (sorted scope lists), ``actor``
# ``oauth_introspection_changed`` sender=ApplicationPolicy; ``application``, ``policy``,
#                                 ``may_introspect``, ``actor``
# ``oauth_token_issued``          sender=the access token model; ``token``, ``refresh_token``
#                                 (or None), ``grant_type``, ``application``, ``user``
# ``oauth_token_revoked``         sender=the token's model; ``credential_id`` (the audit log's),
#                                 ``application``, ``user``, ``via``, ``actor``
# ``oauth_application_tokens_revoked`` sender=the application model; ``application``,
#                                 ``access_tokens``, ``refresh_tokens``,
#                                 ``authorization_codes`` (counts), ``via``, ``actor``
# ``oauth_tokens_cleared``        sender=the access token model; ``refresh_tokens``,
#                                 ``access_tokens``, ``id_tokens``, ``authorization_codes``,
#                                 ``redeemed_codes`` (counts deleted by a clean-up run), ``actor``
# ``oauth_application_deleted``   sender=the application model; ``application`` (deleted: its
#                                 ``pk`` is None), ``credential_id`` (the audit log's),
#                                 ``tokens_revoked`` (a count), ``actor``
oauth_application_created = Signal()
oauth_application_changed = Signal()
oauth_client_secret_rotated = Signal()
oauth_scopes_changed = Signal()
oauth_introspection_changed = Signal()
oauth_token_issued = Signal()
oauth_token_revoked = Signal()
oauth_application_tokens_revoked = Signal()
oauth_tokens_cleared = Signal()
oauth_application_deleted = Signal()
