"""The API key admin: list, read-only change page, and the rotate and revoke screens.

Nothing here edits a key. Issuing replaces the add form (:class:`views.KeyScreens`), rotating
and revoking are screens of their own, and each goes through a lifecycle method. Deleting is
not offered: a key is revoked, and its history stays in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from iiniit_auth import scopes
from iiniit_auth.admin import events, owners
from iiniit_auth.admin.filters import (
    ActivityFilter,
    ExpiryFilter,
    ListRedirects,
    ScopeFilter,
    StatusFilter,
    public_id_terms,
)
from iiniit_auth.admin.forms import rate_html
from iiniit_auth.admin.overview import overview_url
from iiniit_auth.admin.pages import NoSaveAsNew, StyledForbidden, change_url
from iiniit_auth.admin.views import KeyScreens
from iiniit_auth.models import AbstractAPIKey, APIKey, CredentialEvent
from iiniit_auth.status import EXPIRING_WITHIN, Status, can_revoke, can_rotate, status_of
from iiniit_auth.times import moment_html

if TYPE_CHECKING:  # ModelAdmin is generic only in django-stubs
    ModelAdmin = admin.ModelAdmin[AbstractAPIKey]
else:
    ModelAdmin = admin.ModelAdmin


def status_meaning(status: Status) -> str:
    """What a badge means for requests with the key, in a sentence."""
    if status == Status.EXPIRING:
        return str(
            _("Authenticates, but expires within %(days)d days.") % {"days": EXPIRING_WITHIN.days}
        )
    return str(
        {
            Status.ACTIVE: _("Authenticates."),
            Status.EXPIRED: _("Past its expiry: every request with it is refused."),
            Status.ROTATED: _("Replaced by a successor: refused once its grace period ends."),
            Status.REVOKED: _("Every request with it is refused."),
        }[status]
    )


def status_badge(key: AbstractAPIKey, now: datetime | None = None) -> SafeString:
    """The coloured badge of ``key``'s status, with a tooltip saying what it means."""
    status = status_of(key, now or timezone.now())
    return format_html(
        '<span class="iiniit-badge iiniit-badge--{}" title="{}">{}</span>',
        status.value,
        status_meaning(status),
        status.label,
    )


