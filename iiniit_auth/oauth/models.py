"""The OAuth 2.0 server's own models, beside django-oauth-toolkit's (which are not swapped).

* :class:`ApplicationPolicy`: what one application may obtain. Each application may have one
  row; an application without one may obtain **no** scope (a secure default: registering an
  application grants nothing until someone says what it may do). Its manager's ``set_*``
  methods are the only writers, each recording a :class:`~iiniit_auth.models.CredentialEvent`
  and sending a signal in the same transaction. Registering an application and rotating its
  secret live in :mod:`iiniit_auth.oauth.applications`; revoking tokens in
  :mod:`iiniit_auth.oauth.tokens`.
* :class:`RedeemedCode`: authorization codes already redeemed, remembered by digest to
  recognise one presented again. django-oauth-toolkit deletes a code (its ``Grant`` row) once
  redeemed, and with it any trace of which tokens it bought. RFC 6749 sections 4.1.2 and 10.5
  ask the server to refuse a code used twice and to revoke the tokens issued from it, so a row
  keeps, for as long as a token issued from the code may live: the code's SHA-256 digest (never
  the code), the application, the access token's id and the refresh token family. Written only
  in the transaction that redeems the code (:mod:`iiniit_auth.oauth.codes`); deleted by the
  clean-up (``manage.py oauthapp cleartokens``).

Audit identifiers: an application is its ``client_id`` (``app:<pk>`` when longer than the log's
64 characters); an access token is its database id (as :func:`iiniit_auth.credentials.describe`
gives it); a refresh token is ``refresh:<pk>``. Never a token or a secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import AbstractApplication, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from iiniit_auth import rates, scopes, signals
from iiniit_auth.exceptions import InvalidScope
from iiniit_auth.models.apikey import RateField
from iiniit_auth.models.audit import AnyUser, CredentialEvent, record_and_send
from iiniit_auth.models.managers import scope_error

#: An instance of django-oauth-toolkit's (possibly swapped) Application model: it is untyped.
AnyApplication = Any

#: Grants an application may be registered for in django-oauth-toolkit but never uses here:
#: RFC 9700 sections 2.1.2 and 2.4 (no implicit grant, no resource owner password grant).
REFUSED_GRANTS: Final = frozenset(
    {AbstractApplication.GRANT_IMPLICIT, AbstractApplication.GRANT_PASSWORD}
)


class RevokedVia(StrEnum):
    """Through which door a token was revoked (``details["via"]`` of a ``revoked`` event)."""

    #: ``/o/revoke_token/`` (RFC 7009), by the client itself.
    REVOKE_ENDPOINT = "revoke_endpoint"
    #: Django admin, by a staff user.
    ADMIN = "admin"
    #: The signed-in user's own list of authorized applications (``/o/authorized_tokens/``).
    USER = "authorized_tokens"
    #: A replayed refresh token: the whole grant is revoked (RFC 9700 section 4.14.2).
    REUSE_DETECTION = "reuse_detection"
    #: A call to a lifecycle function from code (a command, a shell, a project's view).
    LIFECYCLE = "lifecycle"


def application_credential_id(application: AnyApplication) -> str:
    """Return the audit log's identifier of ``application``: its client id, not a secret."""
    client_id = str(application.client_id)
    return client_id if len(client_id) <= 64 else f"app:{application.pk}"


def access_token_credential_id(pk: Any) -> str:
    """Return the audit log's identifier of the access token with primary key ``pk``."""
    return str(pk)


def refresh_token_credential_id(pk: Any) -> str:
    """Return the audit log's identifier of the refresh token with primary key ``pk``."""
    return f"refresh:{pk}"


