"""The portal's key pages through Django's test client: list, create (shown once), rotate,
revoke, within what the project lets a user make."""

import json
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from iiniit_auth.models import NEVER, APIKey, CredentialEvent
from tests.portal.conftest import (
    CREATE_URL,
    KEYS_URL,
    create,
    revoke_url,
    rotate_url,
    shown_key,
    token_of,
)


def ping(api, plaintext):
    return api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code


def assert_secret_nowhere(plaintext):
    """No audit event or session holds ``plaintext``."""
    for event in CredentialEvent.objects.all():
        assert plaintext not in json.dumps(event.details)
    for session in Session.objects.all():
        assert plaintext not in json.dumps(session.get_decoded())


# -- the list --------------------------------------------------------------------------------


def test_the_list_shows_the_users_keys_with_their_status(portal, issue, user, other_user):
    now = timezone.now()
    issue(name="Nightly export", scopes=["orders:read", "reports:read"])
    issue(name="Soon gone", expires_at=now + timedelta(days=3))
    issue(name="Old one")[0].revoke(reason="retired")
    issue(name="Bob's key", owner=other_user)

    response = portal.get(KEYS_URL)
    html = response.content.decode()

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    for text in ["Nightly export", "Soon gone", "Old one", "iiniit-badge--expiring", "revoked"]:
        assert text in html
    assert "Bob's key" not in html
    assert html.index("Soon gone") < html.index("Revoked and expired keys") < html.index("Old one")
    assert "2 of at most 10 active keys" in html


