"""Real servers on loopback for the production tests and benchmark.

PostgreSQL and Redis as a deployment has them, gunicorn (or uvicorn) started as a deployment
starts it, clients that send requests from several threads and note when each was sent, and
an admin session that submits the admin's own forms. Nothing here is mocked.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.production.settings"
#: The database the servers use; dropped and created again by each run.
DATABASE_URL = os.environ.get(
    "PRODUCTION_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/iiniit_production"
)
#: Redis DB 7, flushed by each run.
CACHE_URL = os.environ.get("PRODUCTION_CACHE_URL", "redis://127.0.0.1:6379/7")


def missing_service():
    """Return why PostgreSQL or Redis cannot be used, or None when both answer."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(_server_url(), connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL does not answer at {_server_url()}: {exc}"
    try:
        import redis
    except ImportError:
        return "redis (the client) is not installed"
    try:
        redis.Redis.from_url(CACHE_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis does not answer at {CACHE_URL}: {exc}"
    return None


def _server_url():
    """The PostgreSQL server of DATABASE_URL, on its maintenance database."""
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(path="/postgres"))


def environment(cache=True, **extra):
    """The servers' environment; ``extra`` adds variables (``PRODUCTION_CONNECTIONS``)."""
    return {
        **os.environ,
        **extra,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PRODUCTION_DATABASE_URL": DATABASE_URL,
        "PRODUCTION_CACHE_URL": CACHE_URL if cache else "",
        "PYTHONPATH": str(ROOT),
    }


def run(args, cache=True, timeout=300):
    """Run ``python args...`` in the servers' environment; return its stdout."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, *args],
        cwd=ROOT,
        env=environment(cache),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{args} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def manage(*args, cache=True):
    """``manage.py ARGS`` on the servers' project; return its stdout."""
    return run(["-m", "django", *args], cache=cache)


def create_database(owners):
    """Drop and create the database, migrate it, flush Redis DB 7; return the seed's JSON."""
    import psycopg
    import redis

    name = urlsplit(DATABASE_URL).path.lstrip("/")
    with psycopg.connect(_server_url(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--no-input", "-v", "0")
    redis.Redis.from_url(CACHE_URL).flushdb()
    return json.loads(run(["-m", "tests.production.seed", str(owners)]))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server process on loopback, stopped by :meth:`stop` (its own process group)."""

    process: subprocess.Popen
    url: str
    log: Path
    out: object = None  # the log's file, closed on stop

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(20)
        if self.out is not None:
            self.out.close()

    def get(self, path, **kwargs):
        return requests.get(urljoin(self.url, path), timeout=30, **kwargs)


def start(command, log, cache=True, port=None, ready="/api/open/", env=None):
    """Start ``command`` (its ``{port}`` filled in) and wait until ``ready`` answers 200."""
    port = port or free_port()
    out = log.open("w")
    process = subprocess.Popen(  # noqa: S603 - our own server command
        [part.format(port=port) for part in command],
        cwd=ROOT,
        env=environment(cache, **(env or {})),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}", log, out)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[:4]} exited:\n{log.read_text()}")
        try:
            if server.get(ready).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{command[:4]} did not answer within 90 s:\n{log.read_text()}")


def gunicorn(log, workers=4, cache=True, extra=(), env=None):
    command = [
        sys.executable, "-m", "gunicorn", "tests.production.wsgi:application",
        "--bind", "127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
        *extra,
    ]  # fmt: skip
    return start(command, log, cache=cache, env=env)


@dataclass
class Sent:
    sent: float  # time.monotonic() just before the request left
    status: int
    done: float = 0.0  # time.monotonic() once the answer was read


@dataclass
class Load:
    """Clients in ``threads`` threads sending GET ``path`` with ``headers`` until stopped."""

    url: str
    headers: dict
    threads: int = 6
    records: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._client) for _ in range(self.threads)]

    def _client(self):
        session = requests.Session()
        mine = []
        while not self._stop.is_set():
            sent = time.monotonic()
            try:
                status = session.get(self.url, headers=self.headers, timeout=30).status_code
            except requests.RequestException as exc:
                with self._lock:
                    self.errors.append(repr(exc))
                continue
            mine.append(Sent(sent, status, time.monotonic()))
        with self._lock:
            self.records.extend(mine)

    def __enter__(self):
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def accepted_after(self, moment):
        """The requests sent after ``moment`` that were accepted (200)."""
        return [r for r in self.records if r.sent > moment and r.status == 200]

    def after(self, moment):
        return [r for r in self.records if r.sent > moment]

    def before(self, moment):
        return [r for r in self.records if r.sent < moment]


class _Forms(HTMLParser):
    """The forms of a page: their action and the fields a browser would submit."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": []})
        elif not self.forms:
            return
        fields = self.forms[-1]["fields"] if self.forms else None
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "image", "file"):
                fields.append((a["name"], a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            fields.append((self._textarea, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, value = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, value + data)


class Admin:
    """A signed-in superuser's browser session on the server's admin, over HTTP."""

    def __init__(self, server, username="root", password="root-password"):  # noqa: S107
        self.server = server
        self.session = requests.Session()
        self.submit("/admin/login/", {"username": username, "password": password}, needs="username")
        if "sessionid" not in self.session.cookies:
            raise RuntimeError("admin sign-in failed")

    def submit(self, path, changes, needs, drop=()):
        """Fill the form of ``path`` that has the field ``needs`` as a browser would, with
        ``changes``, without ``drop``; submit it; return the response (redirects not followed).
        """
        url = urljoin(self.server.url, path)
        page = self.session.get(url, timeout=30)
        page.raise_for_status()
        parser = _Forms()
        parser.feed(page.text)
        (form,) = [f for f in parser.forms if any(name == needs for name, _ in f["fields"])]
        data = [(n, v) for n, v in form["fields"] if n not in changes and n not in drop]
        data += list(changes.items())
        return self.session.post(
            urljoin(url, form["action"]), data=data, allow_redirects=False, timeout=30
        )
