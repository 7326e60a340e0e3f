"""The access-log configurations of docs/deployment.md keep keys out of gunicorn's and
uvicorn's logs, however a client sends the key.

The configurations are read from the page itself, so the page shows what is tested. The key
goes in the query string, as the HTTP Basic user name, in a Referer holding ``?api_key=``, and
in the path; then no line of the log holds it. A control run with gunicorn's default format
shows that the same requests do put it there.
"""

import json
import re
import sys

import pytest
import requests

from tests.production import harness

pytestmark = pytest.mark.production

PAGE = harness.ROOT / "docs" / "deployment.md"


def documented(language, first_line):
    """The code block of docs/deployment.md in ``language`` whose first line starts so."""
    blocks = re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), re.DOTALL)
    (block,) = [b for b in blocks if b.startswith(first_line)]
    return block


def send_every_way(server, key):
    """Send ``key`` each way a client might; return the statuses."""
    url = f"{server.url}/api/key/"
    return [
        requests.get(f"{url}?api_key={key}", timeout=30).status_code,
        requests.get(url, auth=(key, ""), timeout=30).status_code,
        requests.get(
            url,
            headers={
                "Authorization": f"ApiKey {key}",
                "Referer": f"https://app.example.com/report?api_key={key}&page=2",
            },
            timeout=30,
        ).status_code,
        requests.get(f"{server.url}/api/{key}/orders/", timeout=30).status_code,
    ]


def logged(server, key):
    """Send the key every way, stop the server (its log flushed), return the log's text."""
    try:
        statuses = send_every_way(server, key)
    finally:
        server.stop()
    assert statuses[0] == 200  # the query parameter reached Django and was accepted
    assert statuses[2] == 200
    return server.log.read_text()


def assert_no_key(text, key):
    lines = [line for line in text.splitlines() if "/api/" in line]
    assert len(lines) >= 4, text  # one access line per request: the log is written
    body = key.split("_", 1)[1]
    assert [line for line in text.splitlines() if body in line] == []


def test_gunicorn_with_the_documented_configuration(seeded, owner, tmp_path):
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(documented("python", "# gunicorn.conf.py"))
    server = harness.gunicorn(tmp_path / "gunicorn.log", workers=2, extra=["-c", str(config)])

    text = logged(server, owner["key"])

    assert_no_key(text, owner["key"])
    assert '"GET /api/key/ HTTP/1.1" 200' in text


def test_gunicorn_default_format_writes_the_key(seeded, owner, tmp_path):
    # The control: the same requests, gunicorn's default access log.
    server = harness.gunicorn(tmp_path / "gunicorn.log", workers=2, extra=["--access-logfile", "-"])

    text = logged(server, owner["key"])

    assert owner["key"] in text


def test_uvicorn_with_the_documented_configuration(seeded, owner, tmp_path):
    config = tmp_path / "uvicorn-logging.json"
    config.write_text(documented("json", "{"))
    json.loads(config.read_text())  # the page's block is valid JSON
    command = [
        sys.executable, "-m", "uvicorn", "tests.production.asgi:application",
        "--host", "127.0.0.1", "--port", "{port}", "--log-config", str(config),
    ]  # fmt: skip
    server = harness.start(command, tmp_path / "uvicorn.log")

    text = logged(server, owner["key"])

    assert_no_key(text, owner["key"])
    assert "api_key=********" in text
