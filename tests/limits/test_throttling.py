"""CredentialRateThrottle: keyed by the credential, the rate of the key, the application or
the setting, the RateLimit fields on every response, and the 429."""

import pytest
from django.conf import settings
from django.test import override_settings
from oauth2_provider.models import get_access_token_model

from iiniit_auth.oauth.models import ApplicationPolicy
from iiniit_auth.throttling import Window, address_bucket, client_address

pytestmark = pytest.mark.urls("tests.limits.conftest")


def limits(**values):
    return override_settings(IINIIT_AUTH={**settings.IINIIT_AUTH, **values})


URL = "/limited/"


def get(api, credential, scheme="ApiKey", **extra):
    return api.get(URL, HTTP_AUTHORIZATION=f"{scheme} {credential}", **extra)


def test_without_a_rate_nothing_is_limited_nor_announced(api, issue):
    _, plaintext = issue()
    for _ in range(5):
        response = get(api, plaintext)
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


@limits(DEFAULT_RATE="3/day")
def test_the_default_rate_limits_each_key_apart(api, issue):
    _, first = issue()
    _, second = issue()
    seen = [get(api, first) for _ in range(3)]
    assert [r.status_code for r in seen] == [200, 200, 200]
    assert [r.headers["RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
    assert {r.headers["RateLimit-Limit"] for r in seen} == {"3"}
    assert 1 <= int(seen[0].headers["RateLimit-Reset"]) <= 86400

    refused = get(api, first)
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": f"Too many requests: try again in {refused.headers['Retry-After']} seconds.",
        "error": "rate_limited",
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= 86400
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Limit"] == "3"
    assert get(api, second).status_code == 200  # another key, another count


@limits(DEFAULT_RATE="100/day")
def test_a_key_rate_overrides_the_default(api, issue):
    _, plaintext = issue(rate="1/day")
    assert get(api, plaintext).headers["RateLimit-Limit"] == "1"
    assert get(api, plaintext).status_code == 429


def test_a_changed_key_rate_applies_at_the_next_request(api, issue):
    key, plaintext = issue(rate="1/day")
    assert get(api, plaintext).status_code == 200
    assert get(api, plaintext).status_code == 429
    key.set_rate("5/day")
    response = get(api, plaintext)
    assert response.status_code == 200
    assert response.headers["RateLimit-Limit"] == "5"


def test_a_throttled_request_costs_no_query_for_a_key(api, issue, django_assert_num_queries):
    _, plaintext = issue(rate="1/day")
    assert get(api, plaintext).status_code == 200
    with django_assert_num_queries(1):  # the key's lookup; the count is in the cache
        assert get(api, plaintext).status_code == 429


def test_the_error_shape_matches_the_other_errors(api, issue):
    _, plaintext = issue(rate="1/day")
    get(api, plaintext)
    refused = get(api, plaintext).json()
    unauthorized = api.get(URL, HTTP_AUTHORIZATION="ApiKey iik_nope").json()
    assert set(refused) == set(unauthorized) == {"detail", "error"}


def test_oauth_tokens_count_per_application_and_user(api, oauth_app, oauth_token, other_user):
    ApplicationPolicy.objects.set_rate(oauth_app, "2/day")
    _, mine = oauth_token()
    _, also_mine = oauth_token()
    _, theirs = oauth_token(owner=other_user)
    assert get(api, mine, "Bearer").status_code == 200
    assert get(api, also_mine, "Bearer").status_code == 200  # the same app and user: one count
    assert get(api, mine, "Bearer").status_code == 429
    assert get(api, theirs, "Bearer").status_code == 200


def test_an_application_rate_costs_no_query_once_kept(
    api, oauth_app, oauth_token, django_assert_num_queries
):
    ApplicationPolicy.objects.set_rate(oauth_app, "5/day")
    _, token = oauth_token()
    assert get(api, token, "Bearer").status_code == 200
    with django_assert_num_queries(1):  # the token's lookup only
        assert get(api, token, "Bearer").headers["RateLimit-Remaining"] == "3"


def test_a_changed_application_rate_applies_at_once(api, oauth_app, oauth_token):
    ApplicationPolicy.objects.set_rate(oauth_app, "1/day")
    _, token = oauth_token()
    assert get(api, token, "Bearer").status_code == 200
    assert get(api, token, "Bearer").status_code == 429
    ApplicationPolicy.objects.set_rate(oauth_app, "10/day")
    assert get(api, token, "Bearer").headers["RateLimit-Limit"] == "10"


def test_client_credentials_tokens_count_per_application(api, oauth_app, oauth_token):
    ApplicationPolicy.objects.set_rate(oauth_app, "1/day")
    _, first = oauth_token(owner=None)
    _, second = oauth_token(owner=None)
    assert get(api, first, "Bearer").status_code == 200
    assert get(api, second, "Bearer").status_code == 429  # one application, one count
    assert get_access_token_model().objects.filter(user=None).count() == 2


@limits(DEFAULT_RATE="1/day")
def test_anonymous_requests_are_not_this_throttles(api):
    assert api.get(URL).status_code == 401  # authentication, not the throttle, answers


def test_windows_are_fixed_and_aligned():
    window = Window.at(60, now=120.5)
    assert (window.start, window.reset) == (120, 60)
    assert Window.at(60, now=179.9).reset == 1
    assert Window.at(3600, now=7200).start == 7200


def test_the_client_address_trusts_only_the_proxies_it_is_told_of(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_address(request) == "10.0.0.1"
    with limits(NUM_PROXIES=1):
        assert client_address(request) == "1.2.3.4"
    with limits(NUM_PROXIES=2):
        assert client_address(request) == "6.6.6.6"
    with limits(NUM_PROXIES=5):
        assert client_address(request) == "6.6.6.6"
        assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_ipv6_clients_count_by_their_64():
    assert address_bucket("2001:db8:1:2:aaaa::1") == address_bucket("2001:db8:1:2:bbbb::9")
    assert address_bucket("2001:db8:1:3::1") != address_bucket("2001:db8:1:2::1")
    assert address_bucket("::ffff:192.0.2.1") == address_bucket("192.0.2.1") == "192.0.2.1"
    assert address_bucket("not an address") == address_bucket(None) == "unknown"
