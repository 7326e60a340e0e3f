"""django-oauth-toolkit's view of the one scope registry, ``IINIIT_AUTH["SCOPES"]``:
``OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"] = "iiniit_auth.oauth.scopes.ScopesBackend"`` (the
recommended settings set it)."""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import BaseScopes

from iiniit_auth.scopes import registry


class ScopesBackend(BaseScopes):  # type: ignore[misc]
    """django-oauth-toolkit's view of the registry: every registered scope, all offered."""

    def get_all_scopes(self) -> dict[str, str]:
        return dict(registry())

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(registry())

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        # A client that asks for no scope gets none (least privilege), not everything.
        return []
