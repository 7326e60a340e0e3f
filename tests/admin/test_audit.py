"""The audit log in admin: read-only for everyone; filters and search by credential id."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from iiniit_auth.models import CredentialEvent
from tests.admin.conftest import AUDIT_URL


def shown(client, query=""):
    response = client.get(f"{AUDIT_URL}{query}")
    assert response.status_code == 200
    return sorted((e.credential_id, e.event) for e in response.context["cl"].result_list)


@pytest.fixture
def history(issue, admin_user):
    """Two keys: one issued by admin and revoked, one issued from the command line (no actor)."""
    first, _ = issue(name="first", created_by=admin_user)
    first.revoke(actor=admin_user, reason="done")
    second, _ = issue(name="second")
    return first, second


def test_the_log_lists_every_event_with_its_details(admin_client, history):
    first, second = history
    assert shown(admin_client) == sorted(
        [(first.public_id, "issued"), (first.public_id, "revoked"), (second.public_id, "issued")]
    )
    html = admin_client.get(AUDIT_URL).content.decode()
    assert first.display_id in html
    assert "Reason: done" in html
    assert f"/admin/iiniit_auth/apikey/?q={first.public_id}" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?event__exact=revoked", lambda first, second: [(first.public_id, "revoked")]),
        ("?kind__exact=oauth_token", lambda first, second: []),
        ("?actor__isnull=True", lambda first, second: [(second.public_id, "issued")]),
    ],
)
def test_filters_by_kind_event_and_actor(admin_client, history, query, expected):
    assert shown(admin_client, query) == expected(*history)


def test_filter_by_actor(admin_client, history, admin_user):
    first, _second = history
    assert shown(admin_client, f"?actor__id__exact={admin_user.pk}") == sorted(
        [(first.public_id, "issued"), (first.public_id, "revoked")]
    )


def test_filter_by_date(admin_client, history):
    changelist = admin_client.get(AUDIT_URL).context["cl"]
    (dates,) = [spec for spec in changelist.filter_specs if spec.title == "date"]
    links = {str(c["display"]): c["query_string"] for c in dates.choices(changelist)}
    assert len(shown(admin_client, links["Today"])) == 3
    now = timezone.now()
    window = {"at__gte": now - timedelta(days=9), "at__lt": now - timedelta(days=8)}
    assert shown(admin_client, "?" + urlencode({k: v.isoformat() for k, v in window.items()})) == []


@pytest.mark.parametrize(
    "term",
    [lambda key: key.public_id, lambda key: key.display_id, lambda key: f" {key.display_id} "],
)
def test_search_by_public_id_with_or_without_prefix(admin_client, history, term):
    first, _second = history
    assert shown(admin_client, f"?q={term(first)}") == sorted(
        [(first.public_id, "issued"), (first.public_id, "revoked")]
    )


def test_search_is_exact_and_takes_several_ids(admin_client, history):
    first, second = history
    assert shown(admin_client, f"?q={first.public_id[:5]}") == []
    assert len(shown(admin_client, f"?q={first.public_id},{second.display_id}")) == 3


def test_a_whole_key_pasted_into_the_search_is_cut_to_its_public_id(admin_client, issue):
    key, plaintext = issue()
    response = admin_client.get(f"{AUDIT_URL}?q={plaintext}")
    assert response.status_code == 302
    assert plaintext not in response["Location"]
    assert shown(admin_client, response["Location"].removeprefix(AUDIT_URL)) == [
        (key.public_id, "issued")
    ]


def test_nobody_adds_changes_or_deletes_an_event(admin_client, history):
    event = CredentialEvent.objects.first()
    base = f"{AUDIT_URL}{event.pk}"
    assert admin_client.get(f"{AUDIT_URL}add/").status_code == 403
    assert admin_client.post(f"{AUDIT_URL}add/", {"event": "issued"}).status_code == 403
    assert admin_client.post(f"{base}/change/", {"event": "issued"}).status_code == 403
    assert admin_client.get(f"{base}/delete/").status_code == 403
    assert admin_client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.get(AUDIT_URL)
    # The one action exports; none deletes.
    choices = response.context["action_form"].fields["action"].choices
    assert [name for name, _label in choices if name] == ["export_csv"]
    assert response.context["has_add_permission"] is False
    assert CredentialEvent.objects.count() == 3


def test_an_event_page_is_read_only_and_shows_the_details(admin_client, history):
    event = CredentialEvent.objects.get(event="revoked")
    response = admin_client.get(f"{AUDIT_URL}{event.pk}/change/")
    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == []
    assert "&quot;reason&quot;: &quot;done&quot;" in response.content.decode()


def test_the_log_needs_the_view_permission(staff_client, history):
    assert staff_client("view_apikey").get(AUDIT_URL).status_code == 403
    assert staff_client("view_credentialevent").get(AUDIT_URL).status_code == 200
