"""The optional API-key lookup cache, and last-used bookkeeping for cached keys.

Off unless ``IINIIT_AUTH["CACHE"]`` names a cache in ``CACHES`` (Redis or Memcached when several
processes serve requests; locmem for one). A hit authenticates a key with no query at all.

Correct before fast:

* An entry holds what authentication needs and returns: the key's row (its digest, never the
  plaintext) and the owner's row without the password hash, as plain values pickled into
  bytes. It is read back with ``Model.from_db()``, as a row fresh from the database is, and
  every check (digest, owner ``is_active``, revocation, expiry, networks) runs on it alike.
  Every hit unpickles values of its own, so no request can change another's.
* An entry lives at most ``CACHE_TTL`` seconds, and never past the key's ``expires_at`` (which,
  for a rotated key, is the end of its grace period).
* Every write that can change the answer replaces the entry by a tombstone once its transaction
  commits (:mod:`iiniit_auth.cache_invalidation`): revocation, rotation and issue (their
  signals), any save or deletion of a key row, any save of its owner (deactivation, a changed
  name...), and the deletion of a row a key links to. The tombstone is a value, not a
  deletion, because entries are added with ``cache.add()``: a request that read the row before
  the write committed cannot put the stale row back while the tombstone stands (for
  ``CACHE_TTL``). So the very next request, in every process sharing the cache, sees the write.
* Writes that bypass ``save()`` (``QuerySet.update()`` on users, raw SQL) send no signal: they are
  seen when the entry expires, ``CACHE_TTL`` at most. Code that writes keys that way should call
  :func:`~iiniit_auth.cache_invalidation.forget_on_commit` itself.
* If the cache fails (a Redis that is down), authentication reads the database instead, and the
  failure is logged; it never turns into an error for the caller.

``last_used_at`` stays at most one write per key per ``LAST_USED_UPDATE_INTERVAL``: a hit whose
entry is older than the interval claims the write with ``cache.add()`` of a marker that lives
one interval, and only the process that wins runs the model's conditional UPDATE.
"""

from __future__ import annotations

import hashlib
import logging
import math
import pickle
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.cache import BaseCache, caches
from django.db.models.fields.files import FieldFile

from iiniit_auth import lookup
from iiniit_auth.conf import auth_settings
from iiniit_auth.models import AbstractAPIKey

logger = logging.getLogger(__name__)

#: What stands in the cache for a key that was just written: "read the database".
TOMBSTONE = "written"
#: The owner's fields an entry leaves out (a deferred field, loaded on access).
OWNER_EXCLUDED = frozenset({"password"})


def entry_key(model: type[AbstractAPIKey], public_id: str) -> str:
    """Return the cache key of the entry for ``public_id`` of ``model``.

    Short, because Django's cache backends check every character of a key on every call: the
    model's name without its app. Two key models of the same name in different apps share
    keys, which costs them cache misses and nothing else: an entry carries its layout, which
    names its model (:meth:`Layout.load` takes another model's entry for a miss), and a
    tombstone only ever makes a miss.
    """
    return f"iiniit:{model._meta.model_name}:{public_id}"


def _entry_names(public_ids: Iterable[str]) -> list[str]:
    """The cache keys an entry for each of ``public_ids`` may stand under: one per key model.

    A key row can be read through its model, a proxy of it, or a parent or child model (a
    subclass with a table of its own), each caching under its own name: a write through any
    of them must reach them all. Unrelated models only get a needless tombstone (a miss).
    """
    return [entry_key(model, public_id) for model in all_key_models() for public_id in public_ids]


def _used_key(model: type[AbstractAPIKey], public_id: str) -> str:
    return f"iiniit:used:{model._meta.model_name}:{public_id}"


