"""Where the "Try it" line of a new key's page (admin's and the portal's) sends the key."""

from __future__ import annotations

from django.http import HttpRequest

from iiniit_auth.conf import auth_settings


def example_url(request: HttpRequest) -> str | None:
    """``EXAMPLE_URL`` as an absolute URL (a path is on this site), or None where unset."""
    where = auth_settings().EXAMPLE_URL
    if where is None:
        return None
    return request.build_absolute_uri(where) if where.startswith("/") else where
