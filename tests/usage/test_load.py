"""Usage under load: several worker processes serve requests with one key at once, counting
in a shared Redis (or each in its own memory), writing to one database. What the table holds
at the end is within 1% of the requests served (it should be exact).

The processes are this module run as a script (``python -m tests.usage.test_load <role>``),
configured from tests/settings.py with a database of their own (a SQLite file, or a PostgreSQL
database when DATABASE_URL names one). Redis is 127.0.0.1:6379, database 6, emptied first; the
Redis case is skipped when no Redis answers.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.redis_support import redis_database

REDIS_URL = "redis://127.0.0.1:6379/6"
ROOT = Path(__file__).resolve().parent.parent.parent
WORKERS = 4
REQUESTS = 200
TIMEOUT = 240


# -- the processes -----------------------------------------------------------------------------


def _configure(config):
    import django
    from django.conf import settings

    from tests import settings as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    values["DATABASES"] = {"default": {**base.DATABASES["default"], **config["database"]}}
    values["ROOT_URLCONF"] = "tests.usage.urls"
    values["CACHES"] = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Written every second: many writes from every process while they all count.
    conf = {**base.IINIIT_AUTH, "LAST_USED_UPDATE_INTERVAL": 1}
    if config["redis"]:
        values["CACHES"]["keys"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": config["prefix"],
        }
        conf["USAGE_CACHE"] = "keys"
    values["IINIIT_AUTH"] = conf
    settings.configure(**values)
    django.setup()


def _setup(config):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from iiniit_auth.models import APIKey

    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    owner = get_user_model().objects.create_user("load")
    key, plaintext = APIKey.objects.issue(owner=owner, name="load", scopes=[])
    return {"database": connection.settings_dict["NAME"], "key": plaintext, "id": key.public_id}


def _serve(config):
    from django.test import Client

    client = Client()
    served = 0
    for _ in range(config["requests"]):
        response = client.get("/api/counted/", HTTP_AUTHORIZATION=f"ApiKey {config['key']}")
        served += response.status_code == 200
    # What is still counted in this process's memory is written at exit.
    return {"served": served}


def _finish(config):
    from django.db import connection
    from django.db.models import Sum

    from iiniit_auth import usage
    from iiniit_auth.models import Usage

    usage.flush("api_key", config["id"])
    rows = Usage.objects.filter(kind="api_key", credential_id=config["id"])
    counted = rows.aggregate(n=Sum("requests"))["n"] or 0
    connection.creation.destroy_test_db(config["old_name"], verbosity=0)
    return {"counted": counted}


def main(role):
    config = json.loads(os.environ["IINIIT_TEST_USAGE_PROCESS"])
    _configure(config)
    print(json.dumps({"setup": _setup, "serve": _serve, "finish": _finish}[role](config)))


# -- the test side -----------------------------------------------------------------------------


def _start(role, config, log):
    env = {**os.environ, "IINIIT_TEST_USAGE_PROCESS": json.dumps(config)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with log.open("w") as errors:
        return subprocess.Popen(  # noqa: S603  (this interpreter, this module)
            [sys.executable, "-m", "tests.usage.test_load", role],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )


def _answer(process, log):
    try:
        out, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"a process took too long; its errors:\n{log.read_text()[-3000:]}")
    if process.returncode != 0 or not out.strip():
        pytest.fail(f"a process failed; its errors:\n{log.read_text()[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(params=["redis", "memory"])
def counting(request):
    """How the workers count: in a shared Redis (DB 6, emptied), or each in its memory (the
    default: USAGE_CACHE None)."""
    if request.param == "redis":
        with redis_database(REDIS_URL):
            yield True
    else:
        yield False


def test_counts_within_one_percent_of_requests_served(counting, tmp_path):
    from django.conf import settings

    unique = uuid.uuid4().hex[:12]
    base = settings.DATABASES["default"]
    if base["ENGINE"] == "django.db.backends.sqlite3":
        name = str(tmp_path / "usage.sqlite3")
        database = {"NAME": name, "TEST": {"NAME": name, "MIGRATE": False}}
    else:
        database = {"TEST": {"NAME": f"test_iiniit_usage_{unique}", "MIGRATE": False}}
    config = {"database": database, "redis": counting, "prefix": f"usage-{unique}"}

    made = _answer(_start("setup", config, tmp_path / "setup.log"), tmp_path / "setup.log")
    config = {**config, "database": {"NAME": made["database"]}, "key": made["key"]}
    old_name = base["NAME"] if base["ENGINE"] != "django.db.backends.sqlite3" else made["database"]
    try:
        logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
        workers = [_start("serve", {**config, "requests": REQUESTS}, log) for log in logs]
        served = sum(
            _answer(worker, log)["served"] for worker, log in zip(workers, logs, strict=True)
        )
    finally:
        log = tmp_path / "finish.log"
        finish = {**config, "id": made["id"], "old_name": old_name}
        counted = _answer(_start("finish", finish, log), log)["counted"]

    assert served == WORKERS * REQUESTS
    assert abs(counted - served) <= served / 100, (counted, served)


if __name__ == "__main__":
    main(sys.argv[1])
