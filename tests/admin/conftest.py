"""Helpers for the admin tests: staff with chosen permissions, the issue form, key pages."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from iiniit_auth.models import APIKey

ADD_URL = "/admin/iiniit_auth/apikey/add/"
LIST_URL = "/admin/iiniit_auth/apikey/"
AUDIT_URL = "/admin/iiniit_auth/credentialevent/"
OVERVIEW_URL = "/admin/iiniit_auth/overview/"
APP_URL = "/admin/iiniit_auth/"
PLAINTEXT = re.compile(r'id="iiniit-plaintext"[^>]*>([^<]+)<')


def change_url(key):
    return f"/admin/iiniit_auth/apikey/{key.pk}/change/"


def rotate_url(key):
    return f"/admin/iiniit_auth/apikey/{key.pk}/rotate/"


def revoke_url(key):
    return f"/admin/iiniit_auth/apikey/{key.pk}/revoke/"


def token_of(response):
    """The one-time token of the form on ``response``."""
    return response.context["form"]["once"].value()


def shown_plaintext(response):
    """The key on a show-once page."""
    match = PLAINTEXT.search(response.content.decode())
    assert match, "no key on this page"
    return match.group(1)


def age(key, **moments):
    """Move a key's timestamps into the past, as time would (nothing else can make a key old)."""
    now = timezone.now()
    APIKey.objects.filter(pk=key.pk).update(
        **{field: now - delta for field, delta in moments.items()}
    )
    key.refresh_from_db()
    return key


@pytest.fixture
def staff_client(db, django_user_model):
    """staff_client(*codenames) -> a logged-in client of a staff user with exactly these
    iiniit_auth permissions (``client.user`` is the user)."""
    made = []

    def make(*codenames):
        user = django_user_model.objects.create_user(
            f"staff{len(made)}", f"staff{len(made)}@example.com", "staff-password", is_staff=True
        )
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="iiniit_auth", codename__in=codenames)
        )
        client = Client()
        client.force_login(user)
        client.user = user
        made.append(user)
        return client

    return make


@pytest.fixture
def issue_form(user):
    """issue_form(client, **fields) -> the response to a filled-in add form, posted once."""

    def post(client, **fields):
        page = client.get(ADD_URL)
        data = {
            "once": token_of(page),
            "name": "CI deploy",
            "owner": user.pk,
            "scopes": ["orders:read"],
            "expires_in": "30d",
            "expires_on": "",
            "allowed_networks": "",
        }
        data.update(fields)
        response = client.post(ADD_URL, data)
        response.posted = data
        return response

    return post


@pytest.fixture
def expiring(issue):
    """A key that expires in three days."""
    key, _plaintext = issue(name="expiring", expires_at=timezone.now() + timedelta(days=3))
    return key
