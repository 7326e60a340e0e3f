"""Keep keys sent in the query string out of logs and error reports.

RFC 6750 section 2.3 and OWASP warn that URLs end up in server logs, error reports and Referer
headers. When ``IINIIT_AUTH["ALLOW_QUERY_PARAM"]`` is on, a key can arrive as ``?api_key=…``,
and Django prints the raw request line (``django.server``), the request URL, ``request.GET``,
``QUERY_STRING`` and the ``repr`` of the request (technical 500 page, admin error e-mail).
This module removes the key from each of those places:

* :func:`redact_query` rewrites text: the value of the key parameter becomes ``********``, and
  anything shaped like a key of this installation (``<prefix>_`` + 44 base62 characters) too;
* :class:`RedactKeysFilter` applies it to the records of the ``django.server`` and
  ``django.request`` loggers; :meth:`IiniitAuthConfig.ready` attaches it (:func:`attach_filters`);
* :class:`SafeExceptionReporterFilter` and :class:`ExceptionReporter` apply it to error reports
  (``DEFAULT_EXCEPTION_REPORTER_FILTER`` and ``DEFAULT_EXCEPTION_REPORTER``).

``access_token`` is redacted as well: django-oauth-toolkit's tokens are refused in the query
string (RFC 9700 section 2.5), but a client that sends one has still put it in the URL. So are
the other secrets an OAuth 2.0 client sends (``client_secret``, ``refresh_token``,
``code_verifier``, the ``token`` of revocation and introspection, ``password``): they belong in
a POST body, which error reports print, and a client that sends them in the URL puts them in
the request line. In error reports they are removed from the POST data whatever ``DEBUG``
says, and from frame variables both as ``name=value`` text and as ``'name': 'value'`` (the
``repr`` of the dicts and pairs django-oauth-toolkit and oauthlib hold them in).
"""

from __future__ import annotations

import logging
import re
from collections.abc import ItemsView, Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.views import debug
from rest_framework.request import Request

from iiniit_auth import keys
from iiniit_auth.conf import DEFAULTS, auth_settings

#: What a redacted value reads as.
REDACTED = "********"

#: The parameters whose values are secrets besides ``QUERY_PARAM_NAME``: a bearer token, and
#: what an OAuth 2.0 client authenticates or proves itself with (RFC 6749, 7009, 7636, 7662).
OTHER_SECRET_PARAMS = (
    "access_token",
    "refresh_token",
    "client_secret",
    "code_verifier",
    "token",
    "password",
)

#: Secrets an error report hides besides those: an authorization code (RFC 6749 section 4.1.3,
#: ``code=`` in a token request's body) and an ``Authorization`` header's value as oauthlib and
#: WSGI keep it, in a dict (``'Authorization': 'Basic …'``, ``'HTTP_AUTHORIZATION': …``: a
#: client's id and secret). Not in log lines: ``?code=`` there is as often a parameter of the
#: project's own.
REPORT_SECRET_PARAMS = ("code", "authorization", "http_authorization")

#: Variables hidden by name in the frames of iiniit_auth, django-oauth-toolkit and oauthlib,
#: whatever they hold: a token, code or secret has no shape to be found by.
SECRET_VARIABLES = frozenset(
    {
        *OTHER_SECRET_PARAMS,
        "code",
        "refresh_token_code",
        "secret",
        "plaintext",
        "credentials",
        "auth_string",
        "auth_string_decoded",
        "b64_decoded",
    }
)
#: The modules whose frames :data:`SECRET_VARIABLES` applies to.
SECRET_VARIABLE_MODULES = ("iiniit_auth", "oauth2_provider", "oauthlib")

#: The loggers that print request lines or carry the request: runserver's and Django's own.
LOGGERS = ("django.server", "django.request")


def _encoded(char: str) -> str:
    """A pattern for ``char`` written as itself or percent-encoded (``_`` or ``%5F``)."""
    return f"(?:{re.escape(char)}|%{ord(char):02X})"


