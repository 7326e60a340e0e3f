"""The audit log's admin action: the selected or filtered events as CSV, for those allowed."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from iiniit_auth.models import CredentialEvent

AUDIT_URL = "/admin/iiniit_auth/credentialevent/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(issue):
    first, _plaintext = issue(name="first")
    first.revoke(reason="done")
    second, _plaintext = issue(name="second")
    return first, second


def client_with(django_user_model, *codenames):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="iiniit_auth", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def export(client, query="", **data):
    return client.post(f"{AUDIT_URL}{query}", {"action": "export_csv", **data})


def rows(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_selected_events_download_as_csv(admin_client, history):
    first, _second = history
    chosen = CredentialEvent.objects.filter(credential_id=first.public_id).order_by("id")

    response = export(admin_client, _selected_action=[event.pk for event in chosen])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    assert [(row["credential_id"], row["event"]) for row in rows(response)] == [
        (first.public_id, "issued"),
        (first.public_id, "revoked"),
    ]


def test_select_across_exports_the_filtered_list(admin_client, history):
    response = export(admin_client, "?event__exact=issued", select_across="1", _selected_action="0")

    assert sorted(row["event"] for row in rows(response)) == ["issued", "issued"]


def test_the_action_needs_the_export_permission(django_user_model, history):
    viewer = client_with(django_user_model, "view_credentialevent", "view_apikey")
    listing = viewer.get(AUDIT_URL)
    assert listing.status_code == 200
    assert listing.context["action_form"] is None

    response = export(viewer, _selected_action=[CredentialEvent.objects.first().pk])
    # Admin answers an action the user may not run with the list again, no download.
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert not response.streaming


def test_an_exporter_gets_only_the_kinds_they_may_view(django_user_model, history, oauth_app):
    exporter = client_with(
        django_user_model, "view_credentialevent", "export_credentialevent"
    )  # may view no credential model: no kind is visible
    choices = exporter.get(AUDIT_URL).context["action_form"].fields["action"].choices
    assert [name for name, _label in choices if name] == ["export_csv"]

    response = export(exporter, select_across="1", _selected_action="0")

    assert rows(response) == []


def test_a_prune_run_is_listed_in_admin(admin_client, db):
    from django.core.management import call_command

    call_command("audit", "prune", "--older-than", "400d", "--yes", stdout=io.StringIO())
    response = admin_client.get(f"{AUDIT_URL}?event__exact=pruned")
    listed = [(e.kind, e.credential_id) for e in response.context["cl"].result_list]
    assert listed == [("audit_log", "*")]
