"""Properties of reading credentials from a request: the ``Authorization`` header (RFC 9110
section 11) and the key and token parameters. Whatever a client sends ends in a credential,
``None`` or a documented 400 (docs/http.md), never another exception. No database."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.request import Request

from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.challenges import InvalidRequest, read_authorization

#: RFC 9110 section 11.2 token68, and section 5.6.2 token (what a scheme is), written out here.
TOKEN68 = r"[A-Za-z0-9._~+/-]+=*"
TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SCHEME = re.compile(rf"[{re.escape(TCHAR)}]+")
LIMIT = 2048  # docs/http.md: a longer header is refused as too long

#: The detail of every 400 docs/http.md lists (its "400 invalid_request" table), with the
#: settings of the test project (scheme ApiKey, parameter api_key).
DOCUMENTED = {
    "The Authorization header has a scheme but no credential.",
    "Send exactly one credential after the scheme, with no other parts.",
    "Separate the scheme and the credential with spaces, not tabs.",
    "Separate the scheme and the credential with a space.",
    "The Authorization header contains control characters.",
    "The Authorization header contains non-ASCII characters.",
    "The Authorization header is too long.",
    "The Authorization header has no scheme.",
    "Send one credential: an Authorization header and the api_key parameter were both given.",
    "Send one credential: a bearer token and the api_key parameter were both given.",
    "The api_key parameter is given more than once.",
    "The api_key parameter is not a well-formed key.",
    "Keys are not accepted in the query string here: send Authorization: ApiKey <key>.",
    "Access tokens are not accepted in the query string: send Authorization: Bearer <token>.",
}
#: How the guide writes a detail it shortens.
ABRIDGED = {
    "Send one credential: a bearer token and the api_key parameter were both given.": (
        "… a bearer token and the api_key parameter …"
    ),
}

KEY = "iik_4fQx0b7LmZT4MvdebEiC7nn4UnJD9lb6skxh0E000000"
#: Our two schemes, in any case (RFC 9110 section 11.1: schemes are case-insensitive).
ours = st.sampled_from(["ApiKey", "Bearer"]).flatmap(
    lambda scheme: st.lists(st.booleans(), min_size=len(scheme), max_size=len(scheme)).map(
        lambda upper: "".join(
            c.upper() if u else c.lower() for c, u in zip(scheme, upper, strict=True)
        )
    )
)
schemes = st.one_of(
    ours,
    st.sampled_from(["Basic", "ApiKeys", "Api", "Digest"]),
    st.text(TCHAR, min_size=1, max_size=8),
    st.text(max_size=8),
)
spaces = st.text(" ", min_size=1, max_size=3)
separators = st.one_of(
    spaces,
    st.sampled_from(["", "\t", ",", " \t", "\n", "\x00", "\xa0", "=", ": "]),
    st.text(max_size=3),
)
#: Around the length limit: the header is "<scheme> " and these.
long_tokens = st.builds(lambda n: "a" * n, st.integers(LIMIT - 12, LIMIT + 4))
token68s = st.from_regex(TOKEN68, fullmatch=True)
tokens = st.one_of(st.just(KEY), token68s, long_tokens)
credentials = st.one_of(tokens, st.text(max_size=20))
extras = st.one_of(st.just(""), st.builds("{}{}".format, separators, credentials))
headers = st.one_of(
    st.builds("{}{}{}".format, ours, spaces, tokens),  # well formed, ours
    st.builds("{}{}{}".format, ours, spaces, long_tokens),  # ours, about as long as allowed
    st.builds("{}{}{}".format, ours, st.text(" \t", min_size=1, max_size=3), tokens),  # tabs
    st.builds("{}{}{}{}".format, ours, separators, credentials, extras),  # ours, perhaps not
    st.builds("{}{}{}{}".format, schemes, separators, credentials, extras),
    st.text(max_size=40),
    st.sampled_from(["", " ", "ApiKey", "Bearer ", f"ApiKey {KEY}, ApiKey {KEY}"]),
)
values = st.one_of(st.just(KEY), token68s, st.text(max_size=20))
queries = st.dictionaries(
    st.sampled_from(["api_key", "access_token", "page"]),
    st.lists(values, min_size=1, max_size=2),
    max_size=2,
)


def request_with(header, query=None):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    return Request(RequestFactory().get("/api/orders/", query or {}, **extra))


def documented_refusal(exc, scheme):
    detail = exc.detail
    assert exc.status_code == 400
    assert detail["error"] == "invalid_request"
    assert str(detail["detail"]) in DOCUMENTED
    assert exc.auth_header.startswith(f'{scheme} realm="api", error="invalid_request", ')


def test_the_documented_answers_are_docs_http_md():
    # The set the properties allow is the one the guide shows, word for word (one of them
    # shortened to the part that differs from its neighbour).
    guide = (Path(__file__).parents[2] / "docs" / "http.md").read_text().replace("\\<", "<")
    for detail in DOCUMENTED:
        assert ABRIDGED.get(detail, detail) in guide


@given(st.one_of(st.none(), headers), st.sampled_from(["ApiKey", "Bearer"]))
def test_a_header_is_a_credential_none_or_a_documented_400(header, scheme):
    request = request_with(header)
    try:
        found = read_authorization(request, scheme)
    except InvalidRequest as exc:
        documented_refusal(exc, scheme)
        found = exc
    exact = header is not None and len(header) <= LIMIT
    exact = exact and re.fullmatch(rf"(?i:{scheme}) +({TOKEN68})", header, re.ASCII)
    leading = SCHEME.match(header) if header is not None else None
    if header is None:
        assert found is None
    elif exact:
        assert found == exact.group(1)
    elif leading is not None and leading.group().lower() != scheme.lower():
        assert found is None  # another scheme's header: not ours to judge
    else:
        assert isinstance(found, InvalidRequest)


@pytest.mark.parametrize("authentication", [APIKeyAuthentication, OAuth2Authentication])
@given(
    header=st.one_of(st.none(), headers),
    query=queries,
    allow_query_param=st.booleans(),
)
def test_a_request_is_a_credential_none_or_a_documented_400(
    authentication, header, query, allow_query_param
):
    conf = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": allow_query_param}
    authenticator = authentication()
    scheme = "ApiKey" if authentication is APIKeyAuthentication else "Bearer"
    request = request_with(header, query)
    try:
        with override_settings(IINIIT_AUTH=conf):
            found = authenticator.read_credential(request)
    except InvalidRequest as exc:
        documented_refusal(exc, scheme)
    else:
        assert found is None or (len(found) <= LIMIT and re.fullmatch(TOKEN68, found))
        sent = [*query.get("api_key", []), *query.get("access_token", [])]
        if header is not None:
            sent.append(header.partition(" ")[2].lstrip(" "))
        assert found is None or found in sent
        # docs/http.md's rules for the query string: breaking one is a 400, not a credential.
        if found is not None and authentication is OAuth2Authentication:
            assert "access_token" not in query
            assert "api_key" not in query
        if found is not None and "api_key" in query and authentication is APIKeyAuthentication:
            assert allow_query_param
            assert header is None
            assert query["api_key"] == [found]


#: Headers that are well formed or absent, so that only the query string can be at fault.
good_headers = st.one_of(
    st.none(), st.builds("{}{}{}".format, ours, spaces, st.one_of(st.just(KEY), token68s))
)
params = st.lists(values, max_size=2)


@pytest.mark.parametrize("authentication", [APIKeyAuthentication, OAuth2Authentication])
@given(
    header=good_headers,
    api_key=params,
    access_token=params,
    allow_query_param=st.booleans(),
)
def test_the_query_string_rules(authentication, header, api_key, access_token, allow_query_param):
    # docs/http.md's 400 table, rule by rule: each broken rule is a 400 saying so.
    query = {
        name: sent for name, sent in [("api_key", api_key), ("access_token", access_token)] if sent
    }
    scheme = "ApiKey" if authentication is APIKeyAuthentication else "Bearer"
    in_header = header.partition(" ")[2].lstrip(" ") if header else None
    if header and header.split(" ")[0].lower() != scheme.lower():
        in_header = None
    broken = []
    if authentication is APIKeyAuthentication and api_key:
        expected = api_key[0]
        if not allow_query_param:
            broken.append(
                "Keys are not accepted in the query string here: send Authorization: ApiKey <key>."
            )
        if len(api_key) > 1:
            broken.append("The api_key parameter is given more than once.")
        if header is not None:
            broken.append(
                "Send one credential: an Authorization header and the api_key parameter were both given."
            )
        if len(api_key[0]) > LIMIT or not re.fullmatch(TOKEN68, api_key[0]):
            broken.append("The api_key parameter is not a well-formed key.")
    elif authentication is OAuth2Authentication:
        expected = in_header
        if access_token:
            broken.append(
                "Access tokens are not accepted in the query string: send Authorization: Bearer <token>."
            )
        if in_header is not None and api_key:
            broken.append(
                "Send one credential: a bearer token and the api_key parameter were both given."
            )
    else:
        expected = in_header
    conf = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": allow_query_param}
    try:
        with override_settings(IINIIT_AUTH=conf):
            found = authentication().read_credential(request_with(header, query))
    except InvalidRequest as exc:
        documented_refusal(exc, scheme)
        refused = str(exc.detail["detail"])
    else:
        refused = None
    if not broken:
        assert refused is None
        assert found == expected
    else:
        assert refused is not None, f"accepted, though: {broken}"
        assert len(broken) > 1 or refused == broken[0]
