"""API keys.

Only the lifecycle methods here write credentials: ``APIKey.objects.issue()``, ``key.rotate()``
and ``key.revoke()``. Each writes its audit event and sends its signal in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth import keys, networks, scopes, signals
from iiniit_auth.conf import auth_settings
from iiniit_auth.exceptions import InvalidScope, KeyStateError, RefusalReason
from iiniit_auth.models.audit import AnyUser, CredentialEvent, contains_key, redact_keys

NAME_MAX_LENGTH = 100
REASON_MAX_LENGTH = 200


def _own_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The concrete fields a subclass adds to :class:`AbstractAPIKey` (none for ``APIKey``).

    A successor inherits them on rotation, and ``issue()`` accepts them.
    """
    base = {f.name for f in AbstractAPIKey._meta.get_fields()} | {"id"}
    return [f for f in model._meta.concrete_fields if f.name not in base]


class _Never:
    def __repr__(self) -> str:
        return "NEVER"


#: Pass as ``expires_at`` to issue a key that never expires, whatever the default lifetime.
NEVER: Final = _Never()


class APIKeyQuerySet(models.QuerySet["AbstractAPIKey"]):
    """Filters over keys. Every one is a single SQL query."""

    def active(self) -> APIKeyQuerySet:
        """Keys that authenticate now: not revoked, not expired (a rotated key in grace counts)."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )

    def expiring_within(self, delta: timedelta) -> APIKeyQuerySet:
        """Active keys whose expiry falls within ``delta`` from now."""
        return self.active().filter(expires_at__lte=timezone.now() + delta)

    def with_scope(self, scope: str) -> APIKeyQuerySet:
        """Keys carrying ``scope`` (scopes are stored space-separated, RFC 6749 section 3.3)."""
        return self.filter(scopes__regex=rf"(^| ){re.escape(scope)}( |$)")


class APIKeyManager(models.Manager["AbstractAPIKey"]):
    """Creates keys. ``issue()`` is the only way a key comes into being."""

    def get_queryset(self) -> APIKeyQuerySet:
        return APIKeyQuerySet(self.model, using=self._db)

    def active(self) -> APIKeyQuerySet:
        return self.get_queryset().active()

    def expiring_within(self, delta: timedelta) -> APIKeyQuerySet:
        return self.get_queryset().expiring_within(delta)

    def with_scope(self, scope: str) -> APIKeyQuerySet:
        return self.get_queryset().with_scope(scope)

    @sensitive_variables("plaintext", "new")
    def issue(
        self,
        *,
        owner: AnyUser,
        name: str,
        scopes: Iterable[str] | str = (),
        expires_at: datetime | _Never | None = None,
        created_by: AnyUser | None = None,
        allowed_networks: Iterable[str] | str = (),
        ip: str | None = None,
        predecessor: AbstractAPIKey | None = None,
        **extra_fields: Any,
    ) -> tuple[AbstractAPIKey, str]:
        """Create a key and return ``(key, plaintext)``. The plaintext exists only in this return.

        ``expires_at=None`` applies ``DEFAULT_KEY_LIFETIME``; ``expires_at=NEVER`` means no
        expiry. ``extra_fields`` are the fields a subclass of :class:`AbstractAPIKey` adds (an
        organisation, say); a name that is not such a field raises ``TypeError``. Raises ``ValidationError`` (a dict naming the fields) for an empty, too long or
        key-bearing name, an unregistered scope, a bad network, a naive or past expiry, an
        unsaved or inactive owner or an unsaved ``created_by``; nothing is written then.
        Records an ``issued`` event and sends ``api_key_issued``.
        """
        unknown = sorted(set(extra_fields) - {f.name for f in _own_fields(self.model)})
        if unknown:
            raise TypeError(
                f"issue() got fields {self.model.__name__} does not add: {', '.join(unknown)}."
            )
        fields = self._validated(owner, name, scopes, expires_at, allowed_networks, created_by)
        with transaction.atomic():
            for _attempt in range(3):
                new = keys.generate(auth_settings().KEY_PREFIX)
                key = self.model(
                    owner=owner,
                    created_by=created_by,
                    public_id=new.public_id,
                    digest=keys.digest(new.plaintext, auth_settings().PEPPER),
                    **fields,
                    **extra_fields,
                )
                key.predecessor = predecessor
                try:
                    with transaction.atomic():
                        key.save(force_insert=True)
                    break
                except IntegrityError:
                    # A public-id collision (59 random bits) is astronomically rare; a collision
                    # on the predecessor link means a concurrent rotation won: let it surface.
                    if predecessor is not None:
                        raise
            else:  # pragma: no cover - three collisions in a row
                raise IntegrityError("Could not allocate a unique public id.")
            CredentialEvent.record(
                CredentialEvent.Kind.API_KEY,
                key.public_id,
                CredentialEvent.Event.ISSUED,
                actor=created_by,
                ip=ip,
                details={"name": key.name, "owner": owner.get_username(), "scopes": key.scope_list},
            )
            signals.api_key_issued.send(sender=self.model, key=key, actor=created_by)
        return key, new.plaintext

    def _validated(
        self,
        owner: AnyUser,
        name: str,
        scope_names: Iterable[str] | str,
        expires_at: datetime | _Never | None,
        allowed_networks: Iterable[str] | str,
        created_by: AnyUser | None,
    ) -> dict[str, Any]:
        errors: dict[str, str] = {}
        name = (name or "").strip()
        if not name:
            errors["name"] = str(_("A key needs a name."))
        elif len(name) > NAME_MAX_LENGTH:
            errors["name"] = str(_("A name is at most %(n)d characters.") % {"n": NAME_MAX_LENGTH})
        elif contains_key(name):
            # The name is shown everywhere (admin, __str__, the audit log): never a secret.
            errors["name"] = str(_("A name must not contain a key."))
        if owner is None or owner.pk is None:
            errors["owner"] = str(_("A key needs a saved owner."))
        elif not owner.is_active:
            errors["owner"] = str(_("The owner is inactive: an inactive user's keys are refused."))
        if created_by is not None and created_by.pk is None:
            errors["created_by"] = str(_("The creator must be a saved user."))
        try:
            scope_text = scopes.to_string(scopes.normalize(scope_names))
        except InvalidScope as exc:
            errors["scopes"] = str(exc)
        try:
            network_list = networks.normalize(allowed_networks)
        except ValueError as exc:
            errors["allowed_networks"] = str(exc)
        if expires_at is None:
            lifetime = auth_settings().DEFAULT_KEY_LIFETIME
            expires_at = timezone.now() + lifetime if lifetime else None
        elif isinstance(expires_at, _Never):
            expires_at = None
        elif not isinstance(expires_at, datetime):
            errors["expires_at"] = str(_("The expiry must be a date and time."))
        elif timezone.is_naive(expires_at):
            errors["expires_at"] = str(_("The expiry needs a time zone."))
        elif expires_at <= timezone.now():
            errors["expires_at"] = str(_("The expiry is in the past."))
        if errors:
            raise ValidationError(errors)
        return {
            "name": name,
            "scopes": scope_text,
            "allowed_networks": network_list,
            "expires_at": expires_at,
        }


class AbstractAPIKey(models.Model):
    """An API key: the stored half. Subclass it to add fields (e.g. an organisation).

    The plaintext is never stored; ``digest`` is SHA-256 (or HMAC-SHA-256 with a pepper) of it.
    """

    public_id = models.CharField(_("public id"), max_length=16, unique=True, editable=False)
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="%(class)s_set",
        verbose_name=_("owner"),
    )
    scopes = models.TextField(_("scopes"), blank=True, default="", editable=False)
    allowed_networks = models.JSONField(_("allowed networks"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("revoke reason"), max_length=REASON_MAX_LENGTH, blank=True)
    rotated_at = models.DateTimeField(_("rotated"), null=True, blank=True, editable=False)
    predecessor = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="successor",
        verbose_name=_("rotated from"),
        editable=False,
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects: ClassVar[APIKeyManager] = APIKeyManager()

    class Meta:
        abstract = True
        ordering = ("-created_at", "-id")
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        permissions = [
            ("rotate_apikey", _("Can rotate API key")),
            ("revoke_apikey", _("Can revoke API key")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_id})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.public_id} {self.name!r}>"

    @property
    def display_id(self) -> str:
        """The public id as people see it: ``iik_<public id>``. Not secret."""
        return f"{auth_settings().KEY_PREFIX}_{self.public_id}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_active(self) -> bool:
        """Whether the key authenticates now (its owner's state aside)."""
        return not self.is_revoked and not self.is_expired()

    @property
    def status(self) -> str:
        """One of ``active``, ``revoked``, ``rotated`` (past its grace), ``expired``."""
        reason = self.refusal_reason()
        return reason.value if reason else "active"

    def refusal_reason(
        self, now: datetime | None = None, address: str | None = None
    ) -> RefusalReason | None:
        """Why the key may not be used now from ``address``, or None if it may.

        The owner's ``is_active`` is not checked here: the caller loads the owner with the key
        and checks it. Network rules apply only when ``address`` is given (``""`` is an
        unknown address, refused by a key that has networks).
        """
        if self.revoked_at is not None:
            return RefusalReason.REVOKED
        if self.is_expired(now):
            return RefusalReason.ROTATED if self.rotated_at is not None else RefusalReason.EXPIRED
        if address is not None and not networks.allows(self.allowed_networks, address):
            return RefusalReason.NETWORK
        return None

    @contextmanager
    def _restored_on_error(self, *names: str) -> Iterator[None]:
        """Run a lifecycle write in a transaction; if it fails, put ``names`` back as they were.

        The write sets the new state on this instance before its audit event and signal (the
        receivers see it); when any of them raises, the rollback undoes the row and this undoes
        the instance, so ``is_active`` never reports a change that was not written.
        """
        by_name = {field.name: field.attname for field in self._meta.concrete_fields}
        attnames = [by_name[name] for name in names]
        saved = [getattr(self, attname) for attname in attnames]
        # Related objects cached on the instance too: ``revoked_by``, and ``successor``, which
        # rotate() caches when it links the successor.
        cached = dict(self._state.fields_cache)
        try:
            with transaction.atomic():
                yield
        except BaseException:
            for attname, value in zip(attnames, saved, strict=True):
                setattr(self, attname, value)
            self._state.fields_cache = cached
            raise

    def revoke(
        self, actor: AnyUser | None = None, reason: str = "", *, ip: str | None = None
    ) -> None:
        """Revoke the key for good. Refused from the very next request.

        Raises :class:`KeyStateError` if it is already revoked. Anything shaped like a key in
        ``reason`` (a leaked key pasted in) is stored as ``[redacted]``. Records a ``revoked``
        event and sends ``api_key_revoked``; if that fails nothing is written and this instance
        is left as it was.
        """
        reason = redact_keys((reason or "").strip())[:REASON_MAX_LENGTH]
        now = timezone.now()
        with self._restored_on_error("revoked_at", "revoked_by", "revoke_reason"):
            # A conditional UPDATE: two concurrent revokes cannot both succeed.
            done = (
                type(self)
                ._default_manager.filter(pk=self.pk, revoked_at__isnull=True)
                .update(revoked_at=now, revoked_by=actor, revoke_reason=reason)
            )
            if not done:
                raise KeyStateError(str(_("This key is already revoked.")))
            self.revoked_at, self.revoked_by, self.revoke_reason = now, actor, reason
            CredentialEvent.record(
                CredentialEvent.Kind.API_KEY,
                self.public_id,
                CredentialEvent.Event.REVOKED,
                actor=actor,
                ip=ip,
                details={"reason": reason} if reason else {},
            )
            signals.api_key_revoked.send(sender=type(self), key=self, actor=actor, reason=reason)

    @sensitive_variables("plaintext")
    def rotate(
        self,
        grace: timedelta = timedelta(0),
        actor: AnyUser | None = None,
        *,
        ip: str | None = None,
    ) -> tuple[AbstractAPIKey, str]:
        """Issue a successor and retire this key after ``grace``; return ``(successor, plaintext)``.

        The successor inherits name, owner, scopes and networks, and this key's lifetime length
        from now. This key keeps working until now + grace (never past its own expiry), then is
        refused. Raises :class:`KeyStateError` if the key is revoked, expired or already rotated,
        and ``ValueError`` for a negative grace. Records a ``rotated`` event (and the successor's
        ``issued``) and sends ``api_key_rotated``; if any of that fails nothing is written and
        this instance is left as it was.
        """
        if grace < timedelta(0):
            raise ValueError("The grace period cannot be negative.")
        now = timezone.now()
        retire_at = now + grace
        if self.expires_at is not None:
            retire_at = min(retire_at, self.expires_at)
        with self._restored_on_error("rotated_at", "expires_at"):
            done = (
                type(self)
                ._default_manager.filter(
                    pk=self.pk, revoked_at__isnull=True, rotated_at__isnull=True
                )
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                .update(rotated_at=now, expires_at=retire_at)
            )
            if not done:
                raise KeyStateError(
                    str(_("Only an active key that was never rotated can be rotated."))
                )
            lifetime = self.expires_at - self.created_at if self.expires_at else None
            self.rotated_at, self.expires_at = now, retire_at
            successor, plaintext = type(self)._default_manager.issue(
                owner=self.owner,
                name=self.name,
                scopes=self.scope_list,
                expires_at=now + lifetime if lifetime else NEVER,
                created_by=actor,
                allowed_networks=self.allowed_networks,
                ip=ip,
                predecessor=self,
                **{f.name: getattr(self, f.name) for f in _own_fields(type(self))},
            )
            CredentialEvent.record(
                CredentialEvent.Kind.API_KEY,
                self.public_id,
                CredentialEvent.Event.ROTATED,
                actor=actor,
                ip=ip,
                details={
                    "successor": successor.public_id,
                    "grace_seconds": int(grace.total_seconds()),
                },
            )
            signals.api_key_rotated.send(
                sender=type(self), key=self, successor=successor, grace=grace, actor=actor
            )
        return successor, plaintext

    def record_use(self, now: datetime) -> bool:
        """Stamp ``last_used_at`` at most once per ``LAST_USED_UPDATE_INTERVAL``.

        One conditional UPDATE, no read: under concurrent requests only one matches.
        Returns whether a row was written.
        """
        interval = auth_settings().LAST_USED_UPDATE_INTERVAL
        if self.last_used_at is not None and now - self.last_used_at < interval:
            return False
        written = (
            type(self)
            ._default_manager.filter(pk=self.pk)
            .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - interval))
            .update(last_used_at=now)
        )
        self.last_used_at = now
        return bool(written)


class APIKey(AbstractAPIKey):
    """The concrete API key model."""

    class Meta(AbstractAPIKey.Meta):
        pass
