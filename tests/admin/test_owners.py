"""No staff user obtains, through admin, a credential that acts with more than they hold.

The helpdesk case: a staff user with only ``view_apikey``, ``add_apikey`` and ``rotate_apikey``
posted the add form with a superuser's id as the owner, or rotated a superuser's key, and was
shown a plaintext key that the API then took for the superuser. The same for OAuth
applications: registering one in another user's name, rotating another user's secret.
"""

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from oauth2_provider.models import get_application_model

from iiniit_auth import once
from iiniit_auth.admin.owners import ownable_users, refusal
from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.oauth.applications import register_application
from tests.admin.conftest import ADD_URL, change_url, rotate_url, token_of

Application = get_application_model()
FOR_OTHERS = "iiniit_auth.issue_for_others"
REGISTER_FOR_OTHERS = "iiniit_oauth.register_for_others"
HELPDESK = ("iiniit_auth.view_apikey", "iiniit_auth.add_apikey", "iiniit_auth.rotate_apikey")
APPS = "/admin/oauth2_provider/application/"
KEY_OWNERS = "/admin/iiniit_auth/apikey/owner-autocomplete/"
APP_OWNERS = f"{APPS}owner-autocomplete/"
DENIED = CredentialEvent.Event.DENIED


def grant(user, *perms):
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


@pytest.fixture
def person(db, django_user_model):
    """person(name, *perms, staff=True, superuser=False) -> a saved user holding ``perms``."""

    def make(name, *perms, staff=True, superuser=False):
        user = django_user_model.objects.create_user(
            name, f"{name}@example.com", "pw", is_staff=staff, is_superuser=superuser
        )
        grant(user, *perms)
        return django_user_model.objects.get(pk=user.pk)  # no cached permissions

    return make


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def denied_events():
    return list(CredentialEvent.objects.filter(event=DENIED).order_by("id"))


def issue_for(client, owner, **fields):
    data = {
        "once": token_of(client.get(ADD_URL)),
        "name": "helpdesk key",
        "owner": owner.pk,
        "scopes": ["orders:read"],
        "expires_in": "30d",
        **fields,
    }
    return client.post(ADD_URL, data, REMOTE_ADDR="192.0.2.7")


def form_token(client, purpose):
    """A fresh one-time form token in ``client``'s session, as a page would have put there.

    The refused screens never show their form, so a crafted POST is made with a token of
    the session's own, the strongest position an attacker in that session could be in.
    """
    request = RequestFactory().get("/")
    request.session = SessionStore(session_key=client.session.session_key)
    token = once.new_token(request, purpose)
    request.session.save()
    return token


def rotate_properly(client, key):
    form = client.get(rotate_url(key))
    assert form.status_code == 200, form
    return client.post(rotate_url(key), {"once": token_of(form), "grace": "0"})


# -- the rule ---------------------------------------------------------------------------------


def test_anyone_may_act_for_themselves_and_for_others_only_with_the_permission(person):
    desk = person("desk", *HELPDESK)
    plain = person("plain", staff=False)
    assert refusal(desk, desk, FOR_OTHERS) is None
    assert "“Can issue and rotate API keys of other users”" in refusal(desk, plain, FOR_OTHERS)
    grant(desk, FOR_OTHERS)
    desk = type(desk).objects.get(pk=desk.pk)
    assert refusal(desk, plain, FOR_OTHERS) is None
    assert refusal(desk, None, FOR_OTHERS) is None  # an application of nobody


def test_only_a_superuser_acts_for_a_superuser(person):
    root = person("root", superuser=True)
    other_root = person("root2", superuser=True)
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    assert refusal(desk, root, FOR_OTHERS) == (
        "Only a superuser may make a credential for a superuser."
    )
    assert refusal(other_root, root, FOR_OTHERS) is None


