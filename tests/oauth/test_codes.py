"""iiniit_auth.oauth.codes through the validator: a code buys one token pair, and a code
presented again revokes what it bought (RFC 6749 sections 4.1.2 and 10.5). End to end with a
real client (requests-oauthlib) against the live server; the interleavings two requests at
once can take, step by step with django-oauth-toolkit's own validator and a real redemption.
Real concurrency is in test_code_races.py."""

import base64
import hashlib
import secrets
from datetime import timedelta

import pytest
import requests
from django.db import transaction
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from iiniit_auth import signals
from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.models import RedeemedCode, RevokedVia
from iiniit_auth.oauth.tokens import revoke_token
from iiniit_auth.oauth.validators import OAuth2Validator

from .conftest import REDIRECT_URI, local

pytestmark = pytest.mark.django_db(transaction=True)
AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()


@pytest.fixture
def revocations():
    """What ``oauth_token_revoked`` sends, receiver by receiver."""
    sent = []

    def receive(sender, **kwargs):
        sent.append(kwargs)

    signals.oauth_token_revoked.connect(receive)
    yield sent
    signals.oauth_token_revoked.disconnect(receive)


def redeem(server, browser, application):
    """The authorization-code flow; returns the client session, the redirect and the token."""
    session = server.session(application)
    location = server.consent(browser, session)
    token = session.fetch_token(
        server.token_url, authorization_response=location, include_client_id=True
    )
    return session, location, token


def present_again(server, application, session, location):
    """The same client redeeming the same code again: refused with invalid_grant."""
    again = server.session(application)
    again._code_verifier = session._code_verifier
    with pytest.raises(OAuth2Error) as raised:
        again.fetch_token(server.token_url, authorization_response=location, include_client_id=True)
    assert raised.value.error == "invalid_grant"


def api(server, token):
    session = local(requests.Session())
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    return session.get(f"{server.url}/api/orders/").status_code


def test_a_code_presented_again_revokes_its_pair(server, browser, public_app, revocations):
    session, location, token = redeem(server, browser, public_app)
    issued = CredentialEvent.objects.get(event="issued")

    present_again(server, public_app, session, location)

    assert api(server, token) == 401
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    refused = CredentialEvent.objects.get(event="refused")
    assert refused.kind == "oauth_token"
    assert refused.credential_id == issued.credential_id  # the access token issued from it
    assert refused.details == {
        "reason": "code_reused",
        "application": public_app.client_id,
        "grant_revoked": True,
    }
    assert refused.ip == "127.0.0.1"
    pair = {issued.credential_id, issued.details["refresh_token"]}
    revoked = CredentialEvent.objects.filter(event="revoked")
    assert {event.credential_id for event in revoked} == pair
    assert {event.details["via"] for event in revoked} == {"reuse_detection"}
    assert {(sent["credential_id"], sent["via"]) for sent in revocations} == {
        (credential_id, RevokedVia.REUSE_DETECTION) for credential_id in pair
    }
    assert {sent["application"] for sent in revocations} == {public_app}


def test_the_code_is_remembered_by_its_digest_only(server, browser, public_app):
    _session, location, token = redeem(server, browser, public_app)
    code = location.split("code=")[1].split("&")[0]

    redeemed = RedeemedCode.objects.get()

    assert redeemed.digest == hashlib.sha256(code.encode()).hexdigest()
    assert redeemed.application == public_app
    assert redeemed.access_token_pk == AccessToken.objects.get().pk
    assert redeemed.token_family == RefreshToken.objects.get().token_family
    assert redeemed.expires == AccessToken.objects.get().expires
    assert not get_grant_model().objects.exists()
    stored = repr(list(RedeemedCode.objects.values())) + repr(
        list(CredentialEvent.objects.values())
    )
    for secret in (code, token["access_token"], token["refresh_token"]):
        assert secret not in stored


def test_a_code_presented_after_a_refresh_revokes_the_refreshed_pair(server, browser, public_app):
    session, location, _token = redeem(server, browser, public_app)
    refreshed = session.refresh_token(server.token_url, client_id=public_app.client_id)
    assert api(server, refreshed) == 200

    present_again(server, public_app, session, location)

    assert api(server, refreshed) == 401
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_a_code_presented_again_after_its_pair_was_revoked_revokes_nothing(
    server, browser, public_app, revocations
):
    session, location, _token = redeem(server, browser, public_app)
    revoke_token(AccessToken.objects.get())
    revocations.clear()

    present_again(server, public_app, session, location)

    assert CredentialEvent.objects.get(event="refused").details == {
        "reason": "code_reused",
        "application": public_app.client_id,
        "grant_revoked": False,
    }
    assert CredentialEvent.objects.filter(event="revoked").count() == 2  # the earlier ones
    assert revocations == []