class Layout:
    """Which fields an entry of one key model holds, and a version of that layout.

    An entry written by a process with other fields (a deploy that added a column) carries
    another version and is treated as a miss, never misread.
    """

    def __init__(self, model: type[AbstractAPIKey]) -> None:
        owner = lookup.owner_model(model)
        self.model = model
        self.owner = owner
        self.key_names = tuple(field.attname for field in model._meta.concrete_fields)
        self.owner_names = tuple(
            field.attname
            for field in owner._meta.concrete_fields
            if field.attname not in OWNER_EXCLUDED
        )
        # The version covers each field's name and class: a renamed, added, removed or retyped
        # field makes older entries misses.
        described = repr(
            [
                (
                    each._meta.label,
                    [(f.attname, type(f).__name__) for f in each._meta.concrete_fields],
                )
                for each in (model, owner)
            ]
        )
        self.version = hashlib.sha256(described.encode()).hexdigest()[:16]
        self.prefix = entry_key(model, "")

    def dump(self, key: AbstractAPIKey) -> bytes:
        """Return the entry for ``key`` (its owner loaded): the version, the database the rows
        were read from, and both rows' values, pickled."""
        owner = key.owner
        rows = (
            self.version,
            key._state.db,
            tuple(_plain(getattr(key, name)) for name in self.key_names),
            tuple(_plain(getattr(owner, name)) for name in self.owner_names),
        )
        return pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)

    def load(self, entry: Any, db: str) -> AbstractAPIKey | None:
        """Return the key (with its owner) an entry holds, built with ``Model.from_db()``; None
        for a tombstone, a stranger, or an entry read from another database than ``db`` (a
        router that sends each tenant to a database of its own: the same public id there is
        another key, or none)."""
        if type(entry) is not bytes:
            return None
        try:
            value = pickle.loads(entry)  # noqa: S301 (Django's cache unpickles every value it holds)
        except Exception:
            return None  # not an entry this code wrote: a miss
        if (
            type(value) is not tuple
            or len(value) != 4
            or value[0] != self.version
            or value[1] != db
            or len(value[2]) != len(self.key_names)
            or len(value[3]) != len(self.owner_names)
        ):
            return None
        key = self.model.from_db(db, self.key_names, value[2])
        # The left-out fields (the password hash) are deferred: loaded if ever read.
        # The owner model is the project's user model, whatever the stubs take it for.
        owner: Any = self.owner.from_db(db, self.owner_names, value[3])
        key.owner = owner  # assigned as the lookup assigns it: reading it costs no query
        return key


def _plain(value: Any) -> Any:
    """A field's value as an entry holds it: a file field's as its name.

    A ``FieldFile`` pickles the whole model instance it belongs to, and an owner's would carry
    the password hash into the cache. The name is what the column holds; the field's descriptor
    makes it a ``FieldFile`` again when it is read.
    """
    return value.name if isinstance(value, FieldFile) else value


_layouts: dict[type[AbstractAPIKey], Layout] = {}


def layout(model: type[AbstractAPIKey]) -> Layout:
    """Return the :class:`Layout` of ``model``, built on first use."""
    try:
        return _layouts[model]
    except KeyError:
        built = _layouts[model] = Layout(model)
        return built


def _seconds(value: float) -> int:
    """A cache timeout in whole seconds, at least one (backends differ on fractions and 0)."""
    return max(1, math.ceil(value))


