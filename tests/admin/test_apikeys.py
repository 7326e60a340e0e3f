"""The API key list and the read-only change page."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iiniit_auth.models import APIKey
from tests.admin.conftest import LIST_URL, age, change_url


def listed(client, query=""):
    """The names of the keys the list shows for ``query``."""
    response = client.get(f"{LIST_URL}{query}")
    assert response.status_code == 200
    return sorted(key.name for key in response.context["cl"].result_list)


@pytest.fixture
def keys_in_every_state(issue, other_user):
    """One key of each badge, plus a long unused one and one owned by bob."""
    now = timezone.now()
    active, _ = issue(name="active", scopes=["orders:read", "reports:read"])
    expiring, _ = issue(name="expiring", expires_at=now + timedelta(days=3))
    expired, _ = issue(name="expired")
    age(expired, expires_at=timedelta(days=1))
    rotated, _ = issue(name="rotated")
    rotated.rotate(grace=timedelta(hours=1))
    revoked, _ = issue(name="revoked", scopes=["orders:write"])
    revoked.revoke(reason="test")
    unused, _ = issue(name="unused")
    age(unused, created_at=timedelta(days=200), last_used_at=timedelta(days=120))
    bobs, _ = issue(name="bob's", owner=other_user, scopes=["reports:read"])
    return {key.name: key for key in (active, expiring, expired, rotated, revoked, unused, bobs)}


def test_the_list_shows_key_owner_scopes_badge_last_use_expiry_and_creation(admin_client, issue):
    key, _plaintext = issue(scopes=["orders:read", "reports:read"])
    response = admin_client.get(LIST_URL)
    html = response.content.decode()
    for text in (
        "test key",
        f'<code class="iiniit-id">{key.display_id}</code>',
        "ann",
        '<code class="iiniit-scope">orders:read</code>',
        '<code class="iiniit-scope">reports:read</code>',
        'class="iiniit-badge iiniit-badge--active"',
    ):
        assert text in html
    headers = [h["text"] for h in response.context["result_headers"]]
    assert [str(h).lower() for h in headers[1:]] == [
        "key", "owner", "scopes", "status", "last used", "expires", "created",
    ]  # fmt: skip


def test_every_badge_has_its_colour(admin_client, keys_in_every_state):
    html = admin_client.get(LIST_URL).content.decode()
    for status in ("active", "expiring", "expired", "rotated", "revoked"):
        assert f"iiniit-badge--{status}" in html


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?status=authenticates", ["active", "bob's", "expiring", "rotated", "rotated", "unused"]),
        ("?status=active", ["active", "bob's", "rotated", "unused"]),
        ("?status=expiring", ["expiring"]),
        ("?status=expired", ["expired"]),
        ("?status=rotated", ["rotated"]),
        ("?status=revoked", ["revoked"]),
        ("?activity=unused", ["unused"]),
        ("?activity=recently_revoked", ["revoked"]),
        ("?scope=reports:read", ["active", "bob's"]),
        ("?scope=orders:write", ["revoked"]),
    ],
)
def test_filters(admin_client, keys_in_every_state, query, names):
    # "rotated" twice under "authenticates": the key in its grace period and its successor.
    assert listed(admin_client, query) == names


def test_owner_filter(admin_client, keys_in_every_state, other_user):
    assert listed(admin_client, f"?owner__id__exact={other_user.pk}") == ["bob's"]


@pytest.mark.parametrize(
    "term",
    [
        lambda key: key.public_id,
        lambda key: key.display_id,
        lambda key: key.public_id[:6],
        lambda key: "bob",
        lambda key: "bob@example",
        lambda key: "BOB'S",
    ],
)
def test_search_by_name_public_id_and_owner(admin_client, keys_in_every_state, term):
    key = keys_in_every_state["bob's"]
    assert listed(admin_client, f"?q={term(key)}") == ["bob's"]


def test_a_whole_key_pasted_into_the_search_is_cut_to_its_public_id(admin_client, issue):
    key, plaintext = issue()
    response = admin_client.get(f"{LIST_URL}?q={plaintext}&status=active")
    assert response.status_code == 302
    assert plaintext not in response["Location"]
    assert key.public_id in response["Location"]
    page = admin_client.get(response["Location"])
    assert [k.pk for k in page.context["cl"].result_list] == [key.pk]
    assert plaintext not in page.content.decode()


def test_the_list_costs_the_same_queries_for_5_and_for_50_keys(admin_client, issue):
    def cost():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(LIST_URL)
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    User = get_user_model()

    def add(count, start):
        for n in range(start, start + count):
            owner = User.objects.create_user(f"owner{n}", f"owner{n}@example.com", "pw")
            issue(owner=owner, name=f"key {n}", scopes=["orders:read", "reports:read"])

    add(5, 0)
    five, shown = cost()
    assert shown == 5
    add(45, 5)
    fifty, shown = cost()
    assert shown == 50
    assert five == fifty


def test_the_change_page_shows_the_facts_and_never_the_digest(admin_client, issue):
    key, plaintext = issue(scopes=["orders:read"], allowed_networks=["10.0.0.0/8"])
    response = admin_client.get(change_url(key))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (key.display_id, "Read orders", "10.0.0.0/8", "iiniit-badge--active", "ann"):
        assert text in html
    assert key.digest not in html
    assert plaintext not in html
    # Read-only: the form has no field to edit and the page no button to save.
    assert list(response.context["adminform"].form.fields) == []
    assert 'name="_save"' not in html


def test_the_change_page_links_the_rotation_chain_and_lists_the_events(admin_client, issue):
    key, _plaintext = issue()
    successor, _new = key.rotate()
    old_page = admin_client.get(change_url(key)).content.decode()
    new_page = admin_client.get(change_url(successor)).content.decode()
    assert f'href="{change_url(successor)}"' in old_page
    assert f'href="{change_url(key)}"' in new_page
    events = admin_client.get(change_url(key)).context["events"]
    assert [event.event for event, *_shown in events] == ["rotated", "issued"]
    assert f"Successor: {successor.display_id}" in old_page
    assert f"/admin/iiniit_auth/credentialevent/?q={key.public_id}" in old_page


def test_a_revoked_key_page_says_so(admin_client, issue, admin_user):
    key, _plaintext = issue()
    key.revoke(actor=admin_user, reason="leaked in a CI log")
    html = admin_client.get(change_url(key)).content.decode()
    assert "This key is revoked" in html
    assert "leaked in a CI log" in html
    assert "iiniit-badge--revoked" in html


def test_nobody_edits_or_deletes_a_key_through_admin(admin_client, issue):
    key, _plaintext = issue()
    response = admin_client.post(change_url(key), {"name": "renamed"})
    assert response.status_code == 403
    assert admin_client.get(f"/admin/iiniit_auth/apikey/{key.pk}/delete/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/iiniit_auth/apikey/{key.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    actions = dict(admin_client.get(LIST_URL).context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    key.refresh_from_db()
    assert key.name == "test key"
    assert APIKey.objects.count() == 1


def test_a_staff_user_without_view_permission_sees_no_keys(staff_client, issue):
    key, _plaintext = issue()
    client = staff_client()
    assert client.get(LIST_URL).status_code == 403
    assert client.get(change_url(key)).status_code == 403
