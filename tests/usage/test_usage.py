"""Counting accepted requests: per credential per day, no query per request, one write per
interval, nothing lost to a rollback or a failing write."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iiniit_auth import usage
from iiniit_auth.models import CredentialEvent, Usage
from tests.usage.conftest import end_request

API_KEY = CredentialEvent.Kind.API_KEY
APPLICATION = CredentialEvent.Kind.OAUTH_APPLICATION
NOON = datetime(2026, 12, 7, 12, tzinfo=UTC)


def rows():
    return {(row.kind, row.credential_id, row.day): row.requests for row in Usage.objects.all()}


def test_counted_as_key_and_token_per_application(issue, oauth_token, oauth_app):
    key, _ = issue()
    token, _ = oauth_token()
    assert usage.counted_as(key) == (API_KEY, key.public_id)
    assert usage.counted_as(token) == (APPLICATION, str(oauth_app.pk))
    assert usage.counted_as(None) is None
    assert usage.counted_as(object()) is None


def test_today_is_the_utc_date(settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # already Dec 8 in Auckland
    assert usage.today(late) == date(2026, 12, 7)


def interval_passes(key, cached):
    """What the passing of LAST_USED_UPDATE_INTERVAL does: the claim's marker expires in the
    cache, this process's last write moves back in memory."""
    if cached:
        caches["keys"].delete(f"iiniit:usage-written:api_key:{key.public_id}")
    else:
        usage._memory.written[(API_KEY, key.public_id)] -= 3600


@pytest.mark.parametrize("cached", [False, True], ids=["memory", "cache"])
def test_no_query_within_the_interval_then_one_write(request, issue, cached):
    if cached:
        request.getfixturevalue("with_cache")
    key, _ = issue()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            usage.count(key, NOON)
        end_request()
    # A credential's first use starts the interval: nothing is written before it has passed.
    assert len(queries) == 0
    assert rows() == {}
    interval_passes(key, cached)
    with CaptureQueriesContext(connection) as queries:
        usage.count(key, NOON)
        end_request()
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 51}
    assert [q["sql"].split()[0] for q in queries.captured_queries if "usage" in q["sql"]] == [
        "UPDATE",
        "INSERT",
    ]
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            usage.count(key, NOON)
        end_request()
    assert len(queries) == 0
    interval_passes(key, cached)
    with CaptureQueriesContext(connection) as queries:
        usage.count(key, NOON)
        end_request()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 62}
    assert usage.daily(API_KEY, key.public_id, days=2, now=NOON) == [
        (NOON.date() - timedelta(days=1), 0),
        (NOON.date(), 62),
    ]


@pytest.mark.parametrize("cached", [False, True], ids=["memory", "cache"])
def test_written_again_past_the_interval(request, settings, issue, cached):
    if cached:
        request.getfixturevalue("with_cache")
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "LAST_USED_UPDATE_INTERVAL": 0}
    key, _ = issue()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            usage.count(key, NOON)
            end_request()
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 3}
    # The first write inserts (in a savepoint); each later one is one UPDATE.
    updates = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 3


def test_pending_counts_are_shown_before_they_are_written(with_cache, issue):
    key, _ = issue()
    for _ in range(5):
        usage.count(key, NOON)
    assert rows() == {}
    assert usage.daily(API_KEY, key.public_id, days=1, now=NOON) == [(NOON.date(), 5)]
    interval_passes(key, cached=True)
    usage.count(key, NOON)
    # Not written yet: the test's transaction is open, the write waits for the request's end.
    assert rows() == {}
    end_request()
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 6}
    assert usage.daily(API_KEY, key.public_id, days=1, now=NOON) == [(NOON.date(), 6)]


def test_each_day_its_row_and_yesterday_is_written_by_todays_flush(with_cache, issue):
    key, _ = issue()
    usage.count(key, NOON)
    end_request()
    usage.count(key, NOON)  # pending on Dec 7
    tomorrow = NOON + timedelta(days=1)
    usage.count(key, tomorrow)
    usage.flush(API_KEY, key.public_id, tomorrow)
    assert rows() == {
        (API_KEY, key.public_id, NOON.date()): 2,
        (API_KEY, key.public_id, tomorrow.date()): 1,
    }


def test_tokens_of_one_application_add_up(with_cache, oauth_token, oauth_app, other_user):
    first, _ = oauth_token()
    second, _ = oauth_token(owner=other_user)
    for token in (first, second, first):
        usage.count(token, NOON)
    usage.flush(APPLICATION, str(oauth_app.pk), NOON)
    assert rows() == {(APPLICATION, str(oauth_app.pk), NOON.date()): 3}


