"""The OAuth admin: applications (secret shown once, scopes, rotate, revoke all) and tokens."""

import re
import secrets
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)

from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.applications import register_application
from iiniit_auth.oauth.models import ApplicationPolicy
from tests.admin.conftest import OVERVIEW_URL

Application = get_application_model()
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
APPS = "/admin/oauth2_provider/application/"
ADD = f"{APPS}add/"
TOKENS = "/admin/oauth2_provider/accesstoken/"
REFRESH = "/admin/oauth2_provider/refreshtoken/"
SECRET = re.compile(r'id="iiniit-plaintext"[^>]*>([^<]+)<')
VIEW_APP = "oauth2_provider.view_application"
#: Shaped like a key of some other prefix: the audit log refuses it as it refuses ours.
KEY_SHAPED = "abc_" + "a1" * 22


def change(app):
    return f"{APPS}{app.pk}/change/"


def rotate(app):
    return f"{APPS}{app.pk}/rotate-secret/"


def revoke_all(app):
    return f"{APPS}{app.pk}/revoke-tokens/"


def shown_secret(response):
    match = SECRET.search(response.content.decode())
    assert match, "no secret on this page"
    return match.group(1)


@pytest.fixture
def staff(db, django_user_model):
    """staff(*"app_label.codename") -> a logged-in client of a staff user with those perms."""
    made = []

    def make(*perms):
        user = django_user_model.objects.create_user(
            f"ostaff{len(made)}", f"ostaff{len(made)}@example.com", "pw", is_staff=True
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        client = Client()
        client.force_login(user)
        client.user = user
        made.append(user)
        return client

    return make


@pytest.fixture
def registered(user):
    """A confidential client-credentials application allowed orders:read, and its secret."""
    return register_application(
        name="Billing service",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        user=user,
        allowed_scopes=["orders:read"],
    )


def tokens_of(app, user, live=2, expired=1):
    """Access tokens (with a refresh token each) of ``app``: ``live`` active, ``expired`` not."""
    now = timezone.now()
    made = []
    for n in range(live + expired):
        expires = now + timedelta(hours=1) if n < live else now - timedelta(hours=1)
        access = AccessToken.objects.create(
            user=user,
            application=app,
            token=f"access-{secrets.token_hex(8)}",
            scope="orders:read",
            expires=expires,
        )
        RefreshToken.objects.create(
            user=user, application=app, token=f"refresh-{secrets.token_hex(8)}", access_token=access
        )
        made.append(access)
    return made


def register_form(client, user, /, **fields):
    page = client.get(ADD)
    data = {
        "once": page.context["form"]["once"].value(),
        "name": "Billing service",
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        "redirect_uris": "",
        "user": user.pk,
        "allowed_scopes": ["orders:read"],
    }
    data.update(fields)
    response = client.post(ADD, data)
    response.posted = data
    return response


def assert_secret_kept(secret):
    """``secret`` is in no admin log entry and no audit event."""
    for entry in LogEntry.objects.all():
        assert secret not in f"{entry.change_message} {entry.object_repr}"
    for event in CredentialEvent.objects.all():
        assert secret not in f"{event.details} {event.credential_id}"


# -- applications: register ---------------------------------------------------------------


def test_the_add_form_offers_scopes_with_descriptions_and_two_grants(admin_client):
    html = admin_client.get(ADD).content.decode()
    assert "<code>orders:read</code> Read orders" in html
    grants = {
        value
        for value, _label in admin_client.get(ADD)
        .context["form"]
        .fields["authorization_grant_type"]
        .choices
    }
    assert grants == {Application.GRANT_AUTHORIZATION_CODE, Application.GRANT_CLIENT_CREDENTIALS}


def test_registering_shows_the_secret_once_and_stores_only_its_hash(admin_client, user):
    response = register_form(admin_client, user)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    app = Application.objects.get()
    assert app.client_id in response.content.decode()
    assert app.client_secret != secret
    assert check_password(secret, app.client_secret)
    assert ApplicationPolicy.objects.allowed_scopes(app) == {"orders:read"}
    events = set(CredentialEvent.objects.values_list("event", flat=True))
    assert {CredentialEvent.Event.CREATED, CredentialEvent.Event.SCOPES_CHANGED} <= events
    assert LogEntry.objects.get().object_id == str(app.pk)
    assert secret not in admin_client.get(change(app)).content.decode()
    assert secret not in admin_client.get(APPS).content.decode()
    assert_secret_kept(secret)


def test_sending_the_add_form_again_makes_nothing_and_shows_no_secret(admin_client, user):
    first = register_form(admin_client, user)
    secret = shown_secret(first)
    again = admin_client.post(ADD, first.posted)
    assert again.status_code == 302
    assert again["Location"] == change(Application.objects.get())
    assert Application.objects.count() == 1
    assert secret not in admin_client.get(again["Location"]).content.decode()


def test_a_form_from_another_session_is_asked_again(admin_client, user):
    response = register_form(admin_client, user, once="forged")
    assert response.status_code == 200
    assert "This form has expired" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"authorization_grant_type": "authorization-code"}, "redirect_uris"),
        (
            {
                "authorization_grant_type": "authorization-code",
                "redirect_uris": "http://client.example.com/callback",
            },
            "redirect_uris",
        ),
        ({"authorization_grant_type": "password"}, "authorization_grant_type"),
        ({"name": ""}, "name"),
    ],
)
def test_registration_errors_land_on_their_fields(admin_client, user, fields, field):
    response = register_form(admin_client, user, **fields)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Application.objects.exists()


