"""Keys in the query string stay out of logs, the technical 500 page and error e-mails."""

import http.client
import io
import logging
import pprint
import sys
import threading
from urllib.parse import urlencode

import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.urls import path
from django.utils.log import DEFAULT_LOGGING, AdminEmailHandler, ServerFormatter
from django.views import debug
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from rest_framework.request import Request
from rest_framework.test import APIClient
from rest_framework.views import APIView

from iiniit_auth import keys
from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.redaction import (
    REDACTED,
    ExceptionReporter,
    RedactKeysFilter,
    SafeExceptionReporterFilter,
    attach_filters,
    redact_query,
)


class BoomView(APIView):
    """Authenticates (the key in the query string works), then fails, quoting its URL."""

    required_scopes: list[str] = []

    def get(self, request):
        supplied = request.query_params["api_key"]
        raise RuntimeError(f"boom with {len(supplied)} characters at {request.get_full_path()}")


urlpatterns = [path("boom/", BoomView.as_view())]


def secret_of(plaintext):
    """The secret part of a key: what must never be shown, even cut out of the key."""
    start = plaintext.index("_") + 1 + keys.PUBLIC_ID_LENGTH
    return plaintext[start : start + keys.SECRET_LENGTH]


def assert_no_key(text, plaintext):
    assert plaintext not in text
    assert secret_of(plaintext) not in text


@pytest.fixture
def key():
    return keys.generate("iik").plaintext


# redact_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api_key=K", "api_key=********"),
        ("api_key=K&colour=teal", "api_key=********&colour=teal"),
        ("colour=teal&api_key=K&size=2", "colour=teal&api_key=********&size=2"),
        ("colour=teal&api_key=K", "colour=teal&api_key=********"),
        ("colour=teal;api_key=K;size=2", "colour=teal;api_key=********;size=2"),
        ("/api/ping/?api_key=K#top", "/api/ping/?api_key=********#top"),
        ("api_key=K&api_key=L", "api_key=********&api_key=********"),
        ("api%5Fkey=K&API_KEY=L", "api%5Fkey=********&API_KEY=********"),
        ("x=1&API_Key=K", "x=1&API_Key=********"),
        ("api_key%3DK", "api_key%3D********"),
        ("next=%2Fa%3Fapi_key%3DK%26b%3D1", "next=%2Fa%3Fapi_key%3D********%26b%3D1"),
        ("access_token=T&x=1", "access_token=********&x=1"),
        # What an OAuth 2.0 client authenticates or proves itself with.
        ("client_secret=S&x=1", "client_secret=********&x=1"),
        (
            "grant_type=refresh_token&refresh_token=R",
            "grant_type=refresh_token&refresh_token=********",
        ),
        (
            "code_verifier=V&token=T&password=P",
            "code_verifier=********&token=********&password=********",
        ),
        # ... and quoted by the repr of a dict or of a pair, as oauthlib holds a POST body.
        (
            "{'grant_type': 'refresh_token', 'refresh_token': 'R'}",
            "{'grant_type': 'refresh_token', 'refresh_token': '********'}",
        ),
        (
            "[('client_id', 'c'), ('client_secret', 'S')]",
            "[('client_id', 'c'), ('client_secret', '********')]",
        ),
        ('{"token": b"T", "api_key": "K"}', '{"token": b"********", "api_key": "********"}'),
        (
            "GET /api/ping/?api_key=K HTTP/1.1",
            "GET /api/ping/?api_key=******** HTTP/1.1",
        ),
        ("<WSGIRequest: GET '/p/?api_key=K'>", "<WSGIRequest: GET '/p/?api_key=********'>"),
        # Not the key parameter, or no value: unchanged.
        ("my_api_key=K&api.key=K&api_keys=K", "my_api_key=K&api.key=K&api_keys=K"),
        ("csrfmiddlewaretoken=C&tokens=T&x_token=T", "csrfmiddlewaretoken=C&tokens=T&x_token=T"),
        (
            "{'token_type': 'Bearer'} ('token', 'x') 'token', 'x'",
            "{'token_type': 'Bearer'} ('token', '********') 'token', 'x'",
        ),
        ("api_key=&api_key", "api_key=&api_key"),
        ("", ""),
    ],
)
def test_redact_query_parameter(text, expected):
    assert redact_query(text) == expected


