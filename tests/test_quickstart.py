"""The README's quick start and its "Add OAuth 2.0" part, followed word for word in a brand-new
project.

The README marks each block with an HTML comment saying what to do with it, ``quickstart`` for
the quick start (API keys alone) and ``quickstart+oauth`` for adding the OAuth 2.0 server:

* ``<!-- quickstart: append FILE -->``: add the block to the end of FILE (the settings);
* ``<!-- quickstart: write FILE -->``: the block is FILE's whole content (views, URLconf);
* ``<!-- quickstart: run -->``: shell lines, ``python manage.py …`` or ``VAR=$(python manage.py …)``;
* ``<!-- quickstart: python -->``: code to run in ``python manage.py shell``;
* ``<!-- quickstart: serve -->``: the line that serves the project;
* ``<!-- quickstart: curl -->``: ``curl`` lines, each with a comment that starts with the
  status code it gets;
* ``<!-- quickstart+oauth: sh -->``: shell lines run by bash as they stand, the secret typed at
  their ``read`` prompt.

The test makes a project with ``django-admin startproject``, does what the blocks say, changing
only the placeholders (USERNAME, NAME), the interpreter and the server's port, then calls the
running server with the curl lines over real HTTP. The project imports iiniit_auth as any
project would, from the installed distribution: its processes get neither this repository's
directory on their path nor the suite's settings. Its interpreter is this one, or the one
``QUICKSTART_PYTHON`` names: ``make wheel-check`` (tools/check_installed.py) runs this test
with the Python of a virtualenv that holds the built wheel and its dependencies alone.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(
    r"^<!-- (?P<stage>quickstart(?:\+oauth)?): (?P<what>[^>]*?) -->\n```[\w-]*\n(?P<body>.*?)^```$",
    re.M | re.S,
)
KEYS, OAUTH = "quickstart", "quickstart+oauth"
#: What the tests put for the README's placeholders.
PLACEHOLDERS = {"USERNAME": "alice", "NAME": "quickstart"}
#: What the quick start's project must not import before the OAuth 2.0 server is added.
OAUTH_MODULES = ("oauth2_provider", "oauthlib", "iiniit_auth.oauth")
#: Where the README's curl lines expect the server; the tests serve on a free port instead.
README_ORIGIN = "http://127.0.0.1:8000"
KEY_SHAPE = re.compile(r"iik_[0-9A-Za-z]{44}")
#: The project's interpreter (see the module's docstring).
PYTHON = os.environ.get("QUICKSTART_PYTHON") or sys.executable
TIMEOUT = 60
#: Imports every module of the package, in the project's interpreter (the OAuth 2.0 server's
#: once its app is installed), then prints the OAuth modules loaded, on one line.
IMPORT_ALL = """
import importlib, pkgutil, sys
from importlib.util import find_spec
from django.apps import apps
import iiniit_auth
# The optional integrations, importable where their library is installed; the OAuth 2.0
# server's modules, once its app is.
OPTIONAL = {"iiniit_auth.contrib.spectacular": "drf_spectacular",
            "iiniit_auth.contrib.swagger_ui": "drf_spectacular",
            "iiniit_auth.contrib.adrf": "adrf"}
oauth = apps.is_installed("iiniit_auth.oauth")
names = []
def walk(package):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if info.name in OPTIONAL and find_spec(OPTIONAL[info.name]) is None:
            continue
        if info.name == "iiniit_auth.oauth" and not oauth:
            continue
        module = importlib.import_module(info.name)
        names.append(info.name)
        if info.ispkg:
            walk(module)
