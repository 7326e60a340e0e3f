"""The OAuth consent page in a real browser, as the person asked to approve: sign in, see what
the application may do (and which permissions change data), "Not you? Sign out", deny."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from iiniit_auth.oauth.applications import register_application
from tests.browser.conftest import SCREENSHOTS, requires_browser
from tests.oauth.conftest import _served  # noqa: F401 - an autouse fixture

requires_browser()


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password")


def sign_in(page, username, password):
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()


def test_consent_sign_out_and_deny(tour, live_server, user, bob, redirect_uri):
    app, _secret = register_application(
        name="Reports app",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris=redirect_uri,
        user=user,
        allowed_scopes=["orders:read", "orders:write"],
    )
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "scope": "orders:read orders:write",
        "state": "s1",
        # RFC 7636 appendix B's challenge: the verifier is never needed, nobody redeems a code.
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGmSfZ2ZQA",
        "code_challenge_method": "S256",
    }
    url = f"{live_server.url}/o/authorize/?{urlencode(query)}"
    page = tour.page
    page.goto(url)
    assert "/accounts/login/" in page.url
    sign_in(page, "ann", "ann-password")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "consent-01-page.png"), full_page=True)
    writing = page.locator("li.iiniit-scope", has_text="orders:write")
    assert "can change data" in writing.inner_text()
    assert (
        "can change data"
        not in page.locator("li.iiniit-scope", has_text="orders:read").inner_text()
    )
    assert "btn-primary" in page.get_attribute("button[name=allow]", "class")
    assert page.inner_text("button.iiniit-deny") == "Deny"

    # Not ann: sign out, and the same request asks bob to sign in.
    with page.expect_navigation():
        page.click(".iiniit-switch button")
    assert "/accounts/login/" in page.url
    sign_in(page, "bob", "bob-password")
    assert "You are signed in as bob." in page.inner_text(".iiniit-consent")

    with page.expect_navigation():
        page.click("button.iiniit-deny")
    back = urlsplit(page.url)
    assert f"{back.scheme}://{back.netloc}{back.path}" == redirect_uri
    query = parse_qs(back.query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s1"]
    assert query["iss"] == [f"{live_server.url}/o"]