def test_redact_query_removes_key_shaped_text_anywhere(key):
    text = f"pasted {key} into a ticket, and again: ({key}), token={key}"
    assert (
        redact_query(text) == "pasted ******** into a ticket, and again: (********), token=********"
    )


def test_redact_query_percent_encoded_key(key):
    encoded = key.replace("_", "%5F")
    assert redact_query(f"/p/?api_key={encoded}&x=1") == "/p/?api_key=********&x=1"


def test_redact_query_follows_settings(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "QUERY_PARAM_NAME": "key", "KEY_PREFIX": "acme"}
    acme = keys.generate("acme").plaintext
    assert redact_query(f"key=K&api_key=L&note={acme}") == "key=********&api_key=L&note=********"


def test_redact_query_survives_invalid_settings(settings, key):
    settings.IINIIT_AUTH = {"KEY_PREFIX": "Not a prefix!"}
    # Logging and error reports must keep working; E001 reports the setting.
    assert redact_query(f"api_key=K {key}") == "api_key=******** ********"


# Logging


def redact_filters(name):
    return [f for f in logging.getLogger(name).filters if isinstance(f, RedactKeysFilter)]


def test_filters_are_attached_at_start_up_and_only_once():
    # IiniitAuthConfig.ready() has run: no LOGGING in tests/settings.py mentions the filter.
    assert len(redact_filters("django.server")) == 1
    assert len(redact_filters("django.request")) == 1
    attach_filters()
    attach_filters()
    assert len(redact_filters("django.server")) == 1
    assert len(redact_filters("django.request")) == 1


@pytest.fixture
def server_log():
    """Captures django.server output, formatted as Django's default LOGGING formats it."""
    config = DEFAULT_LOGGING["formatters"]["django.server"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ServerFormatter(config["format"], style=config["style"]))
    logger = logging.getLogger("django.server")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_runserver_request_line_is_redacted(server_log, key):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    # runserver's own server and request handler, on a free port, for one request.
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=False)
    server.set_app(app)
    server.timeout = 10
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        connection.request("GET", f"/api/ping/?api_key={key}&colour=teal")
        response = connection.getresponse()
        assert response.read() == b"ok"
        thread.join(10)
    finally:
        connection.close()
        server.server_close()
    output = server_log.getvalue()
    assert_no_key(output, key)
    assert '"GET /api/ping/?api_key=********&colour=teal HTTP/1.1" 200 2' in output


def test_server_record_keeps_its_format_and_level(server_log, key):
    logger = logging.getLogger("django.server")
    line = f"GET /x/?colour=teal&api_key={key} HTTP/1.1"
    logger.warning('"%s" %s %s', line, "401", "58", extra={"status_code": 401, "server_time": "t"})
    assert server_log.getvalue() == '[t] "GET /x/?colour=teal&api_key=******** HTTP/1.1" 401 58\n'


def record(msg, args):
    return logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, None)


def test_filter_merges_the_arguments_of_a_message_that_quotes_a_key(rf, key):
    placeholder = record("GET /x/?api_key=%s took %d ms", (key, 12))
    named = record("%(path)s took %(ms)d ms", ({"path": f"/p/?api_key={key}", "ms": 12},))
    request = record("Failed on %s", (rf.get("/p/", {"api_key": key}),))
    plain = record(f"saw {key}", None)
    for item in (placeholder, named, request, plain):
        assert RedactKeysFilter().filter(item) is True
        assert item.args == ()
    assert placeholder.getMessage() == "GET /x/?api_key=******** took 12 ms"
    assert named.getMessage() == "/p/?api_key=******** took 12 ms"
    assert request.getMessage() == "Failed on <WSGIRequest: GET '/p/?api_key=********'>"
    assert plain.getMessage() == "saw ********"