class ApplicationPolicyManager(models.Manager["ApplicationPolicy"]):
    """Reads and writes the policies. The ``set_*`` methods are the only writers."""

    def allowed_scopes(self, application: AnyApplication) -> frozenset[str]:
        """Return the scopes ``application`` may obtain, one query; none without a policy.

        A scope since removed from the registry no longer counts.
        """
        if application is None or application.pk is None:
            return frozenset()
        stored = (
            self.filter(application=application).values_list("allowed_scopes", flat=True).first()
        )
        known = scopes.registry()
        return frozenset(name for name in (stored or "").split() if name in known)

    def may_introspect(self, application: AnyApplication) -> bool:
        """Whether ``application`` may introspect tokens issued to other applications."""
        if application is None or application.pk is None:
            return False
        return self.filter(application=application, may_introspect=True).exists()

    def set_allowed_scopes(
        self,
        application: AnyApplication,
        allowed: Iterable[str] | str,
        *,
        actor: AnyUser | None = None,
        ip: str | None = None,
    ) -> ApplicationPolicy:
        """Set the scopes ``application`` may obtain (widen, narrow or clear); return the policy.

        Takes effect at the next authorization or token request, refreshes included: a refreshed
        token keeps only the scopes still allowed. Tokens already issued keep theirs until they
        expire; :func:`iiniit_auth.oauth.tokens.revoke_application_tokens` cuts them at once. Raises ``ValidationError``
        (keyed ``allowed_scopes`` or ``application``) for an unregistered scope or an unsaved
        application; nothing is written then. Records a ``scopes_changed`` event and sends
        ``oauth_scopes_changed`` when the set changes.
        """
        require_saved(application)
        try:
            after = scopes.normalize(allowed)
        except InvalidScope as exc:
            raise ValidationError({"allowed_scopes": scope_error(exc)}) from None
        with transaction.atomic(using=router.db_for_write(self.model)):
            policy = self._locked(application, actor)
            before = policy.scope_list
            if before == after and policy.pk is not None:
                return policy
            policy.allowed_scopes = scopes.to_string(after)
            policy.updated_at, policy.updated_by = timezone.now(), _saved_user(actor)
            policy.save()
            if before != after:
                record_and_send(
                    signals.oauth_scopes_changed,
                    self.model,
                    CredentialEvent.Kind.OAUTH_APPLICATION,
                    application_credential_id(application),
                    CredentialEvent.Event.SCOPES_CHANGED,
                    actor=actor,
                    ip=ip,
                    details={"before": before, "after": after},
                    application=application,
                    policy=policy,
                    before=before,
                    after=after,
                )
        return policy

    def set_may_introspect(
        self,
        application: AnyApplication,
        allowed: bool,
        *,
        actor: AnyUser | None = None,
        ip: str | None = None,
    ) -> ApplicationPolicy:
        """Let ``application`` introspect other applications' tokens at ``/o/introspect/``, or not.

        Every confidential application may introspect its own tokens; a resource server that
        checks tokens issued to other clients needs this. Raises ``ValidationError`` for an
        unsaved application. Records an ``introspection_changed`` event and sends
        ``oauth_introspection_changed`` when the value changes.
        """
        require_saved(application)
        with transaction.atomic(using=router.db_for_write(self.model)):
            policy = self._locked(application, actor)
            if policy.may_introspect == allowed and policy.pk is not None:
                return policy
            changed = policy.may_introspect != allowed
            policy.may_introspect = allowed
            policy.updated_at, policy.updated_by = timezone.now(), _saved_user(actor)
            policy.save()
            if changed:
                record_and_send(
                    signals.oauth_introspection_changed,
                    self.model,
                    CredentialEvent.Kind.OAUTH_APPLICATION,
                    application_credential_id(application),
                    CredentialEvent.Event.INTROSPECTION_CHANGED,
                    actor=actor,
                    ip=ip,
                    details={"may_introspect": allowed},
                    application=application,
                    policy=policy,
                    may_introspect=allowed,
                )
        return policy

    def rate(self, application: AnyApplication) -> str:
        """Return the rate limit of ``application``'s tokens (``""``: ``DEFAULT_RATE``); one
        query."""
        if application is None or application.pk is None:
            return ""
        stored = self.filter(application=application).values_list("rate", flat=True).first()
        return stored or ""

    def set_rate(
        self,
        application: AnyApplication,
        rate: str | None,
        *,
        actor: AnyUser | None = None,
        ip: str | None = None,
    ) -> ApplicationPolicy:
        """Set the rate limit of ``application``'s tokens (``"100/min"``; empty or None:
        ``DEFAULT_RATE``); return the policy.

        Raises ``ValidationError`` (keyed ``rate`` or ``application``) for text that is not a
        rate or an unsaved application; nothing is written then. Records a ``changed`` event
        naming the rate before and after, and sends ``oauth_application_changed``, when it
        changes.
        """
        require_saved(application)
        try:
            after = rates.normalize_rate(rate)
        except ValueError as exc:
            raise ValidationError({"rate": str(exc)}) from None
        with transaction.atomic(using=router.db_for_write(self.model)):
            policy = self._locked(application, actor)
            before = policy.rate
            if before == after:
                return policy
            policy.rate = after
            policy.updated_at, policy.updated_by = timezone.now(), _saved_user(actor)
            policy.save()
            record_changed(
                application, {"rate": {"before": before, "after": after}}, actor=actor, ip=ip
            )
        return policy

    def _locked(self, application: AnyApplication, actor: AnyUser | None) -> ApplicationPolicy:
        """The application's policy, locked for this transaction; unsaved if there is none."""
        found = self.select_for_update().filter(application=application).first()
        return found or self.model(application=application, updated_by=_saved_user(actor))


