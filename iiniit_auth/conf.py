"""Settings for iiniit_auth: one dict in the project's settings, every default here.

A project writes ``IINIIT_AUTH = {...}`` in its settings; code asks ``auth_settings().NAME``
when it needs a value. The object is built once, validated, and rebuilt when a test overrides
``IINIIT_AUTH`` (``setting_changed``), so nothing reads a setting at import time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from iiniit_auth import keys, rates

SETTING_NAME = "IINIIT_AUTH"

#: Every setting and its default, in one place (STYLE.md rule 1). docs/settings.md lists them.
DEFAULTS: dict[str, Any] = {
    # The one scope registry: {"name": "description"}; API keys and OAuth tokens share it.
    "SCOPES": {},
    # The type prefix of every key, so secret scanners can recognise a leaked one.
    "KEY_PREFIX": "iik",
    # When set, digests are HMAC-SHA-256 with this pepper instead of plain SHA-256.
    "PEPPER": None,
    # The lifetime of a new key when the caller gives no expiry; None: keys never expire.
    "DEFAULT_KEY_LIFETIME": timedelta(days=365),
    # The longest a new key may live, whoever issues it (admin, portal, command, rotation);
    # None: no maximum, and keys that never expire may be issued.
    "MAX_KEY_LIFETIME": None,
    # The auth-scheme of the Authorization header: "Authorization: ApiKey <key>".
    "HEADER_SCHEME": "ApiKey",
    # Accept "?api_key=<key>". URLs get logged (RFC 6750 section 2.3): see docs/security.md.
    "ALLOW_QUERY_PARAM": True,
    "QUERY_PARAM_NAME": "api_key",
    # At most one UPDATE of last_used_at per key per this many seconds.
    "LAST_USED_UPDATE_INTERVAL": 60,
    # The realm given in WWW-Authenticate challenges.
    "REALM": "api",
    # The alias (in CACHES) of the optional API-key lookup cache; None: no cache.
    "CACHE": None,
    # How long a cached key lives at most, in seconds (never past the key's expiry).
    "CACHE_TTL": 60,
    # Key and token lookups read the primary (the router's write database for the model); a
    # timedelta, the replication lag the project accepts, lets them read where the router sends
    # reads: a revoked credential then works that long (docs/deployment.md#read-replicas).
    "LOOKUP_READS_REPLICA": None,
    # Where the "Try it" curl line of a new key's page (admin, portal) sends it: a path on this
    # site or a URL; None: no such line (the package cannot know the project's endpoints).
    "EXAMPLE_URL": None,
    # The developer portal (docs/portal.md). The scopes a signed-in user may grant their own
    # keys and applications: none unless listed.
    "PORTAL_SCOPES": [],
    # A dotted path to f(user) -> scope names, deciding per user instead of PORTAL_SCOPES.
    "PORTAL_SCOPES_FOR": None,
    # Keys a user may hold at once (rotated ones in their grace period aside); None: no limit.
    "PORTAL_MAX_ACTIVE_KEYS": 10,
    # The longest lifetime of a key made in the portal; None: "never expires" is offered too.
    "PORTAL_MAX_KEY_LIFETIME": timedelta(days=365),
    # Making a credential asks for the password again once the sign-in (or the last time it
    # was asked) is older than this, in seconds; None: never asks.
    "PORTAL_SUDO_TIMEOUT": timedelta(minutes=15),
    # The template every portal page extends (blocks: title, css, content).
    "PORTAL_BASE_TEMPLATE": "iiniit_auth/portal/base.html",
    # E-mail owners about their keys: made or changed by someone else or from an unusual
    # address, and (manage.py apikey remind) about to expire. Off unless the project says so: a
    # project that only issues keys from the command line must not start sending mail.
    "PORTAL_EMAILS": False,
    # Limits (docs/limits.md). The alias (in CACHES) of the cache that counts requests and
    # refusals; a cache every process shares (Redis, Memcached) when several serve requests.
    "RATE_LIMIT_CACHE": "default",
    # The rate of CredentialRateThrottle for a credential without a rate of its own, e.g.
    # "1000/hour"; None: only credentials given a rate of their own are limited.
    "DEFAULT_RATE": None,
    # Refused credentials allowed per client address, and per key public id, before that
    # address or key gets 429 without being looked at; None: no such limit.
    "FAILED_AUTH_LIMIT": "60/min",
    # How many proxies in front of the site append to X-Forwarded-For (as DRF's NUM_PROXIES);
    # 0: the client address is REMOTE_ADDR.
    "NUM_PROXIES": 0,
    # Usage (docs/usage.md): None counts each process's requests in its own memory (no round
    # trip per request); the alias of a shared cache counts them there, for every process.
    "USAGE_CACHE": None,
}

_SCOPE_NAME = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 section 3.3 scope-token
#: An HTTP token (RFC 9110 section 5.6.2): what an auth-scheme is made of.
HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_QDTEXT = re.compile(r"[\t\x20\x21\x23-\x5b\x5d-\x7e]*")  # RFC 9110 section 5.6.4, ASCII only
_PARAM = re.compile(r"[A-Za-z0-9_.-]+")
#: The longest default lifetime accepted: now + lifetime must stay a valid date everywhere.
MAX_LIFETIME = timedelta(days=36500)


@dataclass(frozen=True)
class AuthSettings:
    """The validated settings. Build it with :func:`auth_settings`, never directly."""

    SCOPES: Mapping[str, str]
    KEY_PREFIX: str
    PEPPER: bytes | None
    DEFAULT_KEY_LIFETIME: timedelta | None
    MAX_KEY_LIFETIME: timedelta | None
    HEADER_SCHEME: str
    ALLOW_QUERY_PARAM: bool
    QUERY_PARAM_NAME: str
    LAST_USED_UPDATE_INTERVAL: timedelta
    REALM: str
    CACHE: str | None
    CACHE_TTL: timedelta
    LOOKUP_READS_REPLICA: timedelta | None
    EXAMPLE_URL: str | None
    PORTAL_SCOPES: frozenset[str]
    PORTAL_SCOPES_FOR: str | None
    PORTAL_MAX_ACTIVE_KEYS: int | None
    PORTAL_MAX_KEY_LIFETIME: timedelta | None
    PORTAL_SUDO_TIMEOUT: timedelta | None
    PORTAL_BASE_TEMPLATE: str
    PORTAL_EMAILS: bool
    RATE_LIMIT_CACHE: str
    DEFAULT_RATE: rates.Rate | None
    FAILED_AUTH_LIMIT: rates.Rate | None
    NUM_PROXIES: int
    USAGE_CACHE: str | None


def _fail(name: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{SETTING_NAME}[{name!r}] {problem}")


def _scopes(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _fail("SCOPES", "must be a dict of scope name to description.")
    for name, description in value.items():
        if not isinstance(name, str) or not _SCOPE_NAME.fullmatch(name):
            raise _fail(
                "SCOPES",
                f"has the invalid scope name {name!r}: use printable ASCII without spaces, "
                'double quotes or backslashes (RFC 6749 section 3.3), e.g. "orders:read".',
            )
        if not isinstance(description, str):
            raise _fail("SCOPES", f"gives scope {name!r} a description that is not a string.")
    return dict(value)


def _pepper(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes) or len(value) < 32:
        raise _fail("PEPPER", "must be None or a secret of at least 32 bytes (str or bytes).")
    return value


def _lifetime(value: Any, name: str = "DEFAULT_KEY_LIFETIME") -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta) or not timedelta(0) < value <= MAX_LIFETIME:
        raise _fail(name, "must be None or a positive datetime.timedelta of at most 100 years.")
    return value


def _cache(value: Any, name: str = "CACHE") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in settings.CACHES:
        raise _fail(name, 'must be None or the alias of a cache in CACHES, e.g. "default".')
    return value


def _limits(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The limits' settings, validated (docs/limits.md)."""
    alias = raw["RATE_LIMIT_CACHE"]
    if not isinstance(alias, str) or alias not in settings.CACHES:
        raise _fail("RATE_LIMIT_CACHE", 'must be the alias of a cache in CACHES, e.g. "default".')
    parsed: dict[str, rates.Rate | None] = {}
    for name in ("DEFAULT_RATE", "FAILED_AUTH_LIMIT"):
        value = raw[name]
        if value is None:
            parsed[name] = None
            continue
        if not isinstance(value, str):
            raise _fail(name, f"must be None or {rates.SYNTAX}.")
        try:
            parsed[name] = rates.parse_rate(value)
        except ValueError as exc:
            raise _fail(name, f"is not valid: {exc}") from None
    proxies = raw["NUM_PROXIES"]
    if not isinstance(proxies, int) or isinstance(proxies, bool) or not 0 <= proxies <= 32:
        raise _fail("NUM_PROXIES", "must be a whole number from 0 to 32.")
    return {
        "RATE_LIMIT_CACHE": alias,
        **parsed,
        "NUM_PROXIES": proxies,
        "USAGE_CACHE": _cache(raw["USAGE_CACHE"], "USAGE_CACHE"),
    }


