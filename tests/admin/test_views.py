"""Issue, show once, rotate, revoke and revoke several, through Django's test client."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.sessions.models import Session
from django.utils import timezone

from iiniit_auth import keys
from iiniit_auth.models import APIKey, CredentialEvent
from tests.admin.conftest import (
    ADD_URL,
    APP_URL,
    AUDIT_URL,
    LIST_URL,
    OVERVIEW_URL,
    age,
    change_url,
    revoke_url,
    rotate_url,
    shown_plaintext,
    token_of,
)


def ping(api, plaintext):
    return api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code


def assert_secret_nowhere(plaintext):
    """No admin log entry, audit event or session holds ``plaintext``."""
    for entry in LogEntry.objects.all():
        assert plaintext not in entry.change_message
        assert plaintext not in entry.object_repr
    for event in CredentialEvent.objects.all():
        assert plaintext not in json.dumps(event.details)
        assert plaintext not in event.credential_id
    for session in Session.objects.all():
        assert plaintext not in json.dumps(session.get_decoded())


# -- issue -----------------------------------------------------------------------------------


def test_issue_form_offers_scopes_with_descriptions_and_the_default_lifetime(admin_client):
    response = admin_client.get(ADD_URL)
    html = response.content.decode()
    assert response.status_code == 200
    for name, description in [("orders:read", "Read orders"), ("reports:read", "Read reports")]:
        assert f"<code>{name}</code> {description}" in html
    # tests/settings.py sets DEFAULT_KEY_LIFETIME to 90 days.
    form = response.context["form"]
    assert form["expires_in"].value() == "90d"
    assert "90 days (default)" in html
    assert "admin-autocomplete" in html  # the owner is picked by searching users


def test_issue_shows_the_key_once_with_copy_button_curl_line_and_warning(
    admin_client, issue_form, user, api
):
    response = issue_form(admin_client, scopes=["orders:read", "reports:read"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = shown_plaintext(response)
    key = APIKey.objects.get()
    assert keys.parse(plaintext, "iik") == key.public_id
    html = response.content.decode()
    assert key.display_id in html
    assert f"curl -H 'Authorization: ApiKey {plaintext}'" in html
    assert "http://testserver/api/ping/" in html
    assert 'data-iiniit-copy="iiniit-plaintext"' in html
    assert "It will not be shown again." in html
    assert ping(api, plaintext) == 200
    assert (key.name, key.owner, key.scope_list) == (
        "CI deploy",
        user,
        ["orders:read", "reports:read"],
    )
    assert abs(key.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)


def test_issue_writes_the_audit_event_and_the_admin_log(admin_client, issue_form, admin_user):
    response = issue_form(admin_client)
    plaintext = shown_plaintext(response)
    key = APIKey.objects.get()
    event = CredentialEvent.objects.get(credential_id=key.public_id)
    assert (event.event, event.actor, event.ip) == ("issued", admin_user, "127.0.0.1")
    assert key.created_by == admin_user
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user) == (ADDITION, str(key.pk), admin_user)
    assert_secret_nowhere(plaintext)


def test_sending_the_form_again_issues_no_second_key_and_shows_no_key(admin_client, issue_form):
    first = issue_form(admin_client)
    plaintext = shown_plaintext(first)
    key = APIKey.objects.get()
    # What a reload of the show-once page does: the same POST, with the same token.
    again = admin_client.post(ADD_URL, first.posted)
    assert again.status_code == 302
    assert again["Location"] == change_url(key)
    assert APIKey.objects.count() == 1
    page = admin_client.get(again["Location"])
    html = page.content.decode()
    assert "already submitted" in html
    assert plaintext not in html
    assert "iiniit-plaintext" not in html


def test_no_page_after_the_show_once_page_holds_the_key(admin_client, issue_form):
    plaintext = shown_plaintext(issue_form(admin_client))
    key = APIKey.objects.get()
    for url in [
        LIST_URL,
        f"{LIST_URL}?q={key.public_id}",
        change_url(key),
        f"/admin/iiniit_auth/apikey/{key.pk}/history/",
        rotate_url(key),
        revoke_url(key),
        AUDIT_URL,
        OVERVIEW_URL,
        APP_URL,
        "/admin/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert plaintext not in response.content.decode(), url
    assert_secret_nowhere(plaintext)


def test_a_form_from_another_session_is_refused_and_given_a_fresh_token(admin_client, user):
    data = {"once": "not-from-this-session", "name": "x", "owner": user.pk, "expires_in": "30d"}
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "This form has expired" in response.content.decode()
    assert not APIKey.objects.exists()
    fresh = token_of(response)
    assert fresh != data["once"]
    assert admin_client.post(ADD_URL, {**data, "once": fresh}).status_code == 200
    assert APIKey.objects.count() == 1


def test_never_and_a_date_set_the_expiry(admin_client, issue_form):
    issue_form(admin_client, name="forever", expires_in="never")
    assert APIKey.objects.get(name="forever").expires_at is None
    day = timezone.localdate() + timedelta(days=10)
    issue_form(admin_client, name="dated", expires_in="date", expires_on=day.isoformat())
    end = timezone.localtime(APIKey.objects.get(name="dated").expires_at)
    assert (end.date(), end.hour, end.minute) == (day + timedelta(days=1), 0, 0)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"expires_in": "date", "expires_on": ""}, "expires_on", "Give the date"),
        ({"expires_in": "date", "expires_on": "2001-01-01"}, "expires_on", "in the past"),
        ({"allowed_networks": "10.0.0.1/8"}, "allowed_networks", "not a network"),
        ({"scopes": ["admin:all"]}, "scopes", "Select a valid choice"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_form_errors_stop_before_anything_is_written(
    admin_client, issue_form, fields, field, message
):
    response = issue_form(admin_client, **fields)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not APIKey.objects.exists()
    assert not CredentialEvent.objects.exists()


def test_errors_of_issue_land_on_the_form_field(admin_client, issue_form, issue):
    _key, leaked = issue(name="other")
    # Only APIKey.objects.issue() knows a name must not hold a key: its error maps onto "name".
    response = issue_form(admin_client, name=f"copy of {leaked}")
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["A name must not contain a key."]
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize("owner", ["abc", "99999999999999999999999", "\x00", "paste"])
def test_an_owner_that_is_no_user_id_is_a_form_error(admin_client, issue_form, issue, owner):
    _key, leaked = issue(name="other")
    owner = leaked if owner == "paste" else owner
    response = issue_form(admin_client, owner=owner)
    assert response.status_code == 200  # was 500: the owner's autocomplete looked the value up
    assert "owner" in response.context["form"].errors
    assert leaked not in response.content.decode()
    assert APIKey.objects.count() == 1


def test_an_expiry_date_past_100_years_is_a_form_error(admin_client, issue_form):
    response = issue_form(admin_client, expires_in="date", expires_on="9999-12-31")
    assert response.status_code == 200  # was 500: OverflowError computing the end of the day
    assert "at most 100 years" in response.context["form"].errors["expires_on"][0]
    assert not APIKey.objects.exists()


def test_an_inactive_owner_cannot_be_chosen(admin_client, issue_form, user):
    user.is_active = False
    user.save()
    response = issue_form(admin_client)
    assert "owner" in response.context["form"].errors
    assert not APIKey.objects.exists()


def test_issuing_needs_the_add_permission(staff_client, issue_form, user):
    client = staff_client("view_apikey")
    refused = client.get(ADD_URL)
    assert refused.status_code == 403
    # Admin's own look, saying why, not a bare "403 Forbidden".
    assert "does not have the permission this page needs" in refused.content.decode()
    assert 'id="site-name"' in refused.content.decode()
    response = client.post(ADD_URL, {"name": "x", "owner": user.pk, "expires_in": "30d"})
    assert response.status_code == 403
    assert not APIKey.objects.exists()
    allowed = staff_client("add_apikey", "view_apikey")
    assert issue_form(allowed, owner=allowed.user.pk).status_code == 200
    assert APIKey.objects.get().created_by == allowed.user


# -- rotate ----------------------------------------------------------------------------------


def rotate(client, key, grace="0"):
    form = client.get(rotate_url(key))
    data = {"once": token_of(form), "grace": grace}
    response = client.post(rotate_url(key), data)
    response.posted = data
    return response


def test_rotate_shows_the_successor_once_and_retires_the_old_key(
    admin_client, issue, api, admin_user
):
    key, old = issue()
    response = rotate(admin_client, key)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = shown_plaintext(response)
    successor = APIKey.objects.get(predecessor=key)
    assert keys.parse(new, "iik") == successor.public_id
    assert "The old key no longer works." in response.content.decode()
    assert (ping(api, old), ping(api, new)) == (401, 200)
    flags = sorted(LogEntry.objects.values_list("object_id", "action_flag"))
    assert flags == sorted([(str(key.pk), CHANGE), (str(successor.pk), ADDITION)])
    rotated = CredentialEvent.objects.get(event="rotated")
    assert (rotated.credential_id, rotated.actor) == (key.public_id, admin_user)
    assert_secret_nowhere(new)


def test_sending_the_rotate_form_again_leads_to_the_successor_without_its_key(admin_client, issue):
    key, _old = issue()
    first = rotate(admin_client, key)
    new = shown_plaintext(first)
    again = admin_client.post(rotate_url(key), first.posted)
    successor = APIKey.objects.get(predecessor=key)
    assert again.status_code == 302
    assert again["Location"] == change_url(successor)
    assert new not in admin_client.get(again["Location"]).content.decode()
    assert APIKey.objects.count() == 2


def test_a_grace_period_keeps_the_old_key_working_until_it_ends(admin_client, issue, api):
    key, old = issue()
    response = rotate(admin_client, key, grace="24h")
    assert "keeps working until" in response.content.decode()
    key.refresh_from_db()
    assert abs(key.expires_at - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    assert ping(api, old) == 200
    assert ping(api, shown_plaintext(response)) == 200


def test_a_key_that_cannot_be_rotated_offers_no_rotation(admin_client, issue):
    key, _plaintext = issue()
    key.revoke()
    page = admin_client.get(change_url(key))
    assert not page.context["can_rotate"]
    assert rotate_url(key) not in page.content.decode()
    response = admin_client.get(rotate_url(key), follow=True)
    assert response.redirect_chain == [(change_url(key), 302)]
    assert "can be rotated" in response.content.decode()


def test_a_rotation_that_lost_a_race_is_a_form_error(admin_client, issue):
    key, _plaintext = issue()
    form = admin_client.get(rotate_url(key))
    key.rotate()  # someone else, meanwhile
    response = admin_client.post(rotate_url(key), {"once": token_of(form), "grace": "0"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Only an active key that was never rotated can be rotated."
    ]
    assert APIKey.objects.count() == 2


def test_rotating_needs_the_rotate_permission(staff_client, issue):
    key, _plaintext = issue()
    client = staff_client("view_apikey", "revoke_apikey")
    page = client.get(change_url(key))
    assert page.status_code == 200
    assert rotate_url(key) not in page.content.decode()
    assert client.get(rotate_url(key)).status_code == 403
    assert client.post(rotate_url(key), {"grace": "0"}).status_code == 403
    assert APIKey.objects.count() == 1
    allowed = staff_client("view_apikey", "rotate_apikey", "issue_for_others")
    assert rotate_url(key) in allowed.get(change_url(key)).content.decode()
    assert rotate(allowed, key).status_code == 200


# -- revoke ----------------------------------------------------------------------------------


def test_revoke_asks_for_a_reason_then_revokes(admin_client, issue, api, admin_user):
    key, plaintext = issue()
    page = admin_client.get(revoke_url(key))
    assert page.status_code == 200
    assert "Reason" in page.content.decode()
    response = admin_client.post(revoke_url(key), {"reason": "integration retired"}, follow=True)
    assert response.redirect_chain == [(change_url(key), 302)]
    html = response.content.decode()
    assert "was revoked" in html
    assert "This key is revoked" in html
    assert not response.context["can_revoke"]
    assert not response.context["can_rotate"]
    key.refresh_from_db()
    assert (key.revoke_reason, key.revoked_by) == ("integration retired", admin_user)
    assert ping(api, plaintext) == 401
    event = CredentialEvent.objects.get(event="revoked")
    assert event.details == {"reason": "integration retired"}
    assert LogEntry.objects.get().change_message == "Revoked: integration retired"


def test_revoking_needs_a_reason(admin_client, issue):
    key, _plaintext = issue()
    response = admin_client.post(revoke_url(key), {"reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_pasted_key_in_the_reason_reaches_no_log(admin_client, issue):
    key, _plaintext = issue()
    _other, leaked = issue(name="leaked one")
    admin_client.post(revoke_url(key), {"reason": f"replaced {leaked}"})
    key.refresh_from_db()
    assert key.revoke_reason == "replaced [redacted]"
    assert_secret_nowhere(leaked)


def test_revoking_a_revoked_key_is_a_page_error(admin_client, issue):
    key, _plaintext = issue()
    page = admin_client.get(revoke_url(key))
    assert page.status_code == 200
    key.revoke(reason="first")  # someone else, meanwhile
    response = admin_client.post(revoke_url(key), {"reason": "second"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["This key is already revoked."]
    assert CredentialEvent.objects.filter(event="revoked").count() == 1
    again = admin_client.get(revoke_url(key), follow=True)
    assert again.redirect_chain == [(change_url(key), 302)]


def test_revoking_needs_the_revoke_permission(staff_client, issue):
    key, _plaintext = issue()
    client = staff_client("view_apikey", "rotate_apikey")
    assert revoke_url(key) not in client.get(change_url(key)).content.decode()
    assert client.get(revoke_url(key)).status_code == 403
    assert client.post(revoke_url(key), {"reason": "no"}).status_code == 403
    # The permission alone is not enough: revoking a key means seeing it.
    blind = staff_client("revoke_apikey")
    assert blind.get(revoke_url(key)).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_rotated_key_in_its_grace_period_can_be_revoked(admin_client, issue, api):
    key, old = issue()
    key.rotate(grace=timedelta(hours=1))
    page = admin_client.get(change_url(key))
    assert page.context["can_revoke"]
    assert not page.context["can_rotate"]
    admin_client.post(revoke_url(key), {"reason": "end the grace now"})
    assert ping(api, old) == 401


def test_an_expired_key_offers_no_revocation(admin_client, issue):
    key, _plaintext = issue()
    age(key, expires_at=timedelta(seconds=1))
    assert not admin_client.get(change_url(key)).context["can_revoke"]
    response = admin_client.get(revoke_url(key), follow=True)
    assert response.redirect_chain == [(change_url(key), 302)]


# -- revoke several --------------------------------------------------------------------------


def bulk(client, selected, **extra):
    return client.post(
        LIST_URL,
        {"action": "revoke_selected", "_selected_action": [k.pk for k in selected], **extra},
    )


def test_bulk_revoke_confirms_with_a_reason_then_revokes_each_key(admin_client, issue, api):
    made = [issue(name=f"key {n}") for n in range(3)]
    done = made[2][0]
    done.revoke(reason="earlier")
    selected = [key for key, _plaintext in made]
    confirm = bulk(admin_client, selected)
    assert confirm.status_code == 200
    assert [k.pk for k in confirm.context["revocable"]] == sorted(
        (k.pk for k in selected[:2]), reverse=True
    )
    assert [k.pk for k in confirm.context["skipped"]] == [done.pk]
    assert not APIKey.objects.filter(revoke_reason="clean-up").exists()
    response = bulk(admin_client, selected, post="yes", reason="clean-up")
    assert response.status_code == 302
    shown = [str(m) for m in admin_client.get(LIST_URL).context["messages"]]
    assert shown == [
        "Revoked 2 API keys.",
        "1 key was skipped: already revoked or no longer valid.",
    ]
    assert [ping(api, plaintext) for _key, plaintext in made[:2]] == [401, 401]
    assert APIKey.objects.filter(revoke_reason="clean-up").count() == 2
    assert LogEntry.objects.filter(change_message="Revoked: clean-up").count() == 2


@pytest.mark.parametrize("bad", ["abc", "", "1.5", "99999999999999999999999"])
def test_a_selection_naming_no_possible_key_changes_nothing(admin_client, issue, bad):
    # Django filters by the posted ids as they came: each of these was a 500.
    key, _plaintext = issue()
    response = admin_client.post(
        LIST_URL,
        {
            "action": "revoke_selected",
            "_selected_action": [key.pk, bad],
            "post": "yes",
            "reason": "clean-up",
        },
    )
    assert response.status_code == 302
    assert [str(m) for m in admin_client.get(LIST_URL).context["messages"]] == [
        "The selection names an item that cannot exist. No items have been changed."
    ]
    key.refresh_from_db()
    assert key.revoked_at is None


def test_bulk_revoke_needs_a_reason(admin_client, issue):
    key, _plaintext = issue()
    response = bulk(admin_client, [key], post="yes", reason="")
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    key.refresh_from_db()
    assert key.revoked_at is None


def test_bulk_revoke_is_offered_only_with_the_revoke_permission(staff_client, issue):
    key, _plaintext = issue()
    viewer = staff_client("view_apikey")
    assert viewer.get(LIST_URL).context["action_form"] is None
    bulk(viewer, [key], post="yes", reason="no")
    key.refresh_from_db()
    assert key.revoked_at is None
    revoker = staff_client("view_apikey", "revoke_apikey")
    actions = dict(revoker.get(LIST_URL).context["action_form"].fields["action"].choices)
    assert "revoke_selected" in actions


def test_the_show_once_page_lists_the_keys_allowed_networks(admin_client, issue_form):
    response = issue_form(admin_client, allowed_networks="10.0.0.0/8\n2001:db8::/32")
    html = response.content.decode()
    networks = html[html.index('id="iiniit-networks"') :]
    assert "<code>10.0.0.0/8</code>, <code>2001:db8::/32</code>" in networks
    assert "A request from any other address is refused" in networks
    anywhere = issue_form(admin_client, name="anywhere").content.decode()
    assert "Any address" in anywhere[anywhere.index('id="iiniit-networks"') :]


def test_without_an_example_url_the_show_once_page_has_no_try_it_line(
    admin_client, issue_form, settings
):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "EXAMPLE_URL": None}
    html = issue_form(admin_client).content.decode()
    assert 'id="iiniit-plaintext"' in html
    assert 'id="iiniit-curl"' not in html
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "EXAMPLE_URL": "https://api.example.com/ping"}
    html = issue_form(admin_client, name="again").content.decode()
    assert "'https://api.example.com/ping'</pre>" in html