def test_a_user_holding_a_permission_the_actor_lacks_is_refused(person):
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    auditor = person("auditor", "iiniit_auth.view_credentialevent")
    assert "auditor holds permissions you do not hold" in refusal(desk, auditor, FOR_OTHERS)
    peer = person("peer", "iiniit_auth.view_apikey")
    assert refusal(desk, peer, FOR_OTHERS) is None


def test_permissions_through_groups_count(person):
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    member = person("member", staff=False)
    group = Group.objects.create(name="auditors")
    group.permissions.add(Permission.objects.get(codename="view_credentialevent"))
    member.groups.add(group)
    member = type(member).objects.get(pk=member.pk)
    assert refusal(desk, member, FOR_OTHERS) is not None
    desk.groups.add(group)
    desk = type(desk).objects.get(pk=desk.pk)
    assert refusal(desk, member, FOR_OTHERS) is None


def test_a_staff_user_is_made_for_by_staff_only(person):
    outsider = person("outsider", FOR_OTHERS, staff=False)  # not in admin, but the rule holds
    desk = person("desk", staff=True)
    assert refusal(outsider, desk, FOR_OTHERS) == (
        "Only a staff user may make a credential for a staff user."
    )


def test_the_owner_search_offers_exactly_whom_the_rule_allows(person, django_user_model):
    root = person("root", superuser=True)
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    person("peer", "iiniit_auth.view_apikey")
    person("auditor", "iiniit_auth.view_credentialevent")
    person("plain", staff=False)
    gone = person("gone", staff=False)
    gone.is_active = False
    gone.save()
    lonely = person("lonely", *HELPDESK)
    everyone = list(django_user_model.objects.filter(is_active=True))
    for actor in (root, desk, lonely):
        offered = set(ownable_users(actor, FOR_OTHERS).values_list("username", flat=True))
        allowed = {u.username for u in everyone if refusal(actor, u, FOR_OTHERS) is None}
        assert offered == allowed, actor.username
    assert set(ownable_users(desk, FOR_OTHERS).values_list("username", flat=True)) == {
        "desk",
        "peer",
        "plain",
        "lonely",  # holds only what desk holds
    }
    assert list(ownable_users(lonely, FOR_OTHERS)) == [lonely]


# -- the owner search ---------------------------------------------------------------------


def test_the_owner_search_lists_only_users_the_staff_user_may_issue_for(person):
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    person("root", superuser=True)
    person("plainann", staff=False)
    answer = logged_in(desk).get(KEY_OWNERS, {"term": ""}).json()
    assert [r["text"] for r in answer["results"]] == ["desk", "plainann"]
    assert answer["pagination"] == {"more": False}
    found = logged_in(desk).get(KEY_OWNERS, {"term": "ANN"}).json()["results"]
    assert [r["text"] for r in found] == ["plainann"]
    assert logged_in(desk).get(KEY_OWNERS, {"term": "root"}).json()["results"] == []


def test_the_owner_search_pages(person):
    root = person("root", superuser=True)
    for n in range(25):
        person(f"user{n:02}", staff=False)
    first = logged_in(root).get(KEY_OWNERS).json()
    assert len(first["results"]) == 20
    assert first["pagination"] == {"more": True}
    second = logged_in(root).get(KEY_OWNERS, {"page": "2"}).json()
    assert len(second["results"]) == 6
    assert second["pagination"] == {"more": False}
    assert logged_in(root).get(KEY_OWNERS, {"page": "x"}).json() == first


def test_the_owner_search_needs_the_add_permission(person):
    viewer = person("viewer", "iiniit_auth.view_apikey")
    assert logged_in(viewer).get(KEY_OWNERS).status_code == 403
    assert logged_in(viewer).get(APP_OWNERS).status_code == 403


# -- issuing --------------------------------------------------------------------------------


