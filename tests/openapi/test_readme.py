"""The README's OpenAPI section, followed word for word on top of its quick start with OAuth 2.0
added: a ``startproject`` site whose schema names the three schemes and each operation's scopes, with no
warning from ``manage.py spectacular --validate --fail-on-warn``."""

import json
import re
import subprocess

import pytest

from tests.test_quickstart import (  # noqa: F401 - fixtures
    PYTHON,
    README,
    oauth_project,
    project,
)

BLOCK = re.compile(
    r"^<!-- openapi: append (?P<file>\S+) -->\n```python\n(?P<body>.*?)^```$", re.M | re.S
)


@pytest.fixture
def documented(oauth_project):  # noqa: F811 - the quick start's fixture
    """The quick-start project, OAuth 2.0 added, with the README's OpenAPI blocks added."""
    found = subprocess.run(  # noqa: S603 - this interpreter
        [PYTHON, "-c", "import drf_spectacular, drf_spectacular_sidecar"], check=False
    )
    if found.returncode:
        pytest.skip("drf-spectacular and its sidecar are not installed where the project runs")
    added = BLOCK.findall(README.read_text(encoding="utf-8"))
    assert [name for name, _body in added] == ["mysite/settings.py", "mysite/urls.py"]
    for name, body in added:
        target = oauth_project.path / name
        target.write_text(target.read_text(encoding="utf-8") + "\n\n" + body, encoding="utf-8")
    return oauth_project


def test_the_schema_names_the_schemes_and_each_operations_scopes(documented):
    documented.run(
        [
            PYTHON,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            "schema.yaml",
        ]
    )
    schema = json.loads(
        documented.run([PYTHON, "manage.py", "spectacular", "--format", "openapi-json"])
    )

    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKey", "api_key", "OAuth2"}
    assert set(schemes["OAuth2"]["flows"]) == {"authorizationCode", "clientCredentials"}
    orders = schema["paths"]["/api/orders/"]["get"]
    assert {"OAuth2": ["orders:read"]} in orders["security"]
    assert {"ApiKey": []} in orders["security"]
    assert "orders:read" in orders["description"]
