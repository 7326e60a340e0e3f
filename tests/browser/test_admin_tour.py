"""Every screen of iiniit_auth's admin at 1,280 px with admin's sidebar open, as a superuser
and as a staff user with a few permissions: each page is photographed (full page, into
``tests/browser/screenshots/``, git-ignored) for a person to look at, and no list hides a
column behind a horizontal scroll."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth.models import APIKey
from iiniit_auth.oauth.applications import register_application
from iiniit_auth.oauth.models import RevokedVia
from iiniit_auth.oauth.tokens import revoke_token
from tests.browser.conftest import PASSWORD, SCREENSHOTS, requires_browser

requires_browser()
WIDTH = 1280
Application = get_application_model()
AccessToken = get_access_token_model()
LIMITED = [
    ("iiniit_auth", "view_apikey"),
    ("iiniit_auth", "add_apikey"),
    ("iiniit_auth", "rotate_apikey"),
    ("iiniit_auth", "view_credentialevent"),
    ("oauth2_provider", "view_application"),
]


@pytest.fixture
def people(django_user_model):
    root = django_user_model.objects.create_superuser(
        "alice.administrator", "alice@example.com", PASSWORD
    )
    desk = django_user_model.objects.create_user(
        "helpdesk", "helpdesk@example.com", PASSWORD, is_staff=True
    )
    for app_label, codename in LIMITED:
        desk.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    bot = django_user_model.objects.create_user(
        "billing-integration-service-account", "billing@example.com", "unused"
    )
    return root, desk, bot


@pytest.fixture
def credentials(people):
    """Keys in every state, with long names and several scopes; applications; tokens."""
    root, desk, bot = people
    now = timezone.now()
    scopes = ["orders:read", "orders:write", "reports:read"]
    made = {}
    for n, days in enumerate([2, 5, 12, 12, 25, 200]):
        key, _plaintext = APIKey.objects.issue(
            owner=bot,
            name=f"Nightly export to the data warehouse, region {n}",
            scopes=scopes,
            expires_at=now + timedelta(days=days, hours=1),
            created_by=root,
            allowed_networks=["10.0.0.0/8", "2001:db8::/32"],
        )
        made[f"key{n}"] = key
    made["key5"].rotate(grace=timedelta(hours=24), actor=root)
    made["key4"].revoke(actor=root, reason="Leaked in a CI log of the nightly pipeline")
    APIKey.objects.filter(pk=made["key1"].pk).update(last_used_at=now - timedelta(hours=3))
    own, _plaintext = APIKey.objects.issue(owner=desk, name="Helpdesk's own", scopes=[])
    made["own"] = own
    app, _secret = register_application(
        name="Billing service for the finance department",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://billing.example.com/oauth/callback",
        user=bot,
        allowed_scopes=scopes,
        actor=root,
    )
    machine, _secret = register_application(
        name="Reporting robot",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        user=bot,
        allowed_scopes=["reports:read"],
        actor=root,
    )
    for n in range(3):
        token = AccessToken.objects.create(
            user=bot,
            application=app,
            token=f"tour-token-{n}",
            scope="orders:read reports:read",
            expires=now + timedelta(hours=1),
        )
    revoke_token(token, actor=root, ip="192.0.2.1", via=RevokedVia.ADMIN)
    made.update(app=app, machine=machine)
    return made


def overflow(page):
    """How many pixels the page, or a list's table, is wider than its box (0: none)."""
    return page.evaluate(
        """() => {
            const page = document.documentElement.scrollWidth - window.innerWidth;
            const results = document.querySelector('.results');
            const list = results ? results.scrollWidth - results.clientWidth : 0;
            return Math.max(page, list, 0);
        }"""
    )


def visit(tour, path, name):
    tour.page.goto(tour.url(path))
    tour.page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(exist_ok=True)
    tour.page.screenshot(path=str(SCREENSHOTS / f"tour-{name}.png"), full_page=True)
    wider = overflow(tour.page)
    assert wider == 0, f"{name}: {path} scrolls {wider} px sideways at {WIDTH} px"
    return tour.page


def screens(made):
    key, app, machine = made["key1"], made["app"], made["machine"]
    apps = "/admin/oauth2_provider/application"
    return [
        ("app-index", "/admin/iiniit_auth/"),
        ("overview", "/admin/iiniit_auth/overview/"),
        ("keys", "/admin/iiniit_auth/apikey/"),
        ("key-issue", "/admin/iiniit_auth/apikey/add/"),
        ("key", f"/admin/iiniit_auth/apikey/{key.pk}/change/"),
        ("key-rotated", f"/admin/iiniit_auth/apikey/{made['key5'].pk}/change/"),
        ("key-revoked", f"/admin/iiniit_auth/apikey/{made['key4'].pk}/change/"),
        ("key-rotate", f"/admin/iiniit_auth/apikey/{key.pk}/rotate/"),
        ("key-revoke", f"/admin/iiniit_auth/apikey/{key.pk}/revoke/"),
        ("audit-log", "/admin/iiniit_auth/credentialevent/"),
        ("applications", f"{apps}/"),
        ("application-register", f"{apps}/add/"),
        ("application", f"{apps}/{app.pk}/change/"),
        ("application-client-credentials", f"{apps}/{machine.pk}/change/"),
        ("application-rotate-secret", f"{apps}/{app.pk}/rotate-secret/"),
        ("application-revoke-tokens", f"{apps}/{app.pk}/revoke-tokens/"),
        ("access-tokens", "/admin/oauth2_provider/accesstoken/"),
        ("refresh-tokens", "/admin/oauth2_provider/refreshtoken/"),
        ("grants", "/admin/oauth2_provider/grant/"),
    ]


def test_every_screen_as_a_superuser(tour, credentials):
    tour.page.set_viewport_size({"width": WIDTH, "height": 900})
    tour.log_in("alice.administrator")
    for name, path in screens(credentials):
        page = visit(tour, path, f"superuser-{name}")
        if name not in ("app-index", "overview"):  # admin's index pages have no sidebar
            assert page.locator("#nav-sidebar").is_visible(), name
    event = visit(tour, "/admin/iiniit_auth/credentialevent/", "superuser-audit-log")
    # Each credential named as a person would: a key by prefix, an application by name.
    text = event.inner_text("#result_list")
    assert "iik_" in text
    assert "Billing service for the finance department" in text
    assert "access token" in text
    assert "Grace period: 1\xa0day" in text


def test_every_screen_as_a_limited_staff_user(tour, credentials):
    tour.page.set_viewport_size({"width": WIDTH, "height": 900})
    tour.log_in("helpdesk")
    refused = {
        "key-revoke",
        "application-register",
        "application-rotate-secret",
        "application-revoke-tokens",
        "access-tokens",
        "refresh-tokens",
        "grants",
    }
    for name, path in screens(credentials):
        if name in refused:
            page = visit(tour, path, f"staff-{name}")
            assert page.locator("#site-name").is_visible(), name  # admin's look, even refused
            continue
        if name == "key-rotate":  # another user's key: sent back with the reason
            page = visit(tour, path, f"staff-{name}")
            assert "for yourself only" in page.inner_text(".messagelist")
            continue
        visit(tour, path, f"staff-{name}")
    log = visit(tour, "/admin/iiniit_auth/credentialevent/", "staff-audit-log")
    # Only the kinds of credential this user may view: keys and applications, not tokens.
    assert "access token" not in log.inner_text("#result_list")
    assert "OAuth token" not in log.inner_text("#changelist-filter")
