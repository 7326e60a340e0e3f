"""Rates as typed (iiniit_auth.rates), the rate fields of keys and applications, and their
lifecycle: set at issue, changed (audited), carried on rotation."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings

from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.oauth.models import ApplicationPolicy
from iiniit_auth.rates import Rate, normalize_rate, parse_rate


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("100/min", Rate(100, 60)),
        ("10/s", Rate(10, 1)),
        (" 5000 / Days ", Rate(5000, 86400)),
        ("3/hours", Rate(3, 3600)),
        ("1/second", Rate(1, 1)),
        ("7/m", Rate(7, 60)),
    ],
)
def test_rates_are_read_as_typed(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "A rate is needed"),
        ("100", "needs a slash"),
        ("100/week", "'week' is not a period"),
        ("0/min", "from 1 to"),
        ("-1/min", "not a rate"),
        ("1.5/min", "not a rate"),
        ("x" * 40, "at most 32 characters"),
    ],
)
def test_a_bad_rate_says_how_to_write_one(text, says):
    with pytest.raises(ValueError, match=says):
        parse_rate(text)


def test_the_canonical_text_reads_back_the_same():
    for text in ("100/minutes", "10/sec", "2/d", "9/h"):
        assert parse_rate(normalize_rate(text)) == parse_rate(text)
    assert normalize_rate(None) == normalize_rate("  ") == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_RATE", "lots"),
        ("FAILED_AUTH_LIMIT", 30),
        ("NUM_PROXIES", -1),
        ("NUM_PROXIES", True),
        ("RATE_LIMIT_CACHE", "nowhere"),
    ],
)
def test_limit_settings_are_validated(name, value):
    with (
        override_settings(IINIIT_AUTH={name: value}),
        pytest.raises(ImproperlyConfigured, match=name),
    ):
        auth_settings()


def test_limit_settings_are_read():
    with override_settings(IINIIT_AUTH={"DEFAULT_RATE": "100/min", "FAILED_AUTH_LIMIT": None}):
        assert Rate(100, 60) == auth_settings().DEFAULT_RATE
        assert auth_settings().FAILED_AUTH_LIMIT is None


def test_issue_takes_a_rate(issue):
    key, _ = issue(rate="100/minutes")
    key.refresh_from_db()
    assert key.rate == "100/min"


def test_issue_refuses_a_bad_rate_and_writes_nothing(issue):
    with pytest.raises(ValidationError) as caught:
        issue(rate="fast")
    assert "rate" in caught.value.message_dict
    assert not APIKey.objects.exists()
    assert not CredentialEvent.objects.exists()


def test_set_rate_is_audited_as_a_change(issue, staff):
    key, _ = issue()
    assert key.set_rate("5/s", actor=staff, ip="10.0.0.1") is True
    key.refresh_from_db()
    assert key.rate == "5/s"
    event = CredentialEvent.objects.get(event=CredentialEvent.Event.CHANGED)
    assert event.credential_id == key.public_id
    assert event.actor == staff
    assert event.details == {"rate": {"before": "", "after": "5/s"}}
    assert key.set_rate("5/sec", actor=staff) is False  # the same rate: nothing written
    assert CredentialEvent.objects.filter(event=CredentialEvent.Event.CHANGED).count() == 1
    assert key.set_rate("", actor=staff) is True
    key.refresh_from_db()
    assert key.rate == ""


def test_set_rate_refuses_a_bad_rate_and_keeps_the_old(issue):
    key, _ = issue(rate="10/min")
    with pytest.raises(ValidationError) as caught:
        key.set_rate("10 per minute")
    assert "rate" in caught.value.message_dict
    assert key.rate == "10/min"
    key.refresh_from_db()
    assert key.rate == "10/min"


def test_rotation_carries_the_rate(issue):
    key, _ = issue(rate="42/hour")
    successor, _ = key.rotate(grace=timedelta(minutes=5))
    successor.refresh_from_db()
    assert successor.rate == "42/hour"


def test_an_application_rate_is_set_and_audited(oauth_app, staff):
    assert ApplicationPolicy.objects.rate(oauth_app) == ""
    policy = ApplicationPolicy.objects.set_rate(oauth_app, "1000/day", actor=staff)
    assert policy.rate == "1000/day"
    assert ApplicationPolicy.objects.rate(oauth_app) == "1000/day"
    event = CredentialEvent.objects.get(event=CredentialEvent.Event.CHANGED)
    assert event.kind == CredentialEvent.Kind.OAUTH_APPLICATION
    assert event.details == {"rate": {"before": "", "after": "1000/day"}}
    ApplicationPolicy.objects.set_rate(oauth_app, "1000/days", actor=staff)
    assert CredentialEvent.objects.filter(event=CredentialEvent.Event.CHANGED).count() == 1
    with pytest.raises(ValidationError):
        ApplicationPolicy.objects.set_rate(oauth_app, "often")
    assert ApplicationPolicy.objects.rate(oauth_app) == "1000/day"
