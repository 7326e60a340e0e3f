"""The applications a user authorized: their tokens, and revoking one, audited."""

from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from iiniit_auth.models import CredentialEvent
from tests.portal.conftest import AUTHORIZED_URL


def test_the_list_shows_the_users_tokens_only(portal, oauth_token, other_user):
    oauth_token(scope="orders:read reports:read")
    oauth_token(owner=other_user, scope="orders:write")
    html = portal.get(AUTHORIZED_URL).content.decode()
    assert "Test app" in html
    assert "reports:read" in html
    assert "orders:write" not in html


def test_revoking_one_revokes_its_refresh_token_too(portal, oauth_token, user, api):
    token, value = oauth_token()
    refresh = get_refresh_token_model().objects.create(
        user=user, application=token.application, token="r" * 30, access_token=token
    )
    assert api.get("/api/ping/", HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 200
    page = portal.get(f"{AUTHORIZED_URL}{token.pk}/revoke/")
    assert "can no longer act for you" in page.content.decode()

    response = portal.post(f"{AUTHORIZED_URL}{token.pk}/revoke/", follow=True)

    assert response.redirect_chain == [(AUTHORIZED_URL, 302)]
    assert "revoked" in response.content.decode()
    assert not get_access_token_model().objects.filter(pk=token.pk).exists()
    refresh.refresh_from_db()
    assert refresh.revoked is not None
    assert api.get("/api/ping/", HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 401
    events = CredentialEvent.objects.filter(kind="oauth_token", event="revoked")
    assert {(e.credential_id, e.actor, e.details["via"]) for e in events} == {
        (str(token.pk), user, "authorized_tokens"),
        (f"refresh:{refresh.pk}", user, "authorized_tokens"),
    }


def test_revoking_a_token_twice_is_a_404(portal, oauth_token):
    token, _value = oauth_token()
    portal.post(f"{AUTHORIZED_URL}{token.pk}/revoke/")
    assert portal.post(f"{AUTHORIZED_URL}{token.pk}/revoke/").status_code == 404
    assert CredentialEvent.objects.filter(event="revoked").count() == 1
