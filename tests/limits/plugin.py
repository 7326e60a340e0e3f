"""Each test starts with empty counters: the limits count in the default cache, which outlives
a test (load with ``-p tests.limits.plugin``, or the same fixture in tests/conftest.py)."""

import pytest
from django.core.cache import caches


@pytest.fixture(autouse=True)
def _fresh_limit_counters():
    yield
    caches["default"].clear()
