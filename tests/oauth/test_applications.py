"""iiniit_auth.oauth.applications: deleting an application, audited, through its lifecycle
function; the grants offered and the redirect URI check admin and the portal share."""

from datetime import timedelta

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)

from iiniit_auth import signals
from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.applications import (
    GRANT_CHOICES,
    check_redirect_uris,
    delete_application,
    register_application,
)
from iiniit_auth.oauth.models import ApplicationPolicy, RevokedVia


@pytest.fixture
def application(user):
    Application = get_application_model()
    app, _secret = register_application(
        name="Doomed",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://client.example.com/cb",
        allowed_scopes=["orders:read"],
    )
    return app


@pytest.fixture
def deleted():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    signals.oauth_application_deleted.connect(receiver)
    yield received
    signals.oauth_application_deleted.disconnect(receiver)


def test_delete_revokes_every_token_then_deletes_audited(application, user, staff, deleted):
    soon = timezone.now() + timedelta(hours=1)
    access = get_access_token_model().objects.create(
        user=user, application=application, token="a" * 30, scope="orders:read", expires=soon
    )
    refresh = get_refresh_token_model().objects.create(
        user=user, application=application, token="r" * 30, access_token=access
    )
    get_grant_model().objects.create(
        user=user,
        application=application,
        code="c" * 30,
        expires=soon,
        redirect_uri="https://client.example.com/cb",
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )
    client_id = application.client_id

    revoked = delete_application(application, actor=staff, ip="10.0.0.1", via=RevokedVia.ADMIN)

    assert revoked == 2
    assert not get_application_model().objects.exists()
    assert not get_access_token_model().objects.exists()
    assert not get_grant_model().objects.exists()
    assert not ApplicationPolicy.objects.exists()
    tokens = CredentialEvent.objects.filter(kind="oauth_token", event="revoked")
    assert {event.credential_id for event in tokens} == {str(access.pk), f"refresh:{refresh.pk}"}
    event = CredentialEvent.objects.get(event="deleted")
    assert (event.kind, event.credential_id, event.actor, event.ip) == (
        "oauth_application",
        client_id,
        staff,
        "10.0.0.1",
    )
    assert event.details == {"name": "Doomed", "tokens_revoked": 2, "via": "admin"}
    (sent,) = deleted
    assert (sent["credential_id"], sent["tokens_revoked"], sent["actor"]) == (client_id, 2, staff)


def test_deleting_twice_or_unsaved_writes_nothing(application):
    stale = get_application_model().objects.get(pk=application.pk)
    delete_application(application)
    with pytest.raises(ValidationError):
        delete_application(stale)
    with pytest.raises(ValidationError):
        delete_application(get_application_model()(name="never saved"))
    assert CredentialEvent.objects.filter(event="deleted").count() == 1


def test_a_failing_receiver_undoes_the_deletion(application):
    def fail(sender, **kwargs):
        raise RuntimeError("receiver failed")

    signals.oauth_application_deleted.connect(fail)
    try:
        with pytest.raises(RuntimeError):
            delete_application(application)
    finally:
        signals.oauth_application_deleted.disconnect(fail)
    assert get_application_model().objects.filter(pk=application.pk).exists()
    assert not CredentialEvent.objects.filter(event="deleted").exists()


def test_two_grants_are_offered():
    assert [value for value, _label in GRANT_CHOICES] == [
        "authorization-code",
        "client-credentials",
    ]


def test_redirect_uris_are_checked_one_by_one():
    good = "https://a.example.com/cb http://127.0.0.1:8765/cb"
    assert check_redirect_uris(good) == good
    with pytest.raises(forms.ValidationError) as raised:
        check_redirect_uris("https://ok.example.com/cb http://evil.example.com/cb")
    assert "must use https" in " ".join(raised.value.messages)
