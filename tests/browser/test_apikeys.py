"""The API key screens in a real browser: issue, show once, rotate, revoke, permissions.

One Chromium for the module (see conftest.py); each test gets a fresh browser context and,
through ``live_server``, a fresh database.
"""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission

from iiniit_auth.models import APIKey, CredentialEvent
from tests.browser.conftest import KEY_SHAPE, PASSWORD, ping, requires_browser

sync_api = requires_browser()
PlaywrightError = sync_api.Error
expect = sync_api.expect


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def service_user(django_user_model):
    return django_user_model.objects.create_user("billing-bot", "bot@example.com", "unused-pw")


@pytest.fixture
def helpdesk(django_user_model):
    """Staff who may look at keys and rotate other users' keys, but not revoke them."""
    user = django_user_model.objects.create_user(
        "helpdesk", "helpdesk@example.com", PASSWORD, is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="iiniit_auth",
            codename__in=["view_apikey", "rotate_apikey", "issue_for_others"],
        )
    )
    return user


def shown_key(page):
    text = page.inner_text("#iiniit-plaintext").strip()
    assert KEY_SHAPE.fullmatch(text)
    return text


def test_issue_show_once_rotate_revoke(tour, live_server, admin_user, service_user):
    page = tour.page
    tour.log_in("alice")
    page.goto(tour.url("/admin/iiniit_auth/"))
    page.wait_for_selector("#iiniit-auth-overview")
    tour.record("01-app-index")

    tour.goto("/admin/iiniit_auth/apikey/add/", "02-issue-form")
    # The date field shows only when "On the date below" is chosen.
    assert page.locator(".field-expires_on").is_hidden()
    page.select_option("#id_expires_in", "date")
    assert page.locator(".field-expires_on").is_visible()
    page.select_option("#id_expires_in", "90d")
    page.fill("#id_name", "Billing export")
    tour.pick("owner", "billing-bot")
    page.check("input[name=scopes][value='orders:read']")
    page.check("input[name=scopes][value='reports:read']")
    page.fill("#id_allowed_networks", "127.0.0.0/8\n::1")
    tour.record("03-issue-form-filled")
    with page.expect_navigation() as navigation:
        page.click("input[name=_issue]")
    assert "no-store" in navigation.value.headers["cache-control"]
    tour.record("04-show-once")
    first = shown_key(page)
    assert first in page.inner_text("#iiniit-curl")
    page.bring_to_front()  # the clipboard answers a focused page only
    page.click("button[data-iiniit-copy='iiniit-plaintext']")
    expect(page.locator("button[data-iiniit-copy='iiniit-plaintext']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == first
    after_first = tour.mark()
    assert ping(live_server.url, first) == 200

    # Reloading re-sends the form: it is refused as already used, and leads to the key's page.
    page.reload()
    tour.record("05-after-reload")
    assert "/change/" in page.url
    assert "already submitted" in page.inner_text(".messagelist")
    assert APIKey.objects.count() == 1
    key = APIKey.objects.get()

    tour.goto("/admin/iiniit_auth/apikey/", "06-list")
    assert page.locator(".iiniit-badge--active").count() == 1
    # A whole key pasted into the search is cut to its public id before the page searches.
    page.fill("#searchbar", first)
    with page.expect_navigation():
        page.press("#searchbar", "Enter")
    tour.record()
    assert first not in page.url
    assert f"q=iik_{key.public_id}" in page.url
    assert page.locator("#result_list tbody tr").count() == 1
    tour.goto(f"/admin/iiniit_auth/apikey/{key.pk}/change/", "07-change-page")
    assert page.locator("a.iiniit-tool-rotate").is_visible()

    page.click("a.iiniit-tool-rotate")
    tour.record("08-rotate-form")
    page.check("input[name=grace][value='0']")
    with page.expect_navigation():
        page.click("input[type=submit][value='Rotate key']")
    tour.record("09-show-once-rotated")
    second = shown_key(page)
    after_second = tour.mark()
    assert second != first
    assert ping(live_server.url, first) == 401
    assert ping(live_server.url, second) == 200

    page.click("a.iiniit-done")
    tour.record("10-successor-page")
    page.click("a.iiniit-tool-revoke")
    tour.record("11-revoke-confirm")
    page.fill("#id_reason", "integration retired")
    with page.expect_navigation():
        page.click("input[type=submit][value='Revoke key']")
    tour.record("12-revoked-page")
    assert "revoked" in page.inner_text(".messagelist")
    assert page.locator("a.iiniit-tool-revoke").count() == 0
    assert page.locator("a.iiniit-tool-rotate").count() == 0
    assert ping(live_server.url, second) == 401

    tour.goto("/admin/iiniit_auth/apikey/", "13-list-after")
    tour.goto("/admin/iiniit_auth/credentialevent/", "14-audit-log")
    assert page.locator("#result_list tbody tr").count() >= 4
    page.goto(tour.url("/admin/iiniit_auth/"))
    page.wait_for_selector("#iiniit-auth-overview .iiniit-figure__count")
    tour.record("15-overview")
    keys_section = page.locator(".iiniit-overview-section").first
    counts = keys_section.locator(".iiniit-figure__count").all_inner_texts()
    assert counts == ["0", "0", "0", "1"]  # active, expiring, unused, revoked lately

    for _name, url, html in tour.since(after_first):
        assert first not in html, url
    for _name, url, html in tour.since(after_second):
        assert second not in html, url
    for secret in (first, second):
        assert not LogEntry.objects.filter(change_message__contains=secret).exists()
        assert not LogEntry.objects.filter(object_repr__contains=secret).exists()
        for event in CredentialEvent.objects.all():
            assert secret not in str(event.details)


def test_back_after_show_once_shows_no_key(tour, admin_user, service_user):
    page = tour.page
    tour.log_in("alice")
    tour.goto("/admin/iiniit_auth/apikey/add/")
    page.fill("#id_name", "Back button")
    tour.pick("owner", "billing-bot")
    with page.expect_navigation():
        page.click("input[name=_issue]")
    plaintext = shown_key(page)
    mark = tour.mark()
    page.click("a.iiniit-done")
    tour.record()
    # The show-once page was the answer to a POST and sent no-store: Chromium keeps no copy
    # to go back to, and says so rather than showing the key.
    with pytest.raises(PlaywrightError, match="ERR_CACHE_MISS"):
        page.go_back()
    tour.record("16-after-back")
    # Reloading from there sends the form again: refused, and the key's page shows no key.
    page.reload()
    tour.record("17-after-back-and-reload")
    assert "/change/" in page.url
    for _name, url, html in tour.since(mark):
        assert plaintext not in html, url
    assert APIKey.objects.count() == 1


def test_staff_without_revoke_permission(tour, helpdesk, service_user):
    key, _plaintext = APIKey.objects.issue(owner=service_user, name="Nightly", scopes=[])
    page = tour.page
    tour.log_in("helpdesk")
    tour.goto(f"/admin/iiniit_auth/apikey/{key.pk}/change/", "18-change-page-no-revoke")
    assert page.locator("a.iiniit-tool-rotate").is_visible()
    assert page.locator("a.iiniit-tool-revoke").count() == 0
    response = tour.goto(f"/admin/iiniit_auth/apikey/{key.pk}/revoke/", "19-revoke-refused")
    assert response.status == 403
    key.refresh_from_db()
    assert key.revoked_at is None
