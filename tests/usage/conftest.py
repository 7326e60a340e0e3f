"""Usage tests: a fresh shared cache to count in, or memory; the memory counts emptied."""

import pytest
from django.core.cache.backends.locmem import LocMemCache

from iiniit_auth import deferred, usage


@pytest.fixture(autouse=True)
def empty_memory():
    usage.forget_memory()
    yield
    usage.forget_memory()


class SharedCache(LocMemCache):
    """Stands for a cache every process shares (Redis): usage counts in it, not in memory,
    as it does in any cache but Django's local-memory one itself."""


@pytest.fixture
def with_cache(settings):
    """Count in a fresh shared cache aliased "keys" (USAGE_CACHE)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "keys": {"BACKEND": f"{__name__}.SharedCache", "LOCATION": f"usage-{id(settings)}"},
    }
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "USAGE_CACHE": "keys"}


def end_request():
    """What the end of a request does (the request_finished receiver): deferred writes run.

    Not the signal itself: Django's own receiver of it would close the test's connection."""
    deferred.run_deferred()
