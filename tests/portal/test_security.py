"""Every portal URL against the ways in that must fail: another user's ids, no sign-in, no CSRF
token, a GET where a POST belongs, an id no database column holds."""

import pytest
from django.test import Client
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth.models import APIKey, CredentialEvent
from tests.portal.conftest import (
    APPS_URL,
    AUTHORIZED_URL,
    CREATE_URL,
    KEYS_URL,
    REGISTER_URL,
    SUDO_URL,
    app_url,
)

#: Every URL that names a credential, by the kind of id it takes.
KEY_URLS = ["/developer/keys/{}/rotate/", "/developer/keys/{}/revoke/"]
APPLICATION_URLS = [
    "/developer/applications/{}/",
    "/developer/applications/{}/rotate-secret/",
    "/developer/applications/{}/revoke-tokens/",
    "/developer/applications/{}/delete/",
]
TOKEN_URLS = ["/developer/authorized/{}/revoke/"]
PLAIN_URLS = [KEYS_URL, CREATE_URL, SUDO_URL, APPS_URL, REGISTER_URL, AUTHORIZED_URL]


@pytest.fixture
def bobs(issue, other_user, application_of, oauth_token):
    """One credential of each kind, all bob's."""
    key, _plaintext = issue(owner=other_user)
    application = application_of(other_user)
    token, _value = oauth_token(owner=other_user)
    return {"key": key.pk, "application": application.pk, "token": token.pk}


def every_url(ids):
    return (
        [(url.format(ids["key"]), "key") for url in KEY_URLS]
        + [(url.format(ids["application"]), "application") for url in APPLICATION_URLS]
        + [(url.format(ids["token"]), "token") for url in TOKEN_URLS]
    )


def nothing_changed(bobs):
    key = APIKey.objects.get(pk=bobs["key"])
    assert key.is_active
    assert key.rotated_at is None
    assert get_application_model().objects.filter(pk=bobs["application"]).exists()
    assert get_access_token_model().objects.filter(pk=bobs["token"]).exists()
    assert not CredentialEvent.objects.filter(
        event__in=["revoked", "rotated", "secret_rotated", "deleted"]
    ).exists()


def test_another_users_ids_are_404_on_every_url_and_method(portal, bobs):
    for url, kind in every_url(bobs):
        for method in ("get", "post"):
            response = getattr(portal, method)(url, {"reason": "x", "grace": "0", "once": "x"})
            assert response.status_code == 404, (method, url, kind)
            assert b"bob" not in response.content, url
    nothing_changed(bobs)


def test_ids_of_no_credential_at_all_are_404(portal):
    for pattern in KEY_URLS + APPLICATION_URLS + TOKEN_URLS:
        for pk in ("999999", "9" * 18):
            assert portal.get(pattern.format(pk)).status_code == 404, pattern
        # Longer than a 64-bit column, or not a number: no route at all.
        for pk in ("9" * 19, "abc", "-1", "1.5"):
            assert portal.get(pattern.format(pk)).status_code == 404, pattern


def test_a_key_id_is_not_an_application_id(portal, issue, bobs, user):
    """Ids of one kind are looked up as that kind only: ann's key id names no application."""
    # Tables number their rows apart (on PostgreSQL, sequences outlive each test's rollback):
    # take a key whose id is not also the id of one of ann's own applications or tokens.
    hers = {
        *get_application_model().objects.filter(user=user).values_list("pk", flat=True),
        *get_access_token_model().objects.filter(user=user).values_list("pk", flat=True),
    }
    key, _plaintext = issue()
    while key.pk in hers:
        key, _plaintext = issue()
    for url in APPLICATION_URLS + TOKEN_URLS:
        assert portal.get(url.format(key.pk)).status_code == 404


def test_every_page_needs_a_signed_in_user(client, bobs):
    for url in PLAIN_URLS + [url for url, _kind in every_url(bobs)]:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/accounts/login/?next="), url
    nothing_changed(bobs)


def test_every_form_needs_its_csrf_token(user, issue, application_of, oauth_token):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="ann", password="ann-password")
    key, _plaintext = issue()
    application = application_of(user)
    token, _value = oauth_token()
    posts = [
        (CREATE_URL, {"name": "x", "expires_in": "30d"}),
        (f"/developer/keys/{key.pk}/rotate/", {"grace": "0"}),
        (f"/developer/keys/{key.pk}/revoke/", {"reason": "x"}),
        (SUDO_URL, {"password": "ann-password"}),
        (REGISTER_URL, {"name": "x"}),
        (app_url(application, "rotate-secret"), {}),
        (app_url(application, "revoke-tokens"), {}),
        (app_url(application, "delete"), {}),
        (f"/developer/authorized/{token.pk}/revoke/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert APIKey.objects.count() == 1
    assert key.is_active
    assert get_application_model().objects.filter(pk=application.pk).exists()
    assert get_access_token_model().objects.filter(pk=token.pk).exists()


def test_a_get_changes_nothing(portal, issue, user, application_of, oauth_token):
    key, _plaintext = issue()
    application = application_of(user)
    token, _value = oauth_token()
    before = CredentialEvent.objects.count()
    for url in [
        f"/developer/keys/{key.pk}/rotate/",
        f"/developer/keys/{key.pk}/revoke/?reason=x",
        app_url(application, "rotate-secret"),
        app_url(application, "revoke-tokens"),
        app_url(application, "delete"),
        f"/developer/authorized/{token.pk}/revoke/",
    ]:
        assert portal.get(url).status_code == 200, url
    assert CredentialEvent.objects.count() == before
    key.refresh_from_db()
    assert key.is_active
    assert get_access_token_model().objects.filter(pk=token.pk).exists()


def test_csrf_holds_without_the_middleware(settings, user, issue):
    """Every view checks CSRF itself: a project that drops CsrfViewMiddleware stays safe."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "Csrf" not in m]
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="ann", password="ann-password")
    key, _plaintext = issue()
    assert client.post(f"/developer/keys/{key.pk}/revoke/", {"reason": "x"}).status_code == 403
    key.refresh_from_db()
    assert key.is_active