def test_another_application_presenting_the_code_revokes_nothing(server, browser, register):
    owner, other = register(), register(name="Other client")
    session, location, token = redeem(server, browser, owner)

    present_again(server, other, session, location)

    assert api(server, token) == 200
    assert not CredentialEvent.objects.filter(event__in=["refused", "revoked"]).exists()


# -- two requests with one code, their steps interleaved --------------------------------------


def stored_code(application, user, *, resource=()):
    """A code as django-oauth-toolkit stores one at consent, with its PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    code = secrets.token_urlsafe(30)
    get_grant_model().objects.create(
        application=application,
        user=user,
        code=code,
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri=REDIRECT_URI,
        scope="orders:read",
        code_challenge=base64.urlsafe_b64encode(digest).decode("ascii").rstrip("="),
        code_challenge_method="S256",
        resource=list(resource),
    )
    return code, verifier


def redeem_with_client(application, code, verifier):
    return Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": application.client_id,
            "code_verifier": verifier,
        },
        secure=True,
    )


def validated(application, code):
    """A token request for ``code`` that has passed the validator's check of the code."""
    request = Request("https://testserver/o/token/", http_method="POST")
    request.client, request.code, request.grant_type = application, code, "authorization_code"
    request.redirect_uri = REDIRECT_URI
    assert OAuth2Validator().validate_code(application.client_id, code, application, request)
    return request


READS_AFTER_VALIDATION = {
    "get_code_challenge": lambda validator, request: validator.get_code_challenge(
        request.code, request
    ),
    "get_code_challenge_method": lambda validator, request: validator.get_code_challenge_method(
        request.code, request
    ),
    "confirm_redirect_uri": lambda validator, request: validator.confirm_redirect_uri(
        request.client_id, request.code, REDIRECT_URI, request.client, request
    ),
}


@pytest.mark.parametrize("read", sorted(READS_AFTER_VALIDATION))
def test_a_code_redeemed_between_two_reads_of_another_request_is_invalid_grant(
    public_app, user, read
):
    code, verifier = stored_code(public_app, user)
    late = validated(public_app, code)

    assert redeem_with_client(public_app, code, verifier).status_code == 200
    with pytest.raises(errors.InvalidGrantError):
        READS_AFTER_VALIDATION[read](OAuth2Validator(), late)

    assert AccessToken.objects.count() == 1
    refused = CredentialEvent.objects.get(event="refused")
    assert refused.details["simultaneous"] is True
    assert refused.details["grant_revoked"] is False


def test_of_two_requests_validated_together_only_the_first_saves_a_pair(public_app, user):
    code, verifier = stored_code(public_app, user)
    late = validated(public_app, code)

    assert redeem_with_client(public_app, code, verifier).status_code == 200
    token = {
        "access_token": secrets.token_urlsafe(30),
        "refresh_token": secrets.token_urlsafe(30),
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "orders:read",
    }
    with pytest.raises(errors.InvalidGrantError):
        OAuth2Validator().save_bearer_token(token, late)

    assert AccessToken.objects.count() == RefreshToken.objects.count() == 1
    assert AccessToken.objects.get().pk == RedeemedCode.objects.get().access_token_pk


def test_a_replay_is_answered_as_docs_oauth_md_shows(public_app, user):
    code, verifier = stored_code(public_app, user)
    assert redeem_with_client(public_app, code, verifier).status_code == 200

    again = redeem_with_client(public_app, code, verifier)

    assert again.status_code == 400
    assert again.content == b'{"error": "invalid_grant"}'


def test_a_code_granted_for_a_resource_gives_a_token_for_it_alone(public_app, user):
    code, verifier = stored_code(public_app, user, resource=["https://api.example.com/"])

    assert redeem_with_client(public_app, code, verifier).status_code == 200

    assert AccessToken.objects.get().resource == ["https://api.example.com/"]


def test_a_token_deleted_before_its_response_is_invalid_grant_not_a_500(public_app, user):
    # What a replay arriving as the redemption commits does: revoke the pair at once.
    code, verifier = stored_code(public_app, user)

    def revoke_on_commit(sender, token, **kwargs):
        transaction.on_commit(lambda: AccessToken.objects.filter(pk=token.pk).delete())

    signals.oauth_token_issued.connect(revoke_on_commit)
    try:
        answer = redeem_with_client(public_app, code, verifier)
    finally:
        signals.oauth_token_issued.disconnect(revoke_on_commit)

    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant"}
    assert answer["Cache-Control"] == "no-store"