class KeyCache:
    """The lookup cache as configured now. Get one with :func:`key_cache`."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    @property
    def cache(self) -> BaseCache:
        """The cache itself: Django's connection of this thread (or asynchronous context)."""
        return caches[self.alias]

    def get(self, model: type[AbstractAPIKey], public_id: str) -> AbstractAPIKey | None:
        """Return the cached key with ``public_id`` (its owner loaded), or None on a miss.

        A tombstone, an entry of another layout and a failing cache are all misses.
        """
        found = layout(model)
        try:
            entry = self.cache.get(found.prefix + public_id)
        except Exception:
            logger.warning("API key cache %r failed; reading the database.", self.alias)
            return None
        if entry is None:
            return None
        return found.load(entry, lookup.database(model))

    def add(self, key: AbstractAPIKey, now: datetime, read_at: float | None = None) -> bool:
        """Cache ``key`` (with its owner) unless an entry or a tombstone is there.

        The entry lives ``CACHE_TTL`` seconds at most and ends before the key expires; a key
        that expires within a second is not cached. ``read_at`` is when the key's row was read
        (``time.monotonic()``): a row read half a ``CACHE_TTL`` ago or more is not cached, since
        the tombstone of a write that committed after the read may have expired by now (a
        request stalled on a lock, say). Returns whether the entry was added.
        """
        ttl = auth_settings().CACHE_TTL.total_seconds()
        if read_at is not None and time.monotonic() - read_at >= ttl / 2:
            return False
        if key.expires_at is not None:
            ttl = min(ttl, (key.expires_at - now).total_seconds())
        if ttl < 1:
            return False
        model = type(key)
        try:
            # Whole seconds, rounded down: never past the expiry.
            return bool(
                self.cache.add(entry_key(model, key.public_id), layout(model).dump(key), int(ttl))
            )
        except Exception:
            logger.warning("API key cache %r failed; the key was not cached.", self.alias)
            return False

    def record_use(self, key: AbstractAPIKey, now: datetime) -> bool:
        """Stamp ``last_used_at`` of a key served from the cache, once per interval at most.

        Within the interval of the stamp the entry carries, nothing happens. Past it, the
        process that adds the interval's marker runs the model's conditional UPDATE; the others
        skip it. Returns whether a row was written.
        """
        interval = auth_settings().LAST_USED_UPDATE_INTERVAL
        if key.last_used_at is not None and now - key.last_used_at < interval:
            return False
        seconds = interval.total_seconds()
        if seconds > 0:
            try:
                claimed = self.cache.add(
                    _used_key(type(key), key.public_id), True, _seconds(seconds)
                )
            except Exception:
                logger.warning("API key cache %r failed; stamping last use.", self.alias)
                claimed = True
            if not claimed:
                return False
        return key.record_use(now)

    def forget(self, model: type[AbstractAPIKey], public_ids: Iterable[str]) -> None:
        """Put tombstones in place of the entries of ``public_ids`` (for ``CACHE_TTL``).

        Then read them back: a cache may refuse a write and say nothing (Django's database
        cache does, Memcached only returns the keys it failed), or refuse writes and still
        serve reads (Redis out of memory). Any name without its tombstone is deleted instead.
        ``model`` is the model written through; every key model's entry is replaced
        (:func:`_entry_names`).
        """
        names = _entry_names(public_ids)
        if not names:
            return
        ttl = _seconds(auth_settings().CACHE_TTL.total_seconds())
        try:
            self.cache.set_many(dict.fromkeys(names, TOMBSTONE), ttl)
            standing = self.cache.get_many(names)
            missing = [name for name in names if standing.get(name) != TOMBSTONE]
        except Exception:
            logger.exception("API key cache %r failed to write tombstones.", self.alias)
            missing = names
        if not missing:
            return
        try:
            self.cache.delete_many(missing)
        except Exception:
            logger.exception(
                "API key cache %r failed to drop %d entries: they expire within %d s.",
                self.alias,
                len(missing),
                ttl,
            )
        else:
            logger.warning(
                "API key cache %r took no tombstone for %d entries; they were deleted instead.",
                self.alias,
                len(missing),
            )

    def discard(self, model: type[AbstractAPIKey], public_id: str) -> None:
        """Delete the entry of ``public_id``, if any (no tombstone)."""
        try:
            self.cache.delete(entry_key(model, public_id))
        except Exception:
            logger.exception("API key cache %r failed to drop an entry.", self.alias)


_key_caches: dict[str, KeyCache] = {}


def key_cache() -> KeyCache | None:
    """Return the configured :class:`KeyCache`, or None when the cache is off."""
    alias = auth_settings().CACHE
    if alias is None:
        return None
    try:
        return _key_caches[alias]
    except KeyError:
        store = _key_caches[alias] = KeyCache(alias)
        return store


def key_models() -> list[type[AbstractAPIKey]]:
    """Every installed concrete key model (``APIKey`` and a project's subclasses)."""
    return [model for model in all_key_models() if not model._meta.proxy]


def all_key_models() -> list[type[AbstractAPIKey]]:
    """Every installed key model, proxies included."""
    return [model for model in apps.get_models() if issubclass(model, AbstractAPIKey)]
