"""The developer portal in a real browser, as a developer uses it: create a key, copy it, call
the API with it, rotate it, call with the successor, revoke it and be refused; register an
OAuth application and run the authorization-code flow with PKCE against it with a real OAuth
client; and the ways in that must fail (another user's ids, no CSRF token, an old sign-in, too
many keys). ``--screenshots`` saves the pages docs/portal.md shows.
"""

import time

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.portal import sudo
from tests.browser.conftest import KEY_SHAPE, PASSWORD, SCREENSHOTS, ping, requires_browser
from tests.oauth.conftest import _served, local  # noqa: F401 - _served is an autouse fixture

sync_api = requires_browser()
expect = sync_api.expect

GRANTABLE = ["orders:read", "reports:read"]


@pytest.fixture(autouse=True)
def portal_settings(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SCOPES": GRANTABLE}


@pytest.fixture
def dev(django_user_model):
    return django_user_model.objects.create_user("dana", "dana@example.com", PASSWORD)


@pytest.fixture
def other(django_user_model):
    return django_user_model.objects.create_user("olaf", "olaf@example.com", PASSWORD)


def sign_in(tour, username, then="/developer/"):
    page = tour.page
    page.goto(tour.url(f"/accounts/login/?next={then}"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")
    tour.record()


def picture(tour, name):
    """Remember the page; with ``--screenshots``, photograph the portal's part of it, 1,024 px
    wide, for docs/portal.md (docs/img/ holds them, reduced to a small palette)."""
    tour.record()
    if tour.screenshots:
        SCREENSHOTS.mkdir(exist_ok=True)
        page = tour.page
        size = page.viewport_size
        page.set_viewport_size({"width": 1024, "height": 768})
        page.locator(".iiniit-portal").screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        page.set_viewport_size(size)


def shown(page, element="#iiniit-plaintext"):
    return page.inner_text(element).strip()


def fits(page):
    """Whether the page needs no horizontal scrolling at the current width."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def api(base_url, path, key=None, token=None):
    headers = {"Authorization": f"ApiKey {key}" if key else f"Bearer {token}"}
    session = local(requests.Session())
    return session.get(f"{base_url}{path}", headers=headers, timeout=10).status_code


def test_create_copy_use_rotate_revoke(tour, live_server, dev):
    page = tour.page
    sign_in(tour, "dana")
    tour.record()
    page.get_by_role("link", name="Create key").click()
    tour.record()
    page.get_by_label("Name").fill("Billing export")
    page.get_by_label("orders:read").check()
    page.get_by_label("Expires").select_option("30d")
    picture(tour, "portal-create")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Create key").click()
    assert "no-store" in navigation.value.headers["cache-control"]
    picture(tour, "portal-show-key")
    first = shown(page)
    assert KEY_SHAPE.fullmatch(first)
    assert first in shown(page, "#iiniit-curl")
    page.bring_to_front()  # the clipboard answers a focused page only
    copy = page.locator("button[data-iiniit-copy='iiniit-plaintext']")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == first
    after_first = tour.mark()

    assert ping(live_server.url, first) == 200
    assert api(live_server.url, "/api/orders/", key=first) == 200
    assert api(live_server.url, "/api/reports/", key=first) == 403  # a scope it lacks

    # A reload sends the same POST again: nothing is made twice, no key is shown.
    page.reload()
    tour.record()
    expect(page.locator(".iiniit-messages")).to_contain_text("already submitted")
    page.go_back()
    tour.record()
    page.go_forward()
    tour.record()
    assert APIKey.objects.count() == 1

    page.goto(tour.url("/developer/"))
    picture(tour, "portal-keys")
    row = page.locator("tr", has_text="Billing export")
    expect(row).to_contain_text("active")
    row.get_by_role("link", name="Rotate").click()
    page.get_by_label("1 hour").check()
    picture(tour, "portal-rotate")
    with page.expect_navigation():
        page.get_by_role("button", name="Rotate").click()
    tour.record()
    second = shown(page)
    assert second != first
    expect(page.locator(".iiniit-lead")).to_contain_text("This key replaces")
    after_second = tour.mark()
    assert ping(live_server.url, second) == 200
    assert ping(live_server.url, first) == 200  # its grace period

    page.get_by_role("link", name="I have copied the key").click()
    tour.record()
    page.locator("tr", has_text="rotated").get_by_role("link", name="Revoke").click()
    page.get_by_label("Reason").fill("switched to the successor")
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke").click()
    tour.record()
    assert ping(live_server.url, first) == 401
    assert ping(live_server.url, second) == 200

    page.locator("tr", has_text="active").get_by_role("link", name="Revoke").click()
    page.get_by_label("Reason").fill("leaked in a CI log")
    picture(tour, "portal-revoke")
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke").click()
    tour.record()
    expect(page.locator(".iiniit-messages")).to_contain_text("was revoked")
    assert ping(live_server.url, second) == 401

    for _name, url, html in tour.since(after_first):
        assert first not in html, url
    for _name, url, html in tour.since(after_second):
        assert second not in html, url
    revoked = CredentialEvent.objects.filter(event="revoked", actor=dev, ip="127.0.0.1")
    assert revoked.count() == 2


def test_readable_at_360_and_1280_pixels(tour, dev, issue):
    issue(owner=dev, name="Nightly export with a long descriptive name", scopes=GRANTABLE)
    page = tour.page
    sign_in(tour, "dana")
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ["/developer/", "/developer/keys/new/", "/developer/applications/new/"]:
            page.goto(tour.url(path))
            assert fits(page), (width, path)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(tour.url("/developer/"))
    tour.record("portal-keys-360")


def test_works_without_javascript(browser, live_server, dev):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/?next=/developer/keys/new/")
        page.fill("#id_username", "dana")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.get_by_label("Name").fill("No script")
        page.get_by_role("button", name="Create key").click()
        key = shown(page)
        assert KEY_SHAPE.fullmatch(key)
        assert page.locator("button[data-iiniit-copy]").first.is_hidden()
        assert ping(live_server.url, key) == 200
    finally:
        context.close()


def test_an_old_sign_in_asks_for_the_password(tour, dev):
    page = tour.page
    sign_in(tour, "dana")
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=cookie["value"])
    session[sudo.SESSION_KEY] = time.time() - 3600
    session.save()

    page.goto(tour.url("/developer/"))
    page.get_by_role("link", name="Create key").click()
    expect(page.get_by_role("heading")).to_have_text("Confirm your password")
    page.get_by_label("Password").fill("not-it")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".errorlist")).to_contain_text("That is not your password.")
    picture(tour, "portal-sudo")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading")).to_have_text("Create an API key")


def test_the_key_limit(tour, dev, issue, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_MAX_ACTIVE_KEYS": 1}
    issue(owner=dev, name="the one")
    page = tour.page
    sign_in(tour, "dana", then="/developer/keys/new/")
    expect(page.locator(".iiniit-notice")).to_contain_text("the most you may hold at once")
    page.get_by_label("Name").fill("one too many")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator(".iiniit-errors")).to_contain_text("the most you may hold at once")
    assert APIKey.objects.filter(owner=dev).count() == 1


def test_another_users_ids_and_a_missing_csrf_token_are_refused(tour, dev, other, issue):
    theirs, _plaintext = issue(owner=other, name="olaf's key")
    mine, _plaintext = issue(owner=dev, name="my key")
    page = tour.page
    sign_in(tour, "dana")
    for path in [f"/developer/keys/{theirs.pk}/rotate/", f"/developer/keys/{theirs.pk}/revoke/"]:
        response = page.goto(tour.url(path))
        assert response.status == 404, path
        assert "olaf" not in page.content()

    page.goto(tour.url(f"/developer/keys/{mine.pk}/revoke/"))
    page.get_by_label("Reason").fill("no token")
    page.evaluate("document.querySelector('[name=csrfmiddlewaretoken]').remove()")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Revoke").click()
    assert navigation.value.status == 403
    mine.refresh_from_db()
    assert mine.is_active
    theirs.refresh_from_db()
    assert theirs.is_active


def test_register_an_application_and_authorize_it_with_pkce(
    tour, live_server, dev, monkeypatch, redirect_uri
):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server is http on loopback
    page = tour.page
    sign_in(tour, "dana", then="/developer/applications/")
    page.get_by_role("link", name="Register application").click()
    page.get_by_label("Name").fill("Dana's dashboard")
    page.get_by_label("Public").check()
    page.get_by_label("Authorization code (with PKCE)").check()
    page.get_by_label("Redirect URIs").fill(redirect_uri)
    page.get_by_label("orders:read").check()
    picture(tour, "portal-register")
    with page.expect_navigation():
        page.get_by_role("button", name="Register application").click()
    tour.record()
    client_id = shown(page, "#iiniit-client-id")

    # A real OAuth 2.0 client, with PKCE (S256); the browser is the signed-in user.
    client = local(
        OAuth2Session(client_id, redirect_uri=redirect_uri, scope=["orders:read"], pkce="S256")
    )
    authorize_url, _state = client.authorization_url(f"{live_server.url}/o/authorize/")
    page.goto(authorize_url)
    tour.record()
    # The code is read off the request the browser makes to the loopback redirect URI, as a
    # native app reads it off its own listener.
    with page.expect_request(lambda request: request.url.startswith(redirect_uri)) as sent:
        page.get_by_role("button", name="Approve").click()
    landed = [sent.value.url]
    token = client.fetch_token(
        f"{live_server.url}/o/token/", authorization_response=landed[0], include_client_id=True
    )
    assert token["scope"] == ["orders:read"]
    assert api(live_server.url, "/api/orders/", token=token["access_token"]) == 200

    page.goto(tour.url("/developer/authorized/"))
    picture(tour, "portal-authorized")
    page.locator("tr", has_text="Dana's dashboard").get_by_role("link", name="Revoke").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".iiniit-messages")).to_contain_text("revoked")
    assert api(live_server.url, "/api/orders/", token=token["access_token"]) == 401
    assert CredentialEvent.objects.filter(
        event="revoked", actor=dev, details__via="authorized_tokens"
    ).exists()


def client_credentials(base_url, client_id, secret):
    session = local(OAuth2Session(client=BackendApplicationClient(client_id=client_id)))
    return session.fetch_token(
        f"{base_url}/o/token/", client_id=client_id, client_secret=secret, scope=["orders:read"]
    )


def test_a_service_rotates_its_secret_then_is_deleted(tour, live_server, dev, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    page = tour.page
    sign_in(tour, "dana", then="/developer/applications/new/")
    page.get_by_label("Name").fill("Nightly billing")
    page.get_by_label("Confidential").check()
    page.get_by_label("Client credentials").check()
    page.get_by_label("orders:read").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Register application").click()
    client_id = shown(page, "#iiniit-client-id")
    first = shown(page)
    picture(tour, "portal-show-secret")
    token = client_credentials(live_server.url, client_id, first)
    assert api(live_server.url, "/api/orders/", token=token["access_token"]) == 200

    page.get_by_role("link", name="I have copied the secret").click()
    picture(tour, "portal-application")
    page.get_by_role("link", name="Rotate secret").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Rotate secret").click()
    second = shown(page)
    assert second != first
    with pytest.raises(Exception, match="invalid_client"):
        client_credentials(live_server.url, client_id, first)
    token = client_credentials(live_server.url, client_id, second)

    page.get_by_role("link", name="I have copied the secret").click()
    page.get_by_role("link", name="Delete").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Delete").click()
    expect(page.locator(".iiniit-messages")).to_contain_text("was deleted")
    assert api(live_server.url, "/api/orders/", token=token["access_token"]) == 401
    with pytest.raises(Exception, match="invalid_client"):
        client_credentials(live_server.url, client_id, second)
    assert CredentialEvent.objects.filter(event="deleted", actor=dev).exists()
