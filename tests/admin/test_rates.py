"""Rate limits in admin: set at issue, shown and changed on a key's and an application's page,
every change audited."""

import pytest
from oauth2_provider.models import get_application_model

from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.oauth.applications import register_application
from iiniit_auth.oauth.models import ApplicationPolicy
from tests.admin.conftest import change_url

Application = get_application_model()


def rate_url(key):
    return f"/admin/iiniit_auth/apikey/{key.pk}/rate/"


def app_url(app):
    return f"/admin/oauth2_provider/application/{app.pk}/change/"


def test_a_key_is_issued_with_a_rate(admin_client, issue_form):
    response = issue_form(admin_client, rate="100/minutes")
    assert response.status_code == 200
    assert APIKey.objects.get().rate == "100/min"


def test_a_bad_rate_is_refused_on_the_issue_form(admin_client, issue_form):
    response = issue_form(admin_client, rate="100 per minute")
    assert "rate" in response.context["form"].errors
    assert "slash" in str(response.context["form"].errors["rate"])
    assert not APIKey.objects.exists()


def test_the_key_page_shows_the_rate_and_a_link_to_change_it(admin_client, issue):
    key, _ = issue(rate="5/s")
    page = admin_client.get(change_url(key)).content.decode()
    assert "<code>5/s</code>" in page
    assert rate_url(key) in page


def test_the_rate_is_changed_and_audited(admin_client, admin_user, issue):
    key, _ = issue()
    assert admin_client.get(rate_url(key)).status_code == 200
    response = admin_client.post(rate_url(key), {"rate": "1000/hour"})
    assert response.status_code == 302
    assert response["Location"] == change_url(key)
    key.refresh_from_db()
    assert key.rate == "1000/hour"
    event = CredentialEvent.objects.get(event=CredentialEvent.Event.CHANGED)
    assert event.credential_id == key.public_id
    assert event.actor == admin_user
    assert event.details == {"rate": {"before": "", "after": "1000/hour"}}


def test_a_bad_rate_is_refused_and_nothing_changes(admin_client, issue):
    key, _ = issue(rate="10/min")
    response = admin_client.post(rate_url(key), {"rate": "often"})
    assert response.status_code == 200
    assert response.context["form"].errors["rate"]
    key.refresh_from_db()
    assert key.rate == "10/min"
    assert not CredentialEvent.objects.filter(event=CredentialEvent.Event.CHANGED).exists()


def test_changing_a_rate_needs_the_change_permission(staff_client, issue):
    key, _ = issue()
    viewer = staff_client("view_apikey")
    assert rate_url(key) not in viewer.get(change_url(key)).content.decode()
    assert viewer.post(rate_url(key), {"rate": "1/s"}).status_code == 403
    key.refresh_from_db()
    assert key.rate == ""
    editor = staff_client("view_apikey", "change_apikey")
    assert editor.post(rate_url(key), {"rate": "1/s"}).status_code == 302
    key.refresh_from_db()
    assert key.rate == "1/s"


@pytest.fixture
def app(user):
    application, _secret = register_application(
        name="Billing",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        user=user,
        allowed_scopes=["orders:read"],
    )
    return application


def test_an_application_rate_is_changed_on_its_page_and_audited(admin_client, app):
    page = admin_client.get(app_url(app))
    assert page.context["adminform"].form["rate"].value() == ""
    form = {"name": "Billing", "allowed_scopes": ["orders:read"], "rate": "50/s"}
    assert admin_client.post(app_url(app), form).status_code == 302
    assert ApplicationPolicy.objects.rate(app) == "50/s"
    event = CredentialEvent.objects.get(event=CredentialEvent.Event.CHANGED)
    assert event.details == {"rate": {"before": "", "after": "50/s"}}
    assert admin_client.get(app_url(app)).context["adminform"].form["rate"].value() == "50/s"


def test_a_bad_application_rate_is_refused(admin_client, app):
    form = {"name": "Billing", "allowed_scopes": ["orders:read"], "rate": "50"}
    response = admin_client.post(app_url(app), form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rate"]
    assert ApplicationPolicy.objects.rate(app) == ""