class _Patterns(NamedTuple):
    """The compiled patterns for one (parameter names, key prefix) pair."""

    param: re.Pattern[str]
    #: A parameter as a ``repr`` quotes it: ``'name': 'value'`` (a dict) or ``('name', 'value')``.
    pair: re.Pattern[str]
    shape: re.Pattern[str]
    #: Text that holds a key contains one of these (lower-cased) or a "%"; text with none of
    #: them, which is most query strings and log lines, skips the patterns.
    clues: tuple[str, ...]

    def might_hold_key(self, text: str) -> bool:
        """Return False only when ``text`` certainly holds no key; cheaper than the patterns."""
        if "%" in text:  # a percent-encoded name: leave it to the patterns
            return True
        lowered = text.lower()
        return any(clue in lowered for clue in self.clues)


@lru_cache(maxsize=8)
def _patterns(names: tuple[str, ...], prefix: str) -> _Patterns:
    """Return the patterns for ``names`` and ``prefix``, compiled once per settings."""
    name = "|".join("".join(_encoded(c) for c in n) for n in names)
    # The name starts a parameter: after a separator (also percent-encoded, as in a URL nested
    # in another parameter) or anything that cannot be part of a longer parameter name.
    start = r"(?:(?<![0-9A-Za-z_.~%-])|(?<=%26)|(?<=%3B)|(?<=%3F))"
    # The value runs to the next separator: "&" and ";" (other servers split on it), a
    # fragment, whitespace (request lines), quotes and angle brackets (reprs, HTML).
    value = r"(?:(?!%26|%3B|%23)[^&;#\s'\"<>\\])+"
    plain = "|".join(re.escape(n) for n in names)
    return _Patterns(
        param=re.compile(rf"(?P<head>{start}(?:{name})(?:=|%3D))(?P<value>{value})", re.IGNORECASE),
        pair=re.compile(
            # After "(" the pair's "," follows the name, elsewhere a dict item's ":".
            rf"""(?P<head>(?P<open>\(\s*)?(?P<q>['"])(?:{plain})(?P=q)(?(open),|:)\s*[bu]?"""
            rf"""(?P<r>['"]))"""
            rf"""(?P<value>(?:(?!(?P=r))[^\\\n])+)""",
            re.IGNORECASE,
        ),
        shape=re.compile(rf"{re.escape(prefix)}_[0-9A-Za-z]{{{keys.BODY_LENGTH}}}"),
        clues=(*(n.lower() for n in names), f"{prefix}_"),
    )


def _current(report: bool = False) -> _Patterns:
    """The patterns of log lines; with ``report``, of error reports (:data:`REPORT_SECRET_PARAMS`)."""
    # Redaction runs inside logging and error reporting, which must never fail: with invalid
    # settings (system check E001 reports them) fall back to the defaults.
    try:
        conf = auth_settings()
        name, prefix = conf.QUERY_PARAM_NAME, conf.KEY_PREFIX
    except ImproperlyConfigured:
        name, prefix = DEFAULTS["QUERY_PARAM_NAME"], DEFAULTS["KEY_PREFIX"]
    extra = REPORT_SECRET_PARAMS if report else ()
    return _patterns((name, *OTHER_SECRET_PARAMS, *extra), prefix)


def _is_secret_param(name: str, report: bool = False) -> bool:
    """Whether the (decoded) query parameter ``name`` carries a secret."""
    return _current(report).param.fullmatch(f"{name}=x") is not None


def redact_query(text: str, report: bool = False) -> str:
    """Return ``text`` with every key in it replaced by ``********``.

    ``text`` is a URL, a query string, a request line or any other text. Replaced: the value of
    each secret parameter (``QUERY_PARAM_NAME`` and :data:`OTHER_SECRET_PARAMS`), wherever it
    stands, however often, with ``&`` or ``;`` separators and a percent-encoded name, ``=`` or
    separator, or quoted as a ``repr`` quotes a dict item or a pair; and anything shaped like a
    key of this installation (``<KEY_PREFIX>_`` + 44 base62 characters). With ``report``, for
    an error report, the parameters of :data:`REPORT_SECRET_PARAMS` too. Changes nothing else.
    """
    patterns = _current(report)
    if not patterns.might_hold_key(text):
        return text
    text = patterns.param.sub(rf"\g<head>{REDACTED}", text)
    text = patterns.pair.sub(rf"\g<head>{REDACTED}", text)
    return patterns.shape.sub(REDACTED, text)


