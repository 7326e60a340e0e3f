"""Writes that must outlive the request's own transaction.

Under ``ATOMIC_REQUESTS``, or in an atomic view, a request's transaction is rolled back when it
answers with an error (DRF does so on a 401), and an audit row or a usage count written inside
it would go with it. :func:`after_request` keeps such a write until the request has finished
(Django's ``request_finished`` signal), then runs it outside that transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver

logger = logging.getLogger(__name__)

#: The writes waiting for the end of the request: one list per WSGI thread or ASGI task.
_pending: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "iiniit_after_request", default=None
)


def after_request(write: Callable[[], None]) -> None:
    """Run ``write`` once the current request has finished (in the order they were given)."""
    pending = _pending.get()
    if pending is None:
        pending = []
        _pending.set(pending)
    pending.append(write)


@receiver(request_finished)
def run_deferred(**kwargs: Any) -> None:
    """Run the writes :func:`after_request` kept; one that fails is logged, and the others run."""
    pending = _pending.get()
    if not pending:
        return
    _pending.set(None)
    for write in pending:
        try:
            write()
        except Exception:
            logger.exception("A write kept for the end of the request failed.")