def test_the_helpdesk_cannot_issue_a_key_for_a_superuser(person, api):
    root = person("root", superuser=True)
    desk = person("desk", *HELPDESK)
    client = logged_in(desk)
    response = issue_for(client, root)
    assert response.status_code == 200
    assert "iik_" not in response.content.decode()
    (error,) = response.context["form"].errors["owner"]
    assert "for yourself only" in error
    assert not APIKey.objects.exists()
    (event,) = denied_events()
    assert (event.kind, event.credential_id, event.actor, str(event.ip)) == (
        "api_key",
        "",
        desk,
        "192.0.2.7",
    )
    assert event.details["action"] == "issue"
    assert event.details["owner"] == "root"
    assert event.details["reason"] == error
    # Even with the permission to act for others, a superuser is out of reach.
    grant(desk, FOR_OTHERS)
    response = issue_for(client, root)
    assert response.context["form"].errors["owner"] == [
        "Only a superuser may make a credential for a superuser."
    ]
    assert not APIKey.objects.exists()
    assert len(denied_events()) == 2


def test_the_helpdesk_cannot_issue_a_key_for_staff_with_more_permissions(person):
    auditor = person("auditor", "iiniit_auth.view_credentialevent", "iiniit_auth.revoke_apikey")
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    response = issue_for(logged_in(desk), auditor)
    assert "auditor holds permissions you do not hold" in str(response.context["form"].errors)
    assert not APIKey.objects.exists()
    assert denied_events()[0].details["owner"] == "auditor"


def test_allowed_issuing_still_works(person):
    desk = person("desk", *HELPDESK)
    plain = person("plain", staff=False)
    client = logged_in(desk)
    assert issue_for(client, desk).status_code == 200
    assert APIKey.objects.get().owner == desk
    grant(desk, FOR_OTHERS)
    assert issue_for(client, plain).status_code == 200
    assert APIKey.objects.filter(owner=plain).count() == 1
    root = person("root", superuser=True)
    assert issue_for(logged_in(root), desk).status_code == 200
    assert APIKey.objects.filter(owner=desk).count() == 2
    assert denied_events() == []


def test_the_add_form_offers_a_limited_staff_user_themselves_only(person):
    desk = person("desk", *HELPDESK)
    person("plain", staff=False)
    html = logged_in(desk).get(ADD_URL).content.decode()
    assert f'<option value="{desk.pk}" selected>desk</option>' in html
    assert "plain" not in html
    assert "admin-autocomplete" not in html
    assert "acting for another user needs the permission" in html


# -- rotating -------------------------------------------------------------------------------


