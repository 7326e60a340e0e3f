"""Two revocations of one grant at once, on PostgreSQL: one revokes, and one event says so.

The first runs in a transaction held open on another thread; the second starts while it is
open, and must wait for it rather than read rows that are about to go. Without the row locks,
the second deleted nothing and recorded a revocation anyway.
"""

import secrets
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauthlib.common import Request as OAuthlibRequest

from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import RevokedVia
from iiniit_auth.oauth.tokens import revoke_token
from iiniit_auth.oauth.validators import OAuth2Validator

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need a server"),
    pytest.mark.django_db(transaction=True),
]
AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()


def access_token(application, user=None):
    return AccessToken.objects.create(
        user=user,
        application=application,
        token=secrets.token_urlsafe(30),
        scope="orders:read",
        expires=timezone.now() + timedelta(hours=1),
    )


def while_held(first, second):
    """Run ``first`` in a transaction that stays open while ``second`` starts; return both
    results, in that order."""
    results = {}
    done_first, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                results["first"] = first()
                done_first.set()
                release.wait(10)
        finally:
            connections.close_all()

    def then():
        try:
            results["second"] = second()
        finally:
            connections.close_all()

    holder, follower = threading.Thread(target=hold), threading.Thread(target=then)
    holder.start()
    assert done_first.wait(10)
    follower.start()
    time.sleep(0.5)  # the second is now waiting on the first's rows (or, unlocked, past them)
    release.set()
    holder.join(20)
    follower.join(20)
    return results["first"], results["second"]


def revoked_events(credential_id):
    return CredentialEvent.objects.filter(credential_id=credential_id, event="revoked").count()


def test_two_revocations_of_one_access_token(user, register):
    app = register(allowed=["orders:read"])
    token = access_token(app)

    def revoke():
        return revoke_token(AccessToken.objects.get(pk=token.pk), via=RevokedVia.REVOKE_ENDPOINT)

    assert while_held(revoke, revoke) == (True, False)
    assert revoked_events(str(token.pk)) == 1


def test_an_access_token_revoked_while_its_refresh_token_is(user, register):
    app = register(allowed=["orders:read"])
    token = access_token(app, user)
    refresh = RefreshToken.objects.create(
        user=user, application=app, token=secrets.token_urlsafe(30), access_token=token
    )

    def revoke_refresh():
        return revoke_token(RefreshToken.objects.get(pk=refresh.pk), via=RevokedVia.ADMIN)

    def revoke_access():
        return revoke_token(AccessToken.objects.get(pk=token.pk), via=RevokedVia.REVOKE_ENDPOINT)

    assert while_held(revoke_refresh, revoke_access) == (True, False)
    assert revoked_events(str(token.pk)) == 1
    assert revoked_events(f"refresh:{refresh.pk}") == 1


def test_a_spent_refresh_token_replayed_twice_at_once(user, register):
    app = register(allowed=["orders:read"])
    family = uuid.uuid4()
    spent = secrets.token_urlsafe(30)
    RefreshToken.objects.create(
        user=user,
        application=app,
        token=spent,
        token_family=family,
        revoked=timezone.now() - timedelta(minutes=5),
    )
    live = RefreshToken.objects.create(
        user=user,
        application=app,
        token=secrets.token_urlsafe(30),
        access_token=access_token(app, user),
        token_family=family,
    )

    def replay():
        request = OAuthlibRequest("https://testserver/o/token/", http_method="POST")
        request.client = app
        return OAuth2Validator().validate_refresh_token(spent, app, request)

    assert while_held(replay, replay) == (False, False)
    refusals = CredentialEvent.objects.filter(event="refused").order_by("pk")
    assert [event.details for event in refusals] == [
        {"reason": "reused", "grant_revoked": True},
        {"reason": "revoked"},
    ]
    assert revoked_events(f"refresh:{live.pk}") == 1
