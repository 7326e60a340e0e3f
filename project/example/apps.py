from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExampleConfig(AppConfig):
    """The example API's app (label ``example``)."""

    name = "project.example"
    label = "example"
    verbose_name = _("Example API")
    default_auto_field = "django.db.models.BigAutoField"
