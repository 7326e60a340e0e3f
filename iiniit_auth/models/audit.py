"""The audit log: an append-only record of every credential lifecycle event and refusal."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiniit_auth import keys

#: A user instance of the project's user model (AUTH_USER_MODEL may be custom).
AnyUser = Any


class CredentialEventQuerySet(models.QuerySet["CredentialEvent"]):
    """The audit log is append-only: bulk update and delete are refused."""

    def update(self, **kwargs: Any) -> int:
        # Deleting a user still works: on_delete=SET_NULL severs ``actor`` through the model's
        # base manager (a plain manager, not this queryset), and ``actor_name`` keeps who it was.
        raise TypeError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")

    def delete_for_retention(self) -> int:
        """Delete these events and return how many; the retention rule's own door.

        Only :func:`iiniit_auth.audit_ops.prune` calls it, with the events its rule allows and
        in the transaction that records the ``pruned`` event. On PostgreSQL the table's trigger
        refuses a DELETE unless :data:`PRUNE_SETTING` is on in the current transaction: it is
        set here, transaction-local, and turned off again right after the DELETE.
        """
        with transaction.atomic(using=self.db):
            connection = connections[self.db]
            on_postgresql = connection.vendor == "postgresql"
            if on_postgresql:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'on', true)", [PRUNE_SETTING])
            deleted, _by_model = models.QuerySet.delete(self)
            if on_postgresql:
                # Off again at once: called inside a longer transaction (a request's, a
                # test's), the flag must not let a later DELETE of that transaction through.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'off', true)", [PRUNE_SETTING])
        return deleted


#: The PostgreSQL setting that lets the append-only trigger (migration 0009) allow a DELETE,
#: set for one transaction only by :meth:`CredentialEventQuerySet.delete_for_retention`.
PRUNE_SETTING = "iiniit_auth.prune"

REDACTED = "[redacted]"
ACTOR_NAME_MAX_LENGTH = 150


def contains_key(text: str) -> bool:
    """Return whether ``text`` holds something shaped like a key of any prefix."""
    return keys.KEY_SHAPED.search(text) is not None


def redact_keys(text: str) -> str:
    """Return ``text`` with everything shaped like a key replaced by ``[redacted]``."""
    return keys.KEY_SHAPED.sub(REDACTED, text)


def username(user: Any) -> str:
    """``user``'s username as the log records it: anything shaped like a key ``[redacted]``.

    A username is whatever a sign-up form accepted; one shaped like a key would otherwise make
    every event naming its owner fail the check in :meth:`CredentialEvent.record`.
    """
    return redact_keys(str(user.get_username()))


def _as_json(details: dict[str, Any]) -> Any:
    """``details`` as the log will store them: lazy strings, tuples, dates become JSON values."""
    return json.loads(DjangoJSONEncoder().encode(details))


def _strings(value: Any) -> Iterator[str]:
    """Every string in the JSON value ``value``: object keys and values, array items."""
    # The strings themselves, not the JSON text: its escapes can make harmless text key-shaped
    # ("é_" and 44 letters is written "\u00e9_…", and "u00e9_…" looks like a key).
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _address(ip: str | None) -> str | None:
    # GenericIPAddressField is PostgreSQL's inet: a malformed address (or an IPv6 zone id) would
    # fail the whole lifecycle transaction, so such an address is not recorded.
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    return str(address)


class CredentialEvent(models.Model):
    """One line of the audit log: what happened to which credential, who did it, when, from where.

    Append-only: saving an existing event, deleting one, or bulk changes raise ``TypeError``;
    on PostgreSQL a trigger refuses UPDATE and DELETE in SQL too. Events leave only through
    the retention rule (``manage.py audit prune``).
    It stores public ids, never a secret: :meth:`record` refuses details that hold a key.
    """

    class Kind(models.TextChoices):
        API_KEY = "api_key", _("API key")
        OAUTH_APPLICATION = "oauth_application", _("OAuth application")
        OAUTH_TOKEN = "oauth_token", _("OAuth token")
        # The log itself: a retention run (manage.py audit prune) is recorded against it.
        AUDIT_LOG = "audit_log", _("audit log")

    class Event(models.TextChoices):
        ISSUED = "issued", _("issued")
        ROTATED = "rotated", _("rotated")
        REVOKED = "revoked", _("revoked")
        REFUSED = "refused", _("refused")
        # A staff action refused before it wrote anything (issuing for a user one may not act for).
        DENIED = "denied", _("denied")
        # OAuth applications.
        CREATED = "created", _("created")
        CHANGED = "changed", _("changed")
        SECRET_ROTATED = "secret_rotated", _("client secret rotated")
        SCOPES_CHANGED = "scopes_changed", _("allowed scopes changed")
        INTROSPECTION_CHANGED = "introspection_changed", _("introspection permission changed")
        # OAuth tokens: a clean-up run deleted the expired and revoked ones (counts in details).
        CLEARED = "cleared", _("expired tokens cleared")
        # An OAuth application deleted by its lifecycle function, after its tokens' revocation.
        DELETED = "deleted", _("deleted")
        # API keys: the owner was reminded of the coming expiry (manage.py apikey remind).
        REMINDED = "reminded", _("expiry reminder sent")
        # The audit log: events older than the retention were deleted (counts in details).
        PRUNED = "pruned", _("old events pruned")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True, editable=False)
    kind = models.CharField(_("credential kind"), max_length=32, choices=Kind.choices)
    credential_id = models.CharField(_("credential"), max_length=64, db_index=True)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The actor's username at the time: the trail survives the user's deletion.
    actor_name = models.CharField(_("actor name"), max_length=ACTOR_NAME_MAX_LENGTH, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = CredentialEventQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        verbose_name = _("credential event")
        verbose_name_plural = _("credential events")
        permissions = [("export_credentialevent", _("Can export the audit log"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.credential_id} {self.get_event_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert the event. Raises ``TypeError`` for an event that is already stored.

        Always an INSERT: a new instance given an existing primary key would otherwise
        overwrite that event.
        """
        if (
            not self._state.adding
            or args
            or kwargs.get("force_update")
            or kwargs.get("update_fields") is not None
        ):
            raise TypeError("The audit log is append-only: an event cannot be changed.")
        kwargs["force_insert"] = True
        super().save(**kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only: an event cannot be deleted.")

    @classmethod
    def record(
        cls,
        kind: str,
        credential_id: str,
        event: str,
        *,
        actor: AnyUser | None = None,
        ip: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> CredentialEvent:
        """Append an event and return it.

        ``actor`` may be a saved user (linked and named), or any object with ``get_username()``
        such as a client-credentials principal (named only). An ``ip`` that is not an address
        is not recorded. Raises ``ValueError`` if ``details`` holds anything shaped like a key:
        a plaintext must never reach the audit log, even by a caller's mistake.
        """
        details = dict(details or {})
        if any(contains_key(text) for text in _strings(_as_json(details))):
            raise ValueError("Refusing to write something shaped like a key into the audit log.")
        actor_name = ""
        if actor is not None and hasattr(actor, "get_username"):
            actor_name = username(actor)[:ACTOR_NAME_MAX_LENGTH]
        linked = isinstance(actor, get_user_model()) and actor.pk is not None
        event_row = cls(
            kind=kind,
            credential_id=credential_id,
            event=event,
            actor=actor if linked else None,
            actor_name=actor_name,
            ip=_address(ip),
            details=details,
        )
        event_row.save(force_insert=True)
        return event_row


def record_and_send(
    signal: Signal,
    sender: Any,
    kind: str,
    credential_id: str,
    event: str,
    /,
    *,
    actor: AnyUser | None = None,
    ip: str | None = None,
    details: Mapping[str, Any] | None = None,
    **arguments: Any,
) -> CredentialEvent:
    """Record an event (:meth:`CredentialEvent.record`), then send ``signal`` from ``sender``
    with ``actor`` and ``arguments``, in the caller's transaction; return the event.

    The trace every lifecycle write leaves: a receiver that raises rolls the write and its
    event back together.
    """
    row = CredentialEvent.record(kind, credential_id, event, actor=actor, ip=ip, details=details)
    signal.send(sender=sender, actor=actor, **arguments)
    return row
