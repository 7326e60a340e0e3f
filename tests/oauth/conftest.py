"""Fixtures for the OAuth 2.0 authorization server: applications with policies, a signed-in
browser, and a real OAuth 2.0 client (requests-oauthlib) pointed at the live server."""

import threading
import time
from html.parser import HTMLParser

import pytest
import requests
from django.conf import settings
from django.test import Client
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model
from requests_oauthlib import OAuth2Session

from iiniit_auth.oauth.models import ApplicationPolicy

#: A loopback redirect URI (RFC 8252 section 7.3): nothing listens there, the tests read the
#: code off the Location header.
REDIRECT_URI = "http://127.0.0.1:8765/callback"


class FormFields(HTMLParser):
    """The inputs of the consent form (``id="authorizationForm"``), by name."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self.in_form = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == "authorizationForm":
            self.in_form = True
        elif tag == "input" and self.in_form and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def local(session):
    """``session``, talking to the live server directly, one request per connection.

    No proxy from the environment. And no keep-alive: a server thread waiting on an idle
    connection would outlive the test, and with it the live server's in-memory SQLite
    connection, shared with that thread only while the server runs.
    """

    def read_and_close(response, *args, **kwargs):
        response.content  # noqa: B018 - read now, so the connection goes back to its pool
        for adapter in session.adapters.values():
            adapter.close()
        return response

    session.trust_env = False
    # The server then closes the connection after answering (its thread ends with it)...
    session.headers["Connection"] = "close"
    # ...and the client never tries to reuse one the server is closing.
    session.hooks["response"].append(read_and_close)
    return session


@pytest.fixture(autouse=True)
def _served():
    """Wait, after the test, for the live server's request threads to end."""
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        thread.name.endswith("(process_request_thread)") for thread in threading.enumerate()
    ):
        time.sleep(0.005)


def consent_fields(html):
    parser = FormFields()
    parser.feed(html)
    return parser.fields


@pytest.fixture
def insecure_transport(monkeypatch):
    """oauthlib refuses http URLs; the live server is http on loopback, so allow it here only."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def register(user):
    """register(allowed=[...], **fields) -> application, with that policy (None: no policy).

    A public authorization-code application with the loopback redirect URI unless ``fields``
    say otherwise; ``application.plaintext_secret`` is its client secret.
    """

    def make(allowed=("orders:read", "orders:write"), **fields):
        Application = get_application_model()
        fields.setdefault("name", "Test client")
        fields.setdefault("user", user)
        fields.setdefault("client_type", Application.CLIENT_PUBLIC)
        fields.setdefault("authorization_grant_type", Application.GRANT_AUTHORIZATION_CODE)
        fields.setdefault("redirect_uris", REDIRECT_URI)
        secret = generate_client_secret()
        application = Application.objects.create(client_secret=secret, **fields)
        application.plaintext_secret = secret
        if allowed is not None:
            ApplicationPolicy.objects.set_allowed_scopes(application, allowed)
        return application

    return make


@pytest.fixture
def public_app(register):
    """A public authorization-code + PKCE application allowed orders:read and orders:write."""
    return register()


@pytest.fixture
def service(register):
    """A confidential client-credentials application allowed orders:read only."""
    Application = get_application_model()
    return register(
        allowed=["orders:read"],
        name="Billing service",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
    )


@pytest.fixture
def browser(live_server, user):
    """A requests session signed in as ``user`` (the session cookie of a real login)."""
    client = Client()
    client.force_login(user)
    session = local(requests.Session())
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    return session


class Server:
    """The live server's OAuth endpoints, and the steps of the flows."""

    def __init__(self, url):
        self.url = url
        self.authorize_url = f"{url}/o/authorize/"
        self.token_url = f"{url}/o/token/"
        self.revoke_url = f"{url}/o/revoke_token/"
        self.introspect_url = f"{url}/o/introspect/"

    def session(self, application, scope=("orders:read",), redirect_uri=REDIRECT_URI, pkce="S256"):
        """A requests-oauthlib client for ``application`` (PKCE S256 unless ``pkce=None``)."""
        return local(
            OAuth2Session(
                application.client_id, redirect_uri=redirect_uri, scope=list(scope), pkce=pkce
            )
        )

    def consent(self, browser, session, allow=True, **params):
        """Open the authorization URL as the signed-in user and answer the consent form.

        Returns the Location the server redirects to (the client's redirect URI).
        """
        url, _state = session.authorization_url(self.authorize_url, **params)
        page = browser.get(url, allow_redirects=False)
        assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
        fields = consent_fields(page.text)
        if allow:
            fields["allow"] = "on"
        answer = browser.post(page.url, data=fields, allow_redirects=False)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def authorize(self, browser, application, scope=("orders:read",)):
        """The whole authorization-code + PKCE flow; returns ``(session, token)``."""
        session = self.session(application, scope=scope)
        location = self.consent(browser, session)
        token = session.fetch_token(
            self.token_url, authorization_response=location, include_client_id=True
        )
        return session, token


@pytest.fixture
def server(live_server, insecure_transport):
    return Server(live_server.url)
