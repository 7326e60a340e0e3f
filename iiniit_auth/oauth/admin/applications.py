"""OAuth applications in Django admin, in place of django-oauth-toolkit's own admin.

* Applications: registered through ``register_application`` (the client secret shown once),
  allowed scopes edited through ``ApplicationPolicy.objects.set_allowed_scopes``, a
  "Rotate client secret" screen (``iiniit_oauth.rotate_client_secret``) and a "Revoke all
  tokens" screen (``iiniit_oauth.revoke_application_tokens``). Not deleted here: deleting an
  application would delete its tokens unaudited; revoke them instead.
* Access and refresh tokens: read-only lists with a bulk "revoke" action (``revoke_token``),
  allowed to whoever may delete the token model (revoking is what deleting means there).
  The token value and its checksum are never shown.
* On all three lists, a whole API key or an OAuth token pasted into the search box is left
  out of it before the list is shown, so the page does not repeat it.
* Authorization codes (grants) and ID tokens: read-only lists, without their values
  (:class:`~iiniit_auth.oauth.admin.tokens.ReadOnlyGrantAdmin`).
* Two overview sections: applications and access tokens, one aggregate query each.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)

from iiniit_auth import scopes
from iiniit_auth.admin import events, overview, owners
from iiniit_auth.admin.filters import ListRedirects
from iiniit_auth.admin.forms import rate_html
from iiniit_auth.admin.pages import NoSaveAsNew, StyledForbidden, client_ip
from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.admin.forms import GRANT_CHOICES, ApplicationChangeForm
from iiniit_auth.oauth.admin.tokens import (
    ACTIVE,
    scope_codes,
    stored_tokens,
)
from iiniit_auth.oauth.admin.views import ApplicationScreens, has_policy_perm
from iiniit_auth.oauth.applications import CHANGEABLE_FIELDS, record_application_changed
from iiniit_auth.oauth.models import ApplicationPolicy, application_credential_id

if TYPE_CHECKING:  # ModelAdmin is generic only in django-stubs
    ModelAdmin = admin.ModelAdmin[Any]
else:
    ModelAdmin = admin.ModelAdmin

Application = get_application_model()
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
POLICY = "iiniit_auth_policy"
#: The "scopes" filter's values: applications granted at least one scope, or none.
GRANTED, NO_SCOPES = "granted", "none"


def granted_q() -> Q:
    """Applications whose policy grants at least one scope (the overview's "active")."""
    return Q(**{f"{POLICY}__isnull": False}) & ~Q(**{f"{POLICY}__allowed_scopes": ""})


class GrantedFilter(admin.SimpleListFilter):
    """Applications granted at least one scope, or none (they obtain no token scope)."""

    title = _("allowed scopes")
    parameter_name = "scopes"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(GRANTED, _("At least one")), (NO_SCOPES, _("None"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() == GRANTED:
            return queryset.filter(granted_q())
        if self.value() == NO_SCOPES:
            return queryset.exclude(granted_q())
        return None


class GrantFilter(admin.SimpleListFilter):
    """The grants an application can be registered with here (not the implicit or password
    grant django-oauth-toolkit also knows, which RFC 9700 retires)."""

    title = _("grant")
    parameter_name = "authorization_grant_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(GRANT_CHOICES)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value():
            return queryset.filter(authorization_grant_type=self.value())
        return None


class ApplicationAdmin(StyledForbidden, NoSaveAsNew, ListRedirects, ApplicationScreens):
    """OAuth applications with their allowed scopes; the client secret is shown once only."""

    form = ApplicationChangeForm
    # django-oauth-toolkit's own application pages are not routed by iiniit_auth.
    view_on_site = False
    change_form_template = "admin/iiniit_auth/application/change_form.html"
    list_display = (
        "application_column",
        "client_column",
        "scopes_column",
        "active_tokens",
        "user",
    )
    list_filter = (GrantedFilter, "client_type", GrantFilter)
    list_select_related = ("user", POLICY)
    search_fields = ("name", "client_id")
    list_per_page = 50
    actions = None
    readonly_fields = (
        "client_id_column",
        "client_secret_note",
        "client_type",
        "authorization_grant_type",
        "user",
        "scopes_detail",
        "rate_detail",
        "created",
        "updated",
    )

    class Media:
        css = {"all": ("iiniit_auth/admin.css",)}
        js = ("iiniit_auth/admin.js",)

    # -- permissions ----------------------------------------------------------------------

    def has_scopes_permission(self, request: HttpRequest) -> bool:
        """``iiniit_oauth.change_applicationpolicy``: may change what applications obtain."""
        return has_policy_perm(request, "change_applicationpolicy")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting would delete the application's tokens with no audit event: revoke instead.
        return False

    # -- list -----------------------------------------------------------------------------

    def secrets_in(self, words: list[str]) -> Collection[str]:
        """The words of the search that are stored OAuth tokens, left out of it."""
        return stored_tokens(words)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        live = (
            AccessToken._default_manager.filter(
                application=OuterRef("pk"), expires__gt=timezone.now()
            )
            .order_by()
            .values("application")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # One subquery per row of the page, in the list's own query: no query per row.
        queryset: QuerySet[Any] = super().get_queryset(request)
        annotated: QuerySet[Any] = queryset.annotate(
            live_tokens=Coalesce(Subquery(live, output_field=IntegerField()), 0)
        )
        return annotated

    @admin.display(description=_("client id"), ordering="client_id")
    def client_id_column(self, application: Any) -> SafeString:
        return format_html("<code>{}</code>", application.client_id)

    @admin.display(description=_("application"), ordering="name")
    def application_column(self, application: Any) -> SafeString:
        """The name, and the client id under it (cut short; whole in its tooltip)."""
        client_id = str(application.client_id)
        short = client_id if len(client_id) <= 20 else f"{client_id[:16]}…"
        return format_html(
            '{}<br><code class="iiniit-id" title="{}">{}</code>', application.name, client_id, short
        )

    @admin.display(description=_("client"), ordering="authorization_grant_type")
    def client_column(self, application: Any) -> SafeString:
        return format_html(
            '{}<br><span class="quiet">{}</span>',
            application.get_client_type_display(),
            application.get_authorization_grant_type_display(),
        )

    @admin.display(description=_("allowed scopes"))
    def scopes_column(self, application: Any) -> SafeString:
        policy = getattr(application, POLICY, None)
        known = scopes.registry()
        return scope_codes([s for s in (policy.scope_list if policy else []) if s in known])

    @admin.display(description=_("active tokens"), ordering="live_tokens")
    def active_tokens(self, application: Any) -> int:
        return int(getattr(application, "live_tokens", 0))

    # -- change page ----------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        scopes_field = "allowed_scopes" if self.has_scopes_permission(request) else "scopes_detail"
        rate_field = "rate" if self.has_scopes_permission(request) else "rate_detail"
        client = ["client_type", "authorization_grant_type"]
        if _redirects(obj):
            client.append("redirect_uris")
        return [
            (None, {"fields": ("name", "client_id_column", "client_secret_note", "user")}),
            (_("Client"), {"fields": client}),
            (_("Scopes"), {"fields": (scopes_field,)}),
            (_("Limits"), {"fields": (rate_field,)}),
            (_("Lifetime"), {"fields": ("created", "updated")}),
        ]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        fields = ["name", "redirect_uris"] if _redirects(obj) else ["name"]
        if self.has_scopes_permission(request):
            fields += ["allowed_scopes", "rate"]
        kwargs["fields"] = fields
        form = super().get_form(request, obj, change, **kwargs)
        if "allowed_scopes" not in fields:
            # Declared fields stay on a model form whatever ``fields`` says; this class is
            # made for this request by modelform_factory, so dropping them here is local.
            form.base_fields.pop("allowed_scopes", None)
            form.base_fields.pop("rate", None)
        elif obj is not None:
            form.base_fields["allowed_scopes"].initial = sorted(
                ApplicationPolicy.objects.allowed_scopes(obj)
            )
            form.base_fields["rate"].initial = ApplicationPolicy.objects.rate(obj)
        return form

    @admin.display(description=_("client secret"))
    def client_secret_note(self, application: Any) -> str:
        return str(
            _(
                "Shown once, when it was made; only its hash is stored. Lost? Rotate it to "
                "get a new one."
            )
        )

    @admin.display(description=_("allowed scopes"))
    def scopes_detail(self, application: Any) -> SafeString:
        return scope_codes(sorted(ApplicationPolicy.objects.allowed_scopes(application)))

    @admin.display(description=_("rate limit"))
    def rate_detail(self, application: Any) -> SafeString:
        return rate_html(ApplicationPolicy.objects.rate(application))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save name and redirect URIs (a ``changed`` event when either changed); the allowed
        scopes go through ``set_allowed_scopes`` and the rate limit through ``set_rate``.
        Admin's change view runs it in one transaction with the events."""
        super().save_model(request, obj, form, change)
        if change:
            record_application_changed(
                obj,
                {name: form.initial[name] for name in CHANGEABLE_FIELDS if name in form.initial},
                actor=request.user,
                ip=client_ip(request),
            )
        if "allowed_scopes" in form.cleaned_data:
            ApplicationPolicy.objects.set_allowed_scopes(
                obj, form.cleaned_data["allowed_scopes"], actor=request.user, ip=client_ip(request)
            )
        if "rate" in form.cleaned_data:
            ApplicationPolicy.objects.set_rate(
                obj, form.cleaned_data["rate"], actor=request.user, ip=client_ip(request)
            )

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
                events.context(
                    request,
                    self.admin_site,
                    CredentialEvent.Kind.OAUTH_APPLICATION,
                    application_credential_id(obj),
                    _("The audit log has every event of this application"),
                )
            )
        context.update(
            can_rotate_secret=obj is not None
            and self.has_rotate_permission(request)
            and owners.refusal(request.user, obj.user, self.for_others_permission) is None,
            can_revoke_tokens=obj is not None and self.has_revoke_tokens_permission(request),
        )
        return super().render_change_form(request, context, add, change, form_url, obj)


def _redirects(application: Any) -> bool:
    """Whether ``application`` sends users back to redirect URIs: not a client-credentials
    one, which never sees a user (RFC 6749 section 4.4)."""
    return application is None or (
        application.authorization_grant_type != Application.GRANT_CLIENT_CREDENTIALS
    )


@overview.section(Application)
def oauth_applications(admin_site: AdminSite, request: HttpRequest) -> overview.Section | None:
    """OAuth applications granted at least one scope, and those granted none. One query."""
    url = events.changelist_url(admin_site, request, Application)
    if url is None:
        return None
    counts = Application._default_manager.aggregate(
        granted=Count("pk", filter=granted_q()), none=Count("pk", filter=~granted_q())
    )
    return overview.Section(
        title=str(_("OAuth applications")),
        figures=[
            overview.Figure(
                str(_("Active (allowed at least one scope)")),
                counts["granted"],
                f"{url}?scopes={GRANTED}",
            ),
            overview.Figure(
                str(_("Allowed no scope")), counts["none"], f"{url}?scopes={NO_SCOPES}"
            ),
        ],
    )


@overview.section(AccessToken)
def oauth_tokens(admin_site: AdminSite, request: HttpRequest) -> overview.Section | None:
    """Access tokens that have not expired. One query."""
    url = events.changelist_url(admin_site, request, AccessToken)
    if url is None:
        return None
    counts = AccessToken._default_manager.aggregate(
        active=Count("pk", filter=Q(expires__gt=timezone.now()))
    )
    return overview.Section(
        title=str(_("OAuth access tokens")),
        figures=[overview.Figure(str(_("Active")), counts["active"], f"{url}?status={ACTIVE}")],
    )
