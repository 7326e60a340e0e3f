"""The audit log in admin: read-only for everyone, superusers included.

``CredentialEvent`` is append-only in the model (saving an existing event or deleting one
raises); here nobody is even offered an add, change or delete screen.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from iiniit_auth.admin.filters import ListRedirects, public_id_terms
from iiniit_auth.admin.pages import ReadOnly
from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKey, CredentialEvent

if TYPE_CHECKING:  # ModelAdmin is generic only in django-stubs
    ModelAdmin = admin.ModelAdmin[CredentialEvent]
else:
    ModelAdmin = admin.ModelAdmin


class DateFilter(admin.DateFieldListFilter):
    """Admin's date filter, titled "date" rather than the field's name ("at")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = _("date")


@admin.register(CredentialEvent)
class CredentialEventAdmin(ReadOnly, ListRedirects, ModelAdmin):
    """The audit log: filter by kind, event, actor and date; search by credential id."""

    list_display = (
        "at",
        "kind",
        "credential_column",
        "event",
        "actor_column",
        "ip",
        "details_column",
    )
    list_filter = (
        "kind",
        "event",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("at", DateFilter),
    )
    # The actor column shows actor_name, kept when the user is deleted: no join needed.
    list_select_related = False
    search_fields = ("credential_id",)
    search_help_text = _(
        "A credential's public id, with or without its prefix; several, separated by spaces."
    )
    fields = ("at", "kind", "credential_id", "event", "actor", "actor_name", "ip", "details_pretty")
    readonly_fields = fields
    actions = None
    list_per_page = 100

    class Media:
        css = {"all": ("iiniit_auth/admin.css",)}
        # Cuts a whole API key pasted into the search box down to its public id in the browser.
        js = ("iiniit_auth/admin.js",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Exact credential ids (the indexed column), case-sensitive as public ids are.

        ``iik_<public id>`` is read as the public id; several words find any of them.
        """
        ids = [word for word in re.split(r"[\s,]+", public_id_terms(search_term)) if word]
        if not ids:
            return queryset, False
        return queryset.filter(credential_id__in=ids), False

    @admin.display(description=_("credential"), ordering="credential_id")
    def credential_column(self, event: CredentialEvent) -> SafeString:
        if event.kind != CredentialEvent.Kind.API_KEY:
            return format_html("<code>{}</code>", event.credential_id)
        display_id = f"{auth_settings().KEY_PREFIX}_{event.credential_id}"
        url = _key_search_url(self.admin_site.name, event.credential_id)
        if url is None:
            return format_html("<code>{}</code>", display_id)
        return format_html('<a href="{}"><code>{}</code></a>', url, display_id)

    @admin.display(description=_("actor"), ordering="actor_name")
    def actor_column(self, event: CredentialEvent) -> str:
        return event.actor_name or str(self.get_empty_value_display())

    @admin.display(description=_("details"))
    def details_column(self, event: CredentialEvent) -> SafeString:
        return format_html('<span class="iiniit-details">{}</span>', details_text(event.details))

    @admin.display(description=_("details"))
    def details_pretty(self, event: CredentialEvent) -> SafeString:
        text = json.dumps(event.details, indent=2, sort_keys=True, cls=DjangoJSONEncoder)
        return format_html('<pre class="iiniit-json">{}</pre>', text)


def details_text(details: dict[str, Any]) -> str:
    """An event's details on one line: ``reason: leaked; scopes: orders:read reports:read``."""
    return "; ".join(
        f"{name}: {' '.join(map(str, value)) if isinstance(value, list | tuple) else value}"
        for name, value in sorted(details.items())
    )


def _key_search_url(site_name: str, public_id: str) -> str | None:
    opts = APIKey._meta
    try:
        base = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=site_name
        )
    except NoReverseMatch:
        return None
    return f"{base}?q={public_id}"