def test_filter_leaves_records_without_a_key_alone():
    item = record("Not Found: %s", ("/p/?colour=teal",))
    assert RedactKeysFilter().filter(item) is True
    assert item.msg == "Not Found: %s"
    assert item.args == ("/p/?colour=teal",)


def test_filter_redacts_the_parts_of_a_record_that_cannot_be_formatted(key):
    item = record("%s and %s", (f"/p/?api_key={key}",))
    assert RedactKeysFilter().filter(item) is True
    assert item.args == ("/p/?api_key=********",)


# Error reports


def test_safe_request_meta_hides_query_and_authorization(rf, key):
    request = rf.get(
        "/p/",
        QUERY_STRING=f"colour=teal&api_key={key}",
        REQUEST_URI=f"/p/?colour=teal&api_key={key}",
        RAW_URI=f"/p/?api_key={key}",
        HTTP_REFERER=f"https://example.com/p/?api_key={key}",
        HTTP_AUTHORIZATION=f"ApiKey {key}",
    )
    meta = SafeExceptionReporterFilter().get_safe_request_meta(request)
    assert_no_key(repr(meta), key)
    assert meta["QUERY_STRING"] == f"colour=teal&api_key={REDACTED}"
    assert meta["RAW_URI"] == f"/p/?api_key={REDACTED}"
    assert meta["HTTP_AUTHORIZATION"] == SafeExceptionReporterFilter.cleansed_substitute
    assert meta["REQUEST_METHOD"] == "GET"


def test_frame_variables_are_redacted_whatever_debug_says(settings, rf, key):
    settings.DEBUG = True
    request = rf.get("/p/", {"api_key": key, "colour": "teal"})

    def fail(request, supplied):
        url = request.get_full_path()
        query = request.GET
        raw = request.META["QUERY_STRING"].encode()
        raise RuntimeError(f"{len(url)} {len(query)} {len(supplied)} {len(raw)}")

    try:
        fail(request, key)
    except RuntimeError:
        frame = sys.exc_info()[2].tb_next.tb_frame
    variables = dict(SafeExceptionReporterFilter().get_traceback_frame_variables(request, frame))
    assert set(variables) == {"request", "supplied", "url", "query", "raw"}
    assert variables["supplied"] == REDACTED
    assert variables["raw"] == f"api_key={REDACTED}&colour=teal".encode()
    assert variables["url"] == f"/p/?api_key={REDACTED}&colour=teal"
    assert variables["query"].getlist("api_key") == [REDACTED]
    assert variables["query"].getlist("colour") == ["teal"]
    assert_no_key(repr(variables), key)
    # The live request is untouched: only what the report prints is redacted.
    assert request.GET["api_key"] == key


def test_reporter_redacts_even_with_djangos_filter(rf, key):
    request = rf.get("/p/", {"api_key": key, "colour": "teal"})
    request.exception_reporter_filter = debug.SafeExceptionReporterFilter()
    try:
        raise RuntimeError(f"failed on {request.get_full_path()}")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    for text in (reporter.get_traceback_html(), reporter.get_traceback_text()):
        assert_no_key(text, key)
        assert "teal" in text
        assert f"failed on /p/?api_key={REDACTED}" in text.replace("&amp;", "&")


