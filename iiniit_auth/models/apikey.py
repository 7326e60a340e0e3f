"""API keys: the stored half, and their lifecycle.

Only the lifecycle methods write credentials: ``APIKey.objects.issue()`` (in managers.py),
``key.rotate()`` and ``key.revoke()``. Each writes its audit event and sends its signal in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth import networks, rates, signals
from iiniit_auth.conf import auth_settings
from iiniit_auth.exceptions import KeyStateError, RefusalReason
from iiniit_auth.models.audit import AnyUser, CredentialEvent, record_and_send, redact_keys
from iiniit_auth.models.managers import (
    NAME_MAX_LENGTH,
    NEVER,
    REASON_MAX_LENGTH,
    APIKeyManager,
    authenticating,
)


def validate_rate(value: str) -> None:
    """Raise ``ValidationError`` (a message saying how to write one) unless ``value`` is a rate
    or empty."""
    try:
        rates.normalize_rate(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_rate") from None


class RateField(models.CharField):  # type: ignore[type-arg]
    """A rate of requests (``100/min``), stored in its canonical text; empty: the default.

    Checked on every write, not only in forms: a row is never saved with a rate the throttle
    could not read. A bad rate raises ``ValidationError`` keyed by the field's name.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", rates.MAX_LENGTH)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)
        self.validators.append(validate_rate)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        try:
            value = rates.normalize_rate(value)
        except ValueError as exc:
            raise ValidationError({self.name: str(exc)}) from None
        setattr(model_instance, self.attname, value)
        return value


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
    #: Requests per period through ``CredentialRateThrottle``; empty: ``DEFAULT_RATE``.
    rate = RateField(_("rate limit"), editable=False)

    objects: ClassVar[APIKeyManager] = APIKeyManager()

    class Meta:
        abstract = True
        ordering = ("-created_at", "-id")
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        permissions = [
            ("rotate_apikey", _("Can rotate API key")),
            ("revoke_apikey", _("Can revoke API key")),
            ("issue_for_others", _("Can issue and rotate API keys of other users")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_id})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.public_id} {self.name!r}>"

    #: Fields of this model that ``issue()`` accepts as keywords and a successor inherits on
    #: rotation, like the fields a subclass adds.
    CARRIED_FIELDS: ClassVar[tuple[str, ...]] = ("rate",)

    @classmethod
    def own_fields(cls) -> list[models.Field[Any, Any]]:
        """The concrete fields ``issue()`` accepts as keywords beyond its own parameters, and a
        successor inherits on rotation: :attr:`CARRIED_FIELDS` (``rate``) and those a subclass
        adds to this model.
        """
        base = {f.name for f in AbstractAPIKey._meta.get_fields()} | {"id"}
        base -= set(cls.CARRIED_FIELDS)
        return [f for f in cls._meta.concrete_fields if f.name not in base]

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
            record_and_send(
                signals.api_key_revoked,
                type(self),
                CredentialEvent.Kind.API_KEY,
                self.public_id,
                CredentialEvent.Event.REVOKED,
                actor=actor,
                ip=ip,
                details={"reason": reason} if reason else {},
                key=self,
                reason=reason,
            )

    def set_rate(
        self, rate: str | None, actor: AnyUser | None = None, *, ip: str | None = None
    ) -> bool:
        """Set the key's rate limit (``"100/min"``; empty or None: ``DEFAULT_RATE``).

        Takes effect on the key's next request, in every process. Raises ``ValidationError``
        (keyed ``rate``) for text that is not a rate; nothing is written then. Records a
        ``changed`` event naming the rate before and after, when it changes. Returns whether
        it changed.
        """
        try:
            after = rates.normalize_rate(rate)
        except ValueError as exc:
            raise ValidationError({"rate": str(exc)}) from None
        before = self.rate
        if after == before:
            return False
        with self._restored_on_error("rate"):
            self.rate = after
            # A save, not an update: its post_save replaces the key's entry in the lookup cache.
            self.save(update_fields=["rate"])
            CredentialEvent.record(
                CredentialEvent.Kind.API_KEY,
                self.public_id,
                CredentialEvent.Event.CHANGED,
                actor=actor,
                ip=ip,
                details={"rate": {"before": before, "after": after}},
            )
        return True

    @sensitive_variables("plaintext")
    def rotate(
        self,
        grace: timedelta = timedelta(0),
        actor: AnyUser | None = None,
        *,
        ip: str | None = None,
    ) -> tuple[AbstractAPIKey, str]:
        """Issue a successor and retire this key after ``grace``; return ``(successor, plaintext)``.

        The successor inherits name, owner, scopes, networks and rate, and this key's lifetime length
        from now (at most ``MAX_KEY_LIFETIME``). This key keeps working until now + grace (never past its own expiry), then is
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
                ._default_manager.filter(authenticating(now), pk=self.pk, rotated_at__isnull=True)
                .update(rotated_at=now, expires_at=retire_at)
            )
            if not done:
                raise KeyStateError(
                    str(_("Only an active key that was never rotated can be rotated."))
                )
            lifetime = self.expires_at - self.created_at if self.expires_at else None
            longest = auth_settings().MAX_KEY_LIFETIME
            if longest is not None:  # a successor is a new key: it lives at most that long
                lifetime = min(lifetime, longest) if lifetime else longest
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
                **{f.name: getattr(self, f.name) for f in self.own_fields()},
            )
            record_and_send(
                signals.api_key_rotated,
                type(self),
                CredentialEvent.Kind.API_KEY,
                self.public_id,
                CredentialEvent.Event.ROTATED,
                actor=actor,
                ip=ip,
                details={
                    "successor": successor.public_id,
                    "grace_seconds": int(grace.total_seconds()),
                },
                key=self,
                successor=successor,
                grace=grace,
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