def test_a_failed_write_keeps_its_counts(monkeypatch, with_cache, issue):
    key, _ = issue()
    for _ in range(4):
        usage.count(key, NOON)

    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    with monkeypatch.context() as patch:
        patch.setattr(Usage, "add", broken)
        end_request()  # logged, not raised
    assert rows() == {}
    usage.flush(API_KEY, key.public_id, NOON)
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 4}


def test_a_failed_memory_write_keeps_its_counts(monkeypatch, issue):
    key, _ = issue()
    for _ in range(4):
        usage.count(key, NOON)

    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    with monkeypatch.context() as patch:
        patch.setattr(Usage, "add", broken)
        end_request()  # logged, not raised
    assert rows() == {}
    usage.flush_memory()
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 4}


def test_a_failing_cache_counts_in_memory(settings, issue, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "keys": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "USAGE_CACHE": "keys"}
    key, _ = issue()
    usage.count(key, NOON)
    usage.count(key, NOON)
    assert "counting in memory" in caplog.text
    end_request()
    usage.flush_memory()
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 2}


def test_add_is_an_upsert(db):
    Usage.add(API_KEY, "abc", NOON.date(), 2)
    Usage.add(API_KEY, "abc", NOON.date(), 3)
    Usage.add(API_KEY, "abc", NOON.date(), 0)
    assert rows() == {(API_KEY, "abc", NOON.date()): 5}


def test_busiest(db):
    day = NOON.date()
    Usage.add(API_KEY, "a", day, 5)
    Usage.add(API_KEY, "b", day, 50)
    Usage.add(APPLICATION, "1", day - timedelta(days=3), 20)
    Usage.add(API_KEY, "a", day - timedelta(days=40), 1000)  # too old
    assert usage.busiest(limit=2, now=NOON) == [(API_KEY, "b", 50), (APPLICATION, "1", 20)]
    assert usage.busiest(kinds=[API_KEY], now=NOON) == [(API_KEY, "b", 50), (API_KEY, "a", 5)]


@pytest.mark.urls("tests.usage.urls")
@pytest.mark.parametrize("cached", [False, True], ids=["memory", "cache"])
def test_requests_are_counted(request, api, issue, oauth_token, oauth_app, cached):
    if cached:
        request.getfixturevalue("with_cache")
    key, plaintext = issue()
    _token, bearer = oauth_token()
    for _ in range(3):
        assert api.get("/api/counted/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code == 200
    assert api.get("/api/counted/", HTTP_AUTHORIZATION=f"Bearer {bearer}").status_code == 200
    assert api.get("/api/counted/", HTTP_AUTHORIZATION="ApiKey iik_wrong").status_code == 401
    today = usage.today()
    assert usage.daily(API_KEY, key.public_id, days=1) == [(today, 3)]
    assert usage.daily(APPLICATION, str(oauth_app.pk), days=1) == [(today, 1)]
    # Counted with no query: nothing is written within the first interval.
    assert rows() == {}
    usage.flush(API_KEY, key.public_id)
    assert rows() == {(API_KEY, key.public_id, today): 3}


def test_a_day_left_pending_is_written_when_the_credential_comes_back(with_cache, issue):
    key, _ = issue()
    usage.count(key, NOON)
    end_request()
    usage.count(key, NOON)  # pending on Dec 7, within the interval
    later = NOON + timedelta(days=5)
    usage.count(key, later)  # first of Dec 12: Dec 7's pending count is written with it
    end_request()
    assert rows() == {
        (API_KEY, key.public_id, NOON.date()): 2,
        (API_KEY, key.public_id, later.date()): 1,
    }


def test_flush_writes_the_last_day_counted_too(with_cache, issue):
    key, _ = issue()
    usage.count(key, NOON)
    end_request()
    usage.count(key, NOON)
    usage.flush(API_KEY, key.public_id, NOON + timedelta(days=4))
    assert rows() == {(API_KEY, key.public_id, NOON.date()): 2}


@pytest.mark.urls("tests.usage.urls")
@pytest.mark.parametrize("cached", [False, True], ids=["memory", "cache"])
def test_counting_adds_no_query_to_a_request(request, api, issue, cached):
    if cached:
        request.getfixturevalue("with_cache")
    counted_key, counted = issue()
    other_key, other = issue()

    with CaptureQueriesContext(connection) as queries:
        for path, plaintext in [("/api/counted/", counted), ("/api/ping/", other)] * 3:
            response = api.get(path, HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
            assert response.status_code == 200

    assert [sql for sql in (q["sql"] for q in queries) if Usage._meta.db_table in sql] == []
    assert usage.daily(API_KEY, counted_key.public_id, days=1) == [(usage.today(), 3)]
    assert usage.daily(API_KEY, other_key.public_id, days=1) == [(usage.today(), 3)]