class ApplicationPolicy(models.Model):
    """What one django-oauth-toolkit application may obtain. No row: no scope at all.

    ``allowed_scopes`` is stored like an API key's scopes: registered names, sorted, joined by
    single spaces (RFC 6749 section 3.3). Written only through
    ``ApplicationPolicy.objects.set_allowed_scopes``, ``set_may_introspect`` and ``set_rate``.
    """

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="iiniit_auth_policy",
        verbose_name=_("application"),
    )
    allowed_scopes = models.TextField(_("allowed scopes"), blank=True, default="", editable=False)
    may_introspect = models.BooleanField(
        _("may introspect other applications' tokens"), default=False, editable=False
    )
    #: Requests per period of each of the application's tokens through
    #: ``CredentialRateThrottle``; empty: ``DEFAULT_RATE``.
    rate = RateField(_("rate limit"), editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
        editable=False,
    )

    objects: ClassVar[ApplicationPolicyManager] = ApplicationPolicyManager()

    class Meta:
        app_label = "iiniit_oauth"
        verbose_name = _("OAuth application policy")
        verbose_name_plural = _("OAuth application policies")
        permissions = [
            ("rotate_client_secret", _("Can rotate an OAuth application's client secret")),
            ("revoke_application_tokens", _("Can revoke every token of an OAuth application")),
            (
                "register_for_others",
                _("Can register OAuth applications and rotate their secrets for other users"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Policy of %(application)s") % {"application": self.application_id})

    @property
    def scope_list(self) -> list[str]:
        return self.allowed_scopes.split()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.allowed_scopes.split())


def require_saved(application: AnyApplication) -> None:
    if application is None or getattr(application, "pk", None) is None:
        raise ValidationError({"application": str(_("The application must be saved first."))})


def _saved_user(actor: AnyUser | None) -> AnyUser | None:
    """``actor`` when it is a saved user, else None (a client principal is no foreign key)."""
    from django.contrib.auth import get_user_model

    if isinstance(actor, get_user_model()) and actor.pk is not None:
        return actor
    return None


def record_changed(
    application: AnyApplication,
    changes: dict[str, Any],
    *,
    actor: AnyUser | None,
    ip: str | None,
) -> CredentialEvent:
    """Record the ``changed`` event of ``application`` with ``changes`` as its details, and
    send ``oauth_application_changed``; return the event."""
    return record_and_send(
        signals.oauth_application_changed,
        type(application),
        CredentialEvent.Kind.OAUTH_APPLICATION,
        application_credential_id(application),
        CredentialEvent.Event.CHANGED,
        actor=actor,
        ip=ip,
        details=changes,
        application=application,
        changes=changes,
    )


@receiver(post_save, sender=ApplicationPolicy, dispatch_uid="iiniit_auth.oauth.models.rate")
def _forget_rate(instance: ApplicationPolicy, using: str | None = None, **kwargs: Any) -> None:
    # The throttle keeps each application's rate in the cache: a changed policy drops it.
    from iiniit_auth.throttling import forget_application_rate

    forget_application_rate(instance.application_id, using=using)


# -- redeemed authorization codes ------------------------------------------------------------


@sensitive_variables("code")
def code_digest(code: str) -> str:
    """The hexadecimal SHA-256 of an authorization code: what is stored of it."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class RedeemedCodeQuerySet(models.QuerySet["RedeemedCode"]):
    @sensitive_variables("code")
    def of(self, code: str, application: Any) -> RedeemedCodeQuerySet:
        """The row of ``code`` as redeemed by ``application`` (none for another application)."""
        return self.filter(digest=code_digest(code), application=application)

    def prunable(self, now: datetime) -> RedeemedCodeQuerySet:
        """Rows whose access token has expired and whose refresh token family has no live
        member: no token issued from the code can be used any more."""
        live = get_refresh_token_model()._default_manager.filter(
            token_family=OuterRef("token_family"), revoked__isnull=True
        )
        return self.filter(expires__lt=now).exclude(Exists(live))


class RedeemedCode(models.Model):
    """An authorization code that was exchanged for tokens. See the module docstring."""

    digest = models.CharField(_("SHA-256 of the code"), max_length=64, unique=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("application"),
    )
    # The token's id, not a foreign key: the token is deleted when revoked or rotated.
    access_token_pk = models.BigIntegerField(_("access token id"), null=True)
    token_family = models.UUIDField(_("refresh token family"), null=True, db_index=True)
    redeemed = models.DateTimeField(_("redeemed"), default=timezone.now)
    #: When the access token issued from the code expires.
    expires = models.DateTimeField(_("expires"), db_index=True)

    objects = RedeemedCodeQuerySet.as_manager()

    class Meta:
        app_label = "iiniit_oauth"
        verbose_name = _("redeemed authorization code")
        verbose_name_plural = _("redeemed authorization codes")
        default_permissions = ()

    def __str__(self) -> str:
        return str(_("Redeemed code #%(pk)s") % {"pk": self.pk})