def contains_key(text: str, report: bool = False) -> bool:
    """Return whether :func:`redact_query` would change ``text``."""
    patterns = _current(report)
    return patterns.might_hold_key(text) and any(
        pattern.search(text) is not None
        for pattern in (patterns.param, patterns.pair, patterns.shape)
    )


class _Redacted:
    """Stands in for an object whose ``repr`` quoted a key: prints the redacted ``repr``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def _redact_value(value: Any, report: bool = False) -> Any:
    """Return ``value``, or a copy or stand-in of it without keys, for display or logging
    (``report``: in an error report, see :func:`redact_query`)."""
    # type() rather than isinstance(): isinstance() asks a lazy object (request.user) for its
    # __class__, which evaluates it, maybe with a database query, inside an error report.
    kind = type(value)
    if issubclass(kind, str):
        return redact_query(value, report)
    if issubclass(kind, bytes | bytearray):
        text = bytes(value).decode("latin-1")
        redacted = redact_query(text, report)
        return value if redacted == text else redacted.encode("latin-1")
    if issubclass(kind, MultiValueDict):
        return _redact_multivaluedict(value, report)
    if issubclass(kind, HttpRequest | Request | dict | list | tuple):
        # A request's repr quotes the full path, query string included; a dict or a list of
        # pairs may hold a POST body's parameters (oauthlib's and django-oauth-toolkit's do).
        text = repr(value)
        redacted = redact_query(text, report)
        return value if redacted == text else _Redacted(redacted)
    return value


def _redact_multivaluedict(
    values: MultiValueDict[Any, Any], report: bool = False
) -> MultiValueDict[Any, Any]:
    if not any(
        _is_secret_param(str(k), report) or contains_key(str(v), report) for k, v in values.lists()
    ):
        return values
    cleansed = values.copy()  # a QueryDict stays a QueryDict, so it prints as one
    for name, items in values.lists():
        if _is_secret_param(str(name), report):
            cleansed.setlist(name, [REDACTED for _item in items])
        else:
            cleansed.setlist(name, [_redact_value(item, report) for item in items])
    return cleansed


def _redact_items(items: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """An error report's (name, value) pairs: a secret parameter's value hidden, keys removed."""
    return [
        (name, REDACTED if _is_secret_param(str(name), True) else _redact_value(value, True))
        for name, value in items
    ]


class RedactKeysFilter(logging.Filter):
    """A logging filter that removes keys from a record's message and traceback.

    Meant for the ``django.server`` logger (runserver logs the raw request line
    ``"GET /path?api_key=… HTTP/1.1"`` as an argument) and ``django.request``. A record whose
    message quotes a key gets the redacted message as ``record.msg`` and no ``args`` (the
    arguments are merged, so a placeholder can never be mistaken for a key's value); other
    records are left as they are. When the formatted traceback quotes a key, the redacted text
    goes to ``record.exc_text``, which formatters print instead of formatting ``exc_info``
    again. ``record.request`` is left alone: error e-mails need the real request, and
    :class:`ExceptionReporter` redacts what they print. Never drops a record (returns True).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # Arguments that do not fit the message: logging will report that itself, printing
            # the parts, so redact the parts.
            self.redact_parts(record)
        else:
            redacted = redact_query(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            redacted = redact_query(text)
            if redacted != text:
                record.exc_text = redacted
        if record.stack_info:
            record.stack_info = redact_query(record.stack_info)
        return True

    @staticmethod
    def redact_parts(record: logging.LogRecord) -> None:
        """Redact ``record.msg`` and each of ``record.args`` (str, bytes, requests) in place."""
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: _redact_value(arg) for name, arg in record.args.items()}


def attach_filters() -> None:
    """Add one :class:`RedactKeysFilter` to each logger in :data:`LOGGERS`; a second call adds none.

    Called from ``IiniitAuthConfig.ready()``, which runs after Django has configured logging,
    so a logger-level filter stays in place whatever ``LOGGING`` says.
    """
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactKeysFilter) for existing in logger.filters):
            logger.addFilter(RedactKeysFilter())


class SafeExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    """Django's exception reporter filter, plus: no key in ``META`` or in frame variables.

    Set ``DEFAULT_EXCEPTION_REPORTER_FILTER = "iiniit_auth.redaction.SafeExceptionReporterFilter"``.
    Keys are removed whatever ``DEBUG`` says, because a technical 500 page is easily copied into
    a ticket or a chat; for the same reason Django's ``sensitive_variables`` and
    ``sensitive_post_parameters`` apply with ``DEBUG`` on too (Django applies them only with it
    off). A bearer token has no shape to find it by: ``sensitive_variables`` is what hides it in
    the frames of the code that reads it.
    """

    def is_active(self, request: HttpRequest | None) -> bool:
        """Always: what a view marks sensitive is hidden on the technical 500 page as well."""
        return True

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        """Return ``request.META`` with the ``Authorization`` header hidden and keys removed
        from every value (``QUERY_STRING``, ``REQUEST_URI``, ``RAW_URI``, ``HTTP_REFERER``…)."""
        meta = super().get_safe_request_meta(request)
        return _redact_meta(meta, self.cleansed_substitute)

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        """Return the POST parameters as Django's filter does, with the secret ones (an OAuth
        client's secret, a refresh token, the token to revoke…) hidden whatever ``DEBUG`` says:
        django-oauth-toolkit's views do not all mark them sensitive."""
        return _redact_value(super().get_post_parameters(request), True)

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> ItemsView[str, Any]:
        """Return the frame's variables as Django's filter does, with keys removed from
        strings, bytes, query dicts and requests (whose ``repr`` quotes the full URL).

        In the frames of iiniit_auth, django-oauth-toolkit and oauthlib, a variable named as a
        secret (:data:`SECRET_VARIABLES`: ``client_secret``, ``refresh_token``, ``code``…) is
        hidden whatever it holds: a token or a client secret has no shape to be found by.
        """
        cleansed = super().get_traceback_frame_variables(request, tb_frame)
        module = str(tb_frame.f_globals.get("__name__", ""))
        ours = module.partition(".")[0] in SECRET_VARIABLE_MODULES
        return {
            name: self.cleansed_substitute
            if ours and name in SECRET_VARIABLES
            else _redact_value(value, True)
            for name, value in cleansed
        }.items()


def _redact_meta(meta: dict[str, Any], substitute: str) -> dict[str, Any]:
    redacted = {name: _redact_value(value, True) for name, value in meta.items()}
    if "HTTP_AUTHORIZATION" in redacted:
        redacted["HTTP_AUTHORIZATION"] = substitute
    return redacted


class ExceptionReporter(debug.ExceptionReporter):
    """Django's exception reporter (technical 500 page, admin error e-mail) without keys.

    Set ``DEFAULT_EXCEPTION_REPORTER = "iiniit_auth.redaction.ExceptionReporter"``. Django
    renders ``request.GET``, the raw request URL and the exception message as they are, and
    the frame variables after the filter has seen them; this reporter redacts each of them.
    """

    def get_traceback_data(self) -> dict[str, Any]:
        """Return Django's template context with every key replaced by ``********``."""
        data = super().get_traceback_data()
        for frame in data.get("frames", []):
            if "vars" in frame:
                # The values are pprint()ed text by now: the last chance to catch a key in
                # any object whose repr quotes it.
                frame["vars"] = [
                    (name, _redact_value(value, True)) for name, value in frame["vars"]
                ]
        if "request_GET_items" in data:
            data["request_GET_items"] = _redact_items(data["request_GET_items"])
        for name in ("request_insecure_uri", "exception_value", "exception_notes"):
            # Django 6 passes the exception itself as exception_value, not its text.
            if data.get(name) is not None:
                text = str(data[name])
                redacted = redact_query(text, True)
                if redacted != text:
                    data[name] = redacted
        if isinstance(data.get("request_meta"), dict):
            data["request_meta"] = _redact_meta(
                data["request_meta"], self.filter.cleansed_substitute
            )
        return data
