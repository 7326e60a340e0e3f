"""The lifecycle of OAuth 2.0 applications, the one place that registers, changes, rotates and
deletes them (allowed scopes, introspection and rate are written by
:class:`~iiniit_auth.oauth.models.ApplicationPolicyManager`; tokens are revoked in
:mod:`iiniit_auth.oauth.tokens`). Each records a :class:`~iiniit_auth.models.CredentialEvent`
and sends a signal, in the same transaction.

Admin's forms and the developer portal use what is here, so both offer the same grants and
refuse the same redirect URIs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from django import forms
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AbstractApplication, get_application_model
from oauth2_provider.settings import oauth2_settings

from iiniit_auth import scopes, signals
from iiniit_auth.exceptions import InvalidScope
from iiniit_auth.models import CredentialEvent
from iiniit_auth.models.audit import AnyUser, contains_key, record_and_send, redact_keys
from iiniit_auth.models.managers import scope_error
from iiniit_auth.oauth.models import (
    REFUSED_GRANTS,
    AnyApplication,
    ApplicationPolicy,
    RevokedVia,
    application_credential_id,
    record_changed,
    require_saved,
)
from iiniit_auth.oauth.redirects import refusal
from iiniit_auth.oauth.tokens import revoke_application_tokens

#: The grants offered: RFC 9700 leaves these two (no implicit, no password grant).
GRANT_CHOICES: Final = (
    (AbstractApplication.GRANT_AUTHORIZATION_CODE, _("Authorization code (with PKCE)")),
    (AbstractApplication.GRANT_CLIENT_CREDENTIALS, _("Client credentials")),
)


#: Set on an application instance saved by :func:`register_application`, which records its
#: creation itself (with the actor who registered it).
_RECORDED = "_iiniit_auth_recorded"


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
    record_and_send(
        signals.oauth_application_deleted,
        type(application),
        CredentialEvent.Kind.OAUTH_APPLICATION,
        credential_id,
        CredentialEvent.Event.DELETED,
        actor=actor,
        ip=ip,
        details=details,
        application=application,
        credential_id=credential_id,
        tokens_revoked=revoked,
    )
    return revoked


def record_application_created(
    application: AnyApplication, *, actor: AnyUser | None = None, ip: str | None = None
) -> CredentialEvent:
    """Record that ``application`` was registered and send ``oauth_application_created``.

    Runs by itself for every application saved for the first time (django-oauth-toolkit's admin
    and views, code), with the application's user (``application.user``) as the actor;
    :func:`register_application` records it with the actor it is given instead. Anything shaped
    like a key in the name is recorded as ``[redacted]``.
    """
    return record_and_send(
        signals.oauth_application_created,
        type(application),
        CredentialEvent.Kind.OAUTH_APPLICATION,
        application_credential_id(application),
        CredentialEvent.Event.CREATED,
        actor=actor,
        ip=ip,
        details={
            # register_application refuses such a name, but django-oauth-toolkit's own admin
            # and registration view save any: their save must not fail on it.
            "name": redact_keys(str(application.name)),
            "client_type": application.client_type,
            "grant_type": application.authorization_grant_type,
        },
        application=application,
    )


#: The fields of an application its change form edits, besides its allowed scopes.
CHANGEABLE_FIELDS = ("name", "redirect_uris")


def record_application_changed(
    application: AnyApplication,
    before: dict[str, Any],
    *,
    actor: AnyUser | None = None,
    ip: str | None = None,
) -> CredentialEvent | None:
    """Record a ``changed`` event for the fields of :data:`CHANGEABLE_FIELDS` whose value
    differs from ``before`` (``{field: value}`` as it was), and send
    ``oauth_application_changed``; None, and nothing sent, when none changed.

    A changed redirect URI decides where authorization codes go: the event names the old and
    the new. Call it in the transaction that saves the change (admin's change form does).
    """
    changes = {
        name: {"before": before[name], "after": getattr(application, name)}
        for name in CHANGEABLE_FIELDS
        if name in before and before[name] != getattr(application, name)
    }
    if not changes:
        return None
    if "name" in changes:
        changes["name"] = {when: redact_keys(str(value)) for when, value in changes["name"].items()}
    return record_changed(application, changes, actor=actor, ip=ip)


def _application_saved(
    sender: type[Any], instance: AnyApplication, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw and not getattr(instance, _RECORDED, False):
        record_application_created(instance, actor=instance.user)


# A lazy sender ("app_label.Model"), resolved once the application model is loaded.
post_save.connect(
    _application_saved,
    sender=oauth2_settings.APPLICATION_MODEL,
    dispatch_uid="iiniit_auth.oauth.applications.application_created",
)


def _registration_errors(application: AnyApplication) -> dict[str, list[str]]:
    """What iiniit_auth refuses on top of django-oauth-toolkit's ``Application.clean``."""
    errors: dict[str, list[str]] = {}
    if contains_key(str(application.name)):
        # The name is shown in admin, on the consent page and in the audit log: never a secret.
        errors["name"] = [str(_("A name must not contain a key."))]
    if application.authorization_grant_type in REFUSED_GRANTS:
        errors["authorization_grant_type"] = [
            str(
                _(
                    "The implicit and password grants are not offered (RFC 9700): register the "
                    "application for the authorization code grant (with PKCE) or client "
                    "credentials."
                )
            )
        ]
    refused = [reason for uri in application.redirect_uris.split() if (reason := refusal(uri))]
    if refused:
        errors["redirect_uris"] = sorted(set(refused))
    return errors


@sensitive_variables("secret")
def register_application(
    *,
    allowed_scopes: Iterable[str] | str = (),
    actor: AnyUser | None = None,
    ip: str | None = None,
    **fields: Any,
) -> tuple[AnyApplication, str]:
    """Register an OAuth application and return ``(application, client secret)``.

    ``fields`` are the application model's (``name``, ``client_type``,
    ``authorization_grant_type``, ``redirect_uris``, ``user``, …). The client secret is
    generated here and returned this once: django-oauth-toolkit stores only its hash.
    ``allowed_scopes`` becomes the application's policy (none by default). Raises
    ``ValidationError`` naming the fields for anything django-oauth-toolkit's validation refuses
    (e.g. a missing redirect URI), a name holding something shaped like a key, an implicit or
    password grant, a redirect URI over plain http to a host that is not loopback, or an
    unregistered scope; nothing is written then. Records
    ``created`` (and ``scopes_changed``) events and sends ``oauth_application_created``.
    """
    Application = get_application_model()
    secret: str = generate_client_secret()
    application = Application(client_secret=secret, **fields)
    try:
        application.full_clean(exclude=["client_secret"])
    except ValidationError as exc:
        errors = exc.message_dict
    else:
        errors = {}
    for field, messages in _registration_errors(application).items():
        errors.setdefault(field, []).extend(messages)
    try:
        scope_list = scopes.normalize(allowed_scopes)
    except InvalidScope as exc:
        errors["allowed_scopes"] = [scope_error(exc)]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(using=router.db_for_write(Application)):
        setattr(application, _RECORDED, True)
        application.save()
        record_application_created(application, actor=actor, ip=ip)
        ApplicationPolicy.objects.set_allowed_scopes(application, scope_list, actor=actor, ip=ip)
    return application, secret


@sensitive_variables("secret")
def rotate_client_secret(
    application: AnyApplication, *, actor: AnyUser | None = None, ip: str | None = None
) -> str:
    """Give ``application`` a new client secret and return it: the only time it is readable.

    django-oauth-toolkit stores a hash of it (unless the application opted out with
    ``hash_client_secret``); the old secret stops working at once. Tokens already issued stay
    valid: revoke them too (:func:`iiniit_auth.oauth.tokens.revoke_application_tokens`) if the
    old secret leaked.
    Raises ``ValidationError`` for an unsaved application. Records a ``secret_rotated`` event
    and sends ``oauth_client_secret_rotated``.
    """
    require_saved(application)
    Application = get_application_model()
    secret: str = generate_client_secret()
    with transaction.atomic(using=router.db_for_write(Application)):
        locked = Application._default_manager.select_for_update().get(pk=application.pk)
        locked.client_secret = secret
        locked.save(update_fields=["client_secret", "updated"])
        # The instance the caller holds now carries the stored (hashed) value, not the secret.
        application.client_secret = locked.client_secret
        application.updated = locked.updated
        record_and_send(
            signals.oauth_client_secret_rotated,
            type(application),
            CredentialEvent.Kind.OAUTH_APPLICATION,
            application_credential_id(application),
            CredentialEvent.Event.SECRET_ROTATED,
            actor=actor,
            ip=ip,
            details={"hashed": bool(locked.hash_client_secret)},
            application=application,
        )
    return secret
