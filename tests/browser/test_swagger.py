"""Swagger UI in a real browser, served offline from drf-spectacular-sidecar: authorize with an
API key and call a scoped endpoint; then authorize through the authorization-code flow with
PKCE in Swagger UI's own dialog (a popup: sign in, consent, back) and call it again."""

from urllib.parse import unquote

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from drf_spectacular.settings import patched_settings

from iiniit_auth.oauth.applications import register_application
from tests.browser.conftest import SCREENSHOTS, requires_browser
from tests.oauth.conftest import _served  # noqa: F401 - an autouse fixture

requires_browser()

CLIENT_ID = "swagger-ui-test"
#: The example project's SPECTACULAR_SETTINGS for Swagger UI. (drf-spectacular reads the setting
#: once, when it is first imported, so the test patches its settings object instead.)
SPECTACULAR = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_OAUTH2_CONFIG": {"clientId": CLIENT_ID, "usePkceWithAuthorizationCodeGrant": True},
}


@pytest.fixture
def swagger(live_server):
    """The suite's project with drf-spectacular, the sidecar and the README's settings."""
    with (
        override_settings(
            INSTALLED_APPS=[
                *django_settings.INSTALLED_APPS,
                "drf_spectacular",
                "drf_spectacular_sidecar",
            ],
            ROOT_URLCONF="tests.openapi.browser_urls",
            REST_FRAMEWORK={
                **django_settings.REST_FRAMEWORK,
                "DEFAULT_SCHEMA_CLASS": "iiniit_auth.contrib.spectacular.AutoSchema",
            },
        ),
        patched_settings(SPECTACULAR),
    ):
        yield f"{live_server.url}/api/docs/"


def offline(page):
    """Refuse every request that leaves the live server: the page must need no CDN."""
    left = []

    def guard(route):
        if route.request.url.startswith(("http://localhost", "http://127.0.0.1")):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)  # the context's: popups too
    return left


def open_docs(page, url):
    page.goto(url)
    page.wait_for_selector(".swagger-ui .btn.authorize")


def try_orders(page):
    """Try it out on GET /api/orders/ (needs orders:read); return the status Swagger UI shows
    and the Authorization header it sent."""
    block = page.locator(".opblock.opblock-get", has_text="/api/orders/")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    with page.expect_request(lambda request: "/api/orders/" in request.url) as sent:
        block.locator("button.execute").click()
    cell = block.locator(".live-responses-table tr.response .response-col_status").first
    cell.wait_for()
    return cell.inner_text().strip(), sent.value.headers.get("authorization", "")


def test_authorize_with_an_api_key_then_try_it_out(tour, swagger, issue):
    _key, plaintext = issue(scopes=["orders:read"])
    page = tour.page
    left = offline(page)
    open_docs(page, swagger)
    page.click(".swagger-ui .btn.authorize")
    dialog = page.locator(".auth-container", has_text="ApiKey  (apiKey)")
    assert "Authorization: ApiKey <key>" in dialog.inner_text()
    dialog.locator("input").fill(f"ApiKey {plaintext}")
    dialog.locator("button.authorize").click()
    page.click(".modal-ux .close-modal")
    status, authorization = try_orders(page)
    if tour.screenshots:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "swagger-api-key.png"), full_page=True)
    assert status == "200"
    assert authorization == f"ApiKey {plaintext}"
    assert left == []


def test_authorize_with_the_authorization_code_flow_and_pkce(tour, swagger, live_server, user):
    register_application(
        name="Swagger UI",
        client_id=CLIENT_ID,
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris=f"{live_server.url}/api/docs/oauth2-redirect.html",
        user=user,
        allowed_scopes=["orders:read"],
    )
    page = tour.page
    left = offline(page)
    open_docs(page, swagger)
    page.click(".swagger-ui .btn.authorize")
    dialog = page.locator(".auth-container", has_text="authorizationCode with PKCE")
    # The client id comes from SWAGGER_UI_OAUTH2_CONFIG; a public client has no secret.
    assert dialog.locator("#client_id_authorizationCode").input_value() == CLIENT_ID
    dialog.locator("label[for='orders:read-authorizationCode-checkbox-OAuth2']").click()
    with page.expect_popup() as opened:
        dialog.locator("button.authorize").click()
    popup = opened.value
    popup.wait_for_load_state()
    assert "/accounts/login/" in popup.url
    assert "code_challenge_method=S256" in unquote(popup.url)
    popup.fill("#id_username", "ann")
    popup.fill("#id_password", "ann-password")
    with popup.expect_navigation():
        popup.locator("form [type=submit]").first.click()
    # The consent page; allowing sends the code back to Swagger UI, which trades it for a token.
    with page.expect_response(lambda response: "/o/token/" in response.url) as token:
        popup.click("button[name=allow]")
    assert token.value.status == 200
    # Authorized: the dialog now offers to log out of OAuth2.
    dialog.locator("button", has_text="Logout").wait_for()
    page.click(".modal-ux .close-modal")
    status, authorization = try_orders(page)
    assert status == "200"
    assert authorization.startswith("Bearer ")
    assert left == []
