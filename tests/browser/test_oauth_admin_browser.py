"""The OAuth application screens in a real browser: register with limited scopes, read the
client secret off the show-once page, and see the token endpoint keep to those scopes."""

import pytest
import requests
from django.contrib.admin.models import LogEntry
from oauth2_provider.models import get_application_model

from iiniit_auth import keys
from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import ApplicationPolicy
from tests.browser.conftest import PASSWORD, requires_browser
from tests.oauth.conftest import _served, local  # noqa: F401 - _served is an autouse fixture

requires_browser()

# A whole key (a valid checksum; never issued): what someone pastes to find where it is used.
PUBLIC_ID = "AbCdEfGhIj"
_HEAD = f"iik_{PUBLIC_ID}{'s' * keys.SECRET_LENGTH}"
PASTED_KEY = _HEAD + keys.checksum(_HEAD)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def service_user(django_user_model):
    return django_user_model.objects.create_user("billing-bot", "bot@example.com", "unused-pw")


def fetch_token(base_url, client_id, secret, scope):
    """The client-credentials grant over real HTTP, client authenticated with HTTP Basic."""
    session = local(requests.Session())
    return session.post(
        f"{base_url}/o/token/",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
        timeout=10,
    )


def orders(base_url, access_token):
    session = local(requests.Session())
    response = session.get(
        f"{base_url}/api/orders/",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    return response.status_code


def test_an_application_gets_only_its_allowed_scopes(tour, live_server, admin_user, service_user):
    page = tour.page
    tour.log_in("alice")
    tour.goto("/admin/oauth2_provider/application/add/", "oauth-01-register-form")
    page.fill("#id_name", "Billing service")
    page.check("input[name=client_type][value='confidential']")
    page.check("input[name=authorization_grant_type][value='client-credentials']")
    tour.pick("user", "billing-bot")
    page.check("input[name=allowed_scopes][value='orders:read']")
    tour.record("oauth-02-register-form-filled")
    with page.expect_navigation() as navigation:
        page.click("input[name=_register]")
    assert "no-store" in navigation.value.headers["cache-control"]
    tour.record("oauth-03-show-once")
    client_id = page.inner_text("#iiniit-client-id").strip()
    secret = page.inner_text("#iiniit-plaintext").strip()
    after_secret = tour.mark()
    application = get_application_model().objects.get()
    assert application.client_id == client_id
    assert ApplicationPolicy.objects.allowed_scopes(application) == {"orders:read"}

    granted = fetch_token(live_server.url, client_id, secret, "orders:read")
    assert granted.status_code == 200, granted.text
    assert granted.json()["scope"] == "orders:read"
    assert orders(live_server.url, granted.json()["access_token"]) == 200

    refused = fetch_token(live_server.url, client_id, secret, "orders:write")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"

    page.click("a.iiniit-done")
    tour.record("oauth-04-change-page")
    assert page.locator("a.iiniit-tool-rotate").is_visible()
    assert page.locator("a.iiniit-tool-revoke").is_visible()
    page.reload()
    tour.record()
    tour.goto("/admin/oauth2_provider/application/", "oauth-05-list")
    tour.goto("/admin/oauth2_provider/accesstoken/", "oauth-06-tokens")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.locator(".iiniit-badge--active").count() == 1

    tour.goto(
        f"/admin/oauth2_provider/application/{application.pk}/revoke-tokens/", "oauth-07-revoke"
    )
    with page.expect_navigation():
        page.click("input[type=submit][value='Revoke all tokens']")
    tour.record("oauth-08-revoked")
    assert "Revoked 1 token" in page.inner_text(".messagelist")
    assert orders(live_server.url, granted.json()["access_token"]) == 401

    page.goto(tour.url("/admin/iiniit_auth/"))
    page.wait_for_selector("#iiniit-auth-overview .iiniit-figure__count")
    tour.record("oauth-09-overview")
    assert "OAuth applications" in page.inner_text("#iiniit-auth-overview")

    for _name, url, html in tour.since(after_secret):
        assert secret not in html, url
    assert not LogEntry.objects.filter(change_message__contains=secret).exists()
    for event in CredentialEvent.objects.all():
        assert secret not in str(event.details)


def test_a_key_pasted_into_a_search_box_never_reaches_an_address(tour, admin_user):
    # The server would redirect without it, but the first request's address (and so the
    # access log) would already hold it: the browser cuts it down before sending.
    page = tour.page
    tour.log_in("alice")
    sent = []
    page.on("request", lambda request: sent.append(request.url))
    for path in (
        "/admin/iiniit_auth/apikey/",
        "/admin/iiniit_auth/credentialevent/",
        "/admin/oauth2_provider/application/",
        "/admin/oauth2_provider/accesstoken/",
        "/admin/oauth2_provider/refreshtoken/",
    ):
        tour.goto(path)
        page.fill("#searchbar", f"billing {PASTED_KEY}")
        with page.expect_navigation():
            page.press("#searchbar", "Enter")
        tour.record()
        assert page.url == tour.url(f"{path}?q=billing+iik_{PUBLIC_ID}")

    assert [url for url in sent if "s" * keys.SECRET_LENGTH in url] == []
