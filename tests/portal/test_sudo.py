"""Sudo mode: making a credential asks for the password again once the sign-in is old."""

import time
from datetime import timedelta

import pytest

from iiniit_auth.models import APIKey
from iiniit_auth.portal import sudo
from tests.portal.conftest import (
    CREATE_URL,
    KEYS_URL,
    REGISTER_URL,
    SUDO_URL,
    create,
    rotate_url,
    shown_key,
    token_of,
)


def age_sudo(client, seconds):
    session = client.session
    session[sudo.SESSION_KEY] = time.time() - seconds
    session.save()


def test_a_fresh_sign_in_needs_no_confirmation(portal):
    assert portal.get(CREATE_URL).status_code == 200


@pytest.mark.parametrize("url", [CREATE_URL, REGISTER_URL])
def test_an_old_sign_in_is_asked_for_the_password_first(portal, url):
    age_sudo(portal, 16 * 60)
    response = portal.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{SUDO_URL}?next={url.replace('/', '%2F')}"


def test_rotating_asks_too(portal, issue):
    key, _plaintext = issue()
    age_sudo(portal, 16 * 60)
    assert portal.get(rotate_url(key))["Location"].startswith(SUDO_URL)


def test_a_session_without_a_sign_in_time_is_asked(client, user):
    client.force_login(user)
    session = client.session
    del session[sudo.SESSION_KEY]
    session.save()
    assert client.get(CREATE_URL)["Location"].startswith(SUDO_URL)


def test_a_post_after_the_timeout_makes_nothing(portal):
    token = token_of(portal.get(CREATE_URL))
    age_sudo(portal, 16 * 60)
    response = create(portal, once=token)
    assert response.status_code == 302
    assert response["Location"].startswith(SUDO_URL)
    assert not APIKey.objects.exists()


def test_the_password_confirms_and_leads_back(portal):
    age_sudo(portal, 16 * 60)
    page = portal.get(f"{SUDO_URL}?next={CREATE_URL}")
    assert page.status_code == 200
    assert "Confirm your password" in page.content.decode()
    response = portal.post(SUDO_URL, {"password": "ann-password", "next": CREATE_URL})
    assert response.status_code == 302
    assert response["Location"] == CREATE_URL
    shown_key(create(portal))


def test_a_wrong_password_is_a_form_error(portal):
    age_sudo(portal, 16 * 60)
    response = portal.post(SUDO_URL, {"password": "wrong", "next": CREATE_URL})
    assert response.status_code == 200
    assert response.context["form"].errors["password"] == ["That is not your password."]
    assert "wrong" not in response.content.decode()
    assert portal.get(CREATE_URL).status_code == 302


def test_five_wrong_passwords_sign_the_session_out(portal):
    age_sudo(portal, 16 * 60)
    for _attempt in range(sudo.MAX_FAILURES - 1):
        assert portal.post(SUDO_URL, {"password": "wrong"}).status_code == 200
    response = portal.post(SUDO_URL, {"password": "wrong", "next": CREATE_URL})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert portal.get(KEYS_URL).status_code == 302  # signed out
    assert "_auth_user_id" not in portal.session


def test_a_right_password_resets_the_count(portal):
    age_sudo(portal, 16 * 60)
    for _attempt in range(sudo.MAX_FAILURES - 1):
        portal.post(SUDO_URL, {"password": "wrong"})
    portal.post(SUDO_URL, {"password": "ann-password"})
    age_sudo(portal, 16 * 60)
    for _attempt in range(sudo.MAX_FAILURES - 1):
        assert portal.post(SUDO_URL, {"password": "wrong"}).status_code == 200
    assert portal.get(KEYS_URL).status_code == 200


@pytest.mark.parametrize(
    "next_url", ["https://evil.example.com/", "//evil.example.com/", "javascript:alert(1)"]
)
def test_next_stays_on_this_site(portal, next_url):
    age_sudo(portal, 16 * 60)
    response = portal.post(SUDO_URL, {"password": "ann-password", "next": next_url})
    assert response["Location"] == KEYS_URL


def test_the_timeout_is_a_setting(portal, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SUDO_TIMEOUT": timedelta(hours=1)}
    age_sudo(portal, 30 * 60)
    assert portal.get(CREATE_URL).status_code == 200
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SUDO_TIMEOUT": 0}
    assert portal.get(CREATE_URL).status_code == 302
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SUDO_TIMEOUT": None}
    age_sudo(portal, 10 * 24 * 3600)
    assert portal.get(CREATE_URL).status_code == 200


def test_the_password_is_hidden_from_error_reports(rf, user):
    from django.views.debug import SafeExceptionReporterFilter

    request = rf.post(SUDO_URL, {"password": "ann-password"})
    request._dont_enforce_csrf_checks = True
    request.user = user
    request.session = {}
    sudo.confirm_view(request)
    cleaned = SafeExceptionReporterFilter().get_post_parameters(request)
    assert cleaned["password"] != "ann-password"
