"""The production test project: the test suite's app set-up served by a real server.

tests/production/harness.py starts gunicorn (or uvicorn) on it and says, in the server's
environment, which PostgreSQL database (``PRODUCTION_DATABASE_URL``) and which Redis, if any
(``PRODUCTION_CACHE_URL``), it uses: the key cache is on with Redis and off without.
"""

import os

import environ

from iiniit_auth.conf import DEFAULTS
from tests.settings import *  # noqa: F403
from tests.settings import IINIIT_AUTH, INSTALLED_APPS

ROOT_URLCONF = "tests.production.urls"
# DRF's TokenAuthentication, the peer the throughput is measured against.
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken"]

DATABASES = {
    "default": {
        **environ.Env.db_url_config(os.environ["PRODUCTION_DATABASE_URL"]),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}

# How the server holds its database connections (docs/deployment.md measures each):
# "persistent" (CONN_MAX_AGE), "per-request" (Django's default, CONN_MAX_AGE = 0) or "pool".
_connections = os.environ.get("PRODUCTION_CONNECTIONS", "persistent")
if _connections == "per-request":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif _connections == "pool":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": 4}}

_cache_url = os.environ.get("PRODUCTION_CACHE_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if _cache_url:
    CACHES["keys"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _cache_url,
    }

IINIIT_AUTH = {**IINIIT_AUTH, "CACHE": "keys" if _cache_url else None}
# Every client here is 127.0.0.1: the failed-authentication limit per address would answer
# 429 to the clients' later requests, good key or not, once one key has been refused enough.
if "FAILED_AUTH_LIMIT" in DEFAULTS:
    IINIIT_AUTH["FAILED_AUTH_LIMIT"] = None
