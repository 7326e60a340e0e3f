"""What ``manage.py apikey`` prints about keys: a new key (once), the table and the JSON list.

Named fields only, never a model's ``__dict__``: a key's digest must not leave the database,
and its plaintext appears only in :func:`new_key_lines`, which ``issue`` and ``rotate`` call
once, right after the write that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.management.color import Style
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiniit_auth.models import AbstractAPIKey

#: The column of the table that holds a key's status, coloured by it.
_STATUS_COLUMN = 4


def when(moment: datetime | None) -> str:
    """A time as the table and the summaries show it, in the current time zone."""
    if moment is None:
        return str(_("never"))
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _one_line(text: str) -> str:
    # A name may hold new lines or tabs; in a table they would break the row.
    return " ".join(text.split())


def new_key_lines(key: AbstractAPIKey, plaintext: str) -> list[str]:
    """The lines that show a new key once: the key, its public id, expiry, scopes, networks."""
    rows = [
        (str(_("Key:")), plaintext),
        (str(_("Public id:")), key.display_id),
        (str(_("Expires:")), when(key.expires_at)),
        (str(_("Scopes:")), " ".join(key.scope_list) or str(_("none"))),
    ]
    if key.allowed_networks:
        rows.append((str(_("Networks:")), " ".join(key.allowed_networks)))
    width = max(len(label) for label, _value in rows) + 1
    return [f"{label:<{width}}{value}" for label, value in rows]


def as_json(key: AbstractAPIKey) -> dict[str, Any]:
    """What ``apikey list --json`` holds of ``key``; its owner must be loaded with it."""
    return {
        "id": key.display_id,
        "public_id": key.public_id,
        "name": key.name,
        "owner": key.owner.get_username(),
        "scopes": key.scope_list,
        "status": key.status,
        "allowed_networks": list(key.allowed_networks),
        "created_at": _iso(key.created_at),
        "expires_at": _iso(key.expires_at),
        "last_used_at": _iso(key.last_used_at),
        "rotated_at": _iso(key.rotated_at),
        "revoked_at": _iso(key.revoked_at),
        "revoke_reason": key.revoke_reason,
    }


def table_lines(found: Sequence[AbstractAPIKey], include_all: bool, style: Style) -> list[str]:
    """``apikey list`` as aligned lines: a header, then a key a line, its status coloured."""
    if not found:
        return [
            str(_("No API keys."))
            if include_all
            else str(_("No active API keys (--all shows every key)."))
        ]
    header = [
        str(_("ID")),
        str(_("NAME")),
        str(_("OWNER")),
        str(_("SCOPES")),
        str(_("STATUS")),
        str(_("EXPIRES")),
        str(_("LAST USED")),
    ]
    rows = [
        [
            key.display_id,
            _one_line(key.name),
            key.owner.get_username(),
            ",".join(key.scope_list) or "-",
            key.status,
            when(key.expires_at),
            when(key.last_used_at),
        ]
        for key in found
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    status_styles = {"active": style.SUCCESS, "revoked": style.ERROR}

    def line(cells: list[str], styled: bool) -> str:
        # Pad first, then colour: escape codes must not count towards a column's width.
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        if styled:
            status = cells[_STATUS_COLUMN]
            padded[_STATUS_COLUMN] = status_styles.get(status, style.WARNING)(
                padded[_STATUS_COLUMN]
            )
        return "  ".join(padded).rstrip()

    return [style.MIGRATE_HEADING(line(header, styled=False))] + [
        line(row, styled=True) for row in rows
    ]