def _cache_ttl(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    # At least a second: caches count timeouts in whole seconds, and one under a second would
    # cache nothing at all.
    if not isinstance(value, int | float) or isinstance(value, bool) or not 1 <= value < math.inf:
        raise _fail("CACHE_TTL", "must be a finite number of seconds >= 1.")
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise _fail("CACHE_TTL", "is longer than a timedelta can hold.") from None


def _replica_lag(value: Any, cache: str | None, ttl: timedelta) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta) or not timedelta(0) < value <= MAX_LIFETIME:
        raise _fail("LOOKUP_READS_REPLICA", "must be None or a positive datetime.timedelta.")
    # A revocation's tombstone stands CACHE_TTL; a replica read that lags more could put the
    # revoked key back in the cache once the tombstone is gone.
    if cache is not None and value * 2 > ttl:
        raise _fail("LOOKUP_READS_REPLICA", "must be at most half of CACHE_TTL while CACHE is set.")
    return value


def _portal(raw: Mapping[str, Any], registry: Mapping[str, str]) -> dict[str, Any]:
    """The portal's settings, validated (docs/portal.md)."""
    granted = raw["PORTAL_SCOPES"]
    if isinstance(granted, str) or not isinstance(granted, Iterable):
        raise _fail("PORTAL_SCOPES", 'must be a list of scope names, e.g. ["orders:read"].')
    unknown = sorted({str(name) for name in granted} - set(registry))
    if unknown:
        raise _fail("PORTAL_SCOPES", f"names scopes not in SCOPES: {', '.join(unknown)}.")
    scopes_for = raw["PORTAL_SCOPES_FOR"]
    if scopes_for is not None and (not isinstance(scopes_for, str) or "." not in scopes_for):
        raise _fail("PORTAL_SCOPES_FOR", "must be None or the dotted path of a function.")
    most = raw["PORTAL_MAX_ACTIVE_KEYS"]
    if most is not None and (not isinstance(most, int) or isinstance(most, bool) or most < 1):
        raise _fail("PORTAL_MAX_ACTIVE_KEYS", "must be None or a whole number >= 1.")
    sudo = raw["PORTAL_SUDO_TIMEOUT"]
    if isinstance(sudo, int | float) and not isinstance(sudo, bool) and 0 <= sudo < math.inf:
        sudo = timedelta(seconds=sudo)
    if sudo is not None and (not isinstance(sudo, timedelta) or sudo < timedelta(0)):
        raise _fail(
            "PORTAL_SUDO_TIMEOUT", "must be None or a number of seconds (or timedelta) >= 0."
        )
    base = raw["PORTAL_BASE_TEMPLATE"]
    if not isinstance(base, str) or not base.strip():
        raise _fail("PORTAL_BASE_TEMPLATE", "must be a non-empty string.")
    if not isinstance(raw["PORTAL_EMAILS"], bool):
        raise _fail("PORTAL_EMAILS", "must be True or False.")
    return {
        "PORTAL_SCOPES": frozenset(granted),
        "PORTAL_SCOPES_FOR": scopes_for,
        "PORTAL_MAX_ACTIVE_KEYS": most,
        "PORTAL_MAX_KEY_LIFETIME": _lifetime(
            raw["PORTAL_MAX_KEY_LIFETIME"], "PORTAL_MAX_KEY_LIFETIME"
        ),
        "PORTAL_SUDO_TIMEOUT": sudo,
        "PORTAL_BASE_TEMPLATE": raw["PORTAL_BASE_TEMPLATE"],
        "PORTAL_EMAILS": raw["PORTAL_EMAILS"],
    }


