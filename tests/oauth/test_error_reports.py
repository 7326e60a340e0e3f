"""An OAuth request that fails midway shows none of its secrets in the error report.

The failure is real: the database refuses a statement (as when the connection is lost), or a
project's receiver of ``oauth_token_issued`` raises. The report is Django's technical 500 page
with DEBUG on, and the admins' e-mail (text and HTML) with it off, each rendered through
iiniit_auth's reporter and filter (tests/settings.py sets them, as the installation guide
does). The frames of django-oauth-toolkit and oauthlib hold the client secret, the
``Authorization`` header, the code and the tokens in variables of their own.
"""

import base64
import logging
import re
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils.log import AdminEmailHandler
from oauthlib.oauth2 import WebApplicationClient

from iiniit_auth import signals
from tests.oauth.conftest import REDIRECT_URI

pytestmark = pytest.mark.django_db


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@contextmanager
def database_refuses(pattern):
    """Statements matching ``pattern`` fail as they would on a lost connection."""
    matches = re.compile(pattern).search

    def refuse(execute, sql, params, many, context):
        if matches(sql):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@contextmanager
def issuing_fails():
    def fail(**kwargs):
        raise RuntimeError("a receiver of the project failed")

    signals.oauth_token_issued.connect(fail, dispatch_uid="fails")
    try:
        yield
    finally:
        signals.oauth_token_issued.disconnect(dispatch_uid="fails")


def code_and_verifier(client, user, application):
    """A fresh authorization code (consent approved) and its PKCE verifier."""
    oauth = WebApplicationClient(application.client_id)
    verifier = oauth.create_code_verifier(64)
    url = oauth.prepare_request_uri(
        "https://testserver/o/authorize/",
        redirect_uri=REDIRECT_URI,
        scope="orders:read",
        state="s1",
        code_challenge=oauth.create_code_challenge(verifier, "S256"),
        code_challenge_method="S256",
    )
    client.force_login(user)
    page = client.get(url)
    fields = {name: value or "" for name, value in page.context["form"].initial.items()}
    answer = client.post("/o/authorize/", {**fields, "allow": "on"})
    (code,) = parse_qs(urlsplit(answer["Location"]).query)["code"]
    client.logout()
    return code, verifier


def exchange(client, application, code, verifier):
    return client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": application.client_id,
            "code_verifier": verifier,
        },
    )


def tokens(client, user, application):
    answer = exchange(client, application, *code_and_verifier(client, user, application))
    return answer.json()["access_token"], answer.json()["refresh_token"]


def client_credentials_basic(client, user, public_app, service):
    with database_refuses(r'FROM "oauth2_provider_application"'):
        answer = client.post(
            "/o/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(service.client_id, service.plaintext_secret),
        )
    return answer, {}


def client_credentials_in_body(client, user, public_app, service):
    with database_refuses(r'FROM "oauth2_provider_application"'):
        answer = client.post(
            "/o/token/",
            {
                "grant_type": "client_credentials",
                "client_id": service.client_id,
                "client_secret": service.plaintext_secret,
            },
        )
    return answer, {}


def code_exchange_database(client, user, public_app, service):
    code, verifier = code_and_verifier(client, user, public_app)
    with database_refuses(r'INSERT INTO "oauth2_provider_accesstoken"'):
        answer = exchange(client, public_app, code, verifier)
    return answer, {"code": code, "verifier": verifier}


def code_exchange_receiver(client, user, public_app, service):
    code, verifier = code_and_verifier(client, user, public_app)
    with issuing_fails():
        answer = exchange(client, public_app, code, verifier)
    return answer, {"code": code, "verifier": verifier}


def refresh(client, user, public_app, service):
    access, refresh_token = tokens(client, user, public_app)
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": public_app.client_id,
    }
    with database_refuses(r'FROM "oauth2_provider_refreshtoken"'):
        answer = client.post("/o/token/", data)
    return answer, {"access": access, "refresh": refresh_token}


def revocation(client, user, public_app, service):
    _access, refresh_token = tokens(client, user, public_app)
    data = {
        "token": refresh_token,
        "token_type_hint": "refresh_token",
        "client_id": public_app.client_id,
    }
    with database_refuses(r'FROM "oauth2_provider_refreshtoken"'):
        answer = client.post("/o/revoke_token/", data)
    return answer, {"refresh": refresh_token}


def introspection(client, user, public_app, service):
    access, _refresh = tokens(client, user, public_app)
    with database_refuses(r'FROM "oauth2_provider_accesstoken"'):
        answer = client.post(
            "/o/introspect/",
            {"token": access},
            HTTP_AUTHORIZATION=basic(service.client_id, service.plaintext_secret),
        )
    return answer, {"access": access}


@pytest.mark.parametrize("debug", [True, False], ids=["technical 500 page", "admin e-mails"])
@pytest.mark.parametrize(
    "fails",
    [
        client_credentials_basic,
        client_credentials_in_body,
        code_exchange_database,
        code_exchange_receiver,
        refresh,
        revocation,
        introspection,
    ],
)
def test_a_failed_oauth_request_reports_none_of_its_secrets(
    settings, admins, mailoutbox, user, public_app, service, fails, debug
):
    settings.DEBUG = debug
    with_html = AdminEmailHandler(include_html=True)
    logging.getLogger("django.request").addHandler(with_html)
    client = Client(raise_request_exception=False)
    try:
        answer, secrets = fails(client, user, public_app, service)
    finally:
        logging.getLogger("django.request").removeHandler(with_html)
    secrets["client secret"] = service.plaintext_secret
    secrets["Basic credentials"] = basic(service.client_id, service.plaintext_secret).split()[1]

    assert answer.status_code == 500
    if debug:
        reports = [answer.content.decode()]
        assert "Local vars" in reports[0]  # the frames are there, their secrets are not
    else:
        assert len(mailoutbox) == 2
        reports = [message.body for message in mailoutbox] + [
            content for message in mailoutbox for content, _type in message.alternatives
        ]
    shown = {
        name: report[max(0, report.index(value) - 120) : report.index(value)]
        for report in reports
        for name, value in secrets.items()
        if value in report
    }
    assert shown == {}
