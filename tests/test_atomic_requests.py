"""With ATOMIC_REQUESTS, DRF rolls the request's transaction back on a 401; the audit row of a
refused key must survive it."""

import pytest
from django.core.cache import caches
from django.db import connection
from rest_framework.test import APIClient

from iiniit_auth.models import CredentialEvent


@pytest.fixture
def atomic_requests(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)


def refusals(key):
    return list(
        CredentialEvent.objects.filter(
            credential_id=key.public_id, event=CredentialEvent.Event.REFUSED
        ).values_list("details", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_a_refused_key_is_audited_although_the_request_rolls_back(issue, atomic_requests):
    key, plaintext = issue()
    key.revoke(reason="leaked")
    response = APIClient().get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert response.status_code == 401
    assert refusals(key) == [{"reason": "revoked", "count": 1}]


@pytest.mark.django_db(transaction=True)
def test_each_request_writes_its_own_refusals_once(issue, atomic_requests):
    key, plaintext = issue()
    key.revoke()
    client = APIClient()
    for _ in range(2):
        assert client.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code == 401
        # A key's refusals are audited once a minute: forget this minute's, as the next would.
        caches["default"].clear()
    assert refusals(key) == [{"reason": "revoked", "count": 1}, {"reason": "revoked", "count": 1}]


@pytest.mark.django_db(transaction=True)
def test_without_atomic_requests_the_refusal_is_written_at_once(issue):
    key, plaintext = issue()
    key.revoke()
    assert (
        APIClient().get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code == 401
    )
    assert refusals(key) == [{"reason": "revoked", "count": 1}]
