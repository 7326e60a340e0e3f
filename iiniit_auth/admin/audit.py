"""The audit log in admin: read-only for everyone, superusers included.

``CredentialEvent`` is append-only in the model (saving an existing event or deleting one
raises); here nobody is even offered an add, change or delete screen. One action: the selected
events (or, with "select all", the whole filtered list) as a CSV download, for those holding
the ``export_credentialevent`` permission; the same columns as ``manage.py audit export``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from iiniit_auth import audit_ops
from iiniit_auth.admin import events
from iiniit_auth.admin.filters import ListRedirects, public_id_terms
from iiniit_auth.admin.pages import ReadOnly, StyledForbidden
from iiniit_auth.models import CredentialEvent
from iiniit_auth.times import moment_html

if TYPE_CHECKING:  # ModelAdmin is generic only in django-stubs
    ModelAdmin = admin.ModelAdmin[CredentialEvent]
else:
    ModelAdmin = admin.ModelAdmin


class DateFilter(admin.DateFieldListFilter):
    """Admin's date filter, titled "date" rather than the field's name ("at")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = _("date")


class ActorFilter(admin.RelatedOnlyFieldListFilter):
    """The users who acted, and, for events with none, what the actor column says instead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_value_display = format_html("{}", _("system or a client"))


class KindFilter(admin.SimpleListFilter):
    """The credential kinds the viewer may read the events of (:func:`events.visible_kinds`)."""

    title = _("credential kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        labels = dict(CredentialEvent.Kind.choices)
        return [
            (kind, labels[kind]) for kind in events.visible_kinds(model_admin.admin_site, request)
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        return queryset.filter(kind=self.value()) if self.value() else None


class NamedChangeList(ChangeList):
    """Admin's changelist, naming the page's credentials with one query per model."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        names = events.Names(self.result_list, self.model_admin.admin_site, request)
        for event in self.result_list:
            event.credential_html = names.credential(event)


@admin.register(CredentialEvent)
class CredentialEventAdmin(StyledForbidden, ReadOnly, ListRedirects, ModelAdmin):
    """The audit log: filter by kind, event, actor and date; search by credential id.

    A viewer sees the events of the credential kinds they may view, nothing else.
    """

    list_display = (
        "at_column",
        "credential_column",
        "event",
        "actor_column",
        "ip",
        "details_column",
    )
    list_filter = (
        KindFilter,
        "event",
        ("actor", ActorFilter),
        ("at", DateFilter),
    )
    # The actor column shows actor_name, kept when the user is deleted: no join needed.
    list_select_related = False
    search_fields = ("credential_id",)
    search_help_text = _(
        "A credential's public id, with or without its prefix; several, separated by spaces."
    )
    fields = (
        "at",
        "kind",
        "credential_column",
        "event",
        "actor_column",
        "ip",
        "details_detail",
        "details_pretty",
    )
    readonly_fields = fields
    actions = ["export_csv"]
    list_per_page = 100

    class Media:
        css = {"all": ("iiniit_auth/admin.css",)}
        # Cuts a whole API key pasted into the search box down to its public id in the browser.
        js = ("iiniit_auth/admin.js",)

    def has_export_permission(self, request: HttpRequest) -> bool:
        """Whether ``request.user`` may download the audit log (the ``export`` action)."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.export_{opts.model_name}")

    @admin.action(permissions=["export"], description=_("Export selected events as CSV"))
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[CredentialEvent]
    ) -> StreamingHttpResponse:
        """Stream ``queryset`` (already limited to the kinds the viewer may see) as CSV."""
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        return StreamingHttpResponse(
            audit_ops.csv_lines(queryset),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
        )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return NamedChangeList

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
            obj.credential_html = events.Names([obj], self.admin_site, request).credential(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)
        return queryset.filter(kind__in=events.visible_kinds(self.admin_site, request))

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

    @admin.display(description=_("at"), ordering="at")
    def at_column(self, event: CredentialEvent) -> SafeString:
        return moment_html(event.at, "")

    @admin.display(description=_("credential"), ordering="credential_id")
    def credential_column(self, event: CredentialEvent) -> SafeString:
        named: SafeString | None = getattr(event, "credential_html", None)
        return named if named is not None else format_html("<code>{}</code>", event.credential_id)

    @admin.display(description=_("actor"), ordering="actor_name")
    def actor_column(self, event: CredentialEvent) -> SafeString:
        return events.actor(event)

    @admin.display(description=_("details"))
    def details_column(self, event: CredentialEvent) -> SafeString:
        return format_html('<span class="iiniit-details">{}</span>', events.details(event))

    @admin.display(description=_("details"))
    def details_detail(self, event: CredentialEvent) -> SafeString:
        return events.details(event)

    @admin.display(description=_("as stored"))
    def details_pretty(self, event: CredentialEvent) -> SafeString:
        text = json.dumps(event.details, indent=2, sort_keys=True, cls=DjangoJSONEncoder)
        return format_html('<pre class="iiniit-json">{}</pre>', text)
