"""The overview: the app's credentials at a glance, on the app index and as a page of its own.

The overview is a list of sections, one per model family. Each section is one function,
registered with :func:`section`, that returns its counts from ONE aggregate query (filtered
``COUNT``s), so the page costs the same with ten keys or a million. Another family (OAuth
applications and tokens, say) adds itself with one more ``@section`` function.

Each count links to the list filtered to exactly what it counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.apps import apps
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiniit_auth.admin.filters import AUTHENTICATES, RECENTLY_REVOKED, UNUSED
from iiniit_auth.admin.pages import StyledForbidden
from iiniit_auth.admin.timeline import expiring_timeline
from iiniit_auth.charts import DayChart
from iiniit_auth.models import APIKey, CredentialEvent, Overview
from iiniit_auth.models.managers import authenticating
from iiniit_auth.status import (
    EXPIRING_WITHIN,
    RECENTLY_REVOKED_WITHIN,
    UNUSED_FOR,
    Status,
    badge_q,
    recently_revoked_q,
    unused_q,
)
from iiniit_auth.usage_chart import DAYS, BusiestChart, busiest_chart


@dataclass(frozen=True)
class Figure:
    """One number of the overview: what it counts, the count, and the list that shows them.

    ``tone`` is ``""``, ``"attention"`` or ``"danger"``: how much a non-zero count matters.
    """

    label: str
    count: int
    url: str
    tone: str = ""


@dataclass(frozen=True)
class Section:
    """The figures of one model family, under its title (and a timeline, for keys)."""

    title: str
    figures: list[Figure]
    timeline: DayChart | None = None


SectionFunction = Callable[[AdminSite, HttpRequest], Section | None]


@dataclass(frozen=True)
class Registered:
    """A section's function, and the models whose viewers see it."""

    function: SectionFunction
    models: tuple[type[Model], ...]


#: The registered sections, in the order they are shown.
SECTIONS: Final[list[Registered]] = []


def section(*models: type[Model]) -> Callable[[SectionFunction], SectionFunction]:
    """Register the decorated function as an overview section, shown to staff who may view
    one of ``models`` in admin; the function may still return None to stay hidden."""

    def register(function: SectionFunction) -> SectionFunction:
        SECTIONS.append(Registered(function, models))
        return function

    return register


def _viewable(admin_site: AdminSite, request: HttpRequest, models: tuple[type[Model], ...]) -> bool:
    return any(
        admin_site.is_registered(model)
        and admin_site.get_model_admin(model).has_view_permission(request)
        for model in models
    )


def visible(admin_site: AdminSite, request: HttpRequest) -> bool:
    """Whether ``request.user`` may see a section, decided without computing one."""
    return any(_viewable(admin_site, request, entry.models) for entry in SECTIONS)


def sections(admin_site: AdminSite, request: HttpRequest) -> list[Section]:
    """The sections ``request.user`` may see, computed now."""
    found = (
        entry.function(admin_site, request)
        for entry in SECTIONS
        if _viewable(admin_site, request, entry.models)
    )
    return [item for item in found if item is not None]


@section(APIKey)
def api_keys(admin_site: AdminSite, request: HttpRequest) -> Section | None:
    """API keys: authenticating, expiring soon, long unused, recently revoked. One query for
    the figures, one for the timeline."""
    now = timezone.now()
    counts = APIKey._default_manager.aggregate(
        active=Count("pk", filter=authenticating(now)),
        expiring=Count("pk", filter=badge_q(Status.EXPIRING, now)),
        unused=Count("pk", filter=unused_q(now)),
        revoked=Count("pk", filter=recently_revoked_q(now)),
    )
    opts = APIKey._meta
    changelist = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=admin_site.name
    )
    return Section(
        title=str(opts.verbose_name_plural),
        figures=[
            Figure(str(_("Active")), counts["active"], f"{changelist}?status={AUTHENTICATES}"),
            Figure(
                str(_("Expiring within %(days)d days") % {"days": EXPIRING_WITHIN.days}),
                counts["expiring"],
                f"{changelist}?status={Status.EXPIRING.value}",
                tone="attention",
            ),
            Figure(
                str(_("Unused for %(days)d days") % {"days": UNUSED_FOR.days}),
                counts["unused"],
                f"{changelist}?activity={UNUSED}",
                tone="attention",
            ),
            Figure(
                str(
                    _("Revoked in the last %(days)d days") % {"days": RECENTLY_REVOKED_WITHIN.days}
                ),
                counts["revoked"],
                f"{changelist}?activity={RECENTLY_REVOKED}",
                tone="danger",
            ),
        ],
        timeline=expiring_timeline(changelist, now),
    )


def busiest(admin_site: AdminSite, request: HttpRequest) -> BusiestChart | None:
    """The credentials with the most requests over the last ``DAYS`` days, of the kinds
    ``request.user`` may view in ``admin_site`` (None if neither): one query, and one per kind
    to name them. Drawn under the sections."""
    models: list[tuple[str, Any]] = [(CredentialEvent.Kind.API_KEY, APIKey)]
    if apps.is_installed("oauth2_provider"):
        # django-oauth-toolkit is optional for the core: imported only when installed.
        from oauth2_provider.models import get_application_model

        models.append((CredentialEvent.Kind.OAUTH_APPLICATION, get_application_model()))
    kinds = [kind for kind, model in models if _viewable(admin_site, request, (model,))]
    return busiest_chart(admin_site.name, kinds) if kinds else None


@admin.register(Overview)
class OverviewAdmin(StyledForbidden, admin.ModelAdmin):  # type: ignore[type-arg]
    """The overview in admin's index and sidebar, under the app's models: its one page is the
    overview. Shown to whoever may see at least one of its sections."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return visible(self.admin_site, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        view = self.admin_site.admin_view(self.changelist_view)
        return [path("", view, name=f"{opts.app_label}_{opts.model_name}_changelist")]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return overview_view(self.admin_site, request)


def overview_url(admin_site: AdminSite) -> str | None:
    """The overview's address in ``admin_site``, or None where it is not registered there."""
    if not admin_site.is_registered(Overview):
        return None
    return reverse("admin:iiniit_auth_overview_changelist", current_app=admin_site.name)


def overview_view(admin_site: AdminSite, request: HttpRequest) -> HttpResponse:
    """The overview page. The app index shows its ``#iiniit-auth-overview`` part.

    Raises ``PermissionDenied`` when the user may see no section.
    """
    found = sections(admin_site, request)
    if not found:
        raise PermissionDenied
    context = {
        **admin_site.each_context(request),
        "title": _("API credentials at a glance"),
        "subtitle": None,
        "app_label": APIKey._meta.app_label,
        "app_name": APIKey._meta.app_config.verbose_name,
        "sections": found,
        "busiest": busiest(admin_site, request),
        "busiest_title": _("Usage in the last %(days)d days") % {"days": DAYS},
    }
    return render(request, "admin/iiniit_auth/overview.html", context)
