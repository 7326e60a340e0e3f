"""iiniit_auth.oauth.models and iiniit_auth.oauth.tokens: the application policy, and the
lifecycle of applications and tokens.

Each write records its audit event and sends its signal in one transaction; none carries a
token or a client secret.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
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
from iiniit_auth.oauth.applications import register_application, rotate_client_secret
from iiniit_auth.oauth.models import ApplicationPolicy, RevokedVia, application_credential_id
from iiniit_auth.oauth.tokens import revoke_application_tokens, revoke_token

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self):
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)


@pytest.fixture
def received():
    connected = []

    def connect(signal):
        receiver = Receiver()
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return receiver

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def application_events(application, event=None):
    events = CredentialEvent.objects.filter(
        kind=CredentialEvent.Kind.OAUTH_APPLICATION,
        credential_id=application_credential_id(application),
    )
    return events.filter(event=event) if event else events


@pytest.fixture
def pair(oauth_app, user):
    """pair(scope) -> (access token, refresh token) of ``oauth_app`` for ``user``."""
    import secrets

    def make(scope="orders:read", application=None):
        application = application or oauth_app
        access = get_access_token_model().objects.create(
            user=user,
            application=application,
            token=secrets.token_urlsafe(30),
            scope=scope,
            expires=timezone.now() + timedelta(hours=1),
        )
        refresh = get_refresh_token_model().objects.create(
            user=user,
            application=application,
            token=secrets.token_urlsafe(30),
            access_token=access,
        )
        return access, refresh

    return make


# -- allowed scopes -----------------------------------------------------------------------------


def test_an_application_without_a_policy_may_obtain_no_scope(oauth_app):
    assert ApplicationPolicy.objects.allowed_scopes(oauth_app) == frozenset()
    assert ApplicationPolicy.objects.may_introspect(oauth_app) is False


def test_setting_allowed_scopes_stores_them_like_key_scopes(oauth_app, staff, received):
    changed = received(signals.oauth_scopes_changed)

    policy = ApplicationPolicy.objects.set_allowed_scopes(
        oauth_app, "reports:read orders:read orders:read", actor=staff, ip="192.0.2.7"
    )

    assert policy.allowed_scopes == "orders:read reports:read"
    assert ApplicationPolicy.objects.allowed_scopes(oauth_app) == {"orders:read", "reports:read"}
    assert policy.updated_by == staff
    (event,) = application_events(oauth_app, CredentialEvent.Event.SCOPES_CHANGED)
    assert event.actor == staff
    assert event.ip == "192.0.2.7"
    assert event.details == {"before": [], "after": ["orders:read", "reports:read"]}
    (call,) = changed.calls
    assert call["application"] == oauth_app
    assert call["before"] == []
    assert call["after"] == ["orders:read", "reports:read"]
    assert call["actor"] == staff


def test_narrowing_records_before_and_after(oauth_app, staff):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read", "orders:write"])
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"], actor=staff)

    latest = application_events(oauth_app, CredentialEvent.Event.SCOPES_CHANGED).first()
    assert latest.details == {"before": ["orders:read", "orders:write"], "after": ["orders:read"]}
    assert ApplicationPolicy.objects.count() == 1


def test_setting_the_same_scopes_again_records_nothing(oauth_app, received):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"])
    changed = received(signals.oauth_scopes_changed)

    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"])

    assert changed.calls == []
    assert application_events(oauth_app, CredentialEvent.Event.SCOPES_CHANGED).count() == 1


def test_an_unregistered_scope_is_refused_and_nothing_written(oauth_app):
    with pytest.raises(ValidationError) as raised:
        ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read", "orders:delete"])

    assert "orders:delete" in raised.value.message_dict["allowed_scopes"][0]
    assert ApplicationPolicy.objects.count() == 0
    assert not application_events(oauth_app, CredentialEvent.Event.SCOPES_CHANGED).exists()


def test_an_unsaved_application_is_refused():
    unsaved = get_application_model()(name="unsaved")
    with pytest.raises(ValidationError):
        ApplicationPolicy.objects.set_allowed_scopes(unsaved, ["orders:read"])
    with pytest.raises(ValidationError):
        rotate_client_secret(unsaved)
    assert ApplicationPolicy.objects.allowed_scopes(unsaved) == frozenset()


def test_a_scope_removed_from_the_registry_no_longer_counts(oauth_app, settings):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read", "reports:read"])
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "SCOPES": {"orders:read": "Read orders"}}

    assert ApplicationPolicy.objects.allowed_scopes(oauth_app) == {"orders:read"}


def test_a_failing_receiver_undoes_the_change(oauth_app):
    ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read"])

    def explode(**kwargs):
        raise RuntimeError("receiver failed")

    signals.oauth_scopes_changed.connect(explode, weak=False)
    try:
        with pytest.raises(RuntimeError):
            ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:write"])
    finally:
        signals.oauth_scopes_changed.disconnect(explode)

    assert ApplicationPolicy.objects.allowed_scopes(oauth_app) == {"orders:read"}
    assert application_events(oauth_app, CredentialEvent.Event.SCOPES_CHANGED).count() == 1


def test_introspection_permission_is_recorded(oauth_app, staff, received):
    changed = received(signals.oauth_introspection_changed)

    ApplicationPolicy.objects.set_may_introspect(oauth_app, True, actor=staff)
    ApplicationPolicy.objects.set_may_introspect(oauth_app, True, actor=staff)

    assert ApplicationPolicy.objects.may_introspect(oauth_app) is True
    (event,) = application_events(oauth_app, CredentialEvent.Event.INTROSPECTION_CHANGED)
    assert event.details == {"may_introspect": True}
    assert [call["may_introspect"] for call in changed.calls] == [True]
    # The scopes are untouched: still none.
    assert ApplicationPolicy.objects.allowed_scopes(oauth_app) == frozenset()


# -- applications -------------------------------------------------------------------------------


def test_registering_an_application_is_recorded(user, received):
    created = received(signals.oauth_application_created)
    Application = get_application_model()

    application = Application.objects.create(
        name="Reporting",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    application.name = "Reporting, renamed"
    application.save()

    (event,) = application_events(application, CredentialEvent.Event.CREATED)
    assert event.actor == user
    assert event.details == {
        "name": "Reporting",
        "client_type": "confidential",
        "grant_type": "client-credentials",
    }
    assert [call["application"] for call in created.calls] == [application]


def test_registering_through_the_lifecycle_returns_the_secret_once(staff, user, received):
    created = received(signals.oauth_application_created)
    Application = get_application_model()

    application, secret = register_application(
        name="Shop app",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://shop.example.com/callback",
        allowed_scopes=["orders:read"],
        actor=staff,
        ip="192.0.2.9",
    )

    stored = Application.objects.get(pk=application.pk)
    assert check_password(secret, stored.client_secret)
    assert ApplicationPolicy.objects.allowed_scopes(application) == {"orders:read"}
    (event,) = application_events(
        application, CredentialEvent.Event.CREATED
    )  # once, by the actor given
    assert event.actor == staff
    assert event.ip == "192.0.2.9"
    assert application_events(application, CredentialEvent.Event.SCOPES_CHANGED).count() == 1
    assert [call["actor"] for call in created.calls] == [staff]
    assert secret not in repr(list(CredentialEvent.objects.values()))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"authorization_grant_type": "implicit"}, "authorization_grant_type"),
        ({"authorization_grant_type": "password"}, "authorization_grant_type"),
        ({"redirect_uris": "http://shop.example.com/callback"}, "redirect_uris"),
        ({"redirect_uris": ""}, "redirect_uris"),
        ({"allowed_scopes": ["orders:delete"]}, "allowed_scopes"),
    ],
)
def test_registering_refuses_what_would_not_work_safely(user, fields, field):
    values = {
        "name": "Shop app",
        "user": user,
        "client_type": "public",
        "authorization_grant_type": "authorization-code",
        "redirect_uris": "https://shop.example.com/callback",
        **fields,
    }

    with pytest.raises(ValidationError) as raised:
        register_application(**values)

    assert field in raised.value.message_dict
    assert not get_application_model().objects.exists()
    assert not CredentialEvent.objects.exists()


KEY_SHAPED = "abc_" + "A1b2" * 11


def test_registering_refuses_a_key_shaped_name_before_writing(user):
    with pytest.raises(ValidationError) as raised:
        register_application(
            name=f"copied {KEY_SHAPED}",
            user=user,
            client_type="public",
            authorization_grant_type="authorization-code",
            redirect_uris="https://shop.example.com/callback",
        )

    assert raised.value.message_dict["name"] == ["A name must not contain a key."]
    assert KEY_SHAPED not in str(raised.value)
    assert not get_application_model().objects.exists()
    assert not CredentialEvent.objects.exists()


def test_an_application_saved_elsewhere_with_a_key_shaped_name_is_audited_redacted(user):
    # django-oauth-toolkit's own admin and registration views save without our validation:
    # the save must not fail, and the log must not hold the key.
    Application = get_application_model()
    application = Application.objects.create(
        name=f"copied {KEY_SHAPED}",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )

    (event,) = application_events(application, CredentialEvent.Event.CREATED)
    assert event.details["name"] == "copied [redacted]"


def test_a_key_among_the_scopes_is_refused_without_echoing_it(oauth_app, user):
    with pytest.raises(ValidationError) as raised:
        ApplicationPolicy.objects.set_allowed_scopes(oauth_app, ["orders:read", KEY_SHAPED])
    assert raised.value.message_dict["allowed_scopes"] == ["A scope must not contain a key."]
    with pytest.raises(ValidationError) as raised:
        register_application(
            name="Shop app",
            user=user,
            client_type="public",
            authorization_grant_type="authorization-code",
            redirect_uris="https://shop.example.com/callback",
            allowed_scopes=[KEY_SHAPED],
        )
    assert KEY_SHAPED not in str(raised.value)
    assert not ApplicationPolicy.objects.exists()


def test_a_long_client_id_is_audited_by_primary_key(user):
    Application = get_application_model()
    application = Application.objects.create(
        client_id="https://client.example.com/" + "metadata/" * 10,
        name="CIMD-style",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://client.example.com/cb",
    )
    assert application_credential_id(application) == f"app:{application.pk}"
    assert application_events(application, CredentialEvent.Event.CREATED).exists()


def test_rotating_the_client_secret_returns_it_once_and_stores_a_hash(oauth_app, staff, received):
    rotated = received(signals.oauth_client_secret_rotated)
    before = oauth_app.client_secret

    secret = rotate_client_secret(oauth_app, actor=staff)

    stored = get_application_model().objects.get(pk=oauth_app.pk).client_secret
    assert stored != secret
    assert stored != before
    assert check_password(secret, stored)
    assert oauth_app.client_secret == stored  # the caller's instance holds no plaintext
    (event,) = application_events(oauth_app, CredentialEvent.Event.SECRET_ROTATED)
    assert event.actor == staff
    assert secret not in repr(list(CredentialEvent.objects.values()))
    assert [call["application"] for call in rotated.calls] == [oauth_app]
    assert "secret" not in rotated.calls[0]


# -- tokens -------------------------------------------------------------------------------------


def token_events(event=CredentialEvent.Event.REVOKED):
    return CredentialEvent.objects.filter(kind=CredentialEvent.Kind.OAUTH_TOKEN, event=event)


def test_revoking_an_access_token_revokes_its_refresh_token(pair, staff, received):
    revoked = received(signals.oauth_token_revoked)
    access, refresh = pair()

    assert revoke_token(access, actor=staff, via=RevokedVia.ADMIN) is True

    assert not get_access_token_model().objects.filter(pk=access.pk).exists()
    refresh.refresh_from_db()
    assert refresh.revoked is not None
    events = token_events()
    assert {event.credential_id for event in events} == {str(access.pk), f"refresh:{refresh.pk}"}
    assert {event.details["via"] for event in events} == {"admin"}
    assert {event.actor for event in events} == {staff}
    assert sorted(call["credential_id"] for call in revoked.calls) == sorted(
        [str(access.pk), f"refresh:{refresh.pk}"]
    )


def test_revoking_a_refresh_token_revokes_its_access_token(pair):
    access, refresh = pair()

    assert revoke_token(refresh) is True

    assert not get_access_token_model().objects.filter(pk=access.pk).exists()
    assert {event.details["via"] for event in token_events()} == {"lifecycle"}
    # Nothing is left to revoke a second time.
    assert revoke_token(refresh) is False
    assert revoke_token(access) is False
    assert token_events().count() == 2


def test_revoking_an_access_token_without_a_refresh_token(oauth_token):
    access, _value = oauth_token()

    assert revoke_token(access, via=RevokedVia.USER) is True

    (event,) = token_events()
    assert event.credential_id == str(access.pk)
    assert event.details["via"] == "authorized_tokens"


def test_revoking_every_token_of_an_application(pair, oauth_app, user, staff, received):
    revoked_all = received(signals.oauth_application_tokens_revoked)
    pair()
    pair(scope="orders:write")
    lone = get_access_token_model().objects.create(
        user=user,
        application=oauth_app,
        token="lone-token-value",
        scope="",
        expires=timezone.now() + timedelta(hours=1),
    )
    get_grant_model().objects.create(
        user=user,
        application=oauth_app,
        code="pending-code",
        redirect_uri="https://x.example/cb",
        expires=timezone.now() + timedelta(minutes=1),
    )
    other = get_application_model().objects.create(
        name="Other",
        user=user,
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    untouched, _ = pair(application=other)

    count = revoke_application_tokens(oauth_app, actor=staff, via=RevokedVia.ADMIN)

    assert count == 5  # two refresh tokens, their two access tokens, one access token alone
    assert not get_access_token_model().objects.filter(application=oauth_app).exists()
    assert (
        not get_refresh_token_model()
        .objects.filter(application=oauth_app, revoked__isnull=True)
        .exists()
    )
    assert not get_grant_model().objects.filter(application=oauth_app).exists()
    assert get_access_token_model().objects.filter(pk=untouched.pk).exists()
    assert token_events().count() == 5
    assert str(lone.pk) in {event.credential_id for event in token_events()}
    (summary,) = application_events(oauth_app, CredentialEvent.Event.REVOKED)
    assert summary.details == {
        "via": "admin",
        "access_tokens": 3,
        "refresh_tokens": 2,
        "authorization_codes": 1,
    }
    (call,) = revoked_all.calls
    assert (call["access_tokens"], call["refresh_tokens"]) == (3, 2)
