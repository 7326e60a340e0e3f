"""A project without the OAuth 2.0 server that still lists ``OAuth2Authentication``: the check
``iiniit_auth.E010`` fails it, and a bearer token gets a clear ``ImproperlyConfigured``, not an
import error. In a process of its own, since the suite's own has the server installed.
(``tests/test_quickstart.py`` proves the keys-only install itself, on a real project.)"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEARER = """
import django
django.setup()
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from iiniit_auth.authentication import OAuth2Authentication
request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION="Bearer abc.def"))
try:
    OAuth2Authentication().authenticate(request)
except ImproperlyConfigured as exc:
    print("refused:", exc)
"""


def run(*argv):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.keysonly.settings"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_the_check_fails_a_listed_oauth2_authentication_without_the_server():
    done = run("-m", "django", "check")
    assert done.returncode == 1, done
    assert "iiniit_auth.E010" in done.stderr
    assert "iiniit_auth.oauth" in done.stderr


def test_a_bearer_token_is_refused_with_a_clear_configuration_error():
    done = run("-c", BEARER)
    assert done.returncode == 0, done
    assert done.stdout.startswith("refused: OAuth2Authentication needs the OAuth 2.0 server"), done
