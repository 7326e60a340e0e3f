"""Requests per credential per day: the counts :mod:`iiniit_auth.usage` writes.

One row per credential and day (UTC), unique, so every writer adds to the same row with an
``UPDATE ... SET requests = requests + n``: concurrent writers in several processes never lose
a count. OAuth tokens are counted per application (a token lives an hour; its application is
what staff and users recognise).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.db import IntegrityError, models, router, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from iiniit_auth.models.audit import CredentialEvent


class Usage(models.Model):
    """How many requests one credential had accepted on one day (UTC).

    ``kind`` is ``"api_key"`` (``credential_id`` the key's public id) or ``"oauth_application"``
    (``credential_id`` the application's primary key), the audit log's kinds and ids.
    """

    #: The kinds a row may have: the audit log's, OAuth tokens aside (counted per application).
    KINDS: ClassVar[tuple[str, ...]] = (
        CredentialEvent.Kind.API_KEY,
        CredentialEvent.Kind.OAUTH_APPLICATION,
    )

    kind = models.CharField(
        _("credential kind"),
        max_length=32,
        choices=[(kind.value, kind.label) for kind in map(CredentialEvent.Kind, KINDS)],
    )
    credential_id = models.CharField(_("credential"), max_length=64)
    day = models.DateField(_("day (UTC)"))
    requests = models.PositiveBigIntegerField(_("requests"), default=0)

    class Meta:
        verbose_name = _("usage")
        verbose_name_plural = _("usage")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "credential_id", "day"], name="iiniit_usage_one_row_a_day"
            )
        ]
        indexes = [models.Index(fields=["day"], name="iiniit_usage_day")]

    def __str__(self) -> str:
        return f"{self.kind} {self.credential_id} {self.day.isoformat()}: {self.requests}"

    @classmethod
    def add(cls, kind: str, credential_id: str, day: date, requests: int) -> None:
        """Add ``requests`` to the row of ``kind``/``credential_id`` on ``day``, made if missing.

        An ``UPDATE ... SET requests = requests + n``; the first write of a day inserts instead,
        and an insert that loses the race to another process adds to the row that won. Safe in
        any number of processes at once; raises what the database raises otherwise.
        """
        if requests <= 0:
            return
        rows = cls._default_manager.filter(kind=kind, credential_id=credential_id, day=day)
        if rows.update(requests=F("requests") + requests):
            return
        using = router.db_for_write(cls)
        try:
            with transaction.atomic(using=using):
                cls._default_manager.using(using).create(
                    kind=kind, credential_id=credential_id, day=day, requests=requests
                )
        except IntegrityError:
            rows.update(requests=F("requests") + requests)
