"""Audit events as people read them: each credential named and linked, each detail in words.

The audit log stores identifiers (a key's public id, a client id, a token's primary key) and
details as JSON. Admin shows them as a person names them: ``iik_…`` for a key, the application's
name, "access token 12 of Billing service"; linked to the credential's page where the viewer may
see it. :class:`Names` looks up the credentials of a whole page of events at once (a query per
model, never one per row).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

from django.apps import apps
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.times import exact, moment_html

Kind = CredentialEvent.Kind
REFRESH_PREFIX: Final = "refresh:"

#: The words for the details the lifecycle writes, in the order they are shown.
LABELS: Final = {
    "action": _("action"),
    "reason": _("reason"),
    "name": _("name"),
    "owner": _("owner"),
    "user": _("user"),
    "application": _("application"),
    "scopes": _("scopes"),
    "successor": _("successor"),
    "grace_seconds": _("grace period"),
    "grant_type": _("grant"),
    "client_type": _("client type"),
    "expires": _("expires"),
    "via": _("through"),
    "refresh_token": _("refresh token"),
    "access_token": _("access token"),
    "previous_access_token": _("previous access token"),
    "before": _("before"),
    "after": _("after"),
    "may_introspect": _("may introspect"),
    "hashed": _("secret stored hashed"),
}
#: Detail values that are public ids of keys, shown with the key prefix.
KEY_IDS: Final = frozenset({"successor"})
#: How many of a credential's events its page lists (the audit log has them all).
EVENTS_SHOWN: Final = 50


def changelist_url(admin_site: AdminSite, request: HttpRequest, model: Any) -> str | None:
    """The list URL of ``model`` in ``admin_site`` where ``request.user`` may view it, else
    None (not registered there, or not theirs to view)."""
    if not admin_site.is_registered(model):
        return None
    if not admin_site.get_model_admin(model).has_view_permission(request):
        return None
    opts = model._meta
    try:
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=admin_site.name
        )
    except NoReverseMatch:
        return None


def visible_kinds(admin_site: AdminSite, request: HttpRequest) -> list[str]:
    """The credential kinds whose events ``request.user`` may read: those of the credential
    models they may view (API keys; OAuth applications; access or refresh tokens), and the
    log's own (``audit_log``: retention runs)."""
    kinds = []
    if changelist_url(admin_site, request, APIKey):
        kinds.append(Kind.API_KEY.value)
    for kind, models in _oauth_models().items():
        if any(changelist_url(admin_site, request, model) for model in models):
            kinds.append(kind)
    # The log's own events (a retention run) name no credential: every reader of the log sees
    # that it was pruned.
    kinds.append(Kind.AUDIT_LOG.value)
    return kinds


def _oauth_models() -> dict[str, list[Any]]:
    # django-oauth-toolkit is optional for the API-key core: imported only when installed.
    if not apps.is_installed("oauth2_provider"):
        return {}
    from oauth2_provider.models import (
        get_access_token_model,
        get_application_model,
        get_refresh_token_model,
    )

    return {
        Kind.OAUTH_APPLICATION.value: [get_application_model()],
        Kind.OAUTH_TOKEN.value: [get_access_token_model(), get_refresh_token_model()],
    }


def key_id(public_id: str) -> str:
    """A key's public id as people see it, with the key prefix: ``iik_AbCdEfGhIj``."""
    return f"{auth_settings().KEY_PREFIX}_{public_id}"


