"""iiniit_auth.scopes: the one registry, and django-oauth-toolkit reading it. No database."""

from __future__ import annotations

import pytest
from django.test import override_settings
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend

from iiniit_auth import scopes
from iiniit_auth.exceptions import IiniitAuthError, InvalidScope
from iiniit_auth.oauth.scopes import ScopesBackend

#: tests/settings.py's IINIIT_AUTH["SCOPES"], in its declaration order.
REGISTRY = {
    "orders:read": "Read orders",
    "orders:write": "Create and change orders",
    "reports:read": "Read reports",
}
OTHER = {"zeta:write": "Write zeta", "alpha:read": "Read alpha"}


def test_registry_is_the_setting():
    assert dict(scopes.registry()) == REGISTRY
    assert list(scopes.registry()) == list(REGISTRY)


def test_registry_follows_override():
    with override_settings(IINIIT_AUTH={"SCOPES": OTHER}):
        assert dict(scopes.registry()) == OTHER
    assert dict(scopes.registry()) == REGISTRY


# -- normalize ---------------------------------------------------------------------------------


def test_normalize_string():
    assert scopes.normalize("reports:read orders:read") == ["orders:read", "reports:read"]


def test_normalize_string_with_any_whitespace():
    assert scopes.normalize("  orders:write\treports:read\n orders:read ") == [
        "orders:read",
        "orders:write",
        "reports:read",
    ]


def test_normalize_list():
    assert scopes.normalize(["reports:read", "orders:write"]) == ["orders:write", "reports:read"]


def test_normalize_other_iterables():
    assert scopes.normalize(("orders:read",)) == ["orders:read"]
    assert scopes.normalize(name for name in ["orders:write", "orders:read"]) == [
        "orders:read",
        "orders:write",
    ]


def test_normalize_removes_duplicates():
    assert scopes.normalize("orders:read orders:read reports:read orders:read") == [
        "orders:read",
        "reports:read",
    ]
    assert scopes.normalize(["orders:read", "orders:read"]) == ["orders:read"]


def test_normalize_empty():
    assert scopes.normalize("") == []
    assert scopes.normalize("   ") == []
    assert scopes.normalize([]) == []


def test_normalize_lists_every_unknown_name():
    with pytest.raises(InvalidScope) as info:
        scopes.normalize("orders:read zebra admin orders:delete admin")
    assert info.value.unknown == ["admin", "orders:delete", "zebra"]
    message = str(info.value)
    for name in ("admin", "orders:delete", "zebra"):
        assert name in message
    assert "orders:read" not in message


def test_normalize_list_items_are_not_split():
    # A list holds names, not scope strings: "orders:read reports:read" is one unknown name.
    with pytest.raises(InvalidScope) as info:
        scopes.normalize(["orders:read reports:read"])
    assert info.value.unknown == ["orders:read reports:read"]


def test_normalize_is_case_sensitive():
    with pytest.raises(InvalidScope) as info:
        scopes.normalize(["Orders:Read"])
    assert info.value.unknown == ["Orders:Read"]


def test_invalid_scope_is_a_value_error():
    assert issubclass(InvalidScope, ValueError)
    assert issubclass(InvalidScope, IiniitAuthError)
    with pytest.raises(ValueError, match="nope"):
        scopes.normalize(["nope"])


def test_normalize_follows_override():
    with override_settings(IINIIT_AUTH={"SCOPES": OTHER}):
        assert scopes.normalize("zeta:write alpha:read") == ["alpha:read", "zeta:write"]
        with pytest.raises(InvalidScope):
            scopes.normalize(["orders:read"])


# -- to_string and describe --------------------------------------------------------------------


def test_to_string():
    assert scopes.to_string(["reports:read", "orders:read"]) == "orders:read reports:read"
    assert scopes.to_string(["orders:read", "orders:read"]) == "orders:read"
    assert scopes.to_string([]) == ""


def test_to_string_round_trips_through_normalize():
    names = ["reports:read", "orders:write", "orders:read"]
    stored = scopes.to_string(names)
    assert scopes.normalize(stored) == sorted(names)
    assert scopes.to_string(scopes.normalize(stored)) == stored


def test_describe():
    assert scopes.describe(["reports:read", "orders:read"]) == [
        ("reports:read", "Read reports"),
        ("orders:read", "Read orders"),
    ]


def test_describe_unknown_name_is_blank():
    assert scopes.describe(["orders:write", "gone:scope"]) == [
        ("orders:write", "Create and change orders"),
        ("gone:scope", ""),
    ]
    assert scopes.describe([]) == []


# -- the django-oauth-toolkit scopes backend ---------------------------------------------------


def test_backend_all_scopes_is_the_registry():
    assert ScopesBackend().get_all_scopes() == REGISTRY


def test_backend_available_scopes_are_the_registry():
    assert ScopesBackend().get_available_scopes() == list(REGISTRY)
    assert ScopesBackend().get_available_scopes(application=None, request=None) == list(REGISTRY)


def test_backend_default_scopes_are_none():
    assert ScopesBackend().get_default_scopes() == []
    assert ScopesBackend().get_default_scopes(application=None, request=None) == []


def test_backend_returns_copies():
    backend = ScopesBackend()
    backend.get_all_scopes()["injected:scope"] = "Injected"
    backend.get_available_scopes().append("injected:scope")
    assert "injected:scope" not in scopes.registry()
    assert backend.get_all_scopes() == REGISTRY


def test_django_oauth_toolkit_uses_the_backend():
    backend = get_scopes_backend()
    assert isinstance(backend, ScopesBackend)
    assert backend.get_all_scopes() == REGISTRY
    assert backend.get_available_scopes() == list(REGISTRY)
    assert backend.get_default_scopes() == []


def test_django_oauth_toolkit_follows_the_registry_override():
    with override_settings(IINIIT_AUTH={"SCOPES": OTHER}):
        assert get_scopes_backend().get_all_scopes() == OTHER
        assert get_scopes_backend().get_available_scopes() == list(OTHER)
    assert get_scopes_backend().get_all_scopes() == REGISTRY


def test_django_oauth_toolkit_validates_requested_scopes_against_the_registry():
    validator = OAuth2Validator()
    assert validator.validate_scopes("client", ["orders:read", "reports:read"], None, None)
    assert not validator.validate_scopes("client", ["orders:read", "admin"], None, None)
    with override_settings(IINIIT_AUTH={"SCOPES": OTHER}):
        assert validator.validate_scopes("client", ["alpha:read"], None, None)
        assert not validator.validate_scopes("client", ["orders:read"], None, None)
