"""OAuth 2.0 applications as their registering forms and their owners see them: the grants
offered, the redirect URI check a form makes, and the audited deletion of an application.

Registering, rotating a secret and setting allowed scopes live in
:mod:`iiniit_auth.models.oauth`; revoking tokens in :mod:`iiniit_auth.oauth.tokens`. Admin's
forms and the developer portal use what is here, so both offer the same grants and refuse the
same redirect URIs.
"""

from __future__ import annotations

from typing import Any, Final

from django import forms
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication, get_application_model

from iiniit_auth import signals
from iiniit_auth.models import CredentialEvent
from iiniit_auth.models.audit import AnyUser, redact_keys
from iiniit_auth.models.oauth import (
    AnyApplication,
    RevokedVia,
    application_credential_id,
    require_saved,
)
from iiniit_auth.oauth.redirects import refusal
from iiniit_auth.oauth.tokens import revoke_application_tokens

#: The grants offered: RFC 9700 leaves these two (no implicit, no password grant).
GRANT_CHOICES: Final = (
    (AbstractApplication.GRANT_AUTHORIZATION_CODE, _("Authorization code (with PKCE)")),
    (AbstractApplication.GRANT_CLIENT_CREDENTIALS, _("Client credentials")),
)


def check_redirect_uris(text: str) -> str:
    """Return ``text`` if every redirect URI in it is acceptable; raise ``ValidationError``."""
    refused = sorted({reason for uri in text.split() if (reason := refusal(uri))})
    if refused:
        raise forms.ValidationError(refused, code="invalid")
    return text


def delete_application(
    application: AnyApplication,
    *,
    actor: AnyUser | None = None,
    ip: str | None = None,
    via: RevokedVia = RevokedVia.LIFECYCLE,
) -> int:
    """Revoke every token of ``application``, then delete it; return how many were revoked.

    The revocations are audited one by one, as :func:`revoke_application_tokens` audits them,
    before django-oauth-toolkit's cascade deletes the rows (its tokens, codes and policy go
    with it). Records a ``deleted`` event (its name, the count, ``via``) and sends
    ``oauth_application_deleted``, in the same transaction. Raises ``ValidationError`` for an
    unsaved application or one already deleted; nothing is written then, nor when a receiver
    raises (the instance keeps its ``pk``).
    """
    require_saved(application)
    Application = get_application_model()
    pk = application.pk
    try:
        with transaction.atomic(using=router.db_for_write(Application)):
            revoked = _delete(application, actor=actor, ip=ip, via=via)
    except BaseException:
        # Django's delete() forgets the instance's pk; the rollback brought the row back.
        application.pk = pk
        raise
    return revoked


def _delete(
    application: AnyApplication, *, actor: AnyUser | None, ip: str | None, via: RevokedVia
) -> int:
    # Locked: a concurrent deletion waits, then finds nothing and writes nothing.
    if not get_application_model()._default_manager.select_for_update().filter(pk=application.pk):
        raise ValidationError({"application": str(_("This application no longer exists."))})
    revoked = revoke_application_tokens(application, actor=actor, ip=ip, via=via)
    credential_id = application_credential_id(application)
    details: dict[str, Any] = {
        "name": redact_keys(str(application.name)),
        "tokens_revoked": revoked,
        "via": str(via),
    }
    application.delete()
    CredentialEvent.record(
        CredentialEvent.Kind.OAUTH_APPLICATION,
        credential_id,
        CredentialEvent.Event.DELETED,
        actor=actor,
        ip=ip,
        details=details,
    )
    signals.oauth_application_deleted.send(
        sender=type(application),
        application=application,
        credential_id=credential_id,
        tokens_revoked=revoked,
        actor=actor,
    )
    return revoked
