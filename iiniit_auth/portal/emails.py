"""E-mail to key owners, through Django's e-mail backend, from the templates in
``iiniit_auth/email/`` (a project overrides them like any app template).

Nothing here carries a secret: the messages name a key by its name and public id. They hold
no link either: a security notice that asks nobody to click anything teaches people not to
trust one that does. A message that cannot be sent is logged and dropped; it never undoes
the change it reports, nor fails the request that made it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import send_mail
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def address_of(user: Any) -> str | None:
    """``user``'s e-mail address, or None where the user model or the user has none."""
    field_name = getattr(user, "get_email_field_name", None)
    address = getattr(user, field_name(), None) if callable(field_name) else None
    return address if isinstance(address, str) and address.strip() else None


def send(template: str, context: dict[str, Any], to: str) -> bool:
    """Send ``iiniit_auth/email/<template>.txt`` (its subject from ``<template>_subject.txt``)
    to ``to``; return whether the backend took it."""
    try:
        subject = " ".join(
            render_to_string(f"iiniit_auth/email/{template}_subject.txt", context).split()
        )
        body = render_to_string(f"iiniit_auth/email/{template}.txt", context)
        send_mail(subject, body, None, [to])
    except Exception:
        # The change the message reports is committed; the owner still sees it in the portal.
        logger.exception("Could not send the %s e-mail.", template)
        return False
    return True
