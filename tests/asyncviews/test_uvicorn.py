"""A real ASGI server (uvicorn) in front of the async views: the answers of the test client
hold over HTTP, through uvicorn's event loop.

The server runs in a thread of its own, so its requests use connections of their own: the
test's rows must be committed for them to see (``transactional_db``), on SQLite's shared
in-memory test database as on PostgreSQL.
"""

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import uvicorn
from django.core.signals import request_started
from django.db import connections

from tests.asyncviews.asgi import application

pytestmark = pytest.mark.urls("tests.asyncviews.urls")


@pytest.fixture
def shared_memory_database(transactional_db):
    """On SQLite's in-memory test database, every request's thread uses this thread's
    connection, as Django's live server does: Django never closes an in-memory database's
    connection, so each request's thread would leave one open behind it."""
    shared = connections["default"]
    if shared.vendor != "sqlite" or not shared.is_in_memory_db():
        yield
        return

    def share(**kwargs):
        connections["default"] = shared

    shared.inc_thread_sharing()
    request_started.connect(share)
    yield
    request_started.disconnect(share)
    shared.dec_thread_sharing()


@pytest.fixture
def server(shared_memory_database):
    # Bound here and handed over: no other process can take the port in between.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(application, lifespan="off", log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert thread.is_alive(), "uvicorn did not start"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)
    listener.close()


def fetch(url, headers):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (a loopback URL)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


@pytest.mark.parametrize("path", ["/async/", "/plain-async/"])
def test_uvicorn_serves_the_answers_of_docs_http(server, issue, oauth_token, path):
    key, plaintext = issue()
    reports_only = issue(scopes=["reports:read"])[1]
    _token, bearer = oauth_token()

    status, headers, body = fetch(server + path, {})
    assert status == 401
    assert headers["WWW-Authenticate"] == 'ApiKey realm="api", Bearer realm="api"'

    status, headers, body = fetch(server + path, {"Authorization": "ApiKey"})
    assert status == 400
    assert body["error"] == "invalid_request"

    status, headers, body = fetch(server + path, {"Authorization": "ApiKey iik_nope"})
    assert status == 401
    assert body == {"detail": "Invalid, expired or revoked credential.", "error": "invalid_token"}

    status, headers, body = fetch(server + path, {"Authorization": f"ApiKey {reports_only}"})
    assert status == 403
    assert body["missing_scopes"] == ["orders:read"]
    assert 'error="insufficient_scope"' in headers["WWW-Authenticate"]

    for credential in (f"ApiKey {plaintext}", f"Bearer {bearer}"):
        status, headers, body = fetch(server + path, {"Authorization": credential})
        assert status == 200
        assert body["user"] == key.owner.username

    key.revoke()
    status, headers, body = fetch(server + path, {"Authorization": f"ApiKey {plaintext}"})
    assert status == 401
