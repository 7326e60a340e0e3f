"""How the lookup cache hears of every write that changes an answer (:mod:`iiniit_auth.cache`).

Each receiver replaces the entries of the keys a write touches by tombstones, once the write's
transaction commits (:meth:`~iiniit_auth.cache.KeyCache.forget`): revocation, rotation and issue
(their signals); any save or deletion of a key row, through its model, a proxy or a child model;
any save of its owner, through the user model, a proxy or a child model (deactivation, a
changed name...); and the deletion of a row a key links to besides its owner (the user who
created or revoked it, its predecessor), whose link Django nulls with ``QuerySet.update()``.
:func:`connect` connects them all, from the app's ``ready()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

from django.apps import apps
from django.db import models, router, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils import timezone

from iiniit_auth import lookup, signals
from iiniit_auth.cache import KeyCache, all_key_models, key_cache, key_models
from iiniit_auth.models import AbstractAPIKey
from iiniit_auth.models.managers import authenticating


def forget_on_commit(model: type[AbstractAPIKey], public_ids: Iterable[str], using: str) -> None:
    """Drop the entries of ``public_ids`` once the current transaction on ``using`` commits
    (at once outside a transaction). Does nothing when the cache is off."""
    store = key_cache()
    if store is not None:
        transaction.on_commit(partial(store.forget, model, list(public_ids)), using=using)


def _db_of(instance: models.Model) -> str:
    return instance._state.db or router.db_for_write(type(instance))


def _key_written(sender: Any, key: AbstractAPIKey, **kwargs: Any) -> None:
    forget_on_commit(type(key), [key.public_id], _db_of(key))


def _key_issued(sender: Any, key: AbstractAPIKey, **kwargs: Any) -> None:
    # Nothing can be cached under a public id that did not exist; deleting any entry there
    # anyway keeps the rule simple: every lifecycle write clears its key.
    store = key_cache()
    if store is not None:
        transaction.on_commit(partial(store.discard, type(key), key.public_id), using=_db_of(key))


def _key_row_changed(sender: Any, instance: AbstractAPIKey, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return  # a new row (issue()) was never cached: _key_issued has it
    forget_on_commit(type(instance), [instance.public_id], _db_of(instance))


def _owner_saved(sender: Any, instance: models.Model, **kwargs: Any) -> None:
    store = key_cache()
    if store is None or kwargs.get("created"):
        return  # a new user has no keys yet
    transaction.on_commit(
        partial(_forget_keys_of, store, sender, instance.pk, timezone.now()),
        using=_db_of(instance),
    )


def _referenced_deleted(sender: Any, instance: models.Model, **kwargs: Any) -> None:
    """Before a row that keys point to is deleted (a user who created or revoked a key, a
    predecessor), drop those keys' entries: Django nulls the links with ``QuerySet.update()``,
    which sends no signal, and a cached key would keep the deleted row's id."""
    store = key_cache()
    if store is None:
        return
    using = _db_of(instance)
    for model, names in _links_to(sender).items():
        links = Q()
        for name in names:
            links |= Q(**{name: instance.pk})
        public_ids = list(
            lookup.readable(model, using).filter(links).values_list("public_id", flat=True)
        )
        if public_ids:
            forget_on_commit(model, public_ids, using)


def _owned_by(owner: type[models.Model]) -> list[type[AbstractAPIKey]]:
    """The concrete key models whose owner ``owner`` is, or a proxy or child of (a user model
    saved through a proxy or a subclass with a table of its own is still the owner)."""
    return [model for model in key_models() if issubclass(owner, lookup.owner_model(model))]


def _links_to(target: type[models.Model]) -> dict[type[AbstractAPIKey], list[str]]:
    """The foreign keys of each concrete key model that point to ``target`` (or a parent),
    other than the owner, whose deletion deletes the key."""
    found: dict[type[AbstractAPIKey], list[str]] = {}
    for model in key_models():
        names = [
            field.name
            for field in model._meta.concrete_fields
            if field.many_to_one
            and field.name != "owner"
            and field.related_model is not None
            and issubclass(target, field.related_model)
        ]
        if names:
            found[model] = names
    return found


def _forget_keys_of(
    store: KeyCache, owner: type[models.Model], owner_pk: Any, since: datetime
) -> None:
    """Drop the entries of every key of the owner that can still be cached: every row the
    lookup can read (:func:`~iiniit_auth.lookup.readable`), whatever the default manager
    leaves out."""
    for model in _owned_by(owner):
        public_ids = (
            lookup.readable(model, lookup.database(model))
            .filter(authenticating(since), owner=owner_pk)
            .values_list("public_id", flat=True)
        )
        store.forget(model, public_ids)


def connect() -> None:
    """Connect the invalidation receivers (from the app's ``ready()``). Idempotent.

    Every key model, proxies included, and every model its keys point to (the owner's model
    and its proxies and children, whose saves Django sends under their own class) get theirs.
    """
    signals.api_key_revoked.connect(_key_written, dispatch_uid="iiniit_auth.cache.revoked")
    signals.api_key_rotated.connect(_key_written, dispatch_uid="iiniit_auth.cache.rotated")
    signals.api_key_issued.connect(_key_issued, dispatch_uid="iiniit_auth.cache.issued")
    for key_model in all_key_models():
        uid = f"iiniit_auth.cache.{key_model._meta.label_lower}"
        post_save.connect(_key_row_changed, sender=key_model, dispatch_uid=f"{uid}.saved")
        post_delete.connect(_key_row_changed, sender=key_model, dispatch_uid=f"{uid}.deleted")
    owners = tuple({lookup.owner_model(key_model) for key_model in key_models()})
    for model in apps.get_models():
        uid = f"iiniit_auth.cache.{model._meta.label_lower}"
        if owners and issubclass(model, owners):
            post_save.connect(_owner_saved, sender=model, dispatch_uid=f"{uid}.owner")
        if _links_to(model):
            pre_delete.connect(_referenced_deleted, sender=model, dispatch_uid=f"{uid}.linked")
