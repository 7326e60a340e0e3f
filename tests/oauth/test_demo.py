"""``manage.py demo_setup`` offers a ready authorization-code + PKCE application, and the flow it
prints works: run in the example project (its own settings), in a subprocess."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

#: Plays the printed flow with Django's test client: the demo user signs in, approves on the
#: consent page, and the code is exchanged with the printed verifier for a token that works.
PLAY = """
import base64, hashlib, json, re, secrets, sys
from urllib.parse import parse_qs, urlsplit

import django

django.setup()
from django.test import Client
from django.test.utils import setup_test_environment

from iiniit_auth.oauth.models import ApplicationPolicy
from oauth2_provider.models import get_application_model

setup_test_environment()
printed = sys.stdin.read()
app = get_application_model().objects.get(client_id="iiniit-demo-app")
verifier = secrets.token_urlsafe(64)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
url = re.search(r'echo "(\\S+)"', printed).group(1).replace("$CHALLENGE", challenge)
path = url.removeprefix("http://127.0.0.1:8000")
browser = Client()
assert browser.login(username="demo", password="demo")
page = browser.get(path)
form = {k: v for k, v in page.context["form"].initial.items() if v}
answer = browser.post("/o/authorize/", {**form, "allow": "on"})
code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
token = Client().post("/o/token/", {
    "grant_type": "authorization_code", "client_id": app.client_id, "code": code,
    "redirect_uri": "http://127.0.0.1:8765/callback", "code_verifier": verifier,
})
bearer = {"Authorization": "Bearer " + token.json()["access_token"]}
print(json.dumps({
    "client_type": app.client_type,
    "grant": app.authorization_grant_type,
    "redirect_uris": app.redirect_uris,
    "allowed": sorted(ApplicationPolicy.objects.allowed_scopes(app)),
    "consent": page.status_code,
    "scopes_shown": page.context["requested_scopes"],
    "token": token.status_code,
    "scope": token.json()["scope"],
    "orders": Client().get("/api/orders/", headers=bearer).status_code,
}))
"""


def run(*args, database, stdin=None):
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "SECRET_KEY"}
    }
    env.update(DJANGO_SETTINGS_MODULE="project.settings", DATABASE_URL=database)
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-W", "error::DeprecationWarning", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_setup_offers_an_authorization_code_app_whose_printed_flow_works(tmp_path):
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    run("manage.py", "migrate", "--noinput", database=database)
    run("manage.py", "demo_setup", database=database)
    printed = run("manage.py", "demo_setup", database=database)  # idempotent

    assert re.search(r"^OAuth app client id: iiniit-demo-app$", printed, re.M)
    assert "code_challenge_method=S256" in printed
    played = json.loads(run("-c", PLAY, database=database, stdin=printed))

    assert played["client_type"] == "public"
    assert played["grant"] == "authorization-code"
    assert played["redirect_uris"] == "http://127.0.0.1:8765/callback"
    assert played["allowed"] == ["orders:read", "orders:write", "profile:read"]
    assert played["consent"] == 200
    assert played["scopes_shown"] == [
        ["orders:read", "Read orders"],
        ["profile:read", "Read your profile"],
    ]
    assert played["token"] == 200
    assert played["scope"] == "orders:read profile:read"
    assert played["orders"] == 200
