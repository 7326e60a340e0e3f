"""The portal's URLs. Include them where developers should find them::

    path("developer/", include("iiniit_auth.portal.urls")),

Ids in paths are database ids of the signed-in user's own credentials, never a secret; an id
that is not theirs, or not a number a database column holds, is a 404.
"""

from __future__ import annotations

from django.urls import URLPattern, path, register_converter

from iiniit_auth.portal import applications, authorized, keys, sudo
from iiniit_auth.portal.pages import NAMESPACE


class IdConverter:
    """A database id: 1 to 18 digits, so it fits a 64-bit column (a longer one is a 404,
    never an overflow in the database driver)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "portal_id")

app_name = NAMESPACE

urlpatterns: list[URLPattern] = [
    path("", keys.list_view, name="keys"),
    path("keys/new/", keys.create_view, name="key-create"),
    path("keys/<portal_id:pk>/rotate/", keys.rotate_view, name="key-rotate"),
    path("keys/<portal_id:pk>/revoke/", keys.revoke_view, name="key-revoke"),
    path("confirm/", sudo.confirm_view, name="sudo"),
    path("applications/", applications.list_view, name="applications"),
    path("applications/new/", applications.register_view, name="application-register"),
    path("applications/<portal_id:pk>/", applications.detail_view, name="application"),
    path(
        "applications/<portal_id:pk>/rotate-secret/",
        applications.rotate_secret_view,
        name="application-rotate-secret",
    ),
    path(
        "applications/<portal_id:pk>/revoke-tokens/",
        applications.revoke_tokens_view,
        name="application-revoke-tokens",
    ),
    path(
        "applications/<portal_id:pk>/delete/",
        applications.delete_view,
        name="application-delete",
    ),
    path("authorized/", authorized.list_view, name="authorized"),
    path("authorized/<portal_id:pk>/revoke/", authorized.revoke_view, name="authorized-revoke"),
]