@admin.register(APIKey)
class APIKeyAdmin(StyledForbidden, NoSaveAsNew, ListRedirects, KeyScreens):
    """API keys in Django admin. Subclass and register it for your own concrete key model."""

    list_display = (
        "key_column",
        "owner",
        "scopes_column",
        "status_column",
        "last_used_column",
        "expires_column",
        "created_column",
    )
    list_display_links = ("key_column",)
    # Named outright so that a subclass registered for a model of another app keeps its buttons.
    change_form_template = "admin/iiniit_auth/apikey/change_form.html"
    change_list_template = "admin/iiniit_auth/apikey/change_list.html"
    list_filter = (
        StatusFilter,
        ActivityFilter,
        ExpiryFilter,
        ScopeFilter,
        ("owner", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("owner", "created_by")
    list_per_page = 50
    search_help_text = _(
        "Name, public id (with or without its prefix), or the owner's username or e-mail."
    )
    actions = ("revoke_selected",)
    readonly_fields = (
        "name",
        "public_id_column",
        "status_detail",
        "owner",
        "scopes_detail",
        "created_detail",
        "created_by",
        "expires_column",
        "last_used_column",
        "networks_detail",
        "rate_detail",
        "rate_change",
        "predecessor_link",
        "successor_link",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    )

    class Media:
        css = {"all": ("iiniit_auth/admin.css",)}
        js = ("iiniit_auth/admin.js",)

    # -- permissions ----------------------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key is never edited: its page is read-only for everyone, superusers included.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke instead: a deleted key would leave audit events pointing at nothing.
        return False

    # -- list -----------------------------------------------------------------------------

    @admin.display(description=_("public id"), ordering="public_id")
    def public_id_column(self, key: AbstractAPIKey) -> SafeString:
        return format_html("<code>{}</code>", key.display_id)

    @admin.display(description=_("key"), ordering="name")
    def key_column(self, key: AbstractAPIKey) -> SafeString:
        """The name, and the public id under it: what people know a key by, in one column."""
        return format_html('{}<br><code class="iiniit-id">{}</code>', key.name, key.display_id)

    @admin.display(description=_("scopes"))
    def scopes_column(self, key: AbstractAPIKey) -> SafeString:
        if not key.scope_list:
            return format_html('<span class="quiet">{}</span>', _("none"))
        return format_html_join(
            " ", '<code class="iiniit-scope">{}</code>', ((s,) for s in key.scope_list)
        )

    @admin.display(description=_("status"))
    def status_column(self, key: AbstractAPIKey) -> SafeString:
        return status_badge(key)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires_column(self, key: AbstractAPIKey) -> SafeString:
        return moment_html(key.expires_at, _("never"))

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used_column(self, key: AbstractAPIKey) -> SafeString:
        return moment_html(key.last_used_at, _("never used"))

    @admin.display(description=_("created"), ordering="created_at")
    def created_column(self, key: AbstractAPIKey) -> SafeString:
        if key.created_by is None:
            return moment_html(key.created_at, "")
        return format_html(
            '{}<br><span class="quiet">{}</span>',
            moment_html(key.created_at, ""),
            _("by %(user)s") % {"user": key.created_by},
        )

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return ["name", "public_id__startswith"] + [
            f"owner__{field}" for field in owners.user_search_fields()
        ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Search as typed, with ``iik_<public id>`` read as the public id."""
        return super().get_search_results(request, queryset, public_id_terms(search_term))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The list, with a link to the overview (the counts and the expiry timeline)."""
        overview = overview_url(self.admin_site)
        return super().changelist_view(request, {**(extra_context or {}), "overview_url": overview})

    # -- change page ----------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[tuple[Any, dict[str, Any]]] = [
            (
                None,
                {"fields": ("name", "public_id_column", "status_detail", "owner", "scopes_detail")},
            ),
            (
                _("Lifetime"),
                {"fields": ("created_detail", "created_by", "expires_column", "last_used_column")},
            ),
            (_("Networks"), {"fields": ("networks_detail",)}),
            (
                _("Limits"),
                {
                    "fields": (
                        "rate_change" if self.has_rate_permission(request) else "rate_detail",
                    )
                },
            ),
        ]
        # Only the rows that name a key: an unrotated key's page has no "Rotation" section.
        rotation = tuple(
            name
            for name, linked in (
                ("predecessor_link", obj is not None and obj.predecessor_id is not None),
                ("successor_link", obj is not None and _successor(obj) is not None),
            )
            if linked
        )
        if rotation:
            fieldsets.append((_("Rotation"), {"fields": rotation}))
        if obj is not None and obj.revoked_at is not None:
            fieldsets.append(
                (_("Revocation"), {"fields": ("revoked_at", "revoked_by", "revoke_reason")})
            )
        return fieldsets

    @admin.display(description=_("status"))
    def status_detail(self, key: AbstractAPIKey) -> SafeString:
        now = timezone.now()
        status = status_of(key, now)
        if status == Status.ROTATED and key.is_active and key.expires_at:
            return format_html(
                '{} <span class="quiet">{}</span>',
                status_badge(key, now),
                format_html(
                    # The date last, with no full stop after it: dates may end in "p.m.".
                    str(_("Replaced by a successor; the old key is still accepted until {}")),
                    moment_html(key.expires_at, "", now),
                ),
            )
        return format_html(
            '{} <span class="quiet">{}</span>', status_badge(key, now), status_meaning(status)
        )

    @admin.display(description=_("scopes"))
    def scopes_detail(self, key: AbstractAPIKey) -> SafeString:
        if not key.scope_list:
            return format_html(
                '<span class="quiet">{}</span>', _("No scopes: only unscoped endpoints.")
            )
        return format_html(
            # Divs, not a list: admin's form styles indent every <ul> in an aligned fieldset.
            '<div class="iiniit-scopes">{}</div>',
            format_html_join(
                "",
                '<div><code class="iiniit-scope">{}</code> {}</div>',
                scopes.describe(key.scope_list),
            ),
        )

    @admin.display(description=_("created"))
    def created_detail(self, key: AbstractAPIKey) -> SafeString:
        return moment_html(key.created_at, "")

    @admin.display(description=_("allowed networks"))
    def networks_detail(self, key: AbstractAPIKey) -> SafeString:
        if not key.allowed_networks:
            return format_html("{}", _("Any address"))
        return format_html_join(", ", "<code>{}</code>", ((n,) for n in key.allowed_networks))

    @admin.display(description=_("rate limit"))
    def rate_detail(self, key: AbstractAPIKey) -> SafeString:
        return rate_html(key.rate)

    @admin.display(description=_("rate limit"))
    def rate_change(self, key: AbstractAPIKey) -> SafeString:
        """The rate, and a link to change it (shown to those who may)."""
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_rate",
            args=[key.pk],
        )
        return format_html(
            '{} <a href="{}" class="iiniit-rate-change">{}</a>',
            self.rate_detail(key),
            url,
            _("Change"),
        )

    def _key_link(self, key: AbstractAPIKey | None) -> SafeString:
        if key is None:
            return format_html("{}", self.get_empty_value_display())
        return format_html('<a href="{}">{}</a>', change_url(self, key.pk), str(key))

    @admin.display(description=_("rotated from"))
    def predecessor_link(self, key: AbstractAPIKey) -> SafeString:
        return self._key_link(key.predecessor)

    @admin.display(description=_("rotated to"))
    def successor_link(self, key: AbstractAPIKey) -> SafeString:
        return self._key_link(_successor(key))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(
                can_rotate=can_rotate(obj)
                and self.has_rotate_permission(request)
                and owners.refusal(request.user, obj.owner, self.for_others_permission) is None,
                can_revoke=can_revoke(obj) and self.has_revoke_permission(request),
                **events.context(
                    request,
                    self.admin_site,
                    CredentialEvent.Kind.API_KEY,
                    obj.public_id,
                    _("The audit log has every event of this key"),
                ),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def _successor(key: AbstractAPIKey) -> AbstractAPIKey | None:
    # The reverse side of the one-to-one: its DoesNotExist is also an AttributeError.
    return getattr(key, "successor", None)