@pytest.mark.parametrize("value", ["abc", "1.5", "99999999999999999999999", "\x00", KEY_SHAPED])
def test_a_user_that_is_no_user_id_is_a_form_error(admin_client, user, value):
    response = register_form(admin_client, user, user=value)
    assert response.status_code == 200  # was 500: the user's autocomplete looked the value up
    assert "user" in response.context["form"].errors
    assert KEY_SHAPED not in response.content.decode()
    assert not Application.objects.exists()


def test_a_key_shaped_name_is_a_form_error(admin_client, user):
    response = register_form(admin_client, user, name=f"copy of {KEY_SHAPED}")
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["A name must not contain a key."]
    assert not Application.objects.exists()
    assert not CredentialEvent.objects.exists()


def test_registering_needs_the_add_permission(staff, user):
    assert staff(VIEW_APP).get(ADD).status_code == 403


# -- applications: list and change page ---------------------------------------------------


def test_the_list_costs_the_same_queries_for_2_and_for_12_applications(admin_client, user):
    def add(count, start):
        for n in range(start, start + count):
            app, _secret = register_application(
                name=f"app {n}",
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                user=user,
                allowed_scopes=["orders:read"] if n % 2 else [],
            )
            tokens_of(app, user, live=1, expired=1)

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(APPS).status_code == 200
        return len(queries)

    add(2, 0)
    two = cost()
    add(10, 2)
    assert cost() == two
    rows = admin_client.get(APPS).context["cl"].result_list
    assert {row.live_tokens for row in rows} == {1}


def test_the_scopes_filter(admin_client, registered, user):
    register_application(
        name="bare",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        user=user,
    )
    assert admin_client.get(f"{APPS}?scopes=granted").context["cl"].result_count == 1
    assert admin_client.get(f"{APPS}?scopes=none").context["cl"].result_count == 1