walk(iiniit_auth)
print(f"imported {len(names)} modules of iiniit_auth")
print("OAuth modules:", *sorted(m for m in sys.modules if m.startswith(OAUTH_MODULES)))
""".replace("OAUTH_MODULES", repr(OAUTH_MODULES))
#: Serves the quick start's requests in the project's interpreter, through the URLconf and
#: admin, and prints every OAuth module loaded by then, on one line.
REQUESTS_WITH_KEYS_ONLY = """
import sys
from django.contrib.auth import get_user_model
from django.test import Client
from iiniit_auth.models import APIKey
owner = get_user_model().objects.get_by_natural_key("USERNAME")
_key, plaintext = APIKey.objects.issue(owner=owner, name="probe", scopes=["orders:read"])
client = Client(HTTP_HOST="localhost")
assert client.get("/api/orders/").status_code == 401
assert client.get("/api/orders/", HTTP_AUTHORIZATION="ApiKey " + plaintext).status_code == 200
client.force_login(owner)
for page in ("/admin/", "/admin/iiniit_auth/apikey/", "/admin/iiniit_auth/credentialevent/"):
    assert client.get(page).status_code == 200, page
print("OAuth modules:", *sorted(m for m in sys.modules if m.startswith(OAUTH_MODULES)))
""".replace("OAUTH_MODULES", repr(OAUTH_MODULES)).replace("USERNAME", PLACEHOLDERS["USERNAME"])


def blocks(kind: str, stage: str = KEYS) -> list[tuple[str, str]]:
    """Return ``(argument, body)`` of each block of ``kind`` in ``stage``, in README order."""
    found = []
    for match in BLOCK.finditer(README.read_text(encoding="utf-8")):
        what, _, argument = match["what"].partition(" ")
        if what == kind and match["stage"] == stage:
            found.append((argument, match["body"]))
    return found


def lines(kind: str, stage: str = KEYS) -> list[str]:
    """The non-empty lines of every block of ``kind`` in ``stage``."""
    return [line for _, body in blocks(kind, stage) for line in body.splitlines() if line.strip()]


def manage_py(line: str) -> list[str]:
    """The argv for a README line ``python manage.py …``: the project's interpreter, placeholders
    filled."""
    words = shlex.split(line)
    assert words[:2] == ["python", "manage.py"], f"not a manage.py command line: {line!r}"
    return [PYTHON, "manage.py", *(PLACEHOLDERS.get(word, word) for word in words[2:])]


@dataclass
class Call:
    """One README curl line, ready to send."""

    line: str
    expected: int
    method: str
    url: str
    headers: dict[str, str]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self):
        return json.loads(self.body)


def curl_calls(variables: dict[str, str], port: int) -> list[Call]:
    """Parse the README's curl lines, with ``$VAR`` from ``variables``, aimed at ``port``."""
    calls = []
    for line in lines("curl"):
        command, _, comment = line.partition("#")
        status = re.match(r"\s*([1-5][0-9][0-9])\b", comment)
        assert status, f"a curl line must say the status it gets in its comment: {line!r}"
        command = re.sub(r"\$(\w+)", lambda m: variables[m[1]], command)
        words = shlex.split(command)
        assert words[0] == "curl", line
        method, url, headers = "GET", "", {}
        rest = iter(words[1:])
        for word in rest:
            if word == "-i":
                continue  # show the headers: every Answer has them
            if word == "-X":
                method = next(rest)
            elif word == "-H":
                name, _, value = next(rest).partition(":")
                headers[name.strip()] = value.strip()
            elif word.startswith(README_ORIGIN + "/"):
                url = f"http://127.0.0.1:{port}" + word.removeprefix(README_ORIGIN)
            else:
                pytest.fail(f"the README's curl line uses {word!r}, which this test cannot send")
        assert url, f"no URL in {line!r}"
        calls.append(Call(line, int(status[1]), method, url, headers))
    return calls


