from __future__ import annotations

from importlib.util import find_spec

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IiniitAuthConfig(AppConfig):
    name = "iiniit_auth"
    verbose_name = _("API credentials")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from iiniit_auth import checks  # noqa: F401  (registers the system checks)
        from iiniit_auth.cache_invalidation import connect as connect_cache
        from iiniit_auth.redaction import attach_filters

        # Logging is configured before apps are ready, so these logger-level filters stay:
        # projects get keys redacted from runserver's and Django's request logs untouched.
        attach_filters()
        # The lookup cache forgets a key when it or its owner is written (a no-op while the
        # cache is off, so tests and projects can turn it on at any time).
        connect_cache()
        # The developer portal's: a sign-in starts sudo mode; owners hear of their keys.
        from iiniit_auth.portal.receivers import connect as connect_portal

        connect_portal()
        # OpenAPI: with drf-spectacular installed, its extensions for our classes register
        # themselves on import, so a project's schema knows them without importing anything.
        if find_spec("drf_spectacular") is not None:
            from iiniit_auth.contrib import spectacular  # noqa: F401
