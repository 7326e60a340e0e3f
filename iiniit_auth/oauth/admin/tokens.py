"""django-oauth-toolkit's access and refresh tokens in Django admin: read-only, revocable.

Lists with application, user, scopes, expiry and status, and a bulk "revoke" action through
:func:`iiniit_auth.oauth.tokens.revoke_token`, allowed to whoever may delete the token model
(revoking is what deleting means there). No add, no change, no delete; the token value and
its checksum are never shown, nor searched: a token pasted into the search box, like a whole
API key, is left out before the list is shown (:func:`stored_tokens`). Registered by
:mod:`iiniit_auth.oauth.admin.applications`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from iiniit_auth.admin.filters import ListRedirects
from iiniit_auth.admin.pages import ReadOnly, StyledForbidden, client_ip
from iiniit_auth.oauth.models import RevokedVia
from iiniit_auth.oauth.tokens import revoke_token
from iiniit_auth.times import moment_html

if TYPE_CHECKING:  # ModelAdmin is generic only in django-stubs
    ModelAdmin = admin.ModelAdmin[Any]
else:
    ModelAdmin = admin.ModelAdmin

ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"


def scope_codes(names: list[str]) -> SafeString:
    """Scopes as code chips; "none" when there are none."""
    if not names:
        return format_html('<span class="quiet">{}</span>', _("none"))
    return format_html_join(" ", '<code class="iiniit-scope">{}</code>', ((s,) for s in names))


def stored_tokens(words: Iterable[str]) -> set[str]:
    """Return the ``words`` that are the value of a stored access or refresh token. Two queries.

    Tokens have no shape to tell them by, so each word is looked up by its SHA-256 checksum, the
    way django-oauth-toolkit finds a token it is sent.
    """
    checksums = {hashlib.sha256(word.encode()).hexdigest(): word for word in words}
    found: set[str] = set()
    for model in (get_access_token_model(), get_refresh_token_model()):
        rows = model._default_manager.filter(token_checksum__in=checksums)
        found.update(rows.values_list("token_checksum", flat=True))
    return {checksums[checksum] for checksum in found}


def badge(status: str, label: Any) -> SafeString:
    """A coloured status badge, styled as the API keys' badges."""
    return format_html('<span class="iiniit-badge iiniit-badge--{}">{}</span>', status, label)


class AccessStatusFilter(admin.SimpleListFilter):
    """Access tokens that still authorize requests, or expired ones."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(ACTIVE, _("Active")), (EXPIRED, _("Expired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() == ACTIVE:
            return queryset.filter(expires__gt=timezone.now())
        if self.value() == EXPIRED:
            return queryset.filter(expires__lte=timezone.now())
        return None


class RefreshStatusFilter(admin.SimpleListFilter):
    """Refresh tokens that can still be used, or revoked ones."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(ACTIVE, _("Active")), (REVOKED, _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() == ACTIVE:
            return queryset.filter(revoked__isnull=True)
        if self.value() == REVOKED:
            return queryset.filter(revoked__isnull=False)
        return None


class Numbered:
    """A ``ModelAdmin`` mixin: the row's number, as the audit log names it ("access token 12"),
    under a header people read rather than "PK"."""

    @admin.display(description=_("number"), ordering="pk")
    def number_column(self, row: Any) -> str:
        return f"#{row.pk}"

    @admin.display(description=_("expires"), ordering="expires")
    def expires_column(self, row: Any) -> SafeString:
        return moment_html(row.expires, "")

    @admin.display(description=_("created"), ordering="created")
    def created_column(self, row: Any) -> SafeString:
        return moment_html(row.created, "")


class TokenAdmin(StyledForbidden, Numbered, ReadOnly, ListRedirects, ModelAdmin):
    """A read-only token list with a "revoke" action. Never shows the token or its checksum.

    No delete screen: Django's delete would skip the audit log; the "revoke" action replaces it.
    """

    list_select_related = ("application", "user")
    search_fields = ("application__name", "application__client_id", "user__username")
    search_help_text = _("Application name or client id, or the user's username.")
    actions = ("revoke_selected",)
    list_per_page = 100

    class Media:
        css = {"all": ("iiniit_auth/admin.css",)}
        # Cuts a whole API key pasted into the search box down to its public id in the browser,
        # before the search's address (and so the server's logs) holds it.
        js = ("iiniit_auth/admin.js",)

    def secrets_in(self, words: list[str]) -> Collection[str]:
        """The words of the search that are stored OAuth tokens, left out of it."""
        return stored_tokens(words)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """The model's ``delete`` permission: revoking is how a token is deleted."""
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    @admin.display(description=_("scopes"))
    def scopes_column(self, token: Any) -> SafeString:
        return scope_codes(token.scope.split())

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Revoke each token through ``revoke_token`` (its bound token with it)."""
        done = sum(
            revoke_token(token, actor=request.user, ip=client_ip(request), via=RevokedVia.ADMIN)
            for token in queryset.select_related("application", "user")
        )
        self.message_user(
            request,
            ngettext("Revoked %(n)d token.", "Revoked %(n)d tokens.", done) % {"n": done},
            messages.SUCCESS,
        )


class AccessTokenAdmin(TokenAdmin):
    """Access tokens: application, user, scopes, expiry, active or expired."""

    list_display = (
        "number_column",
        "application",
        "user",
        "scopes_column",
        "expires_column",
        "status_column",
    )
    list_filter = (AccessStatusFilter, ("application", admin.RelatedOnlyFieldListFilter))
    fields = ("application", "user", "scopes_column", "expires", "created", "updated")
    readonly_fields = fields

    @admin.display(description=_("status"))
    def status_column(self, token: Any) -> SafeString:
        if token.expires > timezone.now():
            return badge("active", _("active"))
        return badge("expired", _("expired"))


class RefreshTokenAdmin(TokenAdmin):
    """Refresh tokens: application, user, scopes (of their access token), active or revoked."""

    list_display = ("number_column", "application", "user", "created_column", "status_column")
    list_filter = (RefreshStatusFilter, ("application", admin.RelatedOnlyFieldListFilter))
    fields = ("application", "user", "created", "updated", "revoked")
    readonly_fields = fields

    @admin.display(description=_("status"))
    def status_column(self, token: Any) -> SafeString:
        if token.revoked is not None:
            return badge("revoked", _("revoked"))
        return badge("active", _("active"))


class ReadOnlyGrantAdmin(StyledForbidden, Numbered, ReadOnly, ListRedirects, ModelAdmin):
    """Authorization codes and ID tokens: read-only, and never their value.

    django-oauth-toolkit's own admins let staff with the change permission edit a pending code
    (its user, scopes and expiry) and delete codes, with nothing in the audit log: a code moved
    to another user is redeemed as that user. A code lives a minute and is used once; an ID
    token is issued only by OpenID Connect, which is not offered. Neither needs an edit screen.
    """

    list_display = ("number_column", "application", "user", "expires_column")
    list_select_related = ("application", "user")
    list_filter = (("application", admin.RelatedOnlyFieldListFilter),)
    fields = ("application", "user", "expires")
    readonly_fields = fields
    actions = None
