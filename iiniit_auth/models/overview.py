"""The overview's place in Django admin's index: a proxy of the key model, with no rows of its own.

Admin's index and sidebar list registered models only, so the overview (counts of every kind of
credential, the expiry timeline) is registered as this proxy, whose admin shows the overview
instead of a list. It adds no table and no permissions: who may see it is decided by what the
overview's sections show (``iiniit_auth.admin.overview``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from iiniit_auth.models.apikey import APIKey


class Overview(APIKey):
    """Not a model of its own: the entry of the overview in admin's index."""

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = _("overview")
        verbose_name_plural = _("overview")
