"""The lookup cache across processes: two processes share a real Redis and a database;
one serves requests, the other writes. Every write is refused or seen on the very next request.

The processes are this module run as a script (``python -m tests.test_cache_redis <role>``),
configured from tests/settings.py with a database of their own (a SQLite file, or a PostgreSQL
database when DATABASE_URL names one) and a Redis key prefix of their own, so parallel test
workers never meet. They answer one JSON line per command. Skipped only when no Redis answers
at 127.0.0.1:6379 (CI starts one).
"""

import json
import os
import select
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.redis_support import redis_database

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


# -- the two processes ---------------------------------------------------------------------------


def _configure(database, prefix):
    """Configure Django from tests/settings.py with this database and a Redis lookup cache."""
    import django
    from django.conf import settings

    from tests import settings as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    values["DATABASES"] = {"default": {**base.DATABASES["default"], **database}}
    values["CACHES"] = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "keys": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    values["IINIIT_AUTH"] = {**base.IINIIT_AUTH, "CACHE": "keys"}
    settings.configure(**values)
    django.setup()


def _writer(command):
    """The process that writes: issues, revokes, rotates keys, changes users."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model

    from iiniit_auth.models import APIKey

    users = get_user_model().objects
    op = command["op"]
    if op == "issue":
        owner, _ = users.get_or_create(username=command["username"])
        key, plaintext = APIKey.objects.issue(owner=owner, name="redis", scopes=[])
        return {"key": plaintext, "public_id": key.public_id}
    key = APIKey.objects.get(public_id=command["public_id"]) if "public_id" in command else None
    if op == "revoke":
        key.revoke(reason="test")
    elif op == "rotate":
        _successor, plaintext = key.rotate(grace=timedelta(seconds=command["grace"]))
        return {"key": plaintext}
    elif op == "networks":
        key.allowed_networks = command["networks"]
        key.save()
    elif op == "deactivate":
        user = users.get(username=command["username"])
        user.is_active = False
        user.save()
    else:
        raise ValueError(op)
    return {}


def _server(command):
    """The process that serves: one request, its status, SQL query count and user."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = Client().get(
            "/api/ping/",
            HTTP_AUTHORIZATION=f"ApiKey {command['key']}",
            REMOTE_ADDR=command.get("address", "127.0.0.1"),
        )
    user = response.json().get("user") if response.status_code == 200 else None
    return {"status": response.status_code, "queries": len(queries), "user": user}


def main(role):
    config = json.loads(os.environ["IINIIT_TEST_CACHE_PROCESS"])
    _configure(config["database"], config["prefix"])
    from django.db import connection

    old_name = None
    if role == "writer":
        # The writer makes the shared database (and drops it at the end).
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(json.dumps({"ready": connection.settings_dict["NAME"]}), flush=True)
    handle = _writer if role == "writer" else _server
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "quit":
                break
            print(json.dumps(handle(command)), flush=True)
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)


# -- the test side ---------------------------------------------------------------------------------


class Process:
    """One of the two processes, driven one JSON line at a time."""

    def __init__(self, role, config, log):
        env = {**os.environ, "IINIIT_TEST_CACHE_PROCESS": json.dumps(config)}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log = log
        self.stderr = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603  (this interpreter, this module)
            [sys.executable, "-m", "tests.test_cache_redis", role],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        self.ready = self.read()["ready"]

    def read(self):
        readable, _, _ = select.select([self.process.stdout], [], [], TIMEOUT)
        line = self.process.stdout.readline() if readable else ""
        if not line:
            self.process.kill()
            self.stderr.flush()
            pytest.fail(f"the process said nothing; its errors:\n{self.log.read_text()[-3000:]}")
        return json.loads(line)

    def send(self, op, **values):
        self.process.stdin.write(json.dumps({"op": op, **values}) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.stderr.close()


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """(writer, server): two processes sharing a fresh database and a Redis key prefix."""
    # Database 0 is shared with whatever else runs there: the keys of this prefix go, no more.
    with redis_database(REDIS_URL, empty=False) as client:
        from django.conf import settings

        unique = uuid.uuid4().hex[:12]
        prefix = f"iiniit-test-{unique}"
        base = settings.DATABASES["default"]
        folder = tmp_path_factory.mktemp("cache-redis")
        if base["ENGINE"] == "django.db.backends.sqlite3":
            name = str(folder / "shared.sqlite3")
            writer_db = {"NAME": name, "TEST": {"NAME": name, "MIGRATE": False}}
        else:
            writer_db = {"TEST": {"NAME": f"test_iiniit_cache_{unique}", "MIGRATE": False}}
        writer = Process("writer", {"database": writer_db, "prefix": prefix}, folder / "writer.log")
        server = None
        try:
            server = Process(
                "server",
                {"database": {"NAME": writer.ready}, "prefix": prefix},
                folder / "server.log",
            )
            yield writer, server
        finally:
            if server is not None:
                server.close()
            writer.close()
            for name in client.scan_iter(match=f"{prefix}:*"):
                client.delete(name)


def issue_and_warm(processes, username):
    """Issue a key in the writer; the server's first request fills the cache, the next hits."""
    writer, server = processes
    issued = writer.send("issue", username=username)
    first = server.send("get", key=issued["key"])
    second = server.send("get", key=issued["key"])
    assert first == {"status": 200, "queries": 2, "user": username}  # lookup, last_used_at
    assert second == {"status": 200, "queries": 0, "user": username}  # from Redis
    return issued


def test_a_revocation_is_refused_on_the_next_request_of_the_other_process(processes):
    writer, server = processes
    issued = issue_and_warm(processes, "revoked-owner")

    writer.send("revoke", public_id=issued["public_id"])

    assert server.send("get", key=issued["key"])["status"] == 401


def test_a_rotation_past_its_grace_is_refused_on_the_next_request(processes):
    writer, server = processes
    issued = issue_and_warm(processes, "rotated-owner")

    successor = writer.send("rotate", public_id=issued["public_id"], grace=0)

    assert server.send("get", key=issued["key"])["status"] == 401
    assert server.send("get", key=successor["key"])["status"] == 200


def test_a_rotation_within_its_grace_keeps_both_keys(processes):
    writer, server = processes
    issued = issue_and_warm(processes, "graced-owner")

    successor = writer.send("rotate", public_id=issued["public_id"], grace=3600)

    assert server.send("get", key=issued["key"])["status"] == 200
    assert server.send("get", key=successor["key"])["status"] == 200


def test_an_owner_deactivation_is_refused_on_the_next_request(processes):
    writer, server = processes
    issued = issue_and_warm(processes, "leaving-owner")

    writer.send("deactivate", username="leaving-owner")

    assert server.send("get", key=issued["key"])["status"] == 401


def test_a_changed_key_row_is_seen_on_the_next_request(processes):
    writer, server = processes
    issued = issue_and_warm(processes, "fenced-owner")

    writer.send("networks", public_id=issued["public_id"], networks=["10.0.0.0/8"])

    assert server.send("get", key=issued["key"])["status"] == 401
    assert server.send("get", key=issued["key"], address="10.0.0.7")["status"] == 200


if __name__ == "__main__":
    main(sys.argv[1])
