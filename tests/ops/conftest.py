"""Audit events of a chosen age, made the way the log stores them (an INSERT, never an UPDATE)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from iiniit_auth.models import CredentialEvent


@pytest.fixture
def old_event(db):
    """old_event(kind, credential_id, days=500, event="issued", **fields) -> CredentialEvent."""

    def make(kind, credential_id, days=500, event="issued", **fields):
        row = CredentialEvent(
            kind=kind,
            credential_id=credential_id,
            event=event,
            at=timezone.now() - timedelta(days=days),
            **fields,
        )
        row.save()
        return row

    return make
