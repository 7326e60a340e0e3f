"""The portal stands beside admin and without OAuth: no module of it imports admin, nor
django-oauth-toolkit, oauthlib or iiniit_auth.oauth when it is imported (only inside the
functions of the OAuth pages, which run where the OAuth server is routed)."""

import ast
from pathlib import Path

import iiniit_auth.portal

PORTAL = Path(iiniit_auth.portal.__file__).parent
NEVER = ("iiniit_auth.admin", "django.contrib.admin")
NOT_AT_IMPORT = ("oauth2_provider", "oauthlib", "iiniit_auth.oauth")


def imports(nodes):
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def under(name, prefixes):
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_no_portal_module_imports_admin_or_oauth_when_imported():
    modules = sorted(PORTAL.glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        everywhere = list(imports(ast.walk(tree)))
        at_import = list(imports(tree.body))
        assert not [name for name in everywhere if under(name, NEVER)], module.name
        assert not [name for name in at_import if under(name, NOT_AT_IMPORT)], module.name
