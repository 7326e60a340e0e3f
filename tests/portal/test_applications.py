"""The portal's OAuth application pages: register (secret shown once), details, rotate the
secret, revoke every token, delete; and none of them where the OAuth server is not routed."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import ApplicationPolicy
from tests.portal.conftest import (
    APPS_URL,
    AUTHORIZED_URL,
    KEYS_URL,
    REDIRECT_URI,
    REGISTER_URL,
    app_url,
    register,
    token_of,
)

SOON = timezone.now() + timedelta(days=1)
SECRET = re.compile(r'id="iiniit-plaintext" class="iiniit-secret">([^<]+)<')


def shown_secret(response):
    found = SECRET.search(response.content.decode())
    assert found, "no secret on the page"
    return found.group(1)


def test_register_a_public_client_for_the_authorization_code_grant(portal, user):
    response = register(portal)
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    application = get_application_model().objects.get()
    assert (application.user, application.name, application.client_type) == (
        user,
        "Billing service",
        "public",
    )
    assert application.redirect_uris == REDIRECT_URI
    assert ApplicationPolicy.objects.allowed_scopes(application) == {"orders:read"}
    assert application.client_id in html
    assert "http://testserver/o/token/" in html
    assert "iiniit-plaintext" not in html  # a public client keeps no secret
    created = CredentialEvent.objects.get(event="created")
    assert (created.actor, created.ip) == (user, "127.0.0.1")


def test_a_confidential_client_sees_its_secret_once(portal):
    response = register(
        portal,
        client_type="confidential",
        authorization_grant_type="client-credentials",
        redirect_uris="",
    )
    secret = shown_secret(response)
    application = get_application_model().objects.get()
    assert application.client_secret != secret  # only its hash is stored
    assert "It will not be shown again." in response.content.decode()
    for url in [APPS_URL, app_url(application), KEYS_URL]:
        assert secret not in portal.get(url).content.decode()


def test_a_resubmission_registers_nothing_twice(portal):
    data = {
        "name": "Once",
        "client_type": "confidential",
        "authorization_grant_type": "client-credentials",
        "once": token_of(portal.get(REGISTER_URL)),
    }
    secret = shown_secret(portal.post(REGISTER_URL, data))
    again = portal.post(REGISTER_URL, data, follow=True)
    assert "already submitted" in again.content.decode()
    assert secret not in again.content.decode()
    assert get_application_model().objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"allowed_scopes": ["orders:write"]}, "allowed_scopes", "You may not grant"),
        ({"authorization_grant_type": "password"}, "authorization_grant_type", "valid choice"),
        ({"authorization_grant_type": "implicit"}, "authorization_grant_type", "valid choice"),
        ({"redirect_uris": "http://client.example.com/cb"}, "redirect_uris", "must use https"),
        ({"redirect_uris": ""}, "redirect_uris", "cannot be empty"),
        (
            {"authorization_grant_type": "client-credentials"},
            "client_type",
            "needs a confidential client",
        ),
    ],
)
def test_what_the_server_refuses_is_a_form_error(portal, fields, field, message):
    response = register(portal, **fields)
    errors = response.context["form"].errors
    assert message in " ".join(errors[field]), errors
    assert not get_application_model().objects.exists()


def test_the_details_page_names_what_the_application_is(portal, user, application_of):
    application = application_of(user, allowed_scopes=["orders:read", "reports:read"])
    html = portal.get(app_url(application)).content.decode()
    assert application.client_id in html
    assert REDIRECT_URI in html
    assert "Read reports" in html
    assert "http://testserver/o/authorize/" in html
    assert "Rotate secret" in html


def test_rotating_the_secret_shows_the_new_one_once(portal, user, application_of):
    application = application_of(user)
    before = get_application_model().objects.get().client_secret
    page = portal.get(app_url(application, "rotate-secret"))
    data = {"once": token_of(page)}
    secret = shown_secret(portal.post(app_url(application, "rotate-secret"), data))
    assert get_application_model().objects.get().client_secret not in (before, secret)
    event = CredentialEvent.objects.get(event="secret_rotated")
    assert (event.actor, event.ip) == (user, "127.0.0.1")
    again = portal.post(app_url(application, "rotate-secret"), data, follow=True)
    assert secret not in again.content.decode()
    assert CredentialEvent.objects.filter(event="secret_rotated").count() == 1


def test_a_rotation_without_this_sessions_token_asks_again(portal, user, application_of):
    application = application_of(user)
    response = portal.post(app_url(application, "rotate-secret"), {"once": "forged"})
    assert "This form has expired" in response.content.decode()
    assert not CredentialEvent.objects.filter(event="secret_rotated").exists()


def test_revoking_every_token(portal, user, application_of):
    application = application_of(user)
    token = get_access_token_model().objects.create(
        user=user, application=application, token="t" * 30, scope="orders:read", expires=SOON
    )
    response = portal.post(app_url(application, "revoke-tokens"), follow=True)
    assert "Revoked 1 token." in response.content.decode()
    assert not get_access_token_model().objects.filter(pk=token.pk).exists()
    summary = CredentialEvent.objects.get(kind="oauth_application", event="revoked")
    assert (summary.actor, summary.details["via"]) == (user, "authorized_tokens")


def test_deleting_revokes_its_tokens_then_deletes_it_audited(portal, user, application_of):
    application = application_of(user)
    get_access_token_model().objects.create(
        user=user, application=application, token="t" * 30, scope="orders:read", expires=SOON
    )
    response = portal.post(app_url(application, "delete"), follow=True)
    assert response.redirect_chain == [(APPS_URL, 302)]
    assert "was deleted" in response.content.decode()
    assert not get_application_model().objects.exists()
    deleted = CredentialEvent.objects.get(event="deleted")
    assert deleted.credential_id == application.client_id
    assert (deleted.actor, deleted.ip) == (user, "127.0.0.1")
    assert deleted.details["tokens_revoked"] == 1
    assert CredentialEvent.objects.filter(kind="oauth_token", event="revoked").count() == 1
    assert portal.post(app_url(application, "delete")).status_code == 404


def test_the_list_shows_only_the_users_applications(portal, user, other_user, application_of):
    application_of(user, name="Mine")
    application_of(other_user, name="Bob's")
    html = portal.get(APPS_URL).content.decode()
    assert "Mine" in html
    assert "Bob's" not in html


# -- a project whose OAuth server is not routed ----------------------------------------------


@pytest.fixture
def keys_only(settings):
    """URLs without the OAuth 2.0 server: a project that runs API keys alone."""
    settings.ROOT_URLCONF = "tests.portal.keys_only_urls"


def test_without_the_oauth_server_the_oauth_pages_are_gone(keys_only, portal, user, application_of):
    application = application_of(user)
    html = portal.get(KEYS_URL).content.decode()
    assert "OAuth applications" not in html
    for url in [APPS_URL, REGISTER_URL, app_url(application), AUTHORIZED_URL]:
        assert portal.get(url).status_code == 404, url