def _build(user: Mapping[str, Any]) -> AuthSettings:
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING_NAME} has unknown settings: {', '.join(unknown)}. "
            f"Known: {', '.join(sorted(DEFAULTS))}."
        )
    raw = {**DEFAULTS, **user}
    prefix = raw["KEY_PREFIX"]
    if not isinstance(prefix, str) or not keys.PREFIX.fullmatch(prefix):
        raise _fail(
            "KEY_PREFIX", "must be 2-16 lowercase letters and digits, starting with a letter."
        )
    scheme = raw["HEADER_SCHEME"]
    if (
        not isinstance(scheme, str)
        or not HTTP_TOKEN.fullmatch(scheme)
        or scheme.lower() == "bearer"
    ):
        raise _fail("HEADER_SCHEME", "must be an RFC 9110 token other than Bearer, e.g. ApiKey.")
    param = raw["QUERY_PARAM_NAME"]
    if not isinstance(param, str) or not _PARAM.fullmatch(param):
        raise _fail("QUERY_PARAM_NAME", "must be a non-empty name of letters, digits, _ . -.")
    interval = raw["LAST_USED_UPDATE_INTERVAL"]
    if isinstance(interval, timedelta):
        interval = interval.total_seconds()
    if (
        not isinstance(interval, int | float)
        or isinstance(interval, bool)
        or not 0 <= interval < math.inf
    ):
        raise _fail("LAST_USED_UPDATE_INTERVAL", "must be a finite number of seconds >= 0.")
    try:
        last_used = timedelta(seconds=interval)
    except OverflowError:
        raise _fail("LAST_USED_UPDATE_INTERVAL", "is longer than a timedelta can hold.") from None
    if not isinstance(raw["ALLOW_QUERY_PARAM"], bool):
        raise _fail("ALLOW_QUERY_PARAM", "must be True or False.")
    realm = raw["REALM"]
    if not isinstance(realm, str) or not _QDTEXT.fullmatch(realm):
        raise _fail(
            "REALM",
            "must be printable ASCII text without double quotes, backslashes or control characters.",
        )
    default_lifetime = _lifetime(raw["DEFAULT_KEY_LIFETIME"])
    max_lifetime = _lifetime(raw["MAX_KEY_LIFETIME"], "MAX_KEY_LIFETIME")
    if max_lifetime is not None and (default_lifetime is None or default_lifetime > max_lifetime):
        raise _fail(
            "DEFAULT_KEY_LIFETIME",
            "must be a lifetime of at most MAX_KEY_LIFETIME: with a maximum, keys expire.",
        )
    registry = _scopes(raw["SCOPES"])
    cache_alias = _cache(raw["CACHE"])
    cache_ttl = _cache_ttl(raw["CACHE_TTL"])
    return AuthSettings(
        SCOPES=registry,
        KEY_PREFIX=prefix,
        PEPPER=_pepper(raw["PEPPER"]),
        DEFAULT_KEY_LIFETIME=default_lifetime,
        MAX_KEY_LIFETIME=max_lifetime,
        HEADER_SCHEME=scheme,
        ALLOW_QUERY_PARAM=raw["ALLOW_QUERY_PARAM"],
        QUERY_PARAM_NAME=param,
        LAST_USED_UPDATE_INTERVAL=last_used,
        REALM=realm,
        CACHE=cache_alias,
        CACHE_TTL=cache_ttl,
        LOOKUP_READS_REPLICA=_replica_lag(raw["LOOKUP_READS_REPLICA"], cache_alias, cache_ttl),
        EXAMPLE_URL=_example_url(raw["EXAMPLE_URL"]),
        **_portal(raw, registry),
        **_limits(raw),
    )


def _example_url(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail("EXAMPLE_URL", "must be None, a path on this site or a URL.")
    return value


@cache
def auth_settings() -> AuthSettings:
    """Return the validated settings, built on first use.

    Raises ``ImproperlyConfigured`` naming the setting when a value is invalid.
    """
    user = getattr(settings, SETTING_NAME, {})
    if not isinstance(user, Mapping):
        raise ImproperlyConfigured(f"{SETTING_NAME} must be a dict.")
    return _build(user)


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        auth_settings.cache_clear()
