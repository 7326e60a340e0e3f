"""Usage: how many requests each credential had accepted, per day (UTC).

:func:`count` is called once per accepted request and costs no database query. It counts

* in this process's memory (``USAGE_CACHE`` None, the default, or Django's local-memory cache,
  which is this process's memory anyway and would lose what it holds when the process stops):
  no round trip per request;
* in the cache ``USAGE_CACHE`` names: an atomic increment of a counter per credential and day,
  shared by every process that shares the cache; in memory again while that cache fails.

The counts reach the :class:`~iiniit_auth.models.Usage` table at most once per credential per
``LAST_USED_UPDATE_INTERVAL`` (the same interval as ``last_used_at``), the first time one
interval after the credential's first count (so a credential's first request costs no query
either): with the cache, the process that adds the interval's marker (``cache.add()``) writes
for every process; in memory, each process writes its own, and the rest when it exits. A
write adds (``requests = requests + n``), so processes never overwrite one another. What is counted but not yet written stays pending until the
credential's next use past the interval, or until :func:`flush`; :func:`daily` adds it to what
it reads.

The write never joins the request's transaction: inside one (``ATOMIC_REQUESTS``, an atomic
view), it waits until the request has finished, so a rolled-back request cannot take counts
with it. If the cache fails, counting falls back to memory and the failure is logged; it never
turns into an error for the caller.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import router, transaction
from django.db.models import Sum
from django.utils import timezone

from iiniit_auth.conf import auth_settings
from iiniit_auth.deferred import after_request
from iiniit_auth.models import AbstractAPIKey, CredentialEvent, Usage

logger = logging.getLogger(__name__)

#: How long a credential's counter lives in the cache: counts still pending when a credential
#: goes unused for longer than this (one interval's requests at most) are dropped.
COUNTER_TTL: Final = int(timedelta(days=35).total_seconds())
#: How long a past day's counter stays once written (a request at midnight may still add one).
SPENT_TTL: Final = int(timedelta(hours=1).total_seconds())
#: How long a flush may hold its lock (it is released as soon as the flush ends).
LOCK_TTL: Final = 60

#: A credential's identity in the usage table: (kind, credential id).
Counted = tuple[str, str]


def counted_as(credential: Any) -> Counted | None:
    """Return what ``credential`` is counted as, or None for anything else.

    An API key counts as itself (its public id); an OAuth access token as its application
    (the application's primary key), so every token of an application adds to one count.
    """
    if isinstance(credential, AbstractAPIKey):
        return CredentialEvent.Kind.API_KEY, credential.public_id
    # Imported here: the core asks for OAuth pieces only when it holds something else.
    from oauth2_provider.models import AbstractAccessToken

    if isinstance(credential, AbstractAccessToken):
        application_id = credential.application_id
        if application_id is None:
            return None
        return CredentialEvent.Kind.OAUTH_APPLICATION, str(application_id)
    return None


def today(now: datetime | None = None) -> date:
    """The day a request at ``now`` counts on: the UTC date, whatever the current time zone."""
    return (now or timezone.now()).astimezone(UTC).date()


def count(credential: Any, now: datetime | None = None) -> None:
    """Count one accepted request of ``credential`` (``request.auth``) on today's UTC date.

    No query, except a write of the pending counts at most once per credential per
    ``LAST_USED_UPDATE_INTERVAL`` (see the module's docstring). Anything that is not an API
    key or an OAuth access token is ignored. Never raises for a failing cache.
    """
    counted = counted_as(credential)
    if counted is None:
        return
    day = today(now)
    cache = _cache()
    if cache is not None:
        try:
            first_today = _incr(cache, _counter(counted, day))
        except Exception:
            logger.warning(
                "Usage cache %r failed; counting in memory.", auth_settings().USAGE_CACHE
            )
        else:
            _count_in_cache(cache, counted, day, first_today)
            return
    if _memory.add(counted, day):
        _write(lambda: _drain_memory(counted))


def flush(kind: str, credential_id: str, now: datetime | None = None) -> None:
    """Write the pending counts of one credential now, whatever the interval.

    Reads the cache's counters (today's, yesterday's, and those of the last day the credential
    was counted) and this process's memory.
    """
    counted = (kind, credential_id)
    cache = _cache()
    if cache is not None:
        try:
            day = today(now)
            last = _last_day(cache, counted)
            _drain_cache(cache, counted, day, [] if last is None else [last])
        except Exception:
            logger.warning(
                "Usage cache %r failed; its counts stay pending.", auth_settings().USAGE_CACHE
            )
    _drain_memory(counted)


def flush_memory() -> None:
    """Write every count this process holds in memory (run at exit, too)."""
    for counted in _memory.credentials():
        _drain_memory(counted)


def forget_memory() -> None:
    """Drop, unwritten, every count this process holds in memory, and when each credential
    was last written. For test suites: the rows of their credentials are rolled back, and
    writing their counts at exit would reach whatever database is configured then."""
    with _memory.lock:
        _memory.counts.clear()
        _memory.written.clear()


def daily(
    kind: str, credential_id: str, days: int = 30, now: datetime | None = None
) -> list[tuple[date, int]]:
    """Return ``(day, requests)`` for each of the last ``days`` UTC days, oldest first.

    The table's rows (one query) plus what is pending in the cache and in this process.
    """
    return daily_many(kind, [credential_id], days, now)[credential_id]


def daily_many(
    kind: str, credential_ids: Iterable[str], days: int = 30, now: datetime | None = None
) -> dict[str, list[tuple[date, int]]]:
    """:func:`daily` for each of ``credential_ids`` of one kind, in one query."""
    ids = list(credential_ids)
    last = today(now)
    first = last - timedelta(days=days - 1)
    counts: dict[str, dict[date, int]] = {credential_id: {} for credential_id in ids}
    rows = Usage._default_manager.filter(
        kind=kind, credential_id__in=ids, day__gte=first, day__lte=last
    ).values_list("credential_id", "day", "requests")
    for credential_id, day, requests in rows:
        counts[credential_id][day] = requests
    for credential_id, pending in _pending(kind, ids, last).items():
        mine = counts[credential_id]
        for day, requests in pending.items():
            if first <= day <= last:
                mine[day] = mine.get(day, 0) + requests
    every = [first + timedelta(days=n) for n in range(days)]
    return {
        credential_id: [(day, found.get(day, 0)) for day in every]
        for credential_id, found in counts.items()
    }


def busiest(
    limit: int = 5, days: int = 30, kinds: Iterable[str] = Usage.KINDS, now: datetime | None = None
) -> list[tuple[str, str, int]]:
    """Return ``(kind, credential_id, requests)`` of the ``limit`` credentials with the most
    requests over the last ``days`` UTC days, most first. One query; written counts only."""
    last = today(now)
    rows = (
        Usage._default_manager.filter(kind__in=list(kinds), day__gt=last - timedelta(days=days))
        .values("kind", "credential_id")
        .annotate(total=Sum("requests"))
        .order_by("-total", "kind", "credential_id")[:limit]
    )
    return [(row["kind"], row["credential_id"], row["total"]) for row in rows]


# -- counting in the cache -------------------------------------------------------------------


def _cache() -> BaseCache | None:
    """The shared cache to count in, or None to count in memory (see the module's docstring)."""
    alias = auth_settings().USAGE_CACHE
    if alias is None:
        return None
    cache = caches[alias]
    return None if type(cache) is LocMemCache else cache


def _counter(counted: Counted, day: date) -> str:
    kind, credential_id = counted
    return f"iiniit:usage:{kind}:{credential_id}:{day.isoformat()}"


def _incr(cache: BaseCache, name: str) -> bool:
    """Add one to the counter ``name``, made if missing (``incr()`` alone refuses to).

    Returns whether this call made it (with one): only one process does, whatever the race.
    """
    try:
        cache.incr(name)
    except ValueError:
        if cache.add(name, 1, COUNTER_TTL):
            return True
        cache.incr(name)
    return False


def _last_key(counted: Counted) -> str:
    kind, credential_id = counted
    return f"iiniit:usage-last:{kind}:{credential_id}"


def _last_day(cache: BaseCache, counted: Counted) -> date | None:
    value = cache.get(_last_key(counted))
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _count_in_cache(cache: BaseCache, counted: Counted, day: date, first_today: bool) -> None:
    """After a counted request: write now if this process claims the interval and more than
    this one request is pending, or if this is the credential's first request of the day and
    an older day is pending (a credential unused for days: its last day is remembered, or that
    day would never be written)."""
    earlier: list[date] = []
    try:
        if first_today:
            earlier = [last] if (last := _last_day(cache, counted)) and last < day else []
            cache.set(_last_key(counted), day.isoformat(), COUNTER_TTL)
        claimed = _claim(cache, counted)
    except Exception:
        logger.warning("Usage cache %r failed; counts stay pending.", auth_settings().USAGE_CACHE)
        return
    # The first request of a day only starts the interval (no write on a credential's first
    # use, as for any other request within an interval), unless the interval is zero.
    alone = first_today and auth_settings().LAST_USED_UPDATE_INTERVAL.total_seconds() > 0
    if earlier or (claimed and not alone):
        _write(lambda: _drain_cache(cache, counted, day, earlier))


def _claim(cache: BaseCache, counted: Counted) -> bool:
    """Whether this process writes the pending counts now: the first past the interval."""
    seconds = auth_settings().LAST_USED_UPDATE_INTERVAL.total_seconds()
    if seconds <= 0:
        return True
    kind, credential_id = counted
    return bool(cache.add(f"iiniit:usage-written:{kind}:{credential_id}", True, int(seconds) or 1))


def _drain_cache(
    cache: BaseCache, counted: Counted, day: date, earlier: Iterable[date] = ()
) -> None:
    """Move the counters of ``day``, the day before and ``earlier`` days from the cache to the
    table.

    Under a lock (one drain at a time per credential), each counter is read, decreased by what
    was read (atomically: increments in between stay) and added to its row; if the write
    fails, the counter gets its count back. A past day's counter, written, expires soon.
    """
    kind, credential_id = counted
    lock = f"iiniit:usage-lock:{kind}:{credential_id}"
    if not cache.add(lock, True, LOCK_TTL):
        return
    try:
        for each in sorted({*earlier, day - timedelta(days=1), day}):
            name = _counter(counted, each)
            requests = cache.get(name)
            if not isinstance(requests, int) or requests <= 0:
                continue
            cache.decr(name, requests)
            try:
                Usage.add(kind, credential_id, each, requests)
            except Exception:
                cache.incr(name, requests)
                raise
            if each < day:
                cache.touch(name, SPENT_TTL)
    finally:
        cache.delete(lock)


# -- counting in memory ----------------------------------------------------------------------


class _Memory:
    """This process's pending counts, and when each credential was last written."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[Counted, dict[date, int]] = {}
        self.written: dict[Counted, float] = {}

    def add(self, counted: Counted, day: date) -> bool:
        """Count one; return whether this credential is due to be written: a whole interval
        after its first count here, then once per interval."""
        interval = auth_settings().LAST_USED_UPDATE_INTERVAL.total_seconds()
        now = time.monotonic()
        with self.lock:
            days = self.counts.setdefault(counted, {})
            days[day] = days.get(day, 0) + 1
            last = self.written.get(counted)
            if interval > 0 and (last is None or now - last < interval):
                if last is None:
                    self.written[counted] = now
                return False
            self.written[counted] = now
            return True

    def take(self, counted: Counted) -> dict[date, int]:
        with self.lock:
            return self.counts.pop(counted, {})

    def give_back(self, counted: Counted, days: dict[date, int]) -> None:
        with self.lock:
            mine = self.counts.setdefault(counted, {})
            for day, requests in days.items():
                mine[day] = mine.get(day, 0) + requests

    def peek(self, counted: Counted) -> dict[date, int]:
        with self.lock:
            return dict(self.counts.get(counted, {}))

    def credentials(self) -> list[Counted]:
        with self.lock:
            return list(self.counts)


_memory = _Memory()


def _drain_memory(counted: Counted) -> None:
    days = _memory.take(counted)
    kind, credential_id = counted
    try:
        for day in sorted(days):
            Usage.add(kind, credential_id, day, days[day])
            del days[day]
    except Exception:
        _memory.give_back(counted, days)
        raise


def _pending(kind: str, credential_ids: list[str], day: date) -> dict[str, dict[date, int]]:
    """What is counted but not written yet, per credential: the cache's and this process's."""
    found = {credential_id: _memory.peek((kind, credential_id)) for credential_id in credential_ids}
    cache = _cache()
    if cache is None or not credential_ids:
        return found
    names = {
        _counter((kind, credential_id), each): (credential_id, each)
        for credential_id in credential_ids
        for each in (day - timedelta(days=1), day)
    }
    try:
        values = cache.get_many(list(names))
    except Exception:
        logger.warning(
            "Usage cache %r failed; pending counts left out.", auth_settings().USAGE_CACHE
        )
        return found
    for name, requests in values.items():
        if isinstance(requests, int) and requests > 0:
            credential_id, each = names[name]
            mine = found[credential_id]
            mine[each] = mine.get(each, 0) + requests
    return found


# -- writing outside the request's transaction -----------------------------------------------


def _write(write: Callable[[], None]) -> None:
    """Run ``write`` now, or after the request when a transaction is open: a rollback of the
    request's transaction must not undo counts already taken out of the counters."""
    if transaction.get_connection(router.db_for_write(Usage)).in_atomic_block:
        after_request(write)
        return
    _run(write)


def _run(write: Callable[[], None]) -> None:
    try:
        write()
    except Exception:
        logger.exception("Writing usage counts failed; they stay pending.")


@atexit.register
def _write_at_exit() -> None:
    if _memory.credentials():
        _run(flush_memory)