@pytest.fixture
def request_log():
    """Captures django.request output with a plain formatter (tracebacks included)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_technical_500_page_has_no_key(settings, issue, request_log):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = True
    _key, plaintext = issue()
    client = APIClient(raise_request_exception=False)
    response = client.get("/boom/", {"api_key": plaintext, "colour": "teal"})
    assert response.status_code == 500
    page = response.content.decode()
    assert_no_key(page, plaintext)
    # The rest of the page is there: the error, the request URL, GET, META, frame variables.
    assert "RuntimeError" in page
    assert (
        f"boom with {len(plaintext)} characters at /boom/?api_key={REDACTED}&amp;colour=teal"
        in page
    )
    assert f"http://testserver/boom/?api_key={REDACTED}&amp;colour=teal" in page
    assert "colour" in page
    assert "teal" in page
    assert "QUERY_STRING" in page
    assert "supplied" in page
    assert "BoomView" in page
    # django.request logged the failure with its traceback, which quotes the URL.
    log = request_log.getvalue()
    assert_no_key(log, plaintext)
    assert "ERROR Internal Server Error: /boom/" in log
    assert (
        f"RuntimeError: boom with {len(plaintext)} characters at /boom/?api_key={REDACTED}" in log
    )


def test_admin_error_emails_have_no_key(settings, admins, issue, mailoutbox):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    _key, plaintext = issue()
    # DEFAULT_LOGGING mails admins in text; a second handler mails the HTML report as well.
    html_handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("django.request")
    logger.addHandler(html_handler)
    try:
        client = APIClient(raise_request_exception=False)
        response = client.get("/boom/", {"api_key": plaintext, "colour": "teal"})
    finally:
        logger.removeHandler(html_handler)
    assert response.status_code == 500
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert_no_key(message.subject, plaintext)
        assert "Internal Server Error: /boom/" in message.subject
        assert_no_key(message.body, plaintext)
        assert (
            f"Request URL: http://testserver/boom/?api_key={REDACTED}&colour=teal" in message.body
        )
        assert "api_key = '********'" in message.body
        assert "colour = 'teal'" in message.body
        assert "RuntimeError" in message.body
    html = [content for m in mailoutbox for content, mimetype in m.alternatives]
    assert len(html) == 1
    assert_no_key(html[0], plaintext)
    assert "teal" in html[0]
    assert "supplied" in html[0]


def test_a_failure_inside_authentication_hides_the_key_in_every_frame(settings, rf, issue):
    # Django's own filter (the project may not use ours) hides what @sensitive_variables names.
    class DatabaseDown(APIKeyAuthentication):
        def lookup(self, public_id):
            raise RuntimeError("the database is down")

    settings.DEBUG = False  # Django's filter cleanses only then
    _stored, plaintext = issue()
    request = Request(
        rf.get("/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}"),
        authenticators=[DatabaseDown(), OAuth2Authentication()],
    )
    with pytest.raises(RuntimeError) as raised:
        request.user  # noqa: B018 (DRF authenticates on first access)

    frames, tb = (
        {},
        raised.tb.tb_next,
    )  # from DRF's Request.user down, this test's own frame left out
    while tb is not None:
        frame = tb.tb_frame
        frames[frame.f_code.co_name] = dict(
            debug.SafeExceptionReporterFilter().get_traceback_frame_variables(
                request._request, frame
            )
        )
        tb = tb.tb_next
    assert frames["authenticate"]["key"] == debug.SafeExceptionReporterFilter.cleansed_substitute
    assert "public_id" in frames["lookup"]
    for variables in frames.values():
        assert plaintext not in repr(variables)


def test_oauth_client_secrets_are_hidden_in_error_reports_whatever_debug_says(settings, rf):
    """A POST to the token endpoint (django-oauth-toolkit marks not all of it sensitive): the
    POST table, and the dicts and pairs oauthlib keeps the body in, show no secret."""
    settings.DEBUG = True
    # Made, not written: the report quotes this test's source lines around each frame.
    secrets = {"client_secret": "-".join(["s3cr3t", "client"]), "refresh_token": "r3fr3sh" * 2}
    form = {"grant_type": "refresh_token", "client_id": "c1", **secrets}
    request = rf.post("/o/token/", urlencode(form), "application/x-www-form-urlencoded")

    def fail(request):
        body = request.body.decode()
        params = dict(request.POST.items())
        pairs = list(request.POST.items())
        raise RuntimeError(f"{len(params)} {len(pairs)} {len(body)}")

    try:
        fail(request)
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    for text in (reporter.get_traceback_html(), reporter.get_traceback_text()):
        for secret in secrets.values():
            assert secret not in text
        assert "c1" in text  # the client id is not a secret


# -- what authentication keeps on a request ------------------------------------------------------


class FailingReader(APIKeyAuthentication):
    """An authentication class of a project's own whose reading fails (a bug of its own)."""

    def read_credential(self, request):
        raise RuntimeError("the reader failed")


