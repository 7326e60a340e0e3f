"""Model instances of rows read by hand, built as ``Model.from_db()`` builds them, cheaper.

Every request builds the key (or token) and its owner from one row (:mod:`iiniit_auth.lookup`)
or from a cache entry (:mod:`iiniit_auth.cache`); ``Model.__init__`` is most of what building
an instance costs. Where nothing could tell the difference, the instance is built as
``__init__`` would build it, without the call; otherwise through ``from_db()``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cache
from inspect import getattr_static
from typing import Any, TypeVar
from uuid import UUID

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=models.Model)


@cache
def _init_only_sets_fields(model: type[models.Model]) -> bool:
    """Whether ``model(*row)`` does nothing but set each field's attribute on a new instance.

    True when the model has neither an ``__init__`` nor a ``from_db`` of its own, and no field's
    attribute is behind a descriptor that could do more on assignment than store the value (a
    foreign key's ``ForeignKeyDeferredAttribute`` clears a cached related object, and a new
    instance has none). The ``pre_init`` and ``post_init`` receivers are checked on every build:
    they can be connected at any time.
    """
    for name in ("__init__", "from_db"):
        if getattr_static(model, name) is not getattr_static(models.Model, name):
            return False
    for field in model._meta.concrete_fields:
        descriptor = getattr_static(model, field.attname, None)
        if hasattr(type(descriptor), "__set__") and not isinstance(
            descriptor, ForeignKeyDeferredAttribute
        ):
            return False
    return True


def instance(model: type[M], db: str, attnames: Sequence[str], values: Sequence[Any]) -> M:
    """Return ``model.from_db(db, attnames, values)``: the instance of a row read from ``db``.

    ``attnames`` are concrete fields in ``concrete_fields`` order; the others are deferred.
    When nothing could tell the difference (see :func:`_init_only_sets_fields`, and no
    ``pre_init`` or ``post_init`` receiver for the model), the instance is built as
    ``Model.__init__`` would build it, without the call: every request builds the key and its
    owner, and ``__init__`` is most of what building one costs.
    """
    if not _builds_directly(model):
        return model.from_db(db, attnames, values)
    new = _read_from(model, db)
    new.__dict__.update(zip(attnames, values, strict=True))
    return new


def _read_from(model: type[M], db: str) -> M:
    """A new ``model`` instance with no field set, in the state of one read from ``db``."""
    new = model.__new__(model)
    state = new._state = ModelState()
    state.adding = False
    state.db = db
    return new


def _builds_directly(model: type[models.Model]) -> bool:
    return _init_only_sets_fields(model) and not (
        # Asking each signal about the model costs more than building the instance: first
        # whether any receiver is connected at all.
        (pre_init.receivers and pre_init.has_listeners(model))
        or (post_init.receivers and post_init.has_listeners(model))
    )


def instance_of_fields(
    model: type[M],
    db: str,
    fields: dict[str, Any],
    copies: Sequence[tuple[str, Callable[[Any], Any]]] = (),
) -> M:
    """Return :func:`instance` of the values ``fields`` maps attnames to (``concrete_fields``
    order; the others deferred), with ``copier(value)`` in place of each value ``copies``
    names: a row kept for many requests (the lookup cache), each given its own instance.

    Built by merging the mapping into the new instance, which costs a fraction of pairing
    names and values anew.
    """
    if not _builds_directly(model):
        copied = dict(fields)
        for name, copier in copies:
            copied[name] = copier(copied[name])
        return model.from_db(db, list(copied), list(copied.values()))
    new = _read_from(model, db)
    attributes = new.__dict__
    attributes.update(fields)
    for name, copier in copies:
        attributes[name] = copier(fields[name])
    return new


#: Values that the instances of several requests can share: none is ever changed in place.
IMMUTABLE = (
    type(None),
    bool,
    int,
    float,
    str,
    bytes,
    Decimal,
    UUID,
    date,  # and datetime
    time,
    timedelta,
)


def copier(value: Any) -> Callable[[Any], Any] | None:
    """How each instance gets a copy of ``value`` of its own: None when it can share it, a
    shallow copy for a list or dict of plain values (a JSON field's usual content), else a deep
    copy."""
    if isinstance(value, IMMUTABLE):
        return None
    if type(value) is list and all(isinstance(each, IMMUTABLE) for each in value):
        return list
    if type(value) is dict and all(isinstance(each, IMMUTABLE) for each in value.values()):
        return dict
    return copy.deepcopy
