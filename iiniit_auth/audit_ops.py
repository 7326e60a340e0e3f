"""The audit log over time: the retention rule (prune) and the export, for command and admin.

Pruning is the only way audit events are deleted: :func:`prune` deletes the events older than a
cut-off, except those of a credential that still authenticates (an active API key of any key
model, a registered OAuth application, a live OAuth token), and records one ``pruned`` event
saying what went, in the same transaction. Exports stream: rows are read in chunks
(``QuerySet.iterator``) and written one line at a time, so a million events take the memory of
one chunk.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import router, transaction
from django.db.models import CharField, Count, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from iiniit_auth.cache import key_models
from iiniit_auth.models import CredentialEvent
from iiniit_auth.models.audit import AnyUser
from iiniit_auth.models.managers import authenticating

#: The columns of an export, in order (CSV header, JSON object keys).
COLUMNS: Final = (
    "id",
    "at",
    "kind",
    "credential_id",
    "event",
    "actor_id",
    "actor_name",
    "ip",
    "details",
)
#: Rows read from the database per round trip while exporting.
CHUNK_SIZE: Final = 2000
#: The credential id the ``pruned`` events are recorded against: the log as a whole.
LOG_ID: Final = "*"
#: A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

Kind = CredentialEvent.Kind
_ENCODER: Final = DjangoJSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Pruned:
    """What a prune run found (dry run) or deleted: the cut-off and the counts per kind."""

    before: datetime
    counts: dict[str, int]
    kept_active: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _active_credentials() -> Q:
    """Events of a credential that still authenticates, as one filter (subqueries, no rows)."""
    now = timezone.now()
    active = Q(pk__in=[])
    for model in key_models():
        live_ids = model._default_manager.filter(authenticating(now)).values("public_id")
        active |= Q(kind=Kind.API_KEY, credential_id__in=live_ids)
    if apps.is_installed("oauth2_provider"):
        active |= _live_oauth(now)
    return active


def _live_oauth(now: datetime) -> Q:
    # django-oauth-toolkit is optional for the core: imported only when installed.
    from oauth2_provider.models import (
        get_access_token_model,
        get_application_model,
        get_refresh_token_model,
    )

    applications = get_application_model()._default_manager
    refresh = get_refresh_token_model()._default_manager.filter(revoked__isnull=True)
    access = get_access_token_model()._default_manager.filter(expires__gt=now)
    text = CharField()
    # The ids as iiniit_auth.oauth.models writes them: application_credential_id,
    # access_token_credential_id, refresh_token_credential_id.
    return (
        Q(
            kind=Kind.OAUTH_APPLICATION,
            credential_id__in=applications.values("client_id"),
        )
        | Q(
            kind=Kind.OAUTH_APPLICATION,
            credential_id__in=applications.annotate(
                audit_id=Concat(Value("app:"), Cast("pk", text), output_field=text)
            ).values("audit_id"),
        )
        | Q(
            kind=Kind.OAUTH_TOKEN,
            credential_id__in=access.annotate(audit_id=Cast("pk", text)).values("audit_id"),
        )
        | Q(
            kind=Kind.OAUTH_TOKEN,
            credential_id__in=refresh.annotate(
                audit_id=Concat(Value("refresh:"), Cast("pk", text), output_field=text)
            ).values("audit_id"),
        )
    )


def _counts(events: QuerySet[CredentialEvent]) -> dict[str, int]:
    rows = events.order_by().values_list("kind").annotate(n=Count("pk"))
    return {kind: n for kind, n in rows}


def prune(before: datetime, *, delete: bool, actor: AnyUser | None = None) -> Pruned:
    """Count, and with ``delete`` delete, the events older than ``before`` that may go.

    Events of a credential still active are kept whatever their age (``kept_active`` counts
    them). With ``delete``, one ``pruned`` event (kind ``audit_log``, the cut-off and the counts
    in its details) is recorded in the same transaction, even when nothing went: the log shows
    each run. Without it nothing is written.
    """
    using = router.db_for_write(CredentialEvent)
    with transaction.atomic(using=using):
        old = CredentialEvent.objects.using(using).filter(at__lt=before)
        keep = _active_credentials()
        kept_active = old.filter(keep).count()
        doomed = old.exclude(keep)
        counts = _counts(doomed)
        if delete:
            # The number actually deleted: a key revoked since the count adds to it.
            deleted = doomed.delete_for_retention()
            CredentialEvent.record(
                Kind.AUDIT_LOG,
                LOG_ID,
                CredentialEvent.Event.PRUNED,
                actor=actor,
                details={
                    "before": before,
                    "deleted": deleted,
                    "by_kind": counts,
                    "kept_active": kept_active,
                },
            )
    return Pruned(before=before, counts=counts, kept_active=kept_active)


def _rows(events: QuerySet[CredentialEvent]) -> Iterator[tuple[Any, ...]]:
    # Tuples, not model instances: less memory and time per row; chunked reads (a server-side
    # cursor on PostgreSQL) keep one chunk in memory at a time.
    yield from events.order_by("at", "id").values_list(*COLUMNS).iterator(chunk_size=CHUNK_SIZE)


def jsonl_lines(events: QuerySet[CredentialEvent]) -> Iterator[str]:
    """``events`` oldest first, one JSON object a line (``COLUMNS`` its keys)."""
    for row in _rows(events):
        yield _ENCODER.encode(dict(zip(COLUMNS, row, strict=True))) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return str(_ENCODER.default(value))  # as in the JSON lines export
    if isinstance(value, dict | list):
        text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    # A name or reason is typed by people: never let a spreadsheet run it as a formula.
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    """A file-like object whose ``write`` returns the line: ``csv.writer`` formats, we stream."""

    def write(self, text: str) -> str:
        return text


def csv_lines(events: QuerySet[CredentialEvent]) -> Iterator[str]:
    """``events`` oldest first as CSV text, a header then one line per event."""

    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in _rows(events):
        yield writer.writerow([_cell(value) for value in row])
