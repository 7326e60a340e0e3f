"""The failed-authentication limiter: refusals counted per address and per public id, 429
before any query past the limit; and the refused-use audit, bounded under a flood."""

import pytest
from django.conf import settings
from django.test import override_settings

from iiniit_auth import keys
from iiniit_auth.models import CredentialEvent
from iiniit_auth.signals import credential_refused

pytestmark = pytest.mark.urls("tests.limits.conftest")

URL = "/limited/"


def limits(**values):
    return override_settings(IINIIT_AUTH={**settings.IINIIT_AUTH, **values})


def get(api, credential, address="192.0.2.1", scheme="ApiKey", **extra):
    return api.get(URL, HTTP_AUTHORIZATION=f"{scheme} {credential}", REMOTE_ADDR=address, **extra)


@limits(FAILED_AUTH_LIMIT="5/day")
def test_a_flood_from_one_address_gets_429_with_no_query(api, issue, django_assert_num_queries):
    _, good = issue()
    for _ in range(5):
        assert get(api, "iik_nope").status_code == 401
    with django_assert_num_queries(0):
        refused = get(api, "iik_nope")
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 86400
    with django_assert_num_queries(0):
        assert get(api, good).status_code == 429  # that address, whatever it sends now
    assert get(api, good, address="198.51.100.7").status_code == 200  # another is served


@limits(FAILED_AUTH_LIMIT="5/day")
def test_a_flood_of_bearer_tokens_counts_too(api, oauth_token, django_assert_num_queries):
    _, token = oauth_token()
    for _ in range(5):
        assert get(api, "not-a-token", scheme="Bearer").status_code == 401
    with django_assert_num_queries(0):
        assert get(api, token, scheme="Bearer").status_code == 429
    assert get(api, token, address="198.51.100.7", scheme="Bearer").status_code == 200


@limits(FAILED_AUTH_LIMIT="5/day")
def test_a_public_id_under_attack_from_many_addresses_gets_429(
    api, issue, django_assert_num_queries
):
    target, good = issue()
    _, other = issue()
    for n in range(5):
        # Wrong secrets for the target's public id (checksums right), each from another address.
        guess = keys.generate("iik", public_id=target.public_id).plaintext
        assert get(api, guess, address=f"203.0.113.{n}").status_code == 401
    with django_assert_num_queries(0):
        assert get(api, good, address="203.0.113.99").status_code == 429
    assert get(api, other, address="203.0.113.99").status_code == 200  # another key is served


@limits(FAILED_AUTH_LIMIT="5/day", NUM_PROXIES=1)
def test_behind_a_proxy_the_forwarded_address_counts(api):
    for _ in range(5):
        get(api, "iik_nope", address="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.5")
    assert (
        get(api, "iik_nope", address="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.5").status_code
        == 429
    )
    # The proxy's own address is not blocked for the clients behind it.
    assert (
        get(api, "iik_nope", address="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.6").status_code
        == 401
    )


@limits(FAILED_AUTH_LIMIT=None)
def test_the_limiter_can_be_turned_off(api):
    for _ in range(100):
        assert get(api, "iik_nope").status_code == 401


def test_the_limiter_is_on_by_default_and_generous(api, clock):
    for _ in range(60):
        assert get(api, "iik_nope").status_code == 401
    refused = get(api, "iik_nope")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"  # the window ends in 30 s
    clock[0] += 30  # the next window: served again
    assert get(api, "iik_nope").status_code == 401


def test_an_accepted_key_costs_no_extra_query(api, issue, django_assert_num_queries):
    _, good = issue()
    get(api, good)  # stamps last_used_at
    with django_assert_num_queries(1):  # the key's lookup, as without the limiter
        assert get(api, good).status_code == 200


# -- the refused-use audit -------------------------------------------------------------------


@limits(FAILED_AUTH_LIMIT=None)
def test_refusals_of_a_known_key_are_audited_once_per_reason_and_minute(api, issue, clock):
    key, plaintext = issue()
    key.revoke()
    sent = []

    def receive(**kwargs):
        sent.append(kwargs["reason"])

    credential_refused.connect(receive)
    try:
        for n in range(50):
            assert get(api, plaintext, address=f"192.0.2.{n}").status_code == 401
    finally:
        credential_refused.disconnect(receive)
    assert len(sent) == 50  # a signal for each, so a project can alert
    events = CredentialEvent.objects.filter(event=CredentialEvent.Event.REFUSED)
    assert events.count() == 1
    assert events.get().details == {"reason": "revoked", "count": 1}


@limits(FAILED_AUTH_LIMIT=None)
def test_the_next_event_counts_the_refusals_not_audited(api, issue, clock):
    key, plaintext = issue()
    key.revoke()
    for _ in range(7):
        get(api, plaintext)
    clock[0] += 60  # the next minute
    get(api, plaintext)
    get(api, plaintext)  # counted for the event after
    events = CredentialEvent.objects.filter(event=CredentialEvent.Event.REFUSED).order_by("at")
    assert [e.details["count"] for e in events] == [1, 7]  # the first, then itself and 6 more
