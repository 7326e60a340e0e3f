"""The cases of docs/http.md, as requests to make, each with a credential of its own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from iiniit_auth.models import APIKey


def _expire(key):
    # Time passing: a key cannot be issued already expired.
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _key(issue, **kwargs):
    return issue(**kwargs)[1]


def no_credential(issue, oauth_token):
    return "GET", "", {}


def basic(issue, oauth_token):
    return "GET", "", {"Authorization": "Basic YW5uOnB3"}


def scheme_alone(issue, oauth_token):
    return "GET", "", {"Authorization": "ApiKey"}


def tab(issue, oauth_token):
    return "GET", "", {"Authorization": f"ApiKey\t{_key(issue)}"}


def unknown_key(issue, oauth_token):
    return "GET", "", {"Authorization": "ApiKey iik_nope"}


def revoked(issue, oauth_token):
    key, plaintext = issue()
    key.revoke()
    return "GET", "", {"Authorization": f"ApiKey {plaintext}"}


def expired(issue, oauth_token):
    key, plaintext = issue()
    _expire(key)
    return "GET", "", {"Authorization": f"ApiKey {plaintext}"}


def wrong_scope(issue, oauth_token):
    return "GET", "", {"Authorization": f"ApiKey {_key(issue, scopes=['reports:read'])}"}


def wrong_scope_post(issue, oauth_token):
    return "POST", "", {"Authorization": f"ApiKey {_key(issue)}"}


def right_scope(issue, oauth_token):
    return "GET", "", {"Authorization": f"ApiKey {_key(issue)}"}


def query_param(issue, oauth_token):
    return "GET", f"?api_key={_key(issue)}", {}


def header_and_query_param(issue, oauth_token):
    plaintext = _key(issue)
    return "GET", f"?api_key={plaintext}", {"Authorization": f"ApiKey {plaintext}"}


def access_token_in_query(issue, oauth_token):
    return "GET", f"?access_token={oauth_token()[1]}", {}


def bearer_valid(issue, oauth_token):
    return "GET", "", {"Authorization": f"Bearer {oauth_token()[1]}"}


def bearer_invalid(issue, oauth_token):
    return "GET", "", {"Authorization": "Bearer not-a-token"}


def bearer_insufficient_scope(issue, oauth_token):
    return "GET", "", {"Authorization": f"Bearer {oauth_token(scope='reports:read')[1]}"}


CASES = {
    "no credential": (no_credential, 401),
    "another scheme": (basic, 401),
    "malformed: scheme alone": (scheme_alone, 400),
    "malformed: tab": (tab, 400),
    "bad key": (unknown_key, 401),
    "revoked": (revoked, 401),
    "expired": (expired, 401),
    "wrong scope": (wrong_scope, 403),
    "wrong scope, POST": (wrong_scope_post, 403),
    "right scope": (right_scope, 200),
    "query param": (query_param, 200),
    "header and query param": (header_and_query_param, 400),
    "access_token in the query": (access_token_in_query, 400),
    "bearer valid": (bearer_valid, 200),
    "bearer invalid": (bearer_invalid, 401),
    "bearer insufficient scope": (bearer_insufficient_scope, 403),
}


@pytest.fixture(params=list(CASES))
def case(request, issue, oauth_token):
    """case() -> (method, query, headers, status): a fresh credential on every call, so each of
    two twins meets the same state (a key's first use is stamped, say)."""
    make, status = CASES[request.param]

    def build():
        return (*make(issue, oauth_token), status)

    build.name = request.param
    return build
