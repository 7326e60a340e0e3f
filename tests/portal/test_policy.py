"""What a user may make in the portal: the project's scopes, per user or for all; the limits."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from iiniit_auth.models import NEVER
from iiniit_auth.portal import policy


def staff_get_more(user):
    """A PORTAL_SCOPES_FOR: staff may grant reports too; a name unknown to the registry."""
    return ["orders:read", "reports:read", "unknown:scope"] if user.is_staff else ["orders:read"]


NOT_CALLABLE = 42


def test_portal_scopes_apply_to_everyone_in_registry_order(settings, user):
    settings.IINIIT_AUTH = {
        **settings.IINIIT_AUTH,
        "PORTAL_SCOPES": ["reports:read", "orders:read"],
    }
    assert policy.grantable_scopes(user) == ["orders:read", "reports:read"]


def test_nothing_is_grantable_by_default(settings, user):
    settings.IINIIT_AUTH = {"SCOPES": settings.IINIIT_AUTH["SCOPES"]}
    assert policy.grantable_scopes(user) == []


def test_a_function_decides_per_user_and_unknown_names_grant_nothing(settings, user, staff):
    settings.IINIIT_AUTH = {
        **settings.IINIIT_AUTH,
        "PORTAL_SCOPES_FOR": f"{__name__}.staff_get_more",
    }
    assert policy.grantable_scopes(user) == ["orders:read"]
    assert policy.grantable_scopes(staff) == ["orders:read", "reports:read"]


@pytest.mark.parametrize(
    "path", [f"{__name__}.missing", "no.such.module", f"{__name__}.NOT_CALLABLE"]
)
def test_a_function_that_is_not_one_is_improperly_configured(settings, user, path):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SCOPES_FOR": path}
    with pytest.raises(ImproperlyConfigured, match="PORTAL_SCOPES_FOR"):
        policy.grantable_scopes(user)


def test_the_key_limit(settings, issue, user):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_MAX_ACTIVE_KEYS": 1}
    assert policy.key_limit_refusal(user) is None
    issue()
    assert "1 active keys" in policy.key_limit_refusal(user)
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_MAX_ACTIVE_KEYS": None}
    assert policy.key_limit_refusal(user) is None


def test_rotation_stays_within_what_the_user_could_make(settings, issue, user):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_SCOPES": ["orders:read"]}
    grantable = policy.grantable_scopes(user)
    assert policy.rotation_refusal(issue()[0], grantable) is None
    writer = issue(scopes=["orders:write"])[0]
    assert "orders:write" in policy.rotation_refusal(writer, grantable)
    forever = issue(expires_at=NEVER)[0]
    assert "at most 365 days" in policy.rotation_refusal(forever, grantable)
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_MAX_KEY_LIFETIME": None}
    assert policy.rotation_refusal(forever, grantable) is None


def test_lifetimes(settings):
    assert policy.lifetime_refusal(timedelta(days=365)) is None
    assert policy.lifetime_refusal(timedelta(days=366)) is not None
    assert policy.lifetime_refusal(None) is not None
