"""The audit log as people read it: credentials named and linked, details in words, and only
the kinds of credential the viewer may see."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client

from iiniit_auth.admin import events
from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import RevokedVia
from iiniit_auth.oauth.tokens import revoke_token
from tests.admin.conftest import AUDIT_URL

TOKENS = "/admin/oauth2_provider/accesstoken/"


@pytest.fixture
def mixed_log(issue, oauth_app, oauth_token, admin_user):
    """A key issued and rotated, an application's scopes changed, a token revoked."""
    key, _plaintext = issue(name="export")
    successor, _new = key.rotate(actor=admin_user)
    CredentialEvent.record(
        CredentialEvent.Kind.OAUTH_APPLICATION,
        oauth_app.client_id,
        CredentialEvent.Event.SCOPES_CHANGED,
        actor=admin_user,
        details={"before": [], "after": ["orders:read"]},
    )
    token, _value = oauth_token()
    revoke_token(token, actor=admin_user, ip="192.0.2.1", via=RevokedVia.ADMIN)
    live, _value = oauth_token()
    CredentialEvent.record(
        CredentialEvent.Kind.OAUTH_TOKEN,
        str(live.pk),
        CredentialEvent.Event.ISSUED,
        details={"application": oauth_app.client_id, "grant_type": "authorization_code"},
    )
    return key, successor, token, live


def viewer(django_user_model, *codenames):
    user = django_user_model.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


def test_each_credential_is_named_as_people_name_it(admin_client, mixed_log, oauth_app):
    key, _successor, token, live = mixed_log
    html = admin_client.get(AUDIT_URL).content.decode()
    # A key by its prefixed public id, linked to the key list searched for it.
    assert f'<a href="/admin/iiniit_auth/apikey/?q={key.public_id}"><code>{key.display_id}' in html
    # An application by its name, linked to its page.
    assert (
        f'<a href="/admin/oauth2_provider/application/{oauth_app.pk}/change/">Test app</a>' in html
    )
    # A token by its kind and number, of its application.
    assert f'<a href="{TOKENS}{live.pk}/change/">access token {live.pk}</a>' in html
    assert "of Test app" in html
    # A revoked token's row is gone: its name stays, with no link to a page that is not there.
    assert f"access token {token.pk}" in html
    assert f'href="{TOKENS}{token.pk}/change/"' not in html


def test_details_read_as_words(admin_client, mixed_log):
    _key, successor, *_tokens = mixed_log
    html = admin_client.get(AUDIT_URL).content.decode()
    assert f"Successor: {successor.display_id}" in html
    assert "Grace period: none" in html
    assert "Application: " in html
    assert "Before: none" in html
    assert "After: orders:read" in html
    assert "Through: admin" in html


def test_an_actor_is_named_and_code_is_the_system(admin_client, issue, admin_user):
    issue(name="from code")
    html = admin_client.get(AUDIT_URL).content.decode()
    assert ">system</span>" in html


def test_a_viewer_of_keys_only_sees_no_oauth_events(django_user_model, mixed_log):
    client = viewer(django_user_model, "view_apikey", "view_credentialevent")
    response = client.get(AUDIT_URL)
    kinds = {event.kind for event in response.context["cl"].result_list}
    assert kinds == {"api_key"}
    assert "OAuth" not in str(response.context["cl"].filter_specs[0].lookup_choices)
    # Nor by asking for them in the address.
    hidden = client.get(f"{AUDIT_URL}?kind=oauth_token").context["cl"].result_list
    assert list(hidden) == []


def test_a_viewer_of_applications_only_sees_their_events(django_user_model, mixed_log):
    client = viewer(django_user_model, "view_application", "view_credentialevent")
    kinds = {e.kind for e in client.get(AUDIT_URL).context["cl"].result_list}
    assert kinds == {"oauth_application"}


def test_the_audit_log_names_a_page_of_events_in_a_fixed_number_of_queries(
    admin_client, mixed_log, issue, django_assert_max_num_queries
):
    for n in range(20):
        issue(name=f"k{n}")
    with django_assert_max_num_queries(12):
        admin_client.get(AUDIT_URL)


def test_a_refused_issue_names_whom_it_was_for(db, rf, admin_user):
    event = CredentialEvent.record(
        "api_key", "", "denied", actor=admin_user, details={"owner": "root", "action": "issue"}
    )
    request = rf.get("/")
    request.user = admin_user
    assert "a new key for root" in events.Names([event], admin.site, request).credential(event)
