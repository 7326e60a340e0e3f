"""docs/async.md: its examples work word for word."""

import re
import sys
import types
from pathlib import Path

import pytest
from django.urls import path

from tests.asyncviews.answers import answer

DOC = Path(__file__).resolve().parents[2] / "docs" / "async.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def block(containing):
    (found,) = [each for each in BLOCKS if containing in each]
    return found


@pytest.fixture
def documented(settings, monkeypatch):
    """The page's views, run as written, served under a URLconf of their own."""
    namespace = {"__name__": "documented"}  # as a module of the project's would be
    exec(block("class OrdersView"), namespace)  # noqa: S102 (the page's own example)
    exec(block("def orders(request)"), namespace)  # noqa: S102
    # A fragment of a class body, under the imports of the example before it.
    listed = {"HasScopes": namespace["HasScopes"]}
    exec(block("permission_classes = [HasScopes & IsAuthenticated]"), listed)  # noqa: S102
    both = type(
        "Both", (namespace["OrdersView"],), {"permission_classes": listed["permission_classes"]}
    )
    urls = types.ModuleType("documented_urls")
    urls.urlpatterns = [
        path("orders/", namespace["OrdersView"].as_view()),
        path("both/", both.as_view()),
        path("plain/", namespace["orders"]),
        path("plain-async/", namespace["orders_async"]),
    ]
    monkeypatch.setitem(sys.modules, "documented_urls", urls)
    settings.ROOT_URLCONF = "documented_urls"


def test_installed_apps_block_is_python():
    namespace = {}
    exec(block("INSTALLED_APPS"), namespace)  # noqa: S102
    assert "adrf" in namespace["INSTALLED_APPS"]


@pytest.mark.django_db
@pytest.mark.usefixtures("documented")
@pytest.mark.parametrize(
    ("url", "asynchronous"),
    [("/orders/", True), ("/both/", True), ("/plain/", False), ("/plain-async/", True)],
)
def test_the_documented_views_answer_as_docs_http_says(issue, url, asynchronous):
    reader = issue()[1]
    other = issue(scopes=["reports:read"])[1]

    status, body, headers, _ = answer(url, "GET", "", {}, asynchronous=asynchronous)
    assert status == 401
    assert headers["WWW-Authenticate"] == 'ApiKey realm="api", Bearer realm="api"'

    status, body, headers, _ = answer(
        url, "GET", "", {"Authorization": f"ApiKey {other}"}, asynchronous=asynchronous
    )
    assert status == 403
    assert body["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in headers["WWW-Authenticate"]

    status, body, headers, _ = answer(
        url, "GET", "", {"Authorization": f"ApiKey {reader}"}, asynchronous=asynchronous
    )
    assert status == 200
    assert body == {"orders": [], "owner": "ann"}
