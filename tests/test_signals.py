"""Each lifecycle write sends its signal once, inside its transaction; a failing receiver undoes it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from iiniit_auth import signals
from iiniit_auth.exceptions import KeyStateError, RefusalReason
from iiniit_auth.models import APIKey, CredentialEvent


class Receiver:
    """A real receiver: remembers every call, and what the database held when it ran."""

    def __init__(self):
        self.calls = []

    def __call__(self, **kwargs):
        kwargs["events_then"] = CredentialEvent.objects.count()
        kwargs["keys_then"] = APIKey.objects.count()
        self.calls.append(kwargs)

    @property
    def only(self):
        assert len(self.calls) == 1
        return self.calls[0]


@pytest.fixture
def received():
    """received(signal) -> a Receiver connected to ``signal`` for this test."""
    connected = []

    def connect(signal):
        receiver = Receiver()
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return receiver

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


class Boom(Exception):
    pass


@pytest.fixture
def failing():
    """failing(signal) -> a receiver that raises ``Boom``, connected to ``signal`` for this test."""
    connected = []

    def connect(signal):
        def explode(**kwargs):
            raise Boom

        signal.connect(explode, weak=False)
        connected.append((signal, explode))
        return explode

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def counts():
    return APIKey.objects.count(), CredentialEvent.objects.count()


def test_issue_sends_api_key_issued_once(issue, staff, received):
    issued = received(signals.api_key_issued)
    key, plaintext = issue(created_by=staff)

    call = issued.only
    assert set(call) == {"signal", "sender", "key", "actor", "events_then", "keys_then"}
    assert call["signal"] is signals.api_key_issued
    assert call["sender"] is APIKey
    assert call["key"] is key
    assert call["actor"] == staff
    # Sent inside the write: the key and its event already exist.
    assert (call["keys_then"], call["events_then"]) == (1, 1)
    assert plaintext not in repr(call)


def test_revoke_sends_api_key_revoked_once(issue, staff, received):
    key, _plaintext = issue()
    revoked = received(signals.api_key_revoked)
    issued = received(signals.api_key_issued)
    key.revoke(actor=staff, reason="leaked")

    call = revoked.only
    assert set(call) == {"signal", "sender", "key", "actor", "reason", "events_then", "keys_then"}
    assert call["sender"] is APIKey
    assert call["key"] is key
    assert call["key"].revoked_at is not None
    assert call["actor"] == staff
    assert call["reason"] == "leaked"
    assert call["events_then"] == 2
    assert issued.calls == []


def test_rotate_sends_api_key_rotated_once_and_issued_for_the_successor(issue, staff, received):
    key, _plaintext = issue()
    rotated = received(signals.api_key_rotated)
    issued = received(signals.api_key_issued)
    revoked = received(signals.api_key_revoked)
    grace = timedelta(minutes=30)
    successor, plaintext = key.rotate(grace=grace, actor=staff)

    call = rotated.only
    assert set(call) == {
        "signal",
        "sender",
        "key",
        "successor",
        "grace",
        "actor",
        "events_then",
        "keys_then",
    }
    assert call["sender"] is APIKey
    assert call["key"] is key
    assert call["key"].rotated_at is not None
    assert call["successor"] is successor
    assert call["grace"] == grace
    assert call["actor"] == staff
    assert (call["keys_then"], call["events_then"]) == (2, 3)
    assert plaintext not in repr(call)

    assert issued.only["key"] is successor
    assert issued.only["actor"] == staff
    assert revoked.calls == []


def test_a_refused_lifecycle_call_sends_nothing(issue, received):
    key, _plaintext = issue()
    key.revoke()
    revoked = received(signals.api_key_revoked)
    rotated = received(signals.api_key_rotated)
    issued = received(signals.api_key_issued)
    with pytest.raises(KeyStateError):
        key.revoke()
    with pytest.raises(KeyStateError):
        key.rotate(grace=timedelta(hours=1))
    with pytest.raises(ValidationError):
        issue(name="")
    assert (revoked.calls, rotated.calls, issued.calls) == ([], [], [])


def test_a_failing_issued_receiver_undoes_the_issue(issue, failing):
    failing(signals.api_key_issued)
    with pytest.raises(Boom):
        issue()
    assert counts() == (0, 0)


def test_a_failing_revoked_receiver_undoes_the_revoke(issue, staff, failing):
    key, _plaintext = issue()
    before = counts()
    failing(signals.api_key_revoked)

    with pytest.raises(Boom):
        key.revoke(actor=staff, reason="leaked")

    assert counts() == before
    stored = APIKey.objects.get(pk=key.pk)
    assert stored.is_active
    assert stored.revoked_by is None
    # The instance does not claim a revocation that was rolled back...
    assert key.is_active
    assert (key.revoked_at, key.revoked_by, key.revoke_reason) == (None, None, "")


def test_a_revoke_undone_by_a_receiver_can_be_done_again(issue, failing, received):
    key, _plaintext = issue()
    explode = failing(signals.api_key_revoked)
    with pytest.raises(Boom):
        key.revoke()
    assert signals.api_key_revoked.disconnect(explode)
    revoked = received(signals.api_key_revoked)

    key.revoke(reason="second try")

    assert revoked.only["reason"] == "second try"
    assert APIKey.objects.get(pk=key.pk).status == "revoked"


@pytest.mark.parametrize("signal", [signals.api_key_rotated, signals.api_key_issued])
def test_a_failing_receiver_undoes_the_rotation(issue, failing, signal):
    key, _plaintext = issue()
    expires_at = key.expires_at
    before = counts()
    failing(signal)

    with pytest.raises(Boom):
        key.rotate(grace=timedelta(hours=1))

    assert counts() == before
    stored = APIKey.objects.get(pk=key.pk)
    assert stored.rotated_at is None
    assert stored.expires_at == expires_at
    assert (key.rotated_at, key.expires_at) == (None, expires_at)
    with pytest.raises(APIKey.successor.RelatedObjectDoesNotExist):
        _ = key.successor


def test_a_refused_key_sends_credential_refused(issue, api, received):
    key, plaintext = issue()
    key.revoke()
    refused = received(signals.credential_refused)

    response = api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert response.status_code == 401
    call = refused.only
    assert call["sender"] is APIKey
    assert call["kind"] == CredentialEvent.Kind.API_KEY
    assert call["credential_id"] == key.public_id
    assert call["reason"] == RefusalReason.REVOKED
    assert call["ip"] == "127.0.0.1"
    assert plaintext not in repr(call)
