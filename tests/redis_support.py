"""The Redis at 127.0.0.1:6379 that the tests across processes share, or a skip."""

from contextlib import contextmanager

import pytest


@contextmanager
def redis_database(url, *, empty=True):
    """A redis-py client of the database ``url`` names, emptied before and after when
    ``empty``, closed after. Skips the test when redis-py is missing or no Redis answers."""
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is in the test extra
        pytest.skip("redis-py is not installed")
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
        if empty:
            client.flushdb()
    except redis.RedisError as exc:
        client.close()
        pytest.skip(f"No Redis answers at 127.0.0.1:6379 ({exc}); CI starts one.")
    try:
        yield client
    finally:
        if empty:
            client.flushdb()
        client.close()