def test_allowed_scopes_change_through_the_policy_and_are_audited(admin_client, registered):
    app, secret = registered
    page = admin_client.get(change(app))
    assert page.context["adminform"].form["allowed_scopes"].value() == ["orders:read"]
    response = admin_client.post(
        change(app),
        {"name": "Billing", "redirect_uris": "", "allowed_scopes": ["orders:read", "reports:read"]},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    app.refresh_from_db()
    assert app.name == "Billing"
    assert ApplicationPolicy.objects.allowed_scopes(app) == {"orders:read", "reports:read"}
    event = (
        CredentialEvent.objects.filter(event=CredentialEvent.Event.SCOPES_CHANGED)
        .order_by("pk")
        .last()
    )
    assert event.details["after"] == ["orders:read", "reports:read"]
    assert event.actor_name == "admin"
    assert_secret_kept(secret)


def test_a_changed_name_or_redirect_uri_is_audited_and_an_unchanged_one_is_not(admin_client, user):
    # A redirect URI decides where codes go: changing it left only Django's admin history.
    app, _secret = register_application(
        name="Billing service",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://billing.example.com/old",
        user=user,
        allowed_scopes=["orders:read"],
    )
    old = "https://billing.example.com/old"
    form = {"name": "Billing service", "redirect_uris": old, "allowed_scopes": ["orders:read"]}
    assert admin_client.post(change(app), form).status_code == 302
    assert not CredentialEvent.objects.filter(event="changed").exists()

    changed = {**form, "name": "Billing", "redirect_uris": "https://billing.example.com/cb"}
    assert admin_client.post(change(app), changed).status_code == 302

    event = CredentialEvent.objects.get(event="changed")
    assert event.credential_id == app.client_id
    assert event.details == {
        "name": {"before": "Billing service", "after": "Billing"},
        "redirect_uris": {"before": old, "after": "https://billing.example.com/cb"},
    }
    assert event.actor_name == "admin"


def test_a_redirect_uri_over_plain_http_is_refused_on_the_change_page(admin_client, user):
    app, _secret = register_application(
        name="web",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://client.example.com/cb",
        user=user,
    )
    response = admin_client.post(
        change(app), {"name": "web", "redirect_uris": "http://client.example.com/cb"}
    )
    assert response.status_code == 200
    assert "redirect_uris" in response.context["adminform"].form.errors
    app.refresh_from_db()
    assert app.redirect_uris == "https://client.example.com/cb"


def test_a_key_shaped_name_is_refused_on_the_change_page(admin_client, registered):
    app, _secret = registered
    data = {"name": f"copy of {KEY_SHAPED}", "redirect_uris": "", "allowed_scopes": ["orders:read"]}
    response = admin_client.post(change(app), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == ["A name must not contain a key."]
    app.refresh_from_db()
    assert app.name == "Billing service"


def test_without_the_policy_permission_scopes_are_read_only(staff, registered):
    app, _secret = registered
    client = staff(VIEW_APP, "oauth2_provider.change_application")
    page = client.get(change(app))
    assert "allowed_scopes" not in page.context["adminform"].form.fields
    assert '<code class="iiniit-scope">orders:read</code>' in page.content.decode()
    client.post(change(app), {"name": "x", "redirect_uris": "", "allowed_scopes": ["reports:read"]})
    assert ApplicationPolicy.objects.allowed_scopes(app) == {"orders:read"}


def test_facts_are_read_only_and_nothing_is_deleted(admin_client, registered):
    app, _secret = registered
    response = admin_client.post(
        change(app),
        {
            "name": app.name,
            "redirect_uris": "",
            "allowed_scopes": ["orders:read"],
            "client_type": "public",
            "client_id": "mine",
        },
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.client_type == "confidential"
    assert app.client_id != "mine"
    assert admin_client.get(f"{APPS}{app.pk}/delete/").status_code == 403


# -- applications: rotate the secret, revoke all tokens -----------------------------------


def test_without_the_permissions_no_buttons_and_403(staff, registered):
    app, _secret = registered
    client = staff(VIEW_APP)
    html = client.get(change(app)).content.decode()
    assert "rotate-secret/" not in html
    assert "revoke-tokens/" not in html
    assert client.get(rotate(app)).status_code == 403
    assert client.post(rotate(app)).status_code == 403
    assert client.get(revoke_all(app)).status_code == 403
    assert client.post(revoke_all(app)).status_code == 403


def test_rotating_shows_the_new_secret_once(staff, registered):
    app, old = registered
    client = staff(
        VIEW_APP, "iiniit_oauth.rotate_client_secret", "iiniit_oauth.register_for_others"
    )
    html = client.get(change(app)).content.decode()
    assert rotate(app) in html
    assert "revoke-tokens/" not in html
    form = client.get(rotate(app))
    data = {"once": form.context["form"]["once"].value()}
    response = client.post(rotate(app), data)
    assert "no-store" in response["Cache-Control"]
    new = shown_secret(response)
    app.refresh_from_db()
    assert check_password(new, app.client_secret)
    assert not check_password(old, app.client_secret)
    assert CredentialEvent.objects.filter(event=CredentialEvent.Event.SECRET_ROTATED).count() == 1
    again = client.post(rotate(app), data)
    assert again.status_code == 302
    assert new not in client.get(again["Location"]).content.decode()
    assert CredentialEvent.objects.filter(event=CredentialEvent.Event.SECRET_ROTATED).count() == 1
    assert LogEntry.objects.filter(object_id=str(app.pk)).count() == 1
    assert_secret_kept(new)


def test_a_rotate_form_from_another_session_rotates_nothing(admin_client, registered):
    app, old = registered
    response = admin_client.post(rotate(app), {"once": "forged"})
    assert response.status_code == 200
    app.refresh_from_db()
    assert check_password(old, app.client_secret)


def test_revoking_all_tokens(staff, registered, user):
    app, _secret = registered
    tokens_of(app, user, live=2, expired=0)
    client = staff(VIEW_APP, "iiniit_oauth.revoke_application_tokens")
    assert revoke_all(app) in client.get(change(app)).content.decode()
    assert client.get(revoke_all(app)).status_code == 200
    assert AccessToken.objects.count() == 2  # a GET only asks
    response = client.post(revoke_all(app))
    assert response["Location"] == change(app)
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    revoked = CredentialEvent.objects.filter(
        kind=CredentialEvent.Kind.OAUTH_TOKEN, event=CredentialEvent.Event.REVOKED
    )
    assert {event.details["via"] for event in revoked} == {"admin"}
    assert "Revoked 4 tokens" in LogEntry.objects.get(object_id=str(app.pk)).change_message


def test_an_unknown_application_is_404(admin_client):
    assert admin_client.get(f"{APPS}999999/rotate-secret/").status_code == 404
    assert admin_client.get(f"{APPS}999999/revoke-tokens/").status_code == 404


# -- tokens -------------------------------------------------------------------------------


def test_the_token_lists_never_show_token_values(admin_client, registered, user):
    app, _secret = registered
    made = tokens_of(app, user)
    for url in (TOKENS, REFRESH, f"{TOKENS}{made[0].pk}/change/"):
        html = admin_client.get(url).content.decode()
        assert "access-" not in html
        assert "refresh-" not in html
        assert made[0].token_checksum not in html
    assert admin_client.get(f"{TOKENS}add/").status_code == 403
    assert admin_client.get(f"{TOKENS}{made[0].pk}/delete/").status_code == 403


def test_the_status_filters(admin_client, registered, user):
    app, _secret = registered
    made = tokens_of(app, user, live=2, expired=1)
    assert admin_client.get(f"{TOKENS}?status=active").context["cl"].result_count == 2
    assert admin_client.get(f"{TOKENS}?status=expired").context["cl"].result_count == 1
    RefreshToken.objects.get(access_token=made[0]).revoke()
    assert admin_client.get(f"{REFRESH}?status=revoked").context["cl"].result_count == 1
    assert admin_client.get(f"{REFRESH}?status=active").context["cl"].result_count == 2
    html = admin_client.get(REFRESH).content.decode()
    assert "iiniit-badge--revoked" in html
    assert "iiniit-badge--active" in html


def test_the_token_list_costs_the_same_queries_for_3_and_for_30_tokens(
    admin_client, registered, user
):
    app, _secret = registered

    def cost(url):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    tokens_of(app, user, live=2, expired=1)
    few = cost(TOKENS), cost(REFRESH)
    tokens_of(app, user, live=20, expired=7)
    assert (cost(TOKENS), cost(REFRESH)) == few


def test_the_revoke_action_goes_through_revoke_token(staff, registered, user):
    app, _secret = registered
    made = tokens_of(app, user, live=2, expired=0)
    viewer = staff("oauth2_provider.view_accesstoken")
    assert "revoke_selected" not in viewer.get(TOKENS).content.decode()
    client = staff("oauth2_provider.view_accesstoken", "oauth2_provider.delete_accesstoken")
    response = client.post(TOKENS, {"action": "revoke_selected", "_selected_action": [made[0].pk]})
    assert response.status_code == 302
    assert list(AccessToken.objects.all()) == [made[1]]
    event = CredentialEvent.objects.get(credential_id=str(made[0].pk))
    assert event.details["via"] == "admin"
    assert event.actor_name == client.user.username
    assert RefreshToken.objects.filter(revoked__isnull=False).count() == 1


def test_the_revoke_action_refuses_a_selection_naming_no_possible_token(
    admin_client, registered, user
):
    app, _secret = registered
    made = tokens_of(app, user, live=1, expired=0)
    response = admin_client.post(
        TOKENS, {"action": "revoke_selected", "_selected_action": [made[0].pk, "abc"]}
    )
    assert response.status_code == 302
    assert list(AccessToken.objects.all()) == made
    assert not CredentialEvent.objects.filter(event=CredentialEvent.Event.REVOKED).exists()


def test_searching_tokens_by_application_and_user(admin_client, registered, user, other_user):
    app, _secret = registered
    tokens_of(app, user, live=1, expired=0)
    tokens_of(app, other_user, live=1, expired=0)
    found = admin_client.get(f"{TOKENS}?q={other_user.username}").context["cl"].result_count
    assert found == 1
    assert admin_client.get(f"{TOKENS}?q=Billing").context["cl"].result_count == 2


def _token_values(app, user):
    """An access token and its refresh token, and their values (stored only as checksums)."""
    access_value, refresh_value = secrets.token_urlsafe(30), secrets.token_urlsafe(30)
    access = AccessToken.objects.create(
        user=user,
        application=app,
        token=access_value,
        scope="orders:read",
        expires=timezone.now() + timedelta(hours=1),
    )
    RefreshToken.objects.create(
        user=user, application=app, token=refresh_value, access_token=access
    )
    return access_value, refresh_value


@pytest.mark.parametrize("url", [APPS, TOKENS, REFRESH])
def test_a_token_pasted_into_the_search_is_left_out(admin_client, registered, user, url):
    app, _secret = registered
    pasted = _token_values(app, user)
    for value in pasted:
        response = admin_client.get(url, {"q": f"Billing {value}", "o": "1"})
        assert response.status_code == 302
        assert value not in response["Location"]
        assert response["Location"] == f"{url}?q=Billing&o=1"
        page = admin_client.get(response["Location"])
        assert page.context["cl"].result_count == 1
        assert value not in page.content.decode()
    assert admin_client.get(url, {"q": "Billing"}).status_code == 200


@pytest.mark.parametrize("url", [APPS, TOKENS, REFRESH])
def test_an_api_key_pasted_into_the_search_is_cut_to_its_public_id(admin_client, issue, url):
    key, plaintext = issue()
    response = admin_client.get(url, {"q": plaintext})
    assert response.status_code == 302
    assert plaintext not in response["Location"]
    assert key.public_id in response["Location"]
    assert plaintext not in admin_client.get(response["Location"]).content.decode()


# -- overview -----------------------------------------------------------------------------


def test_the_overview_counts_oauth_applications_and_tokens(admin_client, registered, user):
    app, _secret = registered
    register_application(
        name="bare",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        user=user,
    )
    tokens_of(app, user, live=2, expired=1)
    sections = {s.title: s for s in admin_client.get(OVERVIEW_URL).context["sections"]}
    figures = [
        *sections["OAuth applications"].figures,
        *sections["OAuth access tokens"].figures,
    ]
    assert [f.count for f in figures] == [1, 1, 2]
    for figure in figures:
        assert admin_client.get(figure.url).context["cl"].result_count == figure.count


def test_the_oauth_sections_show_only_to_who_may_see_them(staff, registered):
    sections = staff(VIEW_APP).get(OVERVIEW_URL).context["sections"]
    assert [s.title for s in sections] == ["OAuth applications"]


def test_authorization_codes_are_listed_read_only_and_never_shown(admin_client, registered, user):
    # django-oauth-toolkit's own admin let staff move a pending code to another user (who
    # would then be the one it logs in) or delete codes, with no audit event.
    app, _secret = registered
    code = secrets.token_urlsafe(30)
    grant = get_grant_model().objects.create(
        application=app,
        user=user,
        code=code,
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri="https://app.example.com/cb",
        scope="orders:read",
    )
    listed = admin_client.get("/admin/oauth2_provider/grant/")
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1
    assert code not in listed.content.decode()
    change = f"/admin/oauth2_provider/grant/{grant.pk}/change/"
    shown = admin_client.get(change)
    assert shown.status_code == 200  # the view screen
    assert code not in shown.content.decode()

    answer = admin_client.post(change, {"user": admin_client.session["_auth_user_id"]})
    assert answer.status_code == 403
    assert admin_client.post(f"/admin/oauth2_provider/grant/{grant.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/oauth2_provider/grant/add/").status_code == 403
    grant.refresh_from_db()
    assert grant.user == user


def test_save_as_new_is_refused_on_an_application_and_on_a_key(admin_client, registered, issue):
    # Django's change view copies the object on _saveasnew even with save_as off: the copy of
    # an application skipped register_application, and a key's copy was a 500.
    app, _secret = registered
    key, _plaintext = issue()
    form = {"name": "Copy", "redirect_uris": "", "allowed_scopes": ["orders:read"]}

    answer = admin_client.post(change(app), {**form, "_saveasnew": "Save as new"})
    assert answer.status_code == 403
    assert Application.objects.count() == 1
    key_page = f"/admin/iiniit_auth/apikey/{key.pk}/change/"
    assert admin_client.post(key_page, {"_saveasnew": "Save as new"}).status_code == 403
    assert CredentialEvent.objects.filter(event="created").count() == 1


def test_a_client_credentials_application_has_no_redirect_uri_box(admin_client, registered):
    app, _secret = registered  # client credentials: no user is ever sent back anywhere
    response = admin_client.get(change(app))
    assert "redirect_uris" not in response.context["adminform"].form.fields
    assert 'name="redirect_uris"' not in response.content.decode()


def test_an_application_page_lists_its_audit_events(admin_client, registered):
    app, _secret = registered
    response = admin_client.get(change(app))
    assert [event.event for event, *_shown in response.context["events"]][-1] == "created"
    html = response.content.decode()
    assert 'id="iiniit-events"' in html
    assert f"/admin/iiniit_auth/credentialevent/?q={app.client_id}" in html


def test_the_grant_filter_offers_only_grants_that_can_be_registered(admin_client, registered):
    changelist = admin_client.get(APPS).context["cl"]
    (grants,) = [spec for spec in changelist.filter_specs if spec.title == "grant"]
    assert [value for value, _label in grants.lookup_choices] == [
        "authorization-code",
        "client-credentials",
    ]
