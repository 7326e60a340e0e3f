"""What a signed-in user may make in the portal: which scopes, how many keys, how long-lived.

The project decides (docs/portal.md): ``PORTAL_SCOPES`` names the scopes any user may grant
their own credentials, or ``PORTAL_SCOPES_FOR`` a function that answers per user; nothing is
grantable unless listed. ``PORTAL_MAX_ACTIVE_KEYS`` and ``PORTAL_MAX_KEY_LIFETIME`` bound the
keys. The portal asks here before it calls a lifecycle method, and a refusal names the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from iiniit_auth import scopes
from iiniit_auth.conf import auth_settings
from iiniit_auth.models import AbstractAPIKey, APIKey


def scopes_function() -> Any:
    """The function ``PORTAL_SCOPES_FOR`` names, or None when it is not set.

    Raises ``ImproperlyConfigured`` when it cannot be imported or is not callable
    (``manage.py check`` reports it first, as ``iiniit_auth.E007``).
    """
    path = auth_settings().PORTAL_SCOPES_FOR
    if path is None:
        return None
    try:
        function = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"IINIIT_AUTH['PORTAL_SCOPES_FOR'] cannot be imported: {exc}"
        ) from None
    if not callable(function):
        raise ImproperlyConfigured(f"IINIIT_AUTH['PORTAL_SCOPES_FOR'] ({path}) is not callable.")
    return function


def grantable_scopes(user: Any) -> list[str]:
    """The scopes ``user`` may put on their own keys and applications, in registry order.

    ``PORTAL_SCOPES_FOR(user)`` when set, else ``PORTAL_SCOPES``; a name that is not in the
    registry grants nothing and is left out.
    """
    function = scopes_function()
    names: Iterable[str] = auth_settings().PORTAL_SCOPES if function is None else function(user)
    if isinstance(names, str):
        names = names.split()
    wanted = set(names)
    return [name for name in scopes.registry() if name in wanted]


def active_keys(user: Any) -> int:
    """How many of ``user``'s keys count against ``PORTAL_MAX_ACTIVE_KEYS``: those that
    authenticate now, less the rotated ones living out their grace period."""
    return APIKey.objects.active().filter(owner=user, rotated_at__isnull=True).count()


def key_limit_refusal(user: Any) -> str | None:
    """Why ``user`` may not make another key now (the limit is reached), or None."""
    most = auth_settings().PORTAL_MAX_ACTIVE_KEYS
    if most is not None and active_keys(user) >= most:
        return gettext(
            "You have %(n)d active keys, the most you may hold at once. Revoke one you no "
            "longer use before you create another."
        ) % {"n": most}
    return None


def lifetime_refusal(lifetime: timedelta | None) -> str | None:
    """Why a key living ``lifetime`` (None: forever) may not be made here, or None."""
    longest = auth_settings().PORTAL_MAX_KEY_LIFETIME
    if longest is None or (lifetime is not None and lifetime <= longest):
        return None
    return gettext(
        "Keys made here live at most %(days)d days; ask an administrator for a longer one."
    ) % {"days": longest.days}


def rotation_refusal(key: AbstractAPIKey, grantable: Iterable[str]) -> str | None:
    """Why a user who may grant ``grantable`` may not rotate ``key`` here, or None.

    A successor inherits the key's scopes and lifetime, so rotating makes a credential like
    the key: here only if the user could have made it (a key an administrator made with more
    is rotated by an administrator).
    """
    beyond = sorted(key.scope_set - set(grantable))
    if beyond:
        return gettext(
            "This key carries scopes you cannot grant yourself (%(scopes)s): ask an "
            "administrator to rotate it, or revoke it and create another."
        ) % {"scopes": ", ".join(beyond)}
    lifetime = key.expires_at - key.created_at if key.expires_at else None
    return lifetime_refusal(lifetime)
