"""Fixtures of the developer portal: a signed-in client, and the forms filled as a person would
(each POST carries the one-time token its page gave)."""

import re

import pytest
from django.contrib.auth import get_user_model
from oauth2_provider.models import get_application_model

from iiniit_auth import keys
from iiniit_auth.oauth.applications import register_application

KEYS_URL = "/developer/"
CREATE_URL = "/developer/keys/new/"
SUDO_URL = "/developer/confirm/"
APPS_URL = "/developer/applications/"
REGISTER_URL = "/developer/applications/new/"
AUTHORIZED_URL = "/developer/authorized/"
REDIRECT_URI = "http://127.0.0.1:8765/callback"


def rotate_url(key):
    return f"/developer/keys/{key.pk}/rotate/"


def revoke_url(key):
    return f"/developer/keys/{key.pk}/revoke/"


def app_url(application, action=""):
    return f"/developer/applications/{application.pk}/{action + '/' if action else ''}"


@pytest.fixture(autouse=True)
def portal_scopes(settings):
    """The scopes a portal user may grant: two of the three the suite registers."""
    settings.IINIIT_AUTH = {
        **settings.IINIIT_AUTH,
        "PORTAL_SCOPES": ["orders:read", "reports:read"],
    }


@pytest.fixture
def portal(client, user):
    """``client`` signed in as ``user`` (ann) through the real sign-in: sudo mode is fresh."""
    assert client.login(username="ann", password="ann-password")
    return client


@pytest.fixture
def other_portal(other_user):
    """A second client, signed in as ``other_user`` (bob)."""
    from django.test import Client

    client = Client()
    assert client.login(username="bob", password="bob-password")
    return client


def token_of(response):
    """The one-time token of the form on ``response``."""
    return re.search(r'name="once" value="([^"]+)"', response.content.decode()).group(1)


def create(client, **fields):
    """Open the create page, fill it, send it; return the answer to the POST."""
    data = {"name": "CI deploy", "expires_in": "30d", "scopes": ["orders:read"], **fields}
    if "once" not in data:
        data["once"] = token_of(client.get(CREATE_URL))
    return client.post(CREATE_URL, data)


def shown_key(response):
    match = re.search(
        r'id="iiniit-plaintext" class="iiniit-secret">([^<]+)<', response.content.decode()
    )
    assert match, "no key on the page"
    keys.parse(match.group(1), "iik")
    return match.group(1)


def register(client, **fields):
    data = {
        "name": "Billing service",
        "client_type": "public",
        "authorization_grant_type": "authorization-code",
        "redirect_uris": REDIRECT_URI,
        "allowed_scopes": ["orders:read"],
        **fields,
    }
    if "once" not in data:
        data["once"] = token_of(client.get(REGISTER_URL))
    return client.post(REGISTER_URL, data)


@pytest.fixture
def application_of():
    """application_of(user, **fields) -> an application registered for ``user``."""

    def make(user, **fields):
        Application = get_application_model()
        values = {
            "name": "Their app",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": REDIRECT_URI,
            "user": user,
            "allowed_scopes": ["orders:read"],
            **fields,
        }
        application, _secret = register_application(actor=user, **values)
        return application

    return make


@pytest.fixture
def inactive_user(db):
    return get_user_model().objects.create_user(
        "cid", "cid@example.com", "cid-password", is_active=False
    )
