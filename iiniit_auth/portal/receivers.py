"""The portal's signal receivers, connected once when the app is ready (``apps.py``).

* ``user_logged_in``: a sign-in starts a session's sudo mode (:mod:`iiniit_auth.portal.sudo`);
* ``api_key_issued``, ``api_key_rotated``, ``api_key_revoked``: owners hear of changes made
  by someone else or from an unusual address (:mod:`iiniit_auth.portal.notices`).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in

from iiniit_auth import signals
from iiniit_auth.portal import notices, sudo


def connect() -> None:
    """Connect the receivers (idempotent: each has its ``dispatch_uid``)."""
    user_logged_in.connect(sudo.signed_in, dispatch_uid="iiniit_auth.portal.sudo")
    signals.api_key_issued.connect(notices.key_issued, dispatch_uid="iiniit_auth.portal.issued")
    signals.api_key_rotated.connect(notices.key_rotated, dispatch_uid="iiniit_auth.portal.rotated")
    signals.api_key_revoked.connect(notices.key_revoked, dispatch_uid="iiniit_auth.portal.revoked")
