"""E-mail to owners about their keys: sent when someone else acts, or the owner acts from an
unusual address; after the change commits; never holding a key."""

import logging
from datetime import timedelta

import django
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.portal import notices
from tests.portal.conftest import create, shown_key


def issue_as(actor, owner, *, ip="203.0.113.7", **kwargs):
    kwargs.setdefault("name", "Nightly export")
    return APIKey.objects.issue(owner=owner, created_by=actor, ip=ip, **kwargs)


def test_a_key_made_by_someone_else_is_reported(staff, user, mailoutbox, commit):
    with commit():
        _key, plaintext = issue_as(staff, user)
    (message,) = mailoutbox
    assert message.to == ["ann@example.com"]
    assert message.subject == "A new API key was created for you: Nightly export"
    assert "By: root, from 203.0.113.7." in message.body
    assert plaintext not in message.body
    assert "http" not in message.body  # a security notice holds no link


def test_the_owner_acting_from_a_new_address_is_reported_once(user, mailoutbox, commit):
    with commit():
        issue_as(user, user, ip="198.51.100.1")
    with commit():
        issue_as(user, user, ip="198.51.100.1", name="second")
    with commit():
        issue_as(user, user, ip="192.0.2.9", name="third")
    assert [m.subject for m in mailoutbox] == [
        "A new API key was created for you: Nightly export",
        "A new API key was created for you: third",
    ]
    assert "an address you have not used with your credentials recently" in mailoutbox[1].body


def test_an_address_seen_long_ago_is_unusual_again(user):
    before = timezone.now()
    seen = CredentialEvent.record("api_key", "x", "issued", actor=user, ip="198.51.100.1")
    assert notices.why(user, user, "198.51.100.1", before + timedelta(days=1)) is None
    later = seen.at + notices.KNOWN_FOR + timedelta(days=1)
    assert notices.why(user, user, "198.51.100.1", later) == notices.UNUSUAL_ADDRESS
    assert notices.why(user, user, None, later) is None  # no address, nothing to judge


def test_a_rotation_by_someone_else_is_one_message(staff, user, mailoutbox, commit):
    with commit():
        key, _plaintext = issue_as(user, user, ip="198.51.100.1")
    mailoutbox.clear()
    with commit():
        successor, plaintext = key.rotate(grace=timedelta(hours=1), actor=staff, ip="10.1.1.1")
    (message,) = mailoutbox
    assert message.subject == "Your API key Nightly export was rotated"
    assert successor.display_id in message.body
    assert "The old key works until" in message.body
    assert plaintext not in message.body


def test_a_revocation_from_the_command_line_is_reported(user, mailoutbox, commit):
    with commit():
        key, _plaintext = issue_as(user, user, ip="198.51.100.1")
    mailoutbox.clear()
    with commit():
        call_command("apikey", "revoke", key.public_id, "--reason", "rotated out", stdout=None)
    (message,) = mailoutbox
    assert message.subject == "Your API key Nightly export was revoked"
    assert "By: a command line or program, from unknown." in message.body
    assert "Reason given: rotated out" in message.body


def issue_then_fail(staff, user):
    with transaction.atomic():
        issue_as(staff, user)
        raise RuntimeError("the view failed after the key was made")


def test_nothing_is_sent_for_a_change_rolled_back(staff, user, mailoutbox, commit):
    with commit(), pytest.raises(RuntimeError):
        issue_then_fail(staff, user)
    assert mailoutbox == []
    assert not APIKey.objects.exists()


def test_nothing_is_sent_when_turned_off_or_without_an_address(
    settings, staff, user, other_user, mailoutbox, commit
):
    other_user.email = ""
    other_user.save()
    with commit():
        issue_as(staff, other_user)
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_EMAILS": False}
    with commit():
        issue_as(staff, user)
    assert mailoutbox == []


def test_a_backend_that_fails_loses_the_message_not_the_key(settings, staff, user, commit, caplog):
    failing = "tests.portal.test_notices.FailingBackend"
    if django.VERSION >= (6, 1):  # Django 6.1 names its mailers in MAILERS
        settings.MAILERS = {"default": {"BACKEND": failing}}
    else:
        settings.EMAIL_BACKEND = failing
    with commit(), caplog.at_level(logging.ERROR, "iiniit_auth.portal.emails"):
        key, plaintext = issue_as(staff, user)
    assert APIKey.objects.get(pk=key.pk).is_active
    assert "Could not send the key_notice e-mail." in caplog.text
    assert plaintext not in caplog.text


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("the mail server is down")


def test_the_portal_reports_the_first_key_from_a_new_address(portal, mailoutbox, commit):
    with commit():
        shown_key(create(portal))
    with commit():
        shown_key(create(portal, name="Second"))
    (message,) = mailoutbox
    assert "By: you, from 127.0.0.1" in message.body
