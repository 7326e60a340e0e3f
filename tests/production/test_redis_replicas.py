"""The key cache on Redis with replicas: what docs/deployment.md says, run.

Django's RedisCache with several locations writes to the first and reads from the others. A
revocation's tombstone goes to the primary; a replica that has not received it still serves
the key's entry, and the revoked key is accepted. With one location, the primary, it is not.
Two redis-server processes of the test's own, on free ports; the replica's link is cut to hold
its lag still.
"""

import shutil
import subprocess
import time

import pytest
import redis
from django.core.cache import caches

from tests.production import harness

pytestmark = [pytest.mark.production, pytest.mark.django_db]


def redis_server(tmp_path, *extra):
    tmp_path.mkdir()
    port = harness.free_port()
    process = subprocess.Popen(  # noqa: S603 - the system's redis-server
        [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process, port, client
        except redis.ConnectionError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("redis-server did not start")


@pytest.fixture
def primary_and_replica(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    primary, primary_port, _ = redis_server(tmp_path / "primary")
    replica, replica_port, replica_client = redis_server(
        tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary_port)
    )
    try:
        for _ in range(200):
            if replica_client.info("replication").get("master_link_status") == "up":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the replica did not catch up with the primary")
        yield f"redis://127.0.0.1:{primary_port}/0", f"redis://127.0.0.1:{replica_port}/0"
    finally:
        for process in (primary, replica):
            process.terminate()
            process.wait(10)


def use_cache(settings, location):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "keys": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location},
    }
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE": "keys"}


def revoked_while_the_replica_lags(settings, api, issue, commit, location, replica_url):
    """Cache a key, cut the replica off (it keeps the entry), revoke; return the next answer."""
    use_cache(settings, location)
    key, plaintext = issue()
    headers = {"HTTP_AUTHORIZATION": f"ApiKey {plaintext}"}
    assert api.get("/api/ping/", **headers).status_code == 200  # cached on the primary
    replica = redis.Redis.from_url(replica_url)
    for _ in range(200):
        if replica.dbsize():
            break
        time.sleep(0.05)
    assert replica.dbsize() == 1  # the entry reached the replica
    replica.replicaof("NO", "ONE")  # the link is down: the replica lags from now on
    with commit():
        key.revoke()
    try:
        return api.get("/api/ping/", **headers).status_code
    finally:
        caches["keys"].close()


def test_several_locations_serve_a_revoked_key_from_a_lagging_replica(
    settings, api, issue, commit, primary_and_replica
):
    primary, replica = primary_and_replica
    status = revoked_while_the_replica_lags(
        settings, api, issue, commit, [primary, replica], replica
    )
    assert status == 200  # what docs/deployment.md warns of


def test_one_location_the_primary_refuses_a_revoked_key_at_once(
    settings, api, issue, commit, primary_and_replica
):
    primary, replica = primary_and_replica
    status = revoked_while_the_replica_lags(settings, api, issue, commit, primary, replica)
    assert status == 401