class Names:
    """The credentials of ``events``, named and linked for ``request.user``; a query per model."""

    def __init__(
        self, events: Iterable[CredentialEvent], admin_site: AdminSite, request: HttpRequest
    ) -> None:
        self.admin_site, self.request = admin_site, request
        events = list(events)
        self.key_list = changelist_url(admin_site, request, APIKey)
        self.applications: dict[str, Any] = {}
        self.tokens: dict[str, Any] = {}
        self.urls: dict[Any, str | None] = {}
        models = _oauth_models()
        if not models:
            return
        (application_model,) = models[Kind.OAUTH_APPLICATION]
        access_model, refresh_model = models[Kind.OAUTH_TOKEN]
        client_ids = {e.credential_id for e in events if e.kind == Kind.OAUTH_APPLICATION}
        client_ids |= {
            str(e.details["application"])
            for e in events
            if e.kind == Kind.OAUTH_TOKEN and e.details.get("application")
        }
        if client_ids:
            self.applications = {
                app.client_id: app
                for app in application_model._default_manager.filter(client_id__in=client_ids)
            }
        tokens = [e.credential_id for e in events if e.kind == Kind.OAUTH_TOKEN]
        access = [t for t in tokens if t.isdigit()]
        refresh = [t.removeprefix(REFRESH_PREFIX) for t in tokens if t.startswith(REFRESH_PREFIX)]
        for model, pks, prefix in ((access_model, access, ""), (refresh_model, refresh, "r")):
            if pks:
                rows = model._default_manager.filter(pk__in=[int(pk) for pk in pks])
                self.tokens.update({f"{prefix}{row.pk}": row for row in rows})
        for model in (application_model, access_model, refresh_model):
            self.urls[model] = changelist_url(admin_site, request, model)

    def credential(self, event: CredentialEvent) -> SafeString:
        """``event``'s credential, as a person names it, linked where they may see it."""
        if event.kind == Kind.API_KEY:
            return self._key(event.credential_id, event)
        if event.kind == Kind.OAUTH_APPLICATION:
            return self._application(event.credential_id)
        if event.kind == Kind.OAUTH_TOKEN:
            return self._token(event)
        return format_html("<code>{}</code>", event.credential_id)

    def _key(self, public_id: str, event: CredentialEvent | None = None) -> SafeString:
        if not public_id:
            # A refused attempt to issue one: there is no key, only whom it was for.
            owner = (event.details.get("owner") if event else None) or ""
            return format_html(
                '<span class="quiet">{}</span>',
                gettext("a new key for %(owner)s") % {"owner": owner},
            )
        if self.key_list is None:
            return format_html("<code>{}</code>", key_id(public_id))
        return format_html(
            '<a href="{}?q={}"><code>{}</code></a>', self.key_list, public_id, key_id(public_id)
        )

    def _link(self, model: Any, pk: Any, text: SafeString) -> SafeString:
        base = self.urls.get(model)
        if base is None:
            return text
        return format_html('<a href="{}{}/change/">{}</a>', base, pk, text)

    def _application(self, client_id: str) -> SafeString:
        if not client_id:
            return format_html('<span class="quiet">{}</span>', gettext("a new application"))
        app = self.applications.get(client_id)
        if app is None:
            # Deleted since, or never saved: the client id is all there is.
            return format_html("<code>{}</code>", _short(client_id))
        return self._link(type(app), app.pk, format_html("{}", app.name))

    def _token(self, event: CredentialEvent) -> SafeString:
        credential_id = event.credential_id
        is_refresh = credential_id.startswith(REFRESH_PREFIX)
        number = credential_id.removeprefix(REFRESH_PREFIX)
        label = (
            gettext("refresh token %(n)s") if is_refresh else gettext("access token %(n)s")
        ) % {"n": number}
        row = self.tokens.get(("r" if is_refresh else "") + number)
        client = event.details.get("application")
        app = self.applications.get(str(client)) if client else None
        of = (
            format_html(' <span class="quiet">{}</span>', gettext("of %(app)s") % {"app": app.name})
            if app
            else ""
        )
        if row is None:
            return format_html("{}{}", label, of)
        return format_html("{}{}", self._link(type(row), row.pk, format_html("{}", label)), of)


def _short(client_id: str) -> str:
    """A long client id cut to what tells it apart in a list (the whole in the page's title)."""
    return client_id if len(client_id) <= 16 else f"{client_id[:12]}…"


def actor(event: CredentialEvent) -> SafeString:
    """Who acted: their username, "a client" for a refused use, "system" for code and commands."""
    if event.actor_name:
        return format_html("{}", event.actor_name)
    if event.event == CredentialEvent.Event.REFUSED:
        return format_html('<span class="quiet">{}</span>', gettext("a client"))
    return format_html(
        '<span class="quiet" title="{}">{}</span>',
        gettext("The command line or the project's own code"),
        gettext("system"),
    )


def details(event: CredentialEvent) -> SafeString:
    """``event``'s details in words: "Reason: leaked · Scopes: orders:read, reports:read"."""
    items = sorted(
        event.details.items(),
        key=lambda item: (
            list(LABELS).index(item[0]) if item[0] in LABELS else len(LABELS),
            item[0],
        ),
    )
    return format_html_join(
        " · ",
        '<span class="iiniit-detail">{}: {}</span>',
        (
            (str(LABELS.get(name, name.replace("_", " "))).capitalize(), _value(name, value))
            for name, value in items
        ),
    )


def _value(name: str, value: Any) -> str:
    if value is None or value == []:
        return gettext("none")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if name == "grace_seconds" and isinstance(value, int):
        if not value:
            return gettext("none")
        now = timezone.now()
        return timesince(now - timedelta(seconds=value), now, depth=2)
    if name == "application" and isinstance(value, str):
        return _short(value)
    if name in KEY_IDS and isinstance(value, str):
        return key_id(value)
    if name == "expires" and isinstance(value, str):
        try:
            return exact(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict) and set(value) == {"before", "after"}:
        return f"“{value['before']}” → “{value['after']}”"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def context(
    request: HttpRequest, admin_site: AdminSite, kind: str, credential_id: str, more: Any
) -> dict[str, Any]:
    """The template context of a credential page's audit section (``events.html``): its latest
    events, and a link to all of them in the audit log (saying ``more``) where the viewer may
    read it."""
    rows = list(
        CredentialEvent.objects.filter(kind=kind, credential_id=credential_id)[:EVENTS_SHOWN]
    )
    audit_log = changelist_url(admin_site, request, CredentialEvent)
    return {
        "events": [
            (event, moment_html(event.at, ""), actor(event), details(event)) for event in rows
        ],
        "events_shown": EVENTS_SHOWN,
        "events_more": more,
        "audit_url": f"{audit_log}?q={credential_id}" if audit_log else None,
    }