def send(call: Call) -> Answer:
    """Send ``call`` to the test server, as curl would (no proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(call.url, method=call.method, headers=call.headers)  # noqa: S310 - http on loopback
    try:
        with opener.open(request, timeout=10) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, dict(error.headers), error.read().decode())


@dataclass
class Project:
    """A project on disk, and what its set-up produced."""

    path: Path
    env: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    user_made: bool = False

    def run(self, argv: list[str], env: dict[str, str] | None = None) -> str:
        """Run ``argv`` in the project; return its stdout. Fails the test on a non-zero exit."""
        done = subprocess.run(  # noqa: S603 - this interpreter and the README's own words
            argv,
            cwd=self.path,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, (
            f"{shlex.join(argv[1:])} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    def run_line(self, line: str) -> None:
        """Run a ``run`` line: a manage.py command, or ``VAR=$(…)`` keeping its output in VAR."""
        assigned = re.fullmatch(r"(?P<name>[A-Z_]+)=\$\((?P<command>.*)\)", line.strip())
        output = self.run(manage_py(assigned["command"] if assigned else line))
        if assigned:
            self.variables[assigned["name"]] = output.strip()

    def apply(self, stage: str) -> None:
        """Do what the README's ``stage`` blocks say: write and add to files, run commands."""
        for kind in ("append", "write"):
            for name, body in blocks(kind, stage):
                target = self.path / name
                if kind == "append":
                    assert target.is_file(), f"the README adds to {name}, which is missing"
                    body = target.read_text(encoding="utf-8") + "\n\n" + body
                target.write_text(body, encoding="utf-8")
        for line in lines("run", stage):
            if "USERNAME" in shlex.split(line) and not self.user_made:
                # The README issues the key to "an existing user": make one just before.
                self.create_user()
            self.run_line(line)

    def create_user(self) -> None:
        """Make the user the README's USERNAME names, as it suggests: ``createsuperuser``.

        Without a password (no slow password hash): the user only owns keys here.
        """
        self.run(
            [
                *(PYTHON, "manage.py", "createsuperuser", "--noinput"),
                *("--username", PLACEHOLDERS["USERNAME"], "--email", "alice@example.com"),
            ]
        )
        self.user_made = True


@pytest.fixture
def project(tmp_path):
    """A project made by ``django-admin startproject`` and set up as the quick start says: API
    keys alone."""
    env = {
        name: value
        for name, value in os.environ.items()
        # pytest-django exports the suite's settings module; the project has its own.
        if name not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONPATH", "QUICKSTART_PYTHON"}
    }
    made = Project(tmp_path, {**env, "PYTHONUNBUFFERED": "1"})
    made.run([str(Path(PYTHON).parent / "django-admin"), "startproject", "mysite", "."])
    made.apply(KEYS)
    assert KEY_SHAPE.fullmatch(made.variables.get("KEY", "")), made.variables
    return made


@pytest.fixture
def oauth_project(project):
    """The quick start's project with the OAuth 2.0 server added as the README says."""
    project.apply(OAUTH)
    return project


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(project):
    """``project`` served as the README says, on a free port; yields ``(port, log path)``."""
    (serve,) = lines("serve")
    assert shlex.split(serve) == ["python", "manage.py", "runserver"], serve
    port = free_port()
    log = project.path / "runserver.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - this interpreter and the README's own words
            [*manage_py(serve), "--noreload", f"127.0.0.1:{port}"],
            cwd=project.path,
            env=project.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"runserver exited with {process.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"runserver did not listen within {TIMEOUT} s:\n{log.read_text()}")
                time.sleep(0.1)
        yield port, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server(project):
    with serving(project) as served:
        yield served


@pytest.fixture
def oauth_server(oauth_project):
    with serving(oauth_project) as served:
        yield served


def python_block_key(project: Project) -> str:
    """Run the README's Python block in ``manage.py shell``; return the key it prints."""
    ((_, code),) = blocks("python")
    for placeholder, value in PLACEHOLDERS.items():
        code = code.replace(f'"{placeholder}"', f'"{value}"')
    printed = project.run([PYTHON, "manage.py", "shell", "-c", code])
    (key,) = KEY_SHAPE.findall(printed)
    return key


