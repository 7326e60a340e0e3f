"""A helpdesk in a real browser: whatever the page is made to send, no key or client secret
that acts with more than the helpdesk holds.

The helpdesk holds ``view_apikey``, ``add_apikey`` and ``rotate_apikey`` (and, for OAuth, the
application's view, add and rotate-secret permissions). The browser is used as an attacker
would: the owner select is rewritten in the page to a superuser's id before sending, and the
rotate screens of a superuser's credentials are opened by their address.
"""

import pytest
from django.contrib.auth.models import Permission
from oauth2_provider.models import get_application_model

from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.oauth.applications import register_application
from tests.browser.conftest import KEY_SHAPE, PASSWORD, requires_browser

expect = requires_browser().expect
Application = get_application_model()
HELPDESK = [
    ("iiniit_auth", "view_apikey"),
    ("iiniit_auth", "add_apikey"),
    ("iiniit_auth", "rotate_apikey"),
    ("oauth2_provider", "view_application"),
    ("oauth2_provider", "add_application"),
    ("iiniit_oauth", "rotate_client_secret"),
]


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def helpdesk(django_user_model):
    user = django_user_model.objects.create_user(
        "helpdesk", "helpdesk@example.com", PASSWORD, is_staff=True
    )
    for app_label, codename in HELPDESK:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def customer(django_user_model):
    return django_user_model.objects.create_user("customer", "customer@example.com", "unused")


def grant_for_others(user):
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["issue_for_others", "register_for_others"])
    )


def test_a_forged_owner_is_refused_and_audited(tour, root, helpdesk):
    page = tour.page
    tour.log_in("helpdesk")
    tour.goto("/admin/iiniit_auth/apikey/add/", "escalation-01-issue-form-themselves-only")
    # Offered: the helpdesk alone, and why.
    assert page.locator("#id_owner option").all_inner_texts() == ["helpdesk"]
    assert "needs the permission" in page.inner_text(".field-owner")
    page.fill("#id_name", "Forged")
    # What an attacker does with the developer tools: the option's value becomes root's id.
    page.evaluate(f"document.querySelector('#id_owner option').value = '{root.pk}'")
    with page.expect_navigation():
        page.click("input[name=_issue]")
    tour.record("escalation-02-forged-owner-refused")
    assert "for yourself only" in page.inner_text(".field-owner .errorlist")
    assert not KEY_SHAPE.search(page.content())
    assert not APIKey.objects.exists()
    event = CredentialEvent.objects.get(event=CredentialEvent.Event.DENIED)
    assert (event.actor, event.details["owner"]) == (helpdesk, "root")


def test_the_owner_search_never_offers_a_superuser(tour, root, helpdesk, customer):
    grant_for_others(helpdesk)
    page = tour.page
    tour.log_in("helpdesk")
    tour.goto("/admin/iiniit_auth/apikey/add/")
    page.click(".field-owner .select2-selection")
    page.fill(".select2-search__field", "root")
    # Opening the box lists the first page, then the search's answer replaces it: wait for
    # that answer rather than for a response, which may be the first page's.
    expect(page.locator(".select2-results__option")).to_have_text(
        ["No results found"], timeout=20_000
    )
    tour.record("escalation-03-owner-search-no-superuser")
    page.keyboard.press("Escape")
    page.fill("#id_name", "Customer export")
    tour.pick("owner", "customer")
    with page.expect_navigation():
        page.click("input[name=_issue]")
    assert KEY_SHAPE.fullmatch(page.inner_text("#iiniit-plaintext").strip())
    assert APIKey.objects.get().owner == customer


def test_a_superusers_key_cannot_be_rotated_by_the_helpdesk(tour, root, helpdesk):
    grant_for_others(helpdesk)
    key, _plaintext = APIKey.objects.issue(owner=root, name="Root's key", scopes=[])
    page = tour.page
    tour.log_in("helpdesk")
    tour.goto(f"/admin/iiniit_auth/apikey/{key.pk}/change/", "escalation-04-superuser-key")
    assert page.locator("a.iiniit-tool-rotate").count() == 0
    tour.goto(f"/admin/iiniit_auth/apikey/{key.pk}/rotate/", "escalation-05-rotate-refused")
    assert page.url.endswith(f"/apikey/{key.pk}/change/")
    assert "Only a superuser may make a credential for a superuser." in page.inner_text(
        ".messagelist"
    )
    assert APIKey.objects.count() == 1


def test_a_superusers_client_secret_cannot_be_rotated_by_the_helpdesk(tour, root, helpdesk):
    grant_for_others(helpdesk)
    app, _secret = register_application(
        name="Root's app",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        user=root,
        allowed_scopes=[],
    )
    hashed = app.client_secret
    page = tour.page
    tour.log_in("helpdesk")
    base = f"/admin/oauth2_provider/application/{app.pk}"
    tour.goto(f"{base}/change/", "escalation-06-superuser-application")
    assert page.locator(f"a[href$='{base}/rotate-secret/']").count() == 0
    tour.goto(f"{base}/rotate-secret/")
    assert page.url.endswith(f"{base}/change/")
    assert "Only a superuser" in page.inner_text(".messagelist")
    app.refresh_from_db()
    assert app.client_secret == hashed
