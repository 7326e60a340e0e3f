"""iiniit_auth.conf: defaults, validation, and the cache that follows setting overrides.

No database: settings are read and validated only.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from iiniit_auth.conf import DEFAULTS, AuthSettings, auth_settings

PEPPER_TEXT = "a-pepper-of-thirty-two-characters"  # 33 ASCII characters: 33 bytes

_MISSING = object()

#: The documented defaults, written out here rather than read from DEFAULTS.
EXPECTED_DEFAULTS = {
    "SCOPES": {},
    "KEY_PREFIX": "iik",
    "PEPPER": None,
    "DEFAULT_KEY_LIFETIME": timedelta(days=365),
    "MAX_KEY_LIFETIME": None,
    "HEADER_SCHEME": "ApiKey",
    "ALLOW_QUERY_PARAM": True,
    "QUERY_PARAM_NAME": "api_key",
    "LAST_USED_UPDATE_INTERVAL": timedelta(seconds=60),
    "REALM": "api",
    "CACHE": None,
    "CACHE_TTL": timedelta(seconds=60),
    "EXAMPLE_URL": None,
    "LOOKUP_READS_REPLICA": None,
    "PORTAL_SCOPES": frozenset(),
    "PORTAL_SCOPES_FOR": None,
    "PORTAL_MAX_ACTIVE_KEYS": 10,
    "PORTAL_MAX_KEY_LIFETIME": timedelta(days=365),
    "PORTAL_SUDO_TIMEOUT": timedelta(minutes=15),
    "PORTAL_BASE_TEMPLATE": "iiniit_auth/portal/base.html",
    "PORTAL_EMAILS": False,
    "RATE_LIMIT_CACHE": "default",
    "DEFAULT_RATE": None,
    "FAILED_AUTH_LIMIT": {"requests": 60, "seconds": 60},
    "NUM_PROXIES": 0,
    "USAGE_CACHE": None,
}


@pytest.fixture
def no_iiniit_auth():
    """Remove IINIIT_AUTH from the settings for one test, then put it back.

    Django's ``override_settings`` can add or change a setting but sends no ``setting_changed``
    for a deleted one, so the cache is cleared here by hand on the way in and out.
    """
    override = override_settings()
    override.enable()
    try:
        del settings.IINIIT_AUTH
        auth_settings.cache_clear()
        yield
    finally:
        override.disable()
        auth_settings.cache_clear()


def refused(user):
    """Return the message of the ImproperlyConfigured raised for ``IINIIT_AUTH = user``."""
    with override_settings(IINIIT_AUTH=user), pytest.raises(ImproperlyConfigured) as info:
        auth_settings()
    return str(info.value)


def accepted(user, name):
    """Return setting ``name`` as built from ``IINIIT_AUTH = user``."""
    with override_settings(IINIIT_AUTH=user):
        return getattr(auth_settings(), name)


def names(message, setting):
    """Assert the message names ``IINIIT_AUTH[setting]``."""
    assert f"IINIIT_AUTH[{setting!r}]" in message, message


# -- defaults ----------------------------------------------------------------------------------


def test_defaults_when_setting_absent(no_iiniit_auth):
    assert getattr(settings, "IINIIT_AUTH", _MISSING) is _MISSING
    assert dataclasses.asdict(auth_settings()) == EXPECTED_DEFAULTS


def test_defaults_when_setting_empty():
    with override_settings(IINIIT_AUTH={}):
        assert dataclasses.asdict(auth_settings()) == EXPECTED_DEFAULTS


def test_every_default_is_a_field():
    assert set(DEFAULTS) == {field.name for field in dataclasses.fields(AuthSettings)}


def test_test_settings_are_read():
    values = dataclasses.asdict(auth_settings())
    assert values["SCOPES"] == settings.IINIIT_AUTH["SCOPES"]
    assert values["DEFAULT_KEY_LIFETIME"] == timedelta(days=90)


def test_settings_object_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        auth_settings().KEY_PREFIX = "other"


def test_setting_not_a_dict():
    with override_settings(IINIIT_AUTH=["SCOPES"]), pytest.raises(ImproperlyConfigured) as info:
        auth_settings()
    assert "IINIIT_AUTH" in str(info.value)


# -- the cache follows overrides ---------------------------------------------------------------


def test_override_rebuilds_the_cache():
    before = auth_settings()
    assert before.KEY_PREFIX == "iik"
    with override_settings(IINIIT_AUTH={**settings.IINIIT_AUTH, "KEY_PREFIX": "abc"}):
        assert auth_settings().KEY_PREFIX == "abc"
    assert auth_settings().KEY_PREFIX == "iik"
    assert auth_settings().SCOPES == before.SCOPES


def test_settings_fixture_rebuilds_the_cache(settings):
    assert "other:scope" not in auth_settings().SCOPES
    settings.IINIIT_AUTH = {"SCOPES": {"other:scope": "Other"}}
    assert auth_settings().SCOPES == {"other:scope": "Other"}


def test_unrelated_override_keeps_the_cache():
    before = auth_settings()
    with override_settings(SOME_OTHER_SETTING=1):
        assert auth_settings() is before


# -- unknown settings --------------------------------------------------------------------------


def test_unknown_settings_are_all_listed():
    message = refused({"KEY_PREFIXX": "iik", "SCOPE": {}, "REALM": "api"})
    listed = re.search(r"unknown settings: (?P<names>[^.]*)\.", message)
    assert listed is not None, message
    assert listed["names"].split(", ") == ["KEY_PREFIXX", "SCOPE"]
    # The known names are listed as the way out.
    for name in DEFAULTS:
        assert name in message


# -- KEY_PREFIX --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    ["IIK", "i", "a" * 17, "1ab", "ii_k", "ii-k", "", " iik", "iik ", "ïik", None, 3],
)
def test_bad_prefix(prefix):
    names(refused({"KEY_PREFIX": prefix}), "KEY_PREFIX")


@pytest.mark.parametrize("prefix", ["ab", "a" * 16, "sk2", "mycompany"])
def test_good_prefix(prefix):
    assert accepted({"KEY_PREFIX": prefix}, "KEY_PREFIX") == prefix


# -- a final new line is not part of a valid value --------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("KEY_PREFIX", "iik\n"),
        ("HEADER_SCHEME", "ApiKey\n"),
        ("QUERY_PARAM_NAME", "api_key\n"),
        ("SCOPES", {"orders:read\n": "Read orders"}),
    ],
    ids=["KEY_PREFIX", "HEADER_SCHEME", "QUERY_PARAM_NAME", "SCOPES"],
)
def test_trailing_new_line_refused(setting, value):
    # A "$" anchor also matches just before a final "\n"; such a value would put a new line
    # into every key, header or stored scope string.
    names(refused({setting: value}), setting)


# -- HEADER_SCHEME -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scheme",
    ["Bearer", "bearer", "BEARER", "Api Key", "", "Api\tKey", 'Api"Key', "ApiKey:", None, 1],
)
def test_bad_scheme(scheme):
    names(refused({"HEADER_SCHEME": scheme}), "HEADER_SCHEME")


def test_scheme_with_underscore_accepted():
    # "_" is a tchar (RFC 9110 section 5.6.2), so "Api_Key" is a valid auth-scheme.
    assert accepted({"HEADER_SCHEME": "Api_Key"}, "HEADER_SCHEME") == "Api_Key"


@pytest.mark.parametrize("scheme", ["ApiKey", "Token", "X-Api-Key", "Key.v2", "a!#$%&'*+-.^`|~z"])
def test_good_scheme(scheme):
    assert accepted({"HEADER_SCHEME": scheme}, "HEADER_SCHEME") == scheme


# -- SCOPES ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["orders read", 'orders"read', "orders\\read", "", " orders", "ordérs", 1]
)
def test_bad_scope_name(name):
    message = refused({"SCOPES": {name: "Something"}})
    names(message, "SCOPES")
    assert repr(name) in message


def test_scopes_not_a_dict():
    names(refused({"SCOPES": ["orders:read"]}), "SCOPES")


@pytest.mark.parametrize("description", [None, 1, ["Read orders"], b"Read orders"])
def test_non_string_scope_description(description):
    message = refused({"SCOPES": {"orders:read": description}})
    names(message, "SCOPES")
    assert "'orders:read'" in message


def test_good_scopes_keep_declaration_order():
    scopes = {"z:last": "Z", "a:first": "A", "m!#$%&'*+,-./:;<=>?@[]^_`{|}~": "Punctuation"}
    assert list(accepted({"SCOPES": scopes}, "SCOPES")) == list(scopes)


# -- PEPPER ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pepper", [b"x" * 31, "x" * 31, b"", "", "é" * 15, "short-pepper-text", 12345, ["x" * 32]]
)
def test_bad_pepper(pepper):
    message = refused({"PEPPER": pepper})
    names(message, "PEPPER")
    if isinstance(pepper, str | bytes) and pepper:
        # The pepper is a secret: the message must not repeat it.
        shown = pepper if isinstance(pepper, str) else pepper.decode()
        assert shown not in message


def test_bytes_pepper_kept():
    assert accepted({"PEPPER": b"x" * 32}, "PEPPER") == b"x" * 32


def test_str_pepper_encoded():
    assert accepted({"PEPPER": PEPPER_TEXT}, "PEPPER") == PEPPER_TEXT.encode("utf-8")


def test_str_pepper_length_counted_in_bytes():
    # 16 two-byte characters are 32 bytes: long enough.
    assert accepted({"PEPPER": "é" * 16}, "PEPPER") == ("é" * 16).encode("utf-8")


def test_no_pepper():
    assert accepted({"PEPPER": None}, "PEPPER") is None


# -- DEFAULT_KEY_LIFETIME ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "lifetime", [timedelta(0), timedelta(days=-1), 90, "90d", 3600.0, timedelta(seconds=-1)]
)
def test_bad_lifetime(lifetime):
    names(refused({"DEFAULT_KEY_LIFETIME": lifetime}), "DEFAULT_KEY_LIFETIME")


def test_good_lifetime():
    assert accepted(
        {"DEFAULT_KEY_LIFETIME": timedelta(hours=1)}, "DEFAULT_KEY_LIFETIME"
    ) == timedelta(hours=1)
    assert accepted({"DEFAULT_KEY_LIFETIME": None}, "DEFAULT_KEY_LIFETIME") is None


@pytest.mark.parametrize("lifetime", [timedelta(0), "30d", timedelta(days=-1)])
def test_bad_max_lifetime(lifetime):
    names(refused({"MAX_KEY_LIFETIME": lifetime}), "MAX_KEY_LIFETIME")


@pytest.mark.parametrize("default", [None, timedelta(days=31)])
def test_a_maximum_lifetime_bounds_the_default(default):
    message = refused({"MAX_KEY_LIFETIME": timedelta(days=30), "DEFAULT_KEY_LIFETIME": default})
    names(message, "DEFAULT_KEY_LIFETIME")
    assert "at most MAX_KEY_LIFETIME" in message


def test_good_max_lifetime():
    user = {"MAX_KEY_LIFETIME": timedelta(days=30), "DEFAULT_KEY_LIFETIME": timedelta(days=30)}
    assert accepted(user, "MAX_KEY_LIFETIME") == timedelta(days=30)


# -- LAST_USED_UPDATE_INTERVAL -----------------------------------------------------------------


@pytest.mark.parametrize(
    "interval",
    [-1, -0.5, timedelta(seconds=-1), "60", None, True, False, [60]],
)
def test_bad_interval(interval):
    names(refused({"LAST_USED_UPDATE_INTERVAL": interval}), "LAST_USED_UPDATE_INTERVAL")


@pytest.mark.parametrize("interval", [float("nan"), float("inf"), 10**20])
def test_interval_that_is_no_duration_refused_by_name(interval):
    # Not a duration timedelta can hold: refused as a setting, not a ValueError/OverflowError.
    names(refused({"LAST_USED_UPDATE_INTERVAL": interval}), "LAST_USED_UPDATE_INTERVAL")


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (0, timedelta(0)),
        (60, timedelta(seconds=60)),
        (2.5, timedelta(seconds=2.5)),
        (timedelta(minutes=5), timedelta(minutes=5)),
        (timedelta(0), timedelta(0)),
    ],
)
def test_good_interval(interval, expected):
    value = accepted({"LAST_USED_UPDATE_INTERVAL": interval}, "LAST_USED_UPDATE_INTERVAL")
    assert isinstance(value, timedelta)
    assert value == expected


# -- ALLOW_QUERY_PARAM and QUERY_PARAM_NAME ----------------------------------------------------


@pytest.mark.parametrize("allow", [1, 0, "yes", "False", None])
def test_bad_allow_query_param(allow):
    names(refused({"ALLOW_QUERY_PARAM": allow}), "ALLOW_QUERY_PARAM")


def test_allow_query_param_off():
    assert accepted({"ALLOW_QUERY_PARAM": False}, "ALLOW_QUERY_PARAM") is False


@pytest.mark.parametrize("param", ["", "api key", "api&key", "api=key", None])
def test_bad_query_param_name(param):
    names(refused({"QUERY_PARAM_NAME": param}), "QUERY_PARAM_NAME")


def test_good_query_param_name():
    assert accepted({"QUERY_PARAM_NAME": "key.v2-x"}, "QUERY_PARAM_NAME") == "key.v2-x"


# -- EXAMPLE_URL -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["", " ", 1, b"/api/ping/"])
def test_bad_example_url(where):
    names(refused({"EXAMPLE_URL": where}), "EXAMPLE_URL")


@pytest.mark.parametrize("where", [None, "/api/ping/", "https://api.example.com/v1/ping"])
def test_good_example_url(where):
    assert accepted({"EXAMPLE_URL": where}, "EXAMPLE_URL") == where


# -- REALM -------------------------------------------------------------------------------------


@pytest.mark.parametrize("realm", ['my "api"', "my\\api", None, 1])
def test_bad_realm(realm):
    names(refused({"REALM": realm}), "REALM")


@pytest.mark.parametrize(
    "realm",
    ["api\r\nX-Injected: 1", "api\n", "api\r", "api\x00", "api\x7f"],
    ids=["CRLF", "LF", "CR", "NUL", "DEL"],
)
def test_realm_with_control_characters_refused(realm):
    # The realm is sent in a quoted-string (RFC 9110 section 5.6.4), where control characters
    # other than tab are not allowed; a new line would break every 401 response.
    names(refused({"REALM": realm}), "REALM")


@pytest.mark.parametrize("realm", ["api", "", "Example API v2", "api\twith tab"])
def test_good_realm(realm):
    assert accepted({"REALM": realm}, "REALM") == realm