def assert_answers(calls: list[Call], schemes: tuple[str, ...] = ("ApiKey",)) -> None:
    """Send each call; check its status and what the README's view and settings promise: a 401
    names exactly ``schemes``."""
    for call in calls:
        answer = send(call)
        assert answer.status == call.expected, (call.line, answer)
        if answer.status == 401:
            challenge = answer.headers["WWW-Authenticate"]
            assert challenge == ", ".join(f'{scheme} realm="api"' for scheme in schemes)
        elif answer.status == 403:
            assert answer.json()["error"] == "insufficient_scope", answer
            assert answer.json()["missing_scopes"] == ["orders:write"], answer
            assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
        elif answer.status == 200:
            assert answer.json()["caller"] == PLACEHOLDERS["USERNAME"], answer
        if "api_key=" in call.url:
            assert answer.headers["Cache-Control"] == "no-store", answer
            assert answer.headers["Referrer-Policy"] == "no-referrer", answer


def oauth_modules(printed: str) -> list[str]:
    """The OAuth modules a snippet printed on its last line."""
    label, _, modules = printed.splitlines()[-1].partition(":")
    assert label == "OAuth modules", printed
    return modules.split()


def test_the_quick_start_works_word_for_word(project, server):
    # One scenario, so the suite builds one project however its tests are distributed.
    port, log = server

    checked = project.run([PYTHON, "manage.py", "check"])
    assert "System check identified no issues" in checked, checked
    # Under --deploy, only Django's own messages about a startproject site (DEBUG, cookies),
    # and W004: the quick start keeps ?api_key= allowed, which is worth a warning in production.
    deploy = subprocess.run(  # noqa: S603 - this interpreter
        [PYTHON, "manage.py", "check", "--deploy"],
        cwd=project.path,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    reported = re.findall(r"\(([a-z0-9_]+\.[CEWID][0-9]{3})\)", deploy.stderr + deploy.stdout)
    assert reported, deploy
    # Django's own ids vary with its version (6.1 adds mail.E001); ours and django-oauth-toolkit's
    # are what this install answers for.
    assert {name for name in reported if name.startswith(("iiniit", "oauth2_provider"))} == {
        "iiniit_auth.W004"
    }, deploy
    # Under the project's own settings the package's migrations hold its models: the project's
    # makemigrations writes nothing into the installed package (it exits 1 if it would).
    project.run([PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"])
    # API keys alone: no table, no module of the OAuth 2.0 server, even after every module of
    # the core was imported (make wheel-check runs this with the wheel and its declared
    # dependencies alone), requests were served and admin's pages shown.
    tables = project.run(
        [
            *(PYTHON, "manage.py", "shell", "-c"),
            "from django.db import connection; print(*connection.introspection.table_names())",
        ]
    ).split()
    assert "iiniit_auth_apikey" in tables
    assert [t for t in tables if t.startswith(("oauth2_provider", "iiniit_oauth"))] == []
    imported = project.run([PYTHON, "manage.py", "shell", "-c", IMPORT_ALL])
    assert "imported " in imported, imported
    assert oauth_modules(imported) == [], imported
    served = project.run([PYTHON, "manage.py", "shell", "-c", REQUESTS_WITH_KEYS_ONLY])
    assert oauth_modules(served) == [], served
    project.run([PYTHON, "manage.py", "apikey", "--help"])

    calls = curl_calls(project.variables, port)
    assert {401, 403, 200} <= {call.expected for call in calls}
    assert any("api_key=" in call.url for call in calls)
    assert_answers(calls)

    # The key the README issues in Python answers exactly as the command's.
    key = python_block_key(project)
    assert key != project.variables["KEY"]
    assert_answers(curl_calls({**project.variables, "KEY": key}, port))

    # runserver logs each request line just after answering it: wait for both query-string
    # requests, then look for the keys.
    deadline = time.monotonic() + 10
    while log.read_text().count("/api/orders/?api_key=") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    logged = log.read_text()
    assert logged.count("/api/orders/?api_key=") >= 2, logged
    assert project.variables["KEY"] not in logged
    assert key not in logged


def test_adding_oauth_works_word_for_word(oauth_project, oauth_server):
    port, _log = oauth_server
    project = oauth_project

    checked = project.run([PYTHON, "manage.py", "check"])
    assert "System check identified no issues" in checked, checked
    project.run([PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"])
    imported = project.run([PYTHON, "manage.py", "shell", "-c", IMPORT_ALL])
    assert "iiniit_auth.oauth.admin" in oauth_modules(imported), imported
    project.run([PYTHON, "manage.py", "oauthapp", "--help"])

    # The keys answer as before; a 401 now names both schemes.
    assert_answers(curl_calls(project.variables, port), schemes=("ApiKey", "Bearer"))

    ((_, register),) = blocks("python", OAUTH)
    printed = project.run([PYTHON, "manage.py", "shell", "-c", register])
    client_id, secret = printed.splitlines()[-1].split()
    ((_, shell),) = blocks("sh", OAUTH)
    assert shell.count(README_ORIGIN) == 2, shell
    script = shell.replace("CLIENT_ID", client_id).replace(
        README_ORIGIN, f"http://127.0.0.1:{port}"
    )
    env = {
        name: value
        for name, value in project.env.items()
        if name.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    done = subprocess.run(  # noqa: S603 - the README's own lines, on loopback
        ["/bin/bash", "-e", "-c", script],
        input=secret + "\n",
        cwd=project.path,
        env={**env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done
    assert done.stdout.startswith("HTTP/1.1 200 OK"), done.stdout
    assert f'"caller":"client:{client_id}"' in done.stdout, done.stdout
    assert secret not in done.stdout + done.stderr


def test_the_readme_links_to_files_that_exist():
    text = README.read_text(encoding="utf-8")
    targets = set(re.findall(r"\]\((?!https?://|#)([^)#\s]+)", text))

    assert "docs/index.md" in targets
    assert [t for t in sorted(targets) if not (README.parent / t).is_file()] == []


SIGN_IN_CODE = """
from django.contrib.auth import get_user_model
from iiniit_auth.oauth.applications import register_application
user = get_user_model().objects.create_user("bob", password="bob-sign-in-password")
app, _secret = register_application(
    name="Reports app", client_type="public", authorization_grant_type="authorization-code",
    redirect_uris="http://127.0.0.1:8765/callback", user=user, allowed_scopes=["orders:read"],
)
print(app.client_id)
"""


def test_the_consent_page_signs_in_through_the_quick_starts_login(oauth_project, oauth_server):
    # A startproject site has no sign-in page: /o/authorize/ sent users to a 404.
    port, _log = oauth_server
    client_id = oauth_project.run([PYTHON, "manage.py", "shell", "-c", SIGN_IN_CODE]).split()[-1]
    base = f"http://127.0.0.1:{port}"
    authorize = (
        f"{base}/o/authorize/?response_type=code&client_id={client_id}"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&scope=orders%3Aread&state=s"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGmSfZ2ZQA&code_challenge_method=S256"
    )
    with requests.Session() as browser:
        browser.trust_env = False  # loopback only, whatever proxy the environment names
        login = browser.get(authorize, timeout=TIMEOUT)
        assert login.status_code == 200, login.text
        assert login.url.startswith(f"{base}/accounts/login/?next="), login.url
        assert 'name="password"' in login.text
        consent = browser.post(
            login.url,
            data={
                "username": "bob",
                "password": "bob-sign-in-password",
                "next": authorize.removeprefix(base),
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            headers={"Referer": login.url},
            timeout=TIMEOUT,
        )
    assert consent.status_code == 200, consent.text
    assert "Authorize Reports app?" in consent.text
    assert "You are signed in as bob." in consent.text
