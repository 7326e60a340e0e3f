"""Real-browser tests of the admin screens: Playwright for Python driving Debian's Chromium.

Run them with ``pytest tests/browser``; add ``--screenshots`` to save a PNG of each screen to
``tests/browser/screenshots/`` (git-ignored) for a reviewer. The tests skip, saying why, where
``/usr/bin/chromium`` or Playwright is missing; CI installs both.
"""

import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-password"


def requires_browser():
    """The module-level skip of a browser test module, with the reason."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is absent: install Debian's Chromium (apt-get install chromium) "
            "to run the real-browser tests.",
            allow_module_level=True,
        )
    return pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright for Python is not installed (pip install -e '.[test]').",
    )


@pytest.fixture(scope="module")
def browser(live_server):
    """One Chromium per test module, started after the live server.

    Playwright's sync API runs an asyncio event loop in this thread for as long as it is
    started, and Django refuses ORM calls from a thread with a running event loop
    (SynchronousOnlyOperation). The tests' ORM calls are plain synchronous code that merely
    shares the thread with Playwright's loop, so the guard is lifted while the browser lives,
    and only then: DJANGO_ALLOW_ASYNC_UNSAFE is restored when the module's browser closes.
    """
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            yield chromium
            chromium.close()


class Tour:
    """A browser tab that remembers the HTML of every page it saw, and photographs them.

    ``seen`` holds (name, url, html) in visiting order, so a test can scan every page it
    visited after some point for a secret.
    """

    def __init__(self, page, base_url, screenshots, errors):
        self.page = page
        self.errors = errors
        self.base_url = base_url
        self.screenshots = screenshots
        self.seen = []

    def url(self, path):
        return self.base_url + path

    def goto(self, path, name=None):
        response = self.page.goto(self.url(path))
        self.record(name)
        return response

    def pick(self, field, text):
        """Choose ``text`` in the admin's autocomplete (select2) of ``field``.

        Opening the box lists the first choices at once; typing asks the server again, and
        the answer replaces that list. Clicking before it arrives can hit an option that is
        about to go, and the choice is lost (seen once on a loaded machine); waiting for just
        any answer can catch the first list's. So: wait for the answer to this very search
        (its ``term``), click, and see the choice shown.
        """
        from playwright.sync_api import expect

        page = self.page
        page.click(f".field-{field} .select2-selection")
        asked = f"term={quote(text)}"
        with page.expect_response(
            lambda response: "-autocomplete/" in response.url and asked in response.url,
            timeout=20_000,
        ):
            # Typed key by key, as a person types: select2 ignores the first input after an
            # Escape that closed it, and fill() would be that one input.
            page.locator(".select2-search__field").press_sequentially(text)
        page.click(f".select2-results__option:has-text('{text}')")
        expect(page.locator(f".field-{field} .select2-selection__rendered")).to_contain_text(text)

    def record(self, name=None):
        """Remember the current page (and photograph it as ``name`` when asked to)."""
        self.page.wait_for_load_state("load")
        self.seen.append((name, self.page.url, self.html()))
        if name and self.screenshots:
            SCREENSHOTS.mkdir(exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def html(self):
        # A page that is still settling (an error page replacing a refused one) cannot be
        # read yet: wait for it rather than fail.
        for _attempt in range(20):
            try:
                return self.page.content()
            except self.errors as error:
                if "navigating" not in str(error):
                    raise
                self.page.wait_for_timeout(100)
        return self.page.content()

    def mark(self):
        """A bookmark in ``seen``: pages from here on are the ones :meth:`since` returns."""
        return len(self.seen)

    def since(self, mark):
        return self.seen[mark:]

    def log_in(self, username, password=PASSWORD):
        self.page.goto(self.url("/admin/login/?next=/admin/"))
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        with self.page.expect_navigation():
            self.page.click("input[type=submit]")
        self.record()


@pytest.fixture
def tour(browser, live_server, request):
    """A fresh browser context (no cookies) on the live server, wrapped in a :class:`Tour`."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900},
        locale="en-US",
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    from playwright.sync_api import Error

    yield Tour(page, live_server.url, request.config.getoption("--screenshots"), Error)
    context.close()


def ping(base_url, key):
    """GET /api/ping/ with ``key`` over real HTTP; return the status code."""
    req = urllib.request.Request(  # noqa: S310 - the live server's own http:// URL
        f"{base_url}/api/ping/", headers={"Authorization": f"ApiKey {key}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


KEY_SHAPE = re.compile(r"iik_[0-9A-Za-z]{44}")


class Client(BaseHTTPRequestHandler):
    """The OAuth client's redirect endpoint: it answers every request with a plain page."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"client")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def redirect_uri():
    """A loopback redirect URI with a real listener behind it, on a free port.

    (Playwright's routes do not see the target of a redirect, so the browser must find a
    server there to finish the navigation the deny button starts.)
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), Client)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()
    thread.join()
