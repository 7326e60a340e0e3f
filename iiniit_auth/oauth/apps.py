from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IiniitOAuthConfig(AppConfig):
    """The OAuth 2.0 server, an app of its own beside ``oauth2_provider`` and ``iiniit_auth``."""

    name = "iiniit_auth.oauth"
    label = "iiniit_oauth"
    verbose_name = _("OAuth 2.0 server")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The system checks W010-W019 register on import; every application saved is audited.
        from iiniit_auth.oauth import applications, checks  # noqa: F401