def bearer_request(rf, oauth_token, *authenticators):
    """A DRF request sending a real bearer token, with ``authenticators``.

    The token's value is read back from the request only after a report is rendered, so that
    no frame of the test itself holds it.
    """
    _token, value = oauth_token()
    return Request(
        rf.get("/orders/", HTTP_AUTHORIZATION=f"Bearer {value}"), authenticators=authenticators
    )


def token_of(request):
    return request._request.META["HTTP_AUTHORIZATION"].split()[1]


def test_the_credentials_a_request_has_read_never_show_in_its_attributes(rf, oauth_token):
    request = bearer_request(rf, oauth_token, OAuth2Authentication(), APIKeyAuthentication())
    assert request.user.is_authenticated
    state = vars(request)
    assert any(type(each).__name__ == "_Reads" for each in state.values())

    # The bearer token is not key-shaped: no pattern catches it, only the mapping's repr.
    for text in (repr(state), str(state), pprint.pformat(state), repr(list(state.values()))):
        assert token_of(request) not in text


@pytest.mark.parametrize("debug", [False, True])
def test_a_failure_after_authentication_shows_no_bearer_token(settings, rf, oauth_token, debug):
    # A frame that holds the request's attributes (code inspecting its request, say) is
    # printed in the report, DEBUG or not.
    settings.DEBUG = debug
    request = bearer_request(rf, oauth_token, OAuth2Authentication(), APIKeyAuthentication())
    assert request.user.is_authenticated

    def fail(state):
        raise RuntimeError(f"failed with {len(state)} attributes")

    try:
        fail(vars(request))
    except RuntimeError:
        reporter = ExceptionReporter(request._request, *sys.exc_info())
    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()

    assert "<td>state</td>" in html  # the frame holding the attributes is in the report
    for page in (html, text):
        assert "failed with" in page
        assert token_of(request) not in page


def test_a_failure_while_reading_credentials_shows_no_bearer_token(settings, rf, oauth_token):
    # The bearer class has read the token when the next class's reading fails: the frame of
    # read_once(), holding what has been read, is in the report.
    settings.DEBUG = False
    request = bearer_request(rf, oauth_token, OAuth2Authentication(), FailingReader())

    with pytest.raises(RuntimeError, match="the reader failed") as raised:
        request.user  # noqa: B018 (DRF authenticates on first access)
    reporter = ExceptionReporter(request._request, raised.type, raised.value, raised.tb)
    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()

    assert "read_once" in [frame["function"] for frame in reporter.get_traceback_frames()]
    for page in (html, text):
        assert "the reader failed" in page
        assert token_of(request) not in page


# -- exception notes ----------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_a_key_in_an_exception_note_is_redacted(settings, rf, key, debug):
    settings.DEBUG = debug
    request = rf.get("/p/", {"colour": "teal"})

    def fail(prefix_length):
        error = RuntimeError("the upstream call failed")
        error.add_note(f"retried with {keys.generate('iik').plaintext[:prefix_length]}")
        raise error

    try:
        fail(len(key))
    except RuntimeError as error:
        error.add_note(f"the caller sent {key}")
        reporter = ExceptionReporter(request, *sys.exc_info())
    for page in (reporter.get_traceback_html(), reporter.get_traceback_text()):
        assert_no_key(page, key)
        assert f"the caller sent {REDACTED}" in page
        assert "the upstream call failed" in page


def marked_secret():
    # Made, not written, and held by no frame of the report but the sensitive one: the report
    # shows each frame's source lines and variables.
    return "-".join(["marked", "sensitive"])


def test_what_is_marked_sensitive_is_hidden_with_debug_on_too(settings, rf):
    settings.DEBUG = True
    request = rf.post("/p/", {"pin": marked_secret(), "colour": "teal"})
    sensitive_post_parameters("pin")(lambda request: None)(request)

    @sensitive_variables("held")
    def fail():
        held = marked_secret()
        raise RuntimeError(f"failed after {len(held)} characters")

    try:
        fail()
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    pages = (reporter.get_traceback_html(), reporter.get_traceback_text())

    for page in pages:
        assert marked_secret() not in page
        assert "teal" in page