def test_the_helpdesk_cannot_rotate_a_superusers_key(person, issue):
    root = person("root", superuser=True)
    key, _plaintext = issue(owner=root)
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    client = logged_in(desk)
    page = client.get(change_url(key)).content.decode()
    assert rotate_url(key) not in page
    shown = client.get(rotate_url(key), follow=True)
    assert "Only a superuser may make a credential for a superuser." in shown.content.decode()
    token = form_token(client, f"rotate:{key.pk}")
    response = client.post(rotate_url(key), {"once": token, "grace": "0"}, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 200
    assert "iik_" not in response.content.decode().replace(key.display_id, "")
    assert response.context["form"].non_field_errors() == [
        "Only a superuser may make a credential for a superuser."
    ]
    assert APIKey.objects.count() == 1
    key.refresh_from_db()
    assert key.rotated_at is None
    (event,) = denied_events()
    assert (event.credential_id, event.details["action"], event.details["owner"]) == (
        key.public_id,
        "rotate",
        "root",
    )


def test_rotating_a_staff_users_key_needs_all_their_permissions(person, issue):
    auditor = person("auditor", "iiniit_auth.view_credentialevent")
    key, _plaintext = issue(owner=auditor)
    desk = person("desk", *HELPDESK, FOR_OTHERS)
    client = logged_in(desk)
    response = client.post(
        rotate_url(key), {"once": form_token(client, f"rotate:{key.pk}"), "grace": "0"}
    )
    assert "auditor holds permissions" in str(response.context["form"].non_field_errors())
    assert APIKey.objects.count() == 1
    grant(desk, "iiniit_auth.view_credentialevent")
    desk = type(desk).objects.get(pk=desk.pk)
    assert rotate_properly(logged_in(desk), key).status_code == 200
    assert APIKey.objects.count() == 2


def test_rotating_another_users_key_needs_the_permission(person, issue, user):
    key, _plaintext = issue(owner=user)
    desk = person("desk", *HELPDESK)
    client = logged_in(desk)
    assert rotate_url(key) not in client.get(change_url(key)).content.decode()
    response = client.post(
        rotate_url(key), {"once": form_token(client, f"rotate:{key.pk}"), "grace": "0"}
    )
    assert "for yourself only" in str(response.context["form"].non_field_errors())
    assert APIKey.objects.count() == 1
    own, _plaintext = issue(owner=desk)
    assert rotate_properly(client, own).status_code == 200
    assert APIKey.objects.filter(owner=desk).count() == 2


# -- OAuth applications -------------------------------------------------------------------


def application_of(owner):
    app, _secret = register_application(
        name="Billing",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        user=owner,
        allowed_scopes=["orders:read"],
    )
    return app


OAUTH_DESK = (
    "oauth2_provider.view_application",
    "oauth2_provider.add_application",
    "iiniit_oauth.rotate_client_secret",
)


def register_for(client, owner):
    page = client.get(f"{APPS}add/")
    data = {
        "once": token_of(page),
        "name": "Reports",
        "user": owner.pk,
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        "redirect_uris": "",
        "allowed_scopes": ["orders:read"],
    }
    return client.post(f"{APPS}add/", data)


def test_the_helpdesk_cannot_register_an_application_for_a_superuser(person):
    root = person("root", superuser=True)
    desk = person("desk", *OAUTH_DESK, REGISTER_FOR_OTHERS)
    response = register_for(logged_in(desk), root)
    assert response.context["form"].errors["user"] == [
        "Only a superuser may make a credential for a superuser."
    ]
    assert not Application.objects.exists()
    (event,) = denied_events()
    assert (event.kind, event.details["action"], event.details["owner"]) == (
        "oauth_application",
        "register",
        "root",
    )
    assert register_for(logged_in(desk), desk).status_code == 200
    assert Application.objects.get().user == desk


def test_registering_for_another_user_needs_the_permission(person):
    desk = person("desk", *OAUTH_DESK)
    plain = person("plain", staff=False)
    response = register_for(logged_in(desk), plain)
    assert "for yourself only" in str(response.context["form"].errors["user"])
    assert not Application.objects.exists()
    grant(desk, REGISTER_FOR_OTHERS)
    desk = type(desk).objects.get(pk=desk.pk)
    assert register_for(logged_in(desk), plain).status_code == 200
    assert Application.objects.get().user == plain


def test_the_helpdesk_cannot_rotate_a_superusers_client_secret(person):
    root = person("root", superuser=True)
    app = application_of(root)
    before = app.client_secret
    desk = person("desk", *OAUTH_DESK, REGISTER_FOR_OTHERS)
    client = logged_in(desk)
    rotate = f"{APPS}{app.pk}/rotate-secret/"
    assert rotate not in client.get(f"{APPS}{app.pk}/change/").content.decode()
    assert client.get(rotate).status_code == 302
    response = client.post(rotate, {"once": form_token(client, f"rotate-secret:{app.pk}")})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Only a superuser may make a credential for a superuser."
    ]
    app.refresh_from_db()
    assert app.client_secret == before
    (event,) = denied_events()
    assert (event.credential_id, event.details["action"]) == (app.client_id, "rotate_secret")


def test_rotating_a_secret_of_a_user_one_may_act_for_still_works(person):
    plain = person("plain", staff=False)
    app = application_of(plain)
    desk = person("desk", *OAUTH_DESK, REGISTER_FOR_OTHERS)
    client = logged_in(desk)
    rotate = f"{APPS}{app.pk}/rotate-secret/"
    form = client.get(rotate)
    response = client.post(rotate, {"once": form.context["form"]["once"].value()})
    secret = response.context["secret"]
    app.refresh_from_db()
    assert check_password(secret, app.client_secret)
