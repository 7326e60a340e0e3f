"""What an authenticated request costs in SQL.

An accepted API key: one query for the key and its owner together, plus at most one conditional
UPDATE of last_used_at per key per interval. A malformed key or one whose checksum fails: no
query at all. A bearer token: one query for the token, its user and its application.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import include, path
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.models import APIKey


class OwnerView(APIView):
    """Reads the owner and the key the way a view would, to show it costs nothing more."""

    required_scopes = ["orders:read"]

    def get(self, request):
        auth = request.auth
        is_key = isinstance(auth, APIKey)
        return Response(
            {
                "username": request.user.username,
                "email": request.user.email,
                "staff": request.user.is_staff,
                "owner": auth.owner.pk if is_key else auth.user.pk,
                "application": None if is_key else auth.application.name,
            }
        )


urlpatterns = [
    path("owner/", OwnerView.as_view()),
    path("", include("tests.urls")),
]

pytestmark = pytest.mark.urls(__name__)


def sql(context):
    return [query["sql"] for query in context.captured_queries]


def stamp(key, at):
    key.record_use(at)
    key.refresh_from_db()


def test_fresh_key_costs_the_lookup_and_one_conditional_update(
    issue, api, django_assert_num_queries
):
    key, plaintext = issue()

    with django_assert_num_queries(2) as context:
        response = api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert response.status_code == 200
    lookup, update = sql(context)
    assert lookup.lstrip().upper().startswith("SELECT")
    assert update.lstrip().upper().startswith("UPDATE")
    # One statement that re-checks the stamp itself: no read-modify-write.
    where = update.split("WHERE", 1)[1]
    assert "last_used_at" in where
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_key_stamped_within_the_interval_costs_one_query(issue, api, django_assert_num_queries):
    key, plaintext = issue()
    stamp(key, timezone.now() - timedelta(seconds=30))

    with django_assert_num_queries(1):
        response = api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert response.status_code == 200


def test_second_request_right_after_the_first_costs_one_query(
    issue, api, django_assert_num_queries
):
    _key, plaintext = issue()
    api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    with django_assert_num_queries(1):
        response = api.get("/api/ping/", {"api_key": plaintext})

    assert response.status_code == 200


def test_key_stamped_before_the_interval_costs_two_queries(issue, api, django_assert_num_queries):
    key, plaintext = issue()
    long_ago = timezone.now() - timedelta(minutes=5)
    stamp(key, long_ago)

    with django_assert_num_queries(2):
        response = api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert response.status_code == 200
    key.refresh_from_db()
    assert key.last_used_at > long_ago


def test_interval_is_a_setting(issue, api, settings, django_assert_num_queries):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "LAST_USED_UPDATE_INTERVAL": 10}
    key, plaintext = issue()
    stamp(key, timezone.now() - timedelta(seconds=30))

    with django_assert_num_queries(2):
        api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    with django_assert_num_queries(1):
        api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")


def test_owner_comes_in_the_same_query(issue, api, user, django_assert_num_queries):
    key, plaintext = issue()
    stamp(key, timezone.now())

    with django_assert_num_queries(1) as context:
        response = api.get("/owner/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert response.json()["owner"] == user.pk
    (lookup,) = sql(context)
    user_table = connection.ops.quote_name(user._meta.db_table)
    assert "JOIN" in lookup.upper()
    assert user_table in lookup


@pytest.mark.parametrize(
    "damage",
    [
        lambda k: k[:-1] + ("0" if k[-1] != "0" else "1"),  # checksum
        lambda k: k[:10] + ("0" if k[10] != "0" else "1") + k[11:],  # public id
        lambda k: k[:-1],  # truncated
        lambda k: "abc" + k[3:],  # other prefix
        lambda k: k + "0",  # too long
        lambda k: k.replace("_", "-", 1),  # no separator
    ],
    ids=["checksum", "public-id", "truncated", "prefix", "too-long", "separator"],
)
def test_key_failing_its_checksum_or_form_costs_no_query(
    issue, api, damage, django_assert_num_queries
):
    _key, plaintext = issue()
    fake = damage(plaintext)

    with django_assert_num_queries(0):
        by_header = api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {fake}")
        by_query = api.get("/api/ping/", {"api_key": fake})

    assert by_header.status_code == by_query.status_code == 401


@pytest.mark.parametrize(
    "header", ["ApiKey", "ApiKey a b", "ApiKey\tabc", "ApiKey é", "ApiKey " + "a" * 10240]
)
def test_malformed_header_costs_no_query(db, api, header, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api.get("/api/ping/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 400


def test_no_credential_costs_no_query(db, api, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api.get("/api/ping/")

    assert response.status_code == 401


def test_bearer_token_costs_one_query(oauth_token, api, user, django_assert_num_queries):
    _token, value = oauth_token()

    with django_assert_num_queries(1):
        response = api.get("/owner/", HTTP_AUTHORIZATION=f"Bearer {value}")

    assert response.status_code == 200
    assert response.json()["owner"] == user.pk
    assert response.json()["application"] == "Test app"


def test_client_credentials_token_costs_one_query(oauth_app, api, django_assert_num_queries):
    get_access_token_model().objects.create(
        user=None,
        application=oauth_app,
        token="machine-token",
        scope="orders:read",
        expires=timezone.now() + timedelta(hours=1),
    )

    with django_assert_num_queries(1):
        response = api.get("/api/ping/", HTTP_AUTHORIZATION="Bearer machine-token")

    assert response.status_code == 200


def test_refused_bearer_token_costs_one_query(db, api, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = api.get("/api/ping/", HTTP_AUTHORIZATION="Bearer no-such-token")

    assert response.status_code == 401


def test_lacking_scope_costs_no_more_than_the_lookup(issue, api, django_assert_num_queries):
    key, plaintext = issue(scopes=["orders:read"])
    stamp(key, timezone.now())

    with django_assert_num_queries(1):
        response = api.get("/api/reports/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")

    assert response.status_code == 403


def test_keys_are_counted_per_key(issue, api, django_assert_num_queries):
    first, plaintext_1 = issue()
    _second, plaintext_2 = issue()
    stamp(first, timezone.now())

    with django_assert_num_queries(1):
        api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext_1}")
    with django_assert_num_queries(2):
        api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext_2}")
    assert APIKey.objects.filter(last_used_at__isnull=False).count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need a database server"
)
def test_concurrent_uses_write_last_used_at_once(transactional_db, issue):
    import threading

    from django.db import connections

    key, _plaintext = issue()
    writers = 8
    # What each of several processes holds: the key as read before any of them stamped it.
    copies = [APIKey.objects.get(pk=key.pk) for _ in range(writers)]
    assert all(copy.last_used_at is None for copy in copies)
    start = threading.Barrier(writers)
    now = timezone.now()
    written = []

    def use(copy, offset):
        try:
            start.wait()
            written.append(copy.record_use(now + timedelta(microseconds=offset)))
        finally:
            connections.close_all()  # each thread's own connection

    threads = [threading.Thread(target=use, args=(copy, n)) for n, copy in enumerate(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(written) == writers
    assert written.count(True) == 1  # one UPDATE matched; the others found the row stamped
    key.refresh_from_db()
    assert now <= key.last_used_at < now + timedelta(microseconds=writers)
