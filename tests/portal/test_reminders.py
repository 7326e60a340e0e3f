"""``manage.py apikey remind``: one reminder per key and window, an e-mail and a signal each."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from iiniit_auth import signals
from iiniit_auth.models import CredentialEvent
from iiniit_auth.portal.reminders import remind


def run(*args):
    out = StringIO()
    call_command("apikey", "remind", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def expiring(issue):
    """A key of ann's expiring in 10 days."""
    return issue(name="Nightly export", expires_at=timezone.now() + timedelta(days=10))[0]


@pytest.fixture
def sent():
    """The ``api_key_expiring`` signals sent, as (key, within)."""
    received = []

    def receiver(sender, key, expires_at, within, **kwargs):
        received.append((key.public_id, within))

    signals.api_key_expiring.connect(receiver)
    yield received
    signals.api_key_expiring.disconnect(receiver)


def test_a_key_expiring_within_the_window_is_reminded_once(expiring, mailoutbox, commit, sent):
    with commit():
        output = run("--within", "14d")
    assert f"Reminded ann of {expiring.display_id} (Nightly export)" in output
    assert "1 reminder sent." in output
    (message,) = mailoutbox
    assert message.to == ["ann@example.com"]
    assert message.subject == "Your API key Nightly export expires soon"
    assert expiring.display_id in message.body
    assert sent == [(expiring.public_id, timedelta(days=14))]
    event = CredentialEvent.objects.get(event="reminded")
    assert event.credential_id == expiring.public_id
    assert event.details == {
        "within": "14d",
        "expires_at": expiring.expires_at.isoformat(),
        "emailed": True,
    }

    with commit():
        again = run("--within", "14d")
    assert "0 reminders sent." in again
    assert len(mailoutbox) == 1
    assert len(sent) == 1


def test_each_window_reminds_once(expiring, mailoutbox, commit):
    with commit():
        assert len(remind(timedelta(days=14))) == 1
        assert len(remind(timedelta(days=11))) == 1
        assert remind(timedelta(days=14)) == []
        assert remind(timedelta(days=11)) == []
    assert len(mailoutbox) == 2


def test_keys_not_due_are_not_reminded(issue, other_user, mailoutbox, commit):
    now = timezone.now()
    issue(name="later", expires_at=now + timedelta(days=30))
    issue(name="never", expires_at=None)
    issue(name="revoked", expires_at=now + timedelta(days=3))[0].revoke()
    issue(name="rotated", expires_at=now + timedelta(days=3))[0].rotate(grace=timedelta(days=1))
    inactive = issue(name="inactive owner", owner=other_user, expires_at=now + timedelta(days=3))
    other_user.is_active = False
    other_user.save()
    with commit():
        reminded = remind(timedelta(days=14))
    # The rotated key's successor inherits its lifetime (3 days): it is reminded, not its
    # predecessor.
    assert [r.key.name for r in reminded] == ["rotated"]
    assert reminded[0].key.predecessor is not None
    assert inactive[0].pk not in [r.key.pk for r in reminded]


def test_without_an_address_the_signal_still_goes(expiring, user, mailoutbox, commit, sent):
    user.email = ""
    user.save()
    with commit():
        output = run("--within", "14d")
    assert "(no e-mail: signal only)" in output
    assert mailoutbox == []
    assert len(sent) == 1
    assert CredentialEvent.objects.get(event="reminded").details["emailed"] is False


def test_e_mails_turned_off(settings, expiring, mailoutbox, commit, sent):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_EMAILS": False}
    with commit():
        run()
    assert mailoutbox == []
    assert len(sent) == 1


def test_a_window_of_nothing_is_refused(expiring):
    with pytest.raises(CommandError, match="--within must be longer than 0"):
        run("--within", "0")
    with pytest.raises(CommandError, match="has no unit"):
        run("--within", "14")
    assert not CredentialEvent.objects.filter(event="reminded").exists()