def test_the_list_needs_a_signed_in_user(client):
    response = client.get(KEYS_URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={KEYS_URL}"


def test_an_inactive_user_is_sent_to_sign_in(client, inactive_user):
    client.force_login(inactive_user)
    response = client.get(KEYS_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# -- create ----------------------------------------------------------------------------------


def test_the_form_offers_the_grantable_scopes_and_lifetimes_up_to_the_longest(portal):
    response = portal.get(CREATE_URL)
    html = response.content.decode()
    assert "<code>orders:read</code> Read orders" in html
    assert "<code>reports:read</code> Read reports" in html
    assert "orders:write" not in html  # registered, but not grantable here
    form = response.context["form"]
    assert [value for value, _label in form.fields["expires_in"].choices] == [
        "30d",
        "90d",
        "365d",
    ]
    assert form["expires_in"].value() == "90d"  # DEFAULT_KEY_LIFETIME in tests/settings.py


def test_create_shows_the_key_once_with_a_curl_line(portal, user, api):
    response = create(portal, scopes=["orders:read", "reports:read"], allowed_networks="127.0.0.1")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = shown_key(response)
    html = response.content.decode()
    assert f"curl -H 'Authorization: ApiKey {plaintext}' 'http://testserver/api/ping/'" in html
    assert 'data-iiniit-copy="iiniit-plaintext"' in html
    assert '<meta name="referrer" content="no-referrer">' in html
    key = APIKey.objects.get()
    assert (key.owner, key.created_by, key.name) == (user, user, "CI deploy")
    assert key.scope_list == ["orders:read", "reports:read"]
    assert key.allowed_networks == ["127.0.0.1/32"]
    assert abs(key.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert ping(api, plaintext) == 200
    event = CredentialEvent.objects.get(credential_id=key.public_id)
    assert (event.event, event.actor, event.ip) == ("issued", user, "127.0.0.1")
    assert_secret_nowhere(plaintext)


def test_a_resubmission_makes_nothing_and_shows_no_key(portal):
    data = {"name": "Once", "expires_in": "30d", "once": token_of(portal.get(CREATE_URL))}
    plaintext = shown_key(portal.post(CREATE_URL, data))
    # What a reload of the show-once page, or Back and send again, does: the same POST.
    again = portal.post(CREATE_URL, data, follow=True)
    assert again.redirect_chain == [(KEYS_URL, 302)]
    assert APIKey.objects.count() == 1
    html = again.content.decode()
    assert "already submitted" in html
    assert plaintext not in html
    assert "iiniit-plaintext" not in html


def test_no_page_after_the_show_once_page_holds_the_key(portal):
    plaintext = shown_key(create(portal))
    key = APIKey.objects.get()
    for url in [KEYS_URL, CREATE_URL, rotate_url(key), revoke_url(key)]:
        response = portal.get(url)
        assert response.status_code == 200, url
        assert plaintext not in response.content.decode(), url
    assert_secret_nowhere(plaintext)


def test_a_form_from_another_session_is_refused_and_given_a_fresh_token(portal):
    response = create(portal, once="not-from-this-session")
    assert response.status_code == 200
    assert "This form has expired" in response.content.decode()
    assert token_of(response) != "not-from-this-session"
    assert not APIKey.objects.exists()


def test_a_scope_the_user_may_not_grant_is_a_form_error(portal):
    response = create(portal, scopes=["orders:read", "orders:write"])
    assert response.status_code == 200
    assert response.context["form"].errors["scopes"] == [
        "You may not grant one of the scopes chosen."
    ]
    assert not APIKey.objects.exists()


def test_nothing_is_grantable_unless_listed(portal, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SCOPES": []}
    assert "No scopes are open to you" in portal.get(CREATE_URL).content.decode()
    assert "scopes" in create(portal, scopes=["orders:read"]).context["form"].errors
    shown_key(create(portal, scopes=[]))
    assert APIKey.objects.get().scope_list == []


@pytest.mark.parametrize("expires_in", ["never", "730d", "366d", "1h"])
def test_a_lifetime_not_offered_is_a_form_error(portal, expires_in):
    response = create(portal, expires_in=expires_in)
    assert "expires_in" in response.context["form"].errors
    assert not APIKey.objects.exists()


def test_never_is_offered_only_without_a_longest_lifetime(portal, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_MAX_KEY_LIFETIME": None}
    shown_key(create(portal, expires_in="never"))
    assert APIKey.objects.get().expires_at is None


def test_the_key_limit_counts_active_keys_but_not_rotated_ones(portal, issue, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_MAX_ACTIVE_KEYS": 2}
    issue(name="one")
    issue(name="two")[0].rotate(grace=timedelta(hours=1))  # in its grace: the successor counts
    issue(name="gone")[0].revoke()

    response = create(portal)
    assert "the most you may hold at once" in response.content.decode()
    assert APIKey.objects.filter(name="CI deploy").count() == 0
    assert "the most you may hold at once" in portal.get(CREATE_URL).content.decode()

    APIKey.objects.get(name="one").revoke()
    shown_key(create(portal))


def test_a_pasted_key_is_not_shown_back_with_the_errors(portal, issue):
    _key, plaintext = issue()
    response = create(portal, name=f"my key {plaintext}", allowed_networks=plaintext)
    html = response.content.decode()
    errors = response.context["form"].errors
    assert errors["name"] == ["A name must not contain a key."]
    assert "allowed_networks" in errors
    assert plaintext not in html
    assert APIKey.objects.count() == 1


def test_create_is_post_only_in_effect(portal):
    portal.get(CREATE_URL, {"name": "x", "expires_in": "30d"})
    assert not APIKey.objects.exists()


# -- rotate ----------------------------------------------------------------------------------


def test_rotate_shows_the_successor_once_and_keeps_the_old_key_for_the_grace(
    portal, issue, user, api
):
    key, old = issue(expires_at=timezone.now() + timedelta(days=30))
    form = portal.get(rotate_url(key))
    assert form.status_code == 200
    response = portal.post(rotate_url(key), {"grace": "1h", "once": token_of(form)})
    new = shown_key(response)
    assert "This key replaces" in response.content.decode()
    key.refresh_from_db()
    successor = key.successor
    assert (successor.owner, successor.created_by) == (user, user)
    assert ping(api, new) == 200
    assert ping(api, old) == 200  # in its grace period
    event = CredentialEvent.objects.get(credential_id=key.public_id, event="rotated")
    assert (event.actor, event.ip, event.details["grace_seconds"]) == (user, "127.0.0.1", 3600)
    assert_secret_nowhere(new)


def test_rotating_again_with_the_same_form_makes_no_second_successor(portal, issue):
    key, _old = issue()
    data = {"grace": "0", "once": token_of(portal.get(rotate_url(key)))}
    shown_key(portal.post(rotate_url(key), data))
    again = portal.post(rotate_url(key), data, follow=True)
    assert "already submitted" in again.content.decode()
    assert APIKey.objects.count() == 2


def test_a_key_with_scopes_beyond_the_users_is_rotated_by_an_administrator(portal, issue):
    key, _old = issue(scopes=["orders:read", "orders:write"])
    assert rotate_url(key) not in portal.get(KEYS_URL).content.decode()  # not offered
    response = portal.get(rotate_url(key), follow=True)
    assert "cannot grant yourself (orders:write)" in response.content.decode()
    token_less = portal.post(rotate_url(key), {"grace": "0", "once": "x"})
    assert token_less.status_code == 302
    assert APIKey.objects.count() == 1


def test_a_key_living_longer_than_allowed_is_rotated_by_an_administrator(portal, issue):
    key, _old = issue(expires_at=NEVER)
    response = portal.get(rotate_url(key), follow=True)
    assert "Keys made here live at most 365 days" in response.content.decode()


def test_a_revoked_key_offers_no_rotation(portal, issue):
    key, _old = issue()
    key.revoke()
    response = portal.get(rotate_url(key), follow=True)
    assert "Only an active key that was never rotated can be rotated." in response.content.decode()


# -- revoke ----------------------------------------------------------------------------------


def test_revoke_asks_for_a_reason_then_revokes(portal, issue, api, user):
    key, plaintext = issue()
    page = portal.get(revoke_url(key))
    assert page.status_code == 200
    assert "is for good" in page.content.decode()
    assert ping(api, plaintext) == 200  # a GET changes nothing

    response = portal.post(revoke_url(key), {"reason": "leaked in a CI log"}, follow=True)
    assert response.redirect_chain == [(KEYS_URL, 302)]
    assert "was revoked" in response.content.decode()
    assert ping(api, plaintext) == 401
    event = CredentialEvent.objects.get(credential_id=key.public_id, event="revoked")
    assert (event.actor, event.ip, event.details) == (
        user,
        "127.0.0.1",
        {"reason": "leaked in a CI log"},
    )


def test_revoking_needs_a_reason(portal, issue, api):
    key, plaintext = issue()
    response = portal.post(revoke_url(key), {"reason": ""})
    assert "reason" in response.context["form"].errors
    assert ping(api, plaintext) == 200


def test_a_key_in_the_reason_is_refused_and_not_shown_back(portal, issue, api):
    key, plaintext = issue()
    response = portal.post(revoke_url(key), {"reason": f"leaked: {plaintext}"})
    assert plaintext not in response.content.decode()
    assert "must not contain a key" in response.content.decode()
    assert ping(api, plaintext) == 200


def test_a_revoked_key_offers_no_revocation(portal, issue):
    key, _plaintext = issue()
    key.revoke()
    response = portal.post(revoke_url(key), {"reason": "again"}, follow=True)
    assert "already revoked" in response.content.decode()
    assert CredentialEvent.objects.filter(event="revoked").count() == 1
