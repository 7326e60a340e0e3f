"""Creating and finding API keys: the manager (``issue()``, the only way a key comes into being)
and the queryset filters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth import keys, networks, scopes, signals
from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import format_duration
from iiniit_auth.exceptions import InvalidScope
from iiniit_auth.lifetimes import lifetime_label
from iiniit_auth.models.audit import (
    AnyUser,
    CredentialEvent,
    contains_key,
    record_and_send,
    username,
)

if TYPE_CHECKING:
    from iiniit_auth.models.apikey import AbstractAPIKey

NAME_MAX_LENGTH = 100
REASON_MAX_LENGTH = 200


def scope_error(exc: InvalidScope) -> str:
    """Return the message for ``exc``, which names the unknown scopes unless one holds a key."""
    if any(contains_key(name) for name in exc.unknown):
        # A key pasted among the scopes is a secret: the message must not repeat it.
        return str(_("A scope must not contain a key."))
    return str(exc)


class _Never:
    def __repr__(self) -> str:
        return "NEVER"


#: Pass as ``expires_at`` to issue a key that never expires, whatever the default lifetime.
NEVER: Final = _Never()


def authenticating(now: datetime) -> Q:
    """The one definition of a key that authenticates at ``now``, its owner's state aside: not
    revoked, not expired (from the instant of ``expires_at``, as ``is_expired()``). A rotated
    key in its grace period counts. Used by the queryset, the lifecycle, the admin's status and
    overview, and the cache's invalidation."""
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class APIKeyQuerySet(models.QuerySet["AbstractAPIKey"]):
    """Filters over keys. Every one is a single SQL query."""

    def active(self, now: datetime | None = None) -> APIKeyQuerySet:
        """Keys not revoked and not expired at ``now`` (default: now); a rotated key in its
        grace period counts. Expired from the instant of ``expires_at``, as ``is_expired()``."""
        return self.filter(authenticating(timezone.now() if now is None else now))

    def expiring_within(self, delta: timedelta, now: datetime | None = None) -> APIKeyQuerySet:
        """Keys active at ``now`` (default: now) whose expiry falls within ``delta`` of it."""
        now = timezone.now() if now is None else now
        return self.active(now).filter(expires_at__lte=now + delta)

    def with_scope(self, scope: str) -> APIKeyQuerySet:
        """Keys carrying ``scope`` (scopes are stored space-separated, RFC 6749 section 3.3)."""
        return self.filter(scopes__regex=rf"(^| ){re.escape(scope)}( |$)")


_ManagerOfQuerySet = models.Manager.from_queryset(APIKeyQuerySet)


class APIKeyManager(_ManagerOfQuerySet["AbstractAPIKey"]):
    """Creates keys. ``issue()`` is the only way a key comes into being. The queryset's filters
    (``active``, ``expiring_within``, ``with_scope``) are the manager's too."""

    def get_queryset(self) -> APIKeyQuerySet:
        # Typed: the stubs see a plain QuerySet in the generated one.
        return APIKeyQuerySet(self.model, using=self._db)

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
        unknown = sorted(set(extra_fields) - {f.name for f in self.model.own_fields()})
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
            record_and_send(
                signals.api_key_issued,
                self.model,
                CredentialEvent.Kind.API_KEY,
                key.public_id,
                CredentialEvent.Event.ISSUED,
                actor=created_by,
                ip=ip,
                details={"name": key.name, "owner": username(owner), "scopes": key.scope_list},
                key=key,
            )
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
            errors["scopes"] = scope_error(exc)
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
        longest = auth_settings().MAX_KEY_LIFETIME
        if longest is not None and "expires_at" not in errors:
            most = lifetime_label(format_duration(longest))
            if expires_at is None:
                errors["expires_at"] = str(
                    _("Keys must expire: a key lives at most %(most)s.") % {"most": most}
                )
            elif isinstance(expires_at, datetime) and expires_at > timezone.now() + longest:
                errors["expires_at"] = str(_("A key lives at most %(most)s.") % {"most": most})
        if errors:
            raise ValidationError(errors)
        return {
            "name": name,
            "scopes": scope_text,
            "allowed_networks": network_list,
            "expires_at": expires_at,
        }
