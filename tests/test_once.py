"""One-time form tokens: fresh, used (and for what), or unknown."""

import pytest
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from iiniit_auth import once


@pytest.fixture
def request_():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    return request


def test_a_token_is_fresh_until_consumed_then_points_at_what_it_made(request_):
    token = once.new_token(request_, "issue")
    assert once.state(request_, token, "issue") == once.TokenState(fresh=True)
    once.consume(request_, token, 42)
    assert once.state(request_, token, "issue") == once.TokenState(fresh=False, used_for="42")


def test_a_token_is_good_for_its_purpose_only(request_):
    token = once.new_token(request_, "rotate:1")
    assert not once.state(request_, token, "rotate:2").fresh
    assert once.state(request_, token, "rotate:2").used_for is None
    assert not once.state(request_, "made-up", "rotate:1").fresh


def test_the_oldest_tokens_are_dropped(request_):
    tokens = [once.new_token(request_, "issue") for _ in range(once.MAX_TOKENS + 3)]
    assert [once.state(request_, t, "issue").fresh for t in tokens[:3]] == [False] * 3
    assert all(once.state(request_, t, "issue").fresh for t in tokens[3:])
    assert len(request_.session[once.SESSION_KEY]) == once.MAX_TOKENS


def test_consuming_an_unknown_token_stores_nothing(request_):
    once.consume(request_, "made-up", 1)
    assert once.SESSION_KEY not in request_.session
