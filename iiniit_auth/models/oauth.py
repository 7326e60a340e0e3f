"""OAuth 2.0 applications: the scopes each may obtain, and the lifecycle of applications.

django-oauth-toolkit's models are not swapped. Each application may have one
:class:`ApplicationPolicy` row beside it, holding the scopes it may obtain; an application
without one may obtain **no** scope (a secure default: registering an application grants
nothing until someone says what it may do).

The functions here are the one place that writes a policy, registers an application or rotates
its client secret; tokens are revoked in :mod:`iiniit_auth.oauth.tokens`. Each records a
:class:`~iiniit_auth.models.CredentialEvent` and sends a signal, in the same transaction.

Audit identifiers: an application is its ``client_id`` (``app:<pk>`` when longer than the log's
64 characters); an access token is its database id (as :func:`iiniit_auth.credentials.describe`
gives it); a refresh token is ``refresh:<pk>``. Never a token or a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, ClassVar, Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AbstractApplication, get_application_model
from oauth2_provider.settings import oauth2_settings

from iiniit_auth import rates, scopes, signals
from iiniit_auth.exceptions import InvalidScope
from iiniit_auth.models.apikey import RateField
from iiniit_auth.models.audit import AnyUser, CredentialEvent, contains_key, redact_keys
from iiniit_auth.models.managers import scope_error

#: An instance of django-oauth-toolkit's (possibly swapped) Application model: it is untyped.
AnyApplication = Any

#: Grants an application may be registered for in django-oauth-toolkit but never uses here:
#: RFC 9700 sections 2.1.2 and 2.4 (no implicit grant, no resource owner password grant).
REFUSED_GRANTS: Final = frozenset(
    {AbstractApplication.GRANT_IMPLICIT, AbstractApplication.GRANT_PASSWORD}
)
#: Set on an application instance saved by :func:`register_application`, which records its
#: creation itself (with the actor who registered it).
_RECORDED = "_iiniit_auth_recorded"


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
                CredentialEvent.record(
                    CredentialEvent.Kind.OAUTH_APPLICATION,
                    application_credential_id(application),
                    CredentialEvent.Event.SCOPES_CHANGED,
                    actor=actor,
                    ip=ip,
                    details={"before": before, "after": after},
                )
                signals.oauth_scopes_changed.send(
                    sender=self.model,
                    application=application,
                    policy=policy,
                    before=before,
                    after=after,
                    actor=actor,
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
                CredentialEvent.record(
                    CredentialEvent.Kind.OAUTH_APPLICATION,
                    application_credential_id(application),
                    CredentialEvent.Event.INTROSPECTION_CHANGED,
                    actor=actor,
                    ip=ip,
                    details={"may_introspect": allowed},
                )
                signals.oauth_introspection_changed.send(
                    sender=self.model,
                    application=application,
                    policy=policy,
                    may_introspect=allowed,
                    actor=actor,
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
            _record_changed(
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


# -- applications ----------------------------------------------------------------------------


def record_application_created(
    application: AnyApplication, *, actor: AnyUser | None = None, ip: str | None = None
) -> CredentialEvent:
    """Record that ``application`` was registered and send ``oauth_application_created``.

    Runs by itself for every application saved for the first time (django-oauth-toolkit's admin
    and views, code), with the application's user (``application.user``) as the actor;
    :func:`register_application` records it with the actor it is given instead. Anything shaped
    like a key in the name is recorded as ``[redacted]``.
    """
    event = CredentialEvent.record(
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
    )
    signals.oauth_application_created.send(
        sender=type(application), application=application, actor=actor
    )
    return event


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
    return _record_changed(application, changes, actor=actor, ip=ip)


def _record_changed(
    application: AnyApplication,
    changes: dict[str, Any],
    *,
    actor: AnyUser | None,
    ip: str | None,
) -> CredentialEvent:
    """Record the ``changed`` event of ``application`` with ``changes`` as its details, and
    send ``oauth_application_changed``; return the event."""
    event = CredentialEvent.record(
        CredentialEvent.Kind.OAUTH_APPLICATION,
        application_credential_id(application),
        CredentialEvent.Event.CHANGED,
        actor=actor,
        ip=ip,
        details=changes,
    )
    signals.oauth_application_changed.send(
        sender=type(application), application=application, changes=changes, actor=actor
    )
    return event


def _application_saved(
    sender: type[Any], instance: AnyApplication, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw and not getattr(instance, _RECORDED, False):
        record_application_created(instance, actor=instance.user)


# A lazy sender ("app_label.Model"), resolved once the application model is loaded.
post_save.connect(
    _application_saved,
    sender=oauth2_settings.APPLICATION_MODEL,
    dispatch_uid="iiniit_auth.models.oauth.application_created",
)


def _registration_errors(application: AnyApplication) -> dict[str, list[str]]:
    """What iiniit_auth refuses on top of django-oauth-toolkit's ``Application.clean``."""
    from iiniit_auth.oauth.redirects import refusal

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
        CredentialEvent.record(
            CredentialEvent.Kind.OAUTH_APPLICATION,
            application_credential_id(application),
            CredentialEvent.Event.SECRET_ROTATED,
            actor=actor,
            ip=ip,
            details={"hashed": bool(locked.hash_client_secret)},
        )
        signals.oauth_client_secret_rotated.send(
            sender=type(application), application=application, actor=actor
        )
    return secret
