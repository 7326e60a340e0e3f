"""iiniit_auth.oauth.cleanup: what nothing can use any more is deleted, what can is kept, and
each run leaves one event with the counts. Rows as django-oauth-toolkit stores them."""

import hashlib
import secrets
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from iiniit_auth import signals
from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.cleanup import clear_expired
from iiniit_auth.oauth.models import RedeemedCode

pytestmark = pytest.mark.django_db
AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
Grant, IDToken = get_grant_model(), get_id_token_model()
#: REFRESH_TOKEN_EXPIRE_SECONDS of the recommended settings (tests/settings.py uses them).
IDLE = timedelta(days=14)


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def later(**delta):
    return timezone.now() + timedelta(**delta)


@pytest.fixture
def make(user, public_app):
    """Rows of ``public_app`` for ``user``, by kind."""

    def access(expires):
        return AccessToken.objects.create(
            user=user,
            application=public_app,
            token=secrets.token_urlsafe(30),
            scope="orders:read",
            expires=expires,
        )

    def refresh(access_token=None, revoked=None, family=None):
        return RefreshToken.objects.create(
            user=user,
            application=public_app,
            token=secrets.token_urlsafe(30),
            access_token=access_token,
            revoked=revoked,
            token_family=family or uuid.uuid4(),
        )

    def grant(expires):
        return Grant.objects.create(
            user=user,
            application=public_app,
            code=secrets.token_urlsafe(30),
            expires=expires,
            redirect_uri="http://127.0.0.1:8765/callback",
            scope="orders:read",
        )

    def redeemed(expires, family):
        return RedeemedCode.objects.create(
            digest=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
            application=public_app,
            access_token_pk=None,
            token_family=family,
            expires=expires,
        )

    def id_token(expires):
        return IDToken.objects.create(
            user=user, application=public_app, expires=expires, scope="openid"
        )

    return SimpleNamespace(
        access=access, refresh=refresh, grant=grant, redeemed=redeemed, id_token=id_token
    )


def test_what_nothing_can_use_is_deleted_and_what_can_is_kept(make):
    gone, kept = [], []
    # Access tokens: expired and alone; expired but bound to a refresh token that still
    # refreshes; live.
    gone.append(make.access(ago(minutes=1)))
    still_refreshes = make.refresh(make.access(ago(days=1)))
    kept += [still_refreshes, still_refreshes.access_token, make.access(later(hours=1))]
    # Refresh tokens: revoked longer ago than a live one would live (no replay left to
    # recognise); revoked lately (its replay must still revoke its family); idle past its
    # lifetime, with its expired access token; without an access token.
    gone.append(make.refresh(revoked=ago(days=15)))
    kept.append(make.refresh(revoked=ago(days=1)))
    idle = make.refresh(make.access(ago(days=15)))
    gone += [idle, idle.access_token]
    gone.append(make.refresh())
    # Authorization codes: expired; still redeemable.
    gone.append(make.grant(ago(seconds=1)))
    kept.append(make.grant(later(seconds=60)))
    # Redeemed codes: expired, family dead; expired, family alive; not expired.
    gone.append(make.redeemed(ago(minutes=1), uuid.uuid4()))
    alive = make.refresh(make.access(later(hours=1)))
    kept += [
        alive,
        alive.access_token,
        make.redeemed(ago(minutes=1), alive.token_family),
        make.redeemed(later(hours=1), uuid.uuid4()),
    ]
    # ID tokens: expired with no access token; live.
    gone.append(make.id_token(ago(minutes=1)))
    kept.append(make.id_token(later(hours=1)))

    counts = clear_expired()

    assert counts == {
        "refresh_tokens": 3,
        "access_tokens": 2,
        "id_tokens": 1,
        "authorization_codes": 1,
        "redeemed_codes": 1,
    }
    for row in gone:
        assert not type(row).objects.filter(pk=row.pk).exists(), row
    for row in kept:
        assert type(row).objects.filter(pk=row.pk).exists(), row
    assert RefreshToken.objects.get(pk=still_refreshes.pk).access_token_id is not None


def test_each_run_records_one_event_and_sends_the_counts(make, staff):
    make.access(ago(minutes=1))
    make.grant(ago(minutes=1))
    sent = []

    def receive(sender, signal, **kwargs):
        sent.append((sender, kwargs))

    signals.oauth_tokens_cleared.connect(receive)
    try:
        first = clear_expired(actor=staff)
        second = clear_expired()
    finally:
        signals.oauth_tokens_cleared.disconnect(receive)

    runs = CredentialEvent.objects.filter(event="cleared").order_by("id")
    assert [(run.kind, run.credential_id) for run in runs] == [("oauth_token", "*")] * 2
    assert [run.details for run in runs] == [first, second]
    assert first["access_tokens"] == first["authorization_codes"] == 1
    assert set(second.values()) == {0}  # a run with nothing to delete still shows
    assert runs[0].actor == staff
    assert runs[1].actor is None
    assert sent == [
        (AccessToken, {"actor": staff, **first}),
        (AccessToken, {"actor": None, **second}),
    ]


def test_without_reuse_protection_revoked_refresh_tokens_go_at_once(make, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_REUSE_PROTECTION": False}
    revoked = make.refresh(revoked=ago(seconds=1))

    assert clear_expired()["refresh_tokens"] == 1
    assert not RefreshToken.objects.filter(pk=revoked.pk).exists()


def test_refresh_tokens_without_a_lifetime_are_kept_while_live(make, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": None}
    dormant = make.refresh(make.access(ago(days=400)))
    revoked = make.refresh(revoked=ago(days=400))

    assert clear_expired()["refresh_tokens"] == 0
    assert RefreshToken.objects.filter(pk__in=[dormant.pk, revoked.pk]).count() == 2


def test_a_backlog_is_deleted_in_batches(make, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2}
    for _ in range(5):
        make.access(ago(minutes=1))

    assert clear_expired()["access_tokens"] == 5
    assert not AccessToken.objects.exists()


def test_a_lifetime_django_oauth_toolkit_refuses_deletes_nothing(make, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": -1}
    expired = make.access(ago(minutes=1))

    with pytest.raises(ImproperlyConfigured):
        clear_expired()

    assert AccessToken.objects.filter(pk=expired.pk).exists()
    assert not CredentialEvent.objects.filter(event="cleared").exists()
