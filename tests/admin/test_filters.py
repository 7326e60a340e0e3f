"""Search words that name a key become public ids; a whole key never reaches the list page."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from iiniit_auth import keys
from iiniit_auth.admin.filters import public_id_terms, query_without_nul, search_without_keys
from iiniit_auth.models import NEVER, APIKey

# A fixed key (valid checksum, never issued): parameters must be equal in every xdist worker.
PUBLIC_ID = "AbCdEfGhIj"
_HEAD = f"iik_{PUBLIC_ID}{'s' * keys.SECRET_LENGTH}"
KEY = _HEAD + keys.checksum(_HEAD)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        (f"iik_{PUBLIC_ID}", PUBLIC_ID),
        (KEY, PUBLIC_ID),
        (f"billing {KEY}", f"billing {PUBLIC_ID}"),
        (f'"{KEY}"', f'"{PUBLIC_ID}"'),
        ("iik_abc", "abc"),
        ("billing export", "billing export"),
        (f"xiik_{PUBLIC_ID}", f"xiik_{PUBLIC_ID}"),
    ],
    ids=["public id", "whole key", "key among words", "quoted key", "short", "words", "not a key"],
)
def test_public_id_terms(term, expected):
    assert public_id_terms(term) == expected


def test_a_search_holding_a_whole_key_is_redirected_without_it():
    request = RequestFactory().get("/admin/x/", {"q": f"ci {KEY}", "status": "active"})
    response = search_without_keys(request)
    assert KEY not in response["Location"]
    assert response["Location"] == f"/admin/x/?q=ci+{PUBLIC_ID}&status=active"


def test_a_search_without_a_whole_key_goes_on():
    for term in ("", f"iik_{PUBLIC_ID}", "billing"):
        assert search_without_keys(RequestFactory().get("/admin/x/", {"q": term})) is None


def test_parameters_holding_a_nul_are_dropped_by_a_redirect():
    request = RequestFactory().get("/admin/x/", {"name": "a\x00", "status": "active"})

    response = query_without_nul(request)

    assert response["Location"] == "/admin/x/?status=active"
    assert query_without_nul(RequestFactory().get("/admin/x/", {"status": "active"})) is None


@pytest.mark.parametrize(
    "path",
    [
        "/admin/iiniit_auth/apikey/",
        "/admin/iiniit_auth/credentialevent/",
        "/admin/oauth2_provider/application/",
        "/admin/oauth2_provider/accesstoken/",
        "/admin/oauth2_provider/refreshtoken/",
    ],
)
def test_a_list_filtered_by_text_with_a_nul_is_shown_without_that_filter(admin_client, path):
    # Django's admin lets any lookup on a field through; PostgreSQL refuses a NUL (a 500).
    answer = admin_client.get(path, {"name": "\x00", "o": "1"})

    assert answer.status_code == 302
    assert answer["Location"] == f"{path}?o=1"
    assert admin_client.get(answer["Location"]).status_code == 200


def assert_shown_whole(admin_client, path, answer):
    assert answer.status_code == 302
    assert answer["Location"] == f"{path}?e=1"
    shown = admin_client.get(answer["Location"])
    assert shown.status_code == 200
    assert [str(message) for message in shown.context["messages"]] == [
        "The list could not be filtered as its address asks; it is shown whole."
    ]


@pytest.mark.parametrize(
    ("path", "lookup", "value"),
    [
        # A year's bounds overflow a date when the query is compiled: each was a 500.
        ("/admin/iiniit_auth/apikey/", "created_at__year", "99999999999"),
        ("/admin/iiniit_auth/credentialevent/", "at__year", "99999999999"),
        ("/admin/oauth2_provider/application/", "created__year", "99999999999"),
        ("/admin/oauth2_provider/accesstoken/", "expires__year", "99999999999"),
        ("/admin/oauth2_provider/refreshtoken/", "created__year", "99999999999"),
        # PostgreSQL stores addresses as inet, and refuses text that is not one.
        pytest.param(
            "/admin/iiniit_auth/credentialevent/",
            "ip",
            "x",
            marks=pytest.mark.skipif(connection.vendor != "postgresql", reason="inet"),
        ),
        # A lookup Django itself refuses gets the same answer, message included.
        ("/admin/iiniit_auth/apikey/", "no_such_field", "1"),
    ],
)
def test_a_lookup_that_cannot_run_shows_the_whole_list(admin_client, path, lookup, value):
    assert_shown_whole(admin_client, path, admin_client.get(path, {lookup: value}))


def test_a_lookup_the_database_refuses_shows_the_whole_list(admin_client, admin_user):
    APIKey.objects.issue(owner=admin_user, name="billing", scopes=[])
    path = "/admin/iiniit_auth/apikey/"

    # SQLite's regexp function raises, PostgreSQL refuses the pattern: both were a 500.
    answer = admin_client.get(path, {"name__regex": "("})

    assert_shown_whole(admin_client, path, answer)
    assert admin_client.get(path, {"name__regex": "^bill"}).context["cl"].result_count == 1


def test_a_refused_lookup_leaves_the_surrounding_transaction_usable(admin_client, admin_user):
    # ATOMIC_REQUESTS, or a caller's own transaction: on PostgreSQL a failed query aborts it,
    # and every later query failed too. The list's queries run in a savepoint of their own.
    APIKey.objects.issue(owner=admin_user, name="billing", scopes=[])
    path = "/admin/iiniit_auth/apikey/"

    with transaction.atomic():
        answer = admin_client.get(path, {"name__regex": "("})

        assert answer.status_code == 302
        assert APIKey.objects.filter(name="billing").count() == 1


@pytest.fixture
def expiries(issue):
    now = timezone.now()
    issue(name="in 3 days", expires_at=now + timedelta(days=3))
    issue(name="in 20 days", expires_at=now + timedelta(days=20))
    issue(name="in 90 days", expires_at=now + timedelta(days=90))
    issue(name="never", expires_at=NEVER)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("7", ["in 3 days"]),
        ("30", ["in 20 days", "in 3 days"]),
        ("never", ["never"]),
    ],
)
def test_the_expiry_filter(admin_client, expiries, value, names):
    listed = admin_client.get(f"/admin/iiniit_auth/apikey/?expires={value}").context["cl"]
    assert sorted(key.name for key in listed.result_list) == names


def test_an_expiry_day_that_is_no_date_is_admins_wrong_lookup_answer(admin_client, expiries):
    response = admin_client.get("/admin/iiniit_auth/apikey/?expires=someday")
    assert response.status_code == 302  # Django's "?e=1": the whole list, never a 500
    assert response["Location"].endswith("?e=1")
