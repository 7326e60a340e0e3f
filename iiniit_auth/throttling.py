"""Limits: per-credential rate limits, and the failed-authentication limiter.

Both count in the cache named by ``RATE_LIMIT_CACHE`` with its atomic ``incr()`` and ``add()``,
never by reading a value and writing it back: two processes counting the same request at the
same instant both see their own number, so no request slips past the limit (DRF's
``SimpleRateThrottle`` keeps a list of timestamps, read and written back whole, and lets
concurrent requests through).

The window is fixed: a rate of N per period allows N requests in each period counted from the
epoch (each minute from :00, each hour from :00:00, each day from midnight UTC), and the count
starts again at the next one. A client may so send up to 2N requests across the boundary of
two windows, never more than N within one.

If the cache fails (a Redis that is down), both limits let requests through and the failure is
logged: the limits protect the service, and must not take it down with the cache.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import BaseCache, caches
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from iiniit_auth import rates
from iiniit_auth.conf import auth_settings
from iiniit_auth.credentials import Credential, describe
from iiniit_auth.models import AbstractAPIKey

if TYPE_CHECKING:  # djangorestframework-stubs' name for the type of APIException.detail
    from rest_framework.exceptions import _Detail

logger = logging.getLogger(__name__)

#: The 429 answer, in English; translated for the JSON body.
TOO_MANY_REQUESTS = gettext_noop("Too many requests: try again in %(seconds)d seconds.")
#: How long an application's rate is kept in the cache, in seconds (a change clears it).
APPLICATION_RATE_TTL = 300
#: How long a counter outlives its window, in seconds (for servers' clocks that differ).
SLACK = 10
#: The window of the refused-use audit: one event per key and reason per this many seconds.
REFUSAL_AUDIT_WINDOW = 60


class RateLimited(exceptions.Throttled):
    """429 ``rate_limited``: ``{"detail": <message>, "error": "rate_limited"}`` and
    ``Retry-After`` (DRF's exception handler, and ours, set it from :attr:`wait`)."""

    default_code = "rate_limited"

    def __init__(self, wait: int) -> None:
        self.wait = max(1, wait)
        message = gettext(TOO_MANY_REQUESTS) % {"seconds": self.wait}
        # The shape of the package's other errors (challenges.InvalidToken): detail and error.
        body: dict[str, _Detail] = {
            "detail": exceptions.ErrorDetail(message, code="rate_limited"),
            "error": exceptions.ErrorDetail("rate_limited", code="rate_limited"),
        }
        self.detail = body


def limits_cache() -> BaseCache:
    """The cache that counts: ``caches[RATE_LIMIT_CACHE]``."""
    return caches[auth_settings().RATE_LIMIT_CACHE]


@dataclass(frozen=True)
class Window:
    """The fixed window ``now`` falls in, for periods of ``seconds``."""

    start: int
    seconds: int
    now: float

    @classmethod
    def at(cls, seconds: int, now: float | None = None) -> Window:
        now = time.time() if now is None else now
        return cls(int(now // seconds) * seconds, seconds, now)

    @property
    def reset(self) -> int:
        """Whole seconds until the next window starts, at least 1 (a ``Retry-After``)."""
        return max(1, math.ceil(self.start + self.seconds - self.now))


def count(cache: BaseCache, name: str, window: Window) -> int:
    """Add one to the counter ``name`` of ``window``; return its new value.

    Atomic: ``incr()`` when the counter is there, else ``add()`` of 1, which only one process
    wins (the others then ``incr()``). The counter outlives its window by :data:`SLACK`
    seconds, then expires: a server whose clock lags by less never finds it gone between
    Redis's ``EXISTS`` and ``INCR`` (which would leave a counter that never expires). Raises
    what the cache raises.
    """
    key = f"{name}:{window.start}"
    try:
        return int(cache.incr(key))
    except ValueError:
        if cache.add(key, 1, window.reset + SLACK):
            return 1
        return int(cache.incr(key))


# -- the client's address ----------------------------------------------------------------------


def client_address(request: HttpRequest | Request) -> str | None:
    """Return the client's address as the limits count it, or None if unknown.

    ``REMOTE_ADDR`` when ``NUM_PROXIES`` is 0 (the default) or there is no
    ``X-Forwarded-For``; else the entry ``NUM_PROXIES`` from the right of ``X-Forwarded-For``
    (DRF's reading of its ``NUM_PROXIES``): the one the outermost trusted proxy wrote.
    """
    meta = request.META
    proxies = auth_settings().NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR") if proxies else None
    if forwarded:
        entries = forwarded.split(",")
        return entries[-min(proxies, len(entries))].strip() or None
    return meta.get("REMOTE_ADDR") or None


def address_bucket(address: str | None) -> str:
    """The counter an address counts against: itself for IPv4, its /64 for IPv6.

    An IPv6 client is usually handed a whole /64 and can send from any address in it; counting
    each apart would let it make up a fresh address for every request.
    """
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False).network_address) + "/64"
    return str(ip)


# -- per-credential rate limits -----------------------------------------------------------------


def credential_ident(credential: Credential) -> str:
    """The counter of a credential: an API key by its public id; an OAuth token by its
    application and user; a client-credentials token by its application."""
    if credential.application is None:
        return f"key:{credential.id}"
    app = credential.application.pk
    if credential.owner is None:
        return f"app:{app}"
    return f"app:{app}:user:{credential.owner.pk}"


def _application_rate_key(pk: Any) -> str:
    return f"iiniit:apprate:{pk}"


def application_rate(application: Any) -> str:
    """The rate of ``application``'s policy (``""``: none of its own), kept in the limits cache
    for :data:`APPLICATION_RATE_TTL` seconds so a token's request costs no query for it."""
    cache = limits_cache()
    key = _application_rate_key(application.pk)
    try:
        kept = cache.get(key)
    except Exception:
        logger.warning("Rate limit cache failed; reading the application's rate.")
        kept = None
    if isinstance(kept, str):
        return kept
    # Only a token brings an application here: the OAuth 2.0 server's app is installed.
    from iiniit_auth.oauth.models import ApplicationPolicy

    found = ApplicationPolicy.objects.rate(application)
    try:
        cache.set(key, found, APPLICATION_RATE_TTL)
    except Exception:
        logger.warning("Rate limit cache failed; the application's rate is not kept.")
    return found


def forget_application_rate(application_pk: Any, using: str | None = None) -> None:
    """Drop the kept rate of the application with primary key ``application_pk``, now and once
    the current transaction on ``using`` commits. Its policy's writes call it."""
    name = _application_rate_key(application_pk)

    def forget() -> None:
        try:
            limits_cache().delete(name)
        except Exception:
            logger.exception("Rate limit cache failed to drop an application's rate.")

    # Now, and again once the write commits: a request that read the old rate in between
    # cannot keep it past the commit.
    forget()
    transaction.on_commit(forget, using=using)


class CredentialRateThrottle(BaseThrottle):
    """A DRF throttle that limits each credential to its rate.

    The rate is the key's own (``key.rate``), or the OAuth application's (its policy's
    ``rate``) for a token, else ``DEFAULT_RATE``; a credential with none is not limited.
    Requests without one of our credentials (anonymous, session) pass: pair it with DRF's
    throttles for them. Every response of a view that lists it carries ``RateLimit-Limit``,
    ``RateLimit-Remaining`` and ``RateLimit-Reset``; past the rate, the answer is 429
    :class:`RateLimited` with ``Retry-After``. Counters are named after :attr:`scope`: a
    subclass with a scope of its own counts apart (a stricter limit on one view, say).
    """

    scope = "rate"
    #: The window the last request was counted in (None until one is).
    window: Window | None = None

    def rate_for(self, request: Request, credential: Credential) -> rates.Rate | None:
        """Return the rate of ``request.auth``, or None for no limit."""
        auth = request.auth
        own = ""
        if isinstance(auth, AbstractAPIKey):
            own = auth.rate
        elif credential.application is not None:
            own = application_rate(credential.application)
        if own:
            try:
                return rates.parse_rate(own)
            except ValueError:
                logger.warning("A stored rate is not a rate; using DEFAULT_RATE.")
        return auth_settings().DEFAULT_RATE

    def allow_request(self, request: Request, view: Any) -> bool:
        """Count the request; return True, or raise :class:`RateLimited` past the rate."""
        credential = describe(request.auth)
        if credential is None:
            return True
        rate = self.rate_for(request, credential)
        if rate is None:
            return True
        window = self.window = Window.at(rate.seconds)
        name = f"iiniit:{self.scope}:{rate.requests}/{rate.seconds}:{credential_ident(credential)}"
        try:
            used = count(limits_cache(), name, window)
        except Exception:
            logger.warning("Rate limit cache failed; the request is let through.")
            return True
        headers = getattr(view, "headers", None)
        if isinstance(headers, dict):
            # DRF's finalize_response copies the view's headers onto every response, the 429
            # included (RFC 9110 has no such fields; draft-ietf-httpapi-ratelimit-headers).
            headers["RateLimit-Limit"] = str(rate.requests)
            headers["RateLimit-Remaining"] = str(max(0, rate.requests - used))
            headers["RateLimit-Reset"] = str(window.reset)
        if used > rate.requests:
            raise RateLimited(window.reset)
        return True


# -- the failed-authentication limiter ----------------------------------------------------------


def _address_counter(address: str | None) -> str:
    return f"iiniit:refused:addr:{address_bucket(address)}"


def _public_id_counter(public_id: str) -> str:
    return f"iiniit:refused:key:{public_id}"


#: Counters this process has seen reach the limit, with the end of their window: the check
#: reads this, not the cache, so a well-behaved request pays no round trip to a shared cache.
_reached: dict[str, float] = {}
#: At most this many are remembered (a flood from many addresses): the soonest to end go first.
REACHED_MEMORY = 10_000


def _remember_reached(name: str, window: Window) -> None:
    if len(_reached) >= REACHED_MEMORY:
        for gone in [each for each, until in list(_reached.items()) if until <= window.now]:
            _reached.pop(gone, None)
        while len(_reached) >= REACHED_MEMORY:
            _reached.pop(min(_reached, key=_reached.__getitem__), None)
    _reached[name] = window.start + window.seconds


def forget_reached_limits() -> None:
    """Forget which limits this process has seen reached (for tests, and a project's own
    "unblock" tool; the counters in the cache stay)."""
    _reached.clear()


def check_failed_auth(request: Request, public_id: str | None) -> None:
    """Raise :class:`RateLimited` when the client's address, or the key's ``public_id``, has
    had ``FAILED_AUTH_LIMIT`` refusals in this window. No query, and no cache read.

    Each process learns that a limit is reached from its own count of a refusal, which
    :func:`record_failed_auth` adds in the shared cache: so across processes, a flood gets at
    most one refusal more per process past the limit, each answered 401 as before.
    """
    if not _reached or auth_settings().FAILED_AUTH_LIMIT is None:
        return
    now = time.time()
    names = [_address_counter(client_address(request))]
    if public_id is not None:
        names.append(_public_id_counter(public_id))
    for name in names:
        until = _reached.get(name)
        if until is not None and until > now:
            raise RateLimited(math.ceil(until - now))


def record_failed_auth(request: Request, public_id: str | None) -> None:
    """Count a refused credential against the client's address and, for a well-formed key,
    its ``public_id``; remember the counters that reach ``FAILED_AUTH_LIMIT``. No query."""
    limit = auth_settings().FAILED_AUTH_LIMIT
    if limit is None:
        return
    window = Window.at(limit.seconds)
    cache = limits_cache()
    names = [_address_counter(client_address(request))]
    if public_id is not None:
        names.append(_public_id_counter(public_id))
    try:
        for name in names:
            if count(cache, name, window) >= limit.requests:
                _remember_reached(name, window)
    except Exception:
        logger.warning("Rate limit cache failed; a refusal was not counted.")


def claim_refusal_audit(model: type[AbstractAPIKey], public_id: str, reason: str) -> int | None:
    """Whether to audit a refused use of a known key now: the number of refusals the event
    stands for, or None when this key and reason already have their event in this minute.

    The first refusal of a key and reason in each minute is audited; the ones after it in
    that minute are counted, and the next event carries their number too (``count``: itself
    and those not audited since the last event). If the cache fails, every refusal is audited.
    """
    cache = limits_cache()
    window = Window.at(REFUSAL_AUDIT_WINDOW)
    base = f"iiniit:refusal:{model._meta.label_lower}:{public_id}:{reason}"
    pending = f"{base}:pending"
    try:
        if not cache.add(f"{base}:{window.start}", 1, window.reset + 1):
            try:
                cache.incr(pending)
            except ValueError:
                if not cache.add(pending, 1, 86_400):
                    cache.incr(pending)
            return None
        unwritten = int(cache.get(pending) or 0)
        if unwritten:
            # decr, not delete: refusals counted since the read stay for the next event.
            cache.decr(pending, unwritten)
    except Exception:
        logger.warning("Rate limit cache failed; every refusal is audited.")
        return 1
    return 1 + unwritten
