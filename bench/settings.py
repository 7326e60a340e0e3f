"""Settings of the benchmark project: every contender installed side by side.

SQLite by default (a file in a temporary directory); PostgreSQL when ``DATABASE_URL`` names a
server, in a database of the benchmark's own (``BENCH_DATABASE_NAME``, ``iiniit_bench`` by
default), created and dropped by the run.
The peers are optional imports: a contender whose package is missing is reported as such.
"""

import os
import tempfile
from importlib.util import find_spec

import django
import environ

SECRET_KEY = "bench-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
ROOT_URLCONF = "bench.views"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

#: The peers, by the Django app each installs; find_spec tells which are installed.
PEER_APPS = {
    "rest_framework.authtoken": "rest_framework",
    "rest_framework_api_key": "rest_framework_api_key",
    "knox": "knox",
}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    *(app for app, module in PEER_APPS.items() if find_spec(module) is not None),
    "oauth2_provider",
    "iiniit_auth",
    "iiniit_auth.oauth",
]

_url = os.environ.get("DATABASE_URL", "")
if _url.startswith(("postgres://", "postgresql://")):
    DATABASES = {
        "default": {
            **environ.Env.db_url_config(_url),
            # The run creates this database, and drops it at the end.
            "TEST": {"NAME": os.environ.get("BENCH_DATABASE_NAME", "iiniit_bench")},
            # python -m bench --prepared: Django binds parameters on the server, and psycopg
            # prepares a statement run more than 5 times on a connection, for every contender
            # (docs/performance.md). The run keeps one connection throughout, as CONN_MAX_AGE
            # or Django's pool keeps one from request to request.
            "OPTIONS": (
                {"server_side_binding": True, "prepare_threshold": 5}
                if os.environ.get("BENCH_PREPARED")
                else {}
            ),
        }
    }
else:
    _file = os.path.join(tempfile.gettempdir(), f"iiniit-bench-{os.getpid()}.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _file,
            "TEST": {"NAME": _file},
        }
    }

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The one the "API key, cache on" contender turns on (IINIIT_AUTH["CACHE"]).
    "bench": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "iiniit-bench",
    },
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The portal's notices are off by default; should a run turn them on, they render from the
# app's templates and stay in memory.
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
if django.VERSION >= (6, 1):  # Django 6.1 names its mailers in MAILERS
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

IINIIT_AUTH = {"SCOPES": {"bench:read": "Read the benchmark"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "iiniit_auth.handlers.exception_handler",
}

OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "iiniit_auth.oauth.scopes.ScopesBackend",
    # Tokens hashed at rest: both bearer contenders find them by their SHA-256 checksum.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
