"""The example project: settings from the environment, and the set-up that ``make demo`` runs.

Each test runs the project in a subprocess with ``DJANGO_SETTINGS_MODULE=project.settings``,
because the suite itself runs under ``tests.settings`` and settings load once per process.
Deprecation warnings are errors there too, like in the suite.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: What project/settings.py reads; the subprocess starts without any of it unless a test sets it.
PROJECT_ENVIRONMENT = ("DATABASE_URL", "CACHE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")


def run(*args, **environment):
    """Run ``python <args>`` from the repository root with the project's settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in PROJECT_ENVIRONMENT and name != "DJANGO_SETTINGS_MODULE"
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="project.settings")
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning",
            "-W",
            "error::PendingDeprecationWarning",
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_json(*args, **environment):
    """Run a script that prints one JSON document; return it (fail with its stderr if it fails)."""
    result = run(*args, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


#: Prints the resolved settings. It must not connect to the database (the default one is the
#: repository's demo.sqlite3): the system checks run in the demo test, against its own file.
SHOW_SETTINGS = """
import json

import django

django.setup()
from django.conf import settings
from oauth2_provider.settings import oauth2_settings

from iiniit_auth.scopes import registry
from project.wsgi import application  # builds the middleware chain: every path must import

database = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "database": {k: database[k] for k in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")},
    "cache": {k: settings.CACHES["default"][k] for k in ("BACKEND", "LOCATION")},
    "installed": settings.INSTALLED_APPS,
    "middleware": settings.MIDDLEWARE,
    "templates": [str(d) for d in settings.TEMPLATES[0]["DIRS"]],
    "scopes": dict(registry()),
    "oauth_scopes": oauth2_settings.SCOPES_BACKEND_CLASS().get_all_scopes(),
    "rest_framework": settings.REST_FRAMEWORK,
    "oauth": {k: getattr(oauth2_settings, k) for k in (
        "ACCESS_TOKEN_EXPIRE_SECONDS", "REFRESH_TOKEN_EXPIRE_SECONDS", "PKCE_REQUIRED",
        "ROTATE_REFRESH_TOKEN",
    )},
    "reporter": settings.DEFAULT_EXCEPTION_REPORTER,
    "reporter_filter": settings.DEFAULT_EXCEPTION_REPORTER_FILTER,
}))
"""

SCOPES = {
    "orders:read": "Read orders",
    "orders:write": "Create and change orders",
    "profile:read": "Read your profile",
}


def test_settings_come_from_the_environment():
    shown = run_json(
        "-c",
        SHOW_SETTINGS,
        DATABASE_URL="postgres://shop_user:s3cret@db.example.com:5433/shop",
        CACHE_URL="locmemcache://smoke",
        SECRET_KEY="a-secret-from-the-environment-" + "x" * 40,
        DEBUG="false",
        ALLOWED_HOSTS="api.example.com,localhost",
    )

    assert shown["DEBUG"] is False
    assert shown["SECRET_KEY"] == "a-secret-from-the-environment-" + "x" * 40
    assert shown["ALLOWED_HOSTS"] == ["api.example.com", "localhost"]
    assert shown["database"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop_user",
        "PASSWORD": "s3cret",
        "HOST": "db.example.com",
        "PORT": 5433,
    }
    assert shown["cache"] == {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "smoke",
    }
    for app in (
        "rest_framework",
        "oauth2_provider",
        "iiniit_auth",
        "iiniit_auth.oauth",
        "project.example",
    ):
        assert app in shown["installed"]
    middleware = shown["middleware"]
    assert middleware.index("iiniit_auth.middleware.QueryParamKeyMiddleware") == (
        middleware.index("django.middleware.security.SecurityMiddleware") + 1
    )
    assert shown["templates"] == [str(ROOT / "templates")]
    # One registry, read by API keys and by django-oauth-toolkit alike.
    assert shown["scopes"] == SCOPES
    assert shown["oauth_scopes"] == SCOPES
    assert shown["rest_framework"] == {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "iiniit_auth.authentication.APIKeyAuthentication",
            "iiniit_auth.authentication.OAuth2Authentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["iiniit_auth.permissions.HasScopes"],
        "EXCEPTION_HANDLER": "iiniit_auth.handlers.exception_handler",
        "DEFAULT_SCHEMA_CLASS": "iiniit_auth.contrib.spectacular.AutoSchema",
    }
    assert shown["oauth"] == {
        "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
        "REFRESH_TOKEN_EXPIRE_SECONDS": 14 * 24 * 3600,
        "PKCE_REQUIRED": True,
        "ROTATE_REFRESH_TOKEN": True,
    }
    assert shown["reporter"] == "iiniit_auth.redaction.ExceptionReporter"
    assert shown["reporter_filter"] == "iiniit_auth.redaction.SafeExceptionReporterFilter"


def test_settings_default_to_a_local_demo():
    shown = run_json("-c", SHOW_SETTINGS)

    assert shown["DEBUG"] is True
    assert shown["SECRET_KEY"].startswith("django-insecure-")
    assert shown["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert shown["database"]["ENGINE"] == "django.db.backends.sqlite3"
    assert shown["database"]["NAME"] == str(ROOT / "demo.sqlite3")
    assert shown["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_debug_off_without_a_secret_key_fails_clearly():
    result = run("-c", "import django; django.setup()", DEBUG="false")

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set." in result.stderr
    assert "set the SECRET_KEY environment variable" in result.stderr


#: Plays the printed credentials against the project's URLs with Django's test client.
#: Argument: JSON with the credentials, "refused" (keys that must fail) and "full" (False: only
#: ping with the key and with the refused keys).
TRY_CREDENTIALS = """
import base64
import json
import sys

import django

django.setup()
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()  # lets the test client's host "testserver" in
given = json.loads(sys.argv[1])
key, read_only_key = given["key"], given["read_only_key"]
client = Client()


def call(method, path, authorization=None, **kwargs):
    headers = {"Authorization": authorization} if authorization else {}
    response = getattr(client, method)(path, headers=headers, **kwargs)
    is_json = response.get("Content-Type", "").startswith("application/json")
    return {
        "status": response.status_code,
        "headers": dict(response.items()),
        "json": response.json() if is_json else None,
    }


results = {
    "ping": call("get", "/api/ping/", f"ApiKey {key}"),
    "refused": [call("get", "/api/ping/", f"ApiKey {old}")["status"] for old in given["refused"]],
}
if given["full"]:
    order = {"item": "coffee beans", "quantity": 2}
    results["create"] = call(
        "post", "/api/orders/", f"ApiKey {key}", data=order, content_type="application/json"
    )
    results["bad_create"] = call(
        "post", "/api/orders/", f"ApiKey {key}", data={"item": "", "quantity": 0},
        content_type="application/json",
    )
    results["list"] = call("get", "/api/orders/", f"ApiKey {key}")
    results["query_ping"] = call("get", f"/api/ping/?api_key={key}")
    results["read_only_create"] = call(
        "post", "/api/orders/", f"ApiKey {read_only_key}", data=order,
        content_type="application/json",
    )
    results["read_only_list"] = call("get", "/api/orders/", f"ApiKey {read_only_key}")
    results["anonymous"] = call("get", "/api/ping/")
    results["home"] = call("get", "/")
    results["login"] = call("get", "/accounts/login/")
    results["home_links_portal"] = 'href="/developer/"' in client.get("/").content.decode()
    results["portal_anonymous"] = call("get", "/developer/")
    client.login(username="demo", password="demo")
    results["portal"] = call("get", "/developer/")
    client.logout()
    basic = base64.b64encode(f"{given['client_id']}:{given['client_secret']}".encode()).decode()
    token = call(
        "post", "/o/token/", f"Basic {basic}",
        data="grant_type=client_credentials&scope=orders%3Aread",
        content_type="application/x-www-form-urlencoded",
    )
    bearer = f"Bearer {token['json']['access_token']}" if token["status"] == 200 else "Bearer -"
    results["token"] = token
    results["bearer_ping"] = call("get", "/api/ping/", bearer)
    results["bearer_list"] = call("get", "/api/orders/", bearer)
print(json.dumps(results))
"""


def demo_setup(database):
    """Run ``manage.py demo_setup``; return the printed credentials and the whole output."""
    result = run("manage.py", "demo_setup", DATABASE_URL=database)
    assert result.returncode == 0, result.stderr
    out = result.stdout

    def printed(label):
        found = re.search(rf"^{label}: (\S+)$", out, re.MULTILINE)
        assert found, f"{label!r} not in the output:\n{out}"
        return found.group(1)

    return {
        "key": printed("API key"),
        "read_only_key": printed("Read-only API key"),
        "client_id": printed("OAuth client id"),
        "client_secret": printed("OAuth client secret"),
        "output": out,
    }


def try_credentials(database, made, *, refused=(), full=True):
    given = {name: made[name] for name in ("key", "read_only_key", "client_id", "client_secret")}
    given.update(refused=list(refused), full=full)
    return run_json("-c", TRY_CREDENTIALS, json.dumps(given), DATABASE_URL=database)


def assert_ping_works(ping):
    assert ping["status"] == 200
    assert ping["json"]["caller"] == "demo"
    assert ping["json"]["credential"]["kind"] == "api_key"
    assert ping["json"]["credential"]["scopes"] == ["orders:read", "orders:write", "profile:read"]


def assert_demo_works(results):
    ping = results["ping"]
    assert_ping_works(ping)
    assert results["refused"] == []
    assert results["create"]["status"] == 201
    assert results["create"]["json"]["item"] == "coffee beans"
    assert results["create"]["json"]["quantity"] == 2
    assert results["bad_create"]["status"] == 400
    assert set(results["bad_create"]["json"]) == {"item", "quantity"}
    assert results["list"]["status"] == 200
    assert [o["item"] for o in results["list"]["json"]] == ["coffee beans"]
    assert results["query_ping"]["status"] == 200
    assert results["query_ping"]["json"] == ping["json"]
    # A key in the URL: the answer must not be cached or leak the URL onwards (RFC 6750 2.3).
    assert "no-store" in results["query_ping"]["headers"]["Cache-Control"]
    assert results["query_ping"]["headers"]["Referrer-Policy"] == "no-referrer"
    # The read-only key reads, and may not write: 403 naming the missing scope (RFC 6750).
    assert results["read_only_list"]["status"] == 200
    assert results["read_only_create"]["status"] == 403
    assert results["read_only_create"]["json"]["missing_scopes"] == ["orders:write"]
    assert (
        'error="insufficient_scope"' in results["read_only_create"]["headers"]["WWW-Authenticate"]
    )
    anonymous = results["anonymous"]
    assert anonymous["status"] == 401
    assert anonymous["headers"]["WWW-Authenticate"].startswith("ApiKey ")
    assert "Bearer " in anonymous["headers"]["WWW-Authenticate"]
    assert results["home"]["status"] == 200
    assert results["login"]["status"] == 200
    # The developer portal: linked from the home page, for signed-in users only.
    assert results["home_links_portal"] is True
    assert results["portal_anonymous"]["status"] == 302
    assert results["portal"]["status"] == 200
    # The demo OAuth client gets a token for the same API and the same scopes.
    assert results["token"]["status"] == 200
    assert results["token"]["json"]["scope"] == "orders:read"
    assert results["bearer_ping"]["status"] == 200
    assert results["bearer_ping"]["json"]["caller"].startswith("client:")
    assert results["bearer_ping"]["json"]["credential"]["kind"] == "oauth_token"
    assert results["bearer_ping"]["json"]["credential"]["application"] == "demo client"
    assert results["bearer_list"]["status"] == 200
    assert results["bearer_list"]["json"] == []


def test_demo_setup_prints_working_credentials_and_replaces_them_when_run_again(tmp_path):
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    migrate = run("manage.py", "migrate", "--noinput", DATABASE_URL=database)
    assert migrate.returncode == 0, migrate.stderr

    first = demo_setup(database)
    assert "http://127.0.0.1:8000/admin/" in first["output"]
    assert (
        "Developer portal: http://127.0.0.1:8000/developer/ (sign in as demo / password demo)"
        in first["output"]
    )
    assert "admin / password admin" in first["output"]
    assert (
        f'curl -i -H "Authorization: ApiKey {first["key"]}" http://127.0.0.1:8000/api/ping/'
        in (first["output"])
    )
    assert f'"http://127.0.0.1:8000/api/ping/?api_key={first["key"]}"' in first["output"]
    assert "local use only" in first["output"]
    assert_demo_works(try_credentials(database, first))

    second = demo_setup(database)
    assert second["key"] != first["key"]
    assert second["read_only_key"] != first["read_only_key"]
    results = try_credentials(
        database, second, refused=[first["key"], first["read_only_key"]], full=False
    )
    assert_ping_works(results["ping"])
    # The first run's keys were revoked by the second: refused with the generic 401.
    assert results["refused"] == [401, 401]
