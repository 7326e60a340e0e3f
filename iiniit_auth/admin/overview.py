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
from typing import Final

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiniit_auth.admin.filters import AUTHENTICATES, RECENTLY_REVOKED, UNUSED
from iiniit_auth.admin.timeline import Timeline, expiring_timeline
from iiniit_auth.models import APIKey
from iiniit_auth.status import (
    EXPIRING_WITHIN,
    RECENTLY_REVOKED_WITHIN,
    UNUSED_FOR,
    Status,
    authenticates,
    badge_q,
    recently_revoked_q,
    unused_q,
)


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
    timeline: Timeline | None = None


SectionFunction = Callable[[AdminSite, HttpRequest], Section | None]

#: The registered sections, in the order they are shown.
SECTIONS: Final[list[SectionFunction]] = []


def section(function: SectionFunction) -> SectionFunction:
    """Register ``function`` as an overview section; it returns None to stay hidden."""
    SECTIONS.append(function)
    return function


def sections(admin_site: AdminSite, request: HttpRequest) -> list[Section]:
    """The sections ``request.user`` may see, computed now."""
    found = (function(admin_site, request) for function in SECTIONS)
    return [item for item in found if item is not None]


@section
def api_keys(admin_site: AdminSite, request: HttpRequest) -> Section | None:
    """API keys: authenticating, expiring soon, long unused, recently revoked. One query."""
    if not admin_site.is_registered(APIKey):
        return None
    if not admin_site.get_model_admin(APIKey).has_view_permission(request):
        return None
    now = timezone.now()
    counts = APIKey._default_manager.aggregate(
        active=Count("pk", filter=authenticates(now)),
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
    }
    return render(request, "admin/iiniit_auth/overview.html", context)
