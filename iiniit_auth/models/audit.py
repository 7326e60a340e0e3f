"""The audit log: an append-only record of every credential lifecycle event and refusal."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiniit_auth import keys

#: A user instance of the project's user model (AUTH_USER_MODEL may be custom).
AnyUser = Any


class CredentialEventQuerySet(models.QuerySet["CredentialEvent"]):
    """The audit log is append-only: bulk update and delete are refused."""

    def update(self, **kwargs: Any) -> int:
        # The one change allowed: deleting a user severs ``actor`` (on_delete=SET_NULL does it
        # through update()); ``actor_name`` keeps who it was.
        if kwargs.keys() == {"actor"} and kwargs["actor"] is None:
            return super().update(**kwargs)
        raise TypeError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")


_KEY_SHAPED = re.compile(rf"[a-z][a-z0-9]{{1,15}}_[0-9A-Za-z]{{{keys.BODY_LENGTH}}}")


class CredentialEvent(models.Model):
    """One line of the audit log: what happened to which credential, who did it, when, from where.

    Append-only: saving an existing event, deleting one, or bulk changes raise ``TypeError``.
    It stores public ids, never a secret: :meth:`record` refuses details that hold a key.
    """

    class Kind(models.TextChoices):
        API_KEY = "api_key", _("API key")
        OAUTH_APPLICATION = "oauth_application", _("OAuth application")
        OAUTH_TOKEN = "oauth_token", _("OAuth token")

    class Event(models.TextChoices):
        ISSUED = "issued", _("issued")
        ROTATED = "rotated", _("rotated")
        REVOKED = "revoked", _("revoked")
        REFUSED = "refused", _("refused")

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
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = CredentialEventQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        verbose_name = _("credential event")
        verbose_name_plural = _("credential events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.credential_id} {self.get_event_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("The audit log is append-only: an event cannot be changed.")
        super().save(*args, **kwargs)

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

        Raises ``ValueError`` if ``details`` holds anything shaped like a key: a plaintext must
        never reach the audit log, even by a caller's mistake.
        """
        details = dict(details or {})
        if _KEY_SHAPED.search(DjangoJSONEncoder().encode(details)):
            raise ValueError("Refusing to write something shaped like a key into the audit log.")
        actor = actor if actor is not None and actor.pk is not None else None
        event_row = cls(
            kind=kind,
            credential_id=credential_id,
            event=event,
            actor=actor,
            actor_name=actor.get_username() if actor is not None else "",
            ip=ip or None,
            details=details,
        )
        event_row.save(force_insert=True)
        return event_row
