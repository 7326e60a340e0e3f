"""The portal's settings (IINIIT_AUTH["PORTAL_*"]): read, defaulted, validated. No database."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from iiniit_auth.conf import auth_settings

SCOPES = {"orders:read": "Read orders", "orders:write": "Create and change orders"}


def built(**values):
    with override_settings(IINIIT_AUTH={"SCOPES": SCOPES, **values}):
        return auth_settings()


def refused(name, value):
    with pytest.raises(ImproperlyConfigured) as raised:
        built(**{name: value})
    assert f"IINIIT_AUTH['{name}']" in str(raised.value)
    return str(raised.value)


def portal(values):
    return {name: value for name, value in asdict(values).items() if name.startswith("PORTAL_")}


def test_the_defaults_grant_nothing_and_bound_keys():
    assert portal(built()) == {
        "PORTAL_SCOPES": frozenset(),
        "PORTAL_SCOPES_FOR": None,
        "PORTAL_MAX_ACTIVE_KEYS": 10,
        "PORTAL_MAX_KEY_LIFETIME": timedelta(days=365),
        "PORTAL_SUDO_TIMEOUT": timedelta(minutes=15),
        "PORTAL_BASE_TEMPLATE": "iiniit_auth/portal/base.html",
        "PORTAL_EMAILS": False,
    }


def test_values_are_read():
    values = built(
        PORTAL_SCOPES=("orders:read",),
        PORTAL_SCOPES_FOR="project.policy.scopes_for",
        PORTAL_MAX_ACTIVE_KEYS=None,
        PORTAL_MAX_KEY_LIFETIME=None,
        PORTAL_SUDO_TIMEOUT=300,
        PORTAL_BASE_TEMPLATE="base.html",
        PORTAL_EMAILS=True,
    )
    assert portal(values) == {
        "PORTAL_SCOPES": {"orders:read"},
        "PORTAL_SCOPES_FOR": "project.policy.scopes_for",
        "PORTAL_MAX_ACTIVE_KEYS": None,
        "PORTAL_MAX_KEY_LIFETIME": None,
        "PORTAL_SUDO_TIMEOUT": timedelta(minutes=5),
        "PORTAL_BASE_TEMPLATE": "base.html",
        "PORTAL_EMAILS": True,
    }
    assert built(PORTAL_SUDO_TIMEOUT=None).PORTAL_SUDO_TIMEOUT is None


def test_an_unregistered_scope_is_named():
    message = refused("PORTAL_SCOPES", ["orders:read", "admin:all", "orders:delete"])
    assert "names scopes not in SCOPES: admin:all, orders:delete." in message


@pytest.mark.parametrize("value", ["orders:read", None, 3, {"orders:read": True}.items()])
def test_portal_scopes_must_be_a_list_of_names(value):
    with pytest.raises(ImproperlyConfigured, match="PORTAL_SCOPES"):
        built(PORTAL_SCOPES=value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_SCOPES_FOR", "no_dots"),
        ("PORTAL_SCOPES_FOR", len),
        ("PORTAL_MAX_ACTIVE_KEYS", 0),
        ("PORTAL_MAX_ACTIVE_KEYS", True),
        ("PORTAL_MAX_ACTIVE_KEYS", "10"),
        ("PORTAL_MAX_KEY_LIFETIME", timedelta(0)),
        ("PORTAL_MAX_KEY_LIFETIME", 365),
        ("PORTAL_MAX_KEY_LIFETIME", timedelta(days=40000)),
        ("PORTAL_SUDO_TIMEOUT", -1),
        ("PORTAL_SUDO_TIMEOUT", timedelta(seconds=-1)),
        ("PORTAL_SUDO_TIMEOUT", "15m"),
        ("PORTAL_SUDO_TIMEOUT", float("inf")),
        ("PORTAL_BASE_TEMPLATE", ""),
        ("PORTAL_BASE_TEMPLATE", None),
        ("PORTAL_EMAILS", "yes"),
    ],
)
def test_invalid_values_are_refused_naming_the_setting(name, value):
    refused(name, value)
