"""Usage tests: a fresh lookup cache (locmem) or none, and the memory counts emptied."""

import pytest

from iiniit_auth import usage


@pytest.fixture(autouse=True)
def empty_memory():
    usage._memory.counts.clear()
    usage._memory.written.clear()
    yield
    usage._memory.counts.clear()
    usage._memory.written.clear()


@pytest.fixture
def with_cache(settings):
    """Count in a fresh locmem cache aliased "keys"."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "keys": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"usage-{id(settings)}",
        },
    }
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE": "keys"}


def end_request():
    """What the end of a request does (the request_finished receiver): deferred writes run.

    Not the signal itself: Django's own receiver of it would close the test's connection."""
    usage._write_after_request()
