"""Public framework APIs only (STYLE rule 16): every private name the package imports from
Django, DRF, django-oauth-toolkit, oauthlib or psycopg is on ALLOWED, with its reason.

A private name is one with a leading underscore, imported itself (``from django.db.models.base
import _something``), imported from a private module (``from psycopg._cmodule import ...``,
``import django.db._x``), or read off an imported framework module (``psycopg._x``). Found by
walking the syntax tree of every module of the package, migrations included.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "iiniit_auth"
FRAMEWORKS = ("django", "rest_framework", "oauth2_provider", "oauthlib", "psycopg")

#: "module.name" -> why the package cannot do without it. Keep it short; ideally empty.
ALLOWED: dict[str, str] = {
    "rest_framework.exceptions._Detail": "djangorestframework-stubs' type of "
    "APIException.detail, which names no public alias; imported under TYPE_CHECKING, for mypy "
    "alone (nothing imports it at run time, and DRF itself has no such name)",
}


def private(part):
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_names(source):
    """The private framework names ``source`` imports or reads off a framework module, each as
    ``module.name``."""
    tree = ast.parse(source)
    found = set()
    modules = {}  # local name -> framework module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in FRAMEWORKS:
                    continue
                if any(private(part) for part in alias.name.split(".")):
                    found.add(alias.name)
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    modules[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in FRAMEWORKS:
                continue
            in_private_module = any(private(part) for part in node.module.split("."))
            for alias in node.names:
                if in_private_module or private(alias.name):
                    found.add(f"{node.module}.{alias.name}")
                modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and private(node.attr)
        ):
            found.add(f"{modules[node.value.id]}.{node.attr}")
    return found


def package_private_names():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in private_names(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(str(path.relative_to(PACKAGE.parent)))
    return found


def test_the_package_imports_no_private_name_but_the_allowed_ones():
    found = package_private_names()

    unexplained = {name: where for name, where in found.items() if name not in ALLOWED}
    assert not unexplained, f"private framework names, not on ALLOWED with a reason: {unexplained}"
    unused = set(ALLOWED) - set(found)
    assert not unused, f"on ALLOWED but no longer imported (drop them): {unused}"
    assert all(reason.strip() for reason in ALLOWED.values())


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("from django.db.models.base import ModelState", set()),
        ("from django.db.models.base import _Deferred", {"django.db.models.base._Deferred"}),
        ("from psycopg._cmodule import x as y", {"psycopg._cmodule.x"}),
        ("import django.db._private", {"django.db._private"}),
        ("import psycopg\npsycopg._encodings", {"psycopg._encodings"}),
        ("import psycopg.pq as pq\npq._pq_ctypes", {"psycopg.pq._pq_ctypes"}),
        ("from django.db import models\nmodels._private", {"django.db.models._private"}),
        ("from django import VERSION\nfrom django.db import models\nmodels.Model._meta", set()),
        ("import django\ndjango.__version__", set()),
        ("from oauthlib.common import _x", {"oauthlib.common._x"}),
        ("from rest_framework import _y", {"rest_framework._y"}),
        ("from oauth2_provider._z import w", {"oauth2_provider._z.w"}),
        ("from mypackage import _private\nimport os\nos._exit", set()),
        ("from . import _ours", set()),
    ],
)
def test_private_names_are_found(source, names):
    assert private_names(source) == names
