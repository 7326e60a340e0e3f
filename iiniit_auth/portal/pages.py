"""What every portal page shares: who may see it, how it is sent, how it is rendered.

Every view is wrapped in :func:`portal_view`: a signed-in, active user (else the project's
``LOGIN_URL``), CSRF checked on every POST whatever the project's middleware, never cached
(``Cache-Control: no-store``: the pages list credentials, and some show a secret once) and
never framed (a framed page could be clicked into revoking or rotating).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import user_passes_test
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_protect

from iiniit_auth.conf import auth_settings
from iiniit_auth.models.audit import contains_key

#: The URL namespace of the portal (``reverse("iiniit_portal:keys")``).
NAMESPACE = "iiniit_portal"

View = Callable[..., HttpResponse]
#: The portal's parts, as its URL names begin.
SECTIONS = ("application", "authorized", "key")


def _signed_in_and_active(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active)


def portal_view(view: View) -> View:
    """``view`` for a signed-in, active user only, CSRF-checked, never cached, never framed."""
    wrapped = xframe_options_deny(never_cache(csrf_protect(view)))
    return user_passes_test(_signed_in_and_active)(wrapped)


def user_of(request: HttpRequest) -> Any:
    """The signed-in user (:func:`portal_view` lets no one else in), of the project's model."""
    return request.user


def url(name: str, *args: Any) -> str:
    """The portal's URL named ``name``."""
    return reverse(f"{NAMESPACE}:{name}", args=args)


def client_ip(request: HttpRequest) -> str | None:
    """The address the audit log records for the signed-in user's action."""
    return request.META.get("REMOTE_ADDR") or None


def oauth_enabled() -> bool:
    """Whether the portal offers OAuth applications: the OAuth 2.0 server's app
    (``iiniit_auth.oauth``) is installed and routed (``iiniit_auth.oauth.urls``)."""
    if not apps.is_installed("iiniit_auth.oauth"):
        return False
    try:
        reverse("oauth2_provider:token")
    except NoReverseMatch:
        return False
    return True


def page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """Render the portal page ``template`` (under ``iiniit_auth/portal/``) with ``context``."""
    name = request.resolver_match.url_name if request.resolver_match else ""
    context = {
        "portal_base": auth_settings().PORTAL_BASE_TEMPLATE,
        "oauth_enabled": oauth_enabled(),
        # Which part of the navigation the page belongs to.
        "section": next((part for part in SECTIONS if (name or "").startswith(part)), ""),
        **context,
    }
    return render(request, f"iiniit_auth/portal/{template}", context, status=status)


def done(request: HttpRequest, message: str, to: str) -> HttpResponseRedirect:
    """Say ``message`` on the next page, and go to ``to`` (the answer to a change made)."""
    messages.success(request, message, fail_silently=True)
    return HttpResponseRedirect(to)


def refused(request: HttpRequest, message: str, to: str) -> HttpResponseRedirect:
    """Say why nothing was done, and go to ``to``."""
    messages.warning(request, message, fail_silently=True)
    return HttpResponseRedirect(to)


def scrubbed(data: Mapping[str, Any]) -> QueryDict:
    """``data`` (a form's) with every value that holds something shaped like a key emptied.

    A form shown again with its errors repeats what was typed; a key pasted into the wrong
    field must not come back on a page (the one page that shows a key is the one that made it).
    """
    if not isinstance(data, QueryDict):
        raise TypeError("A bound form's data is a QueryDict.")
    clean = data.copy()
    for name, values in data.lists():
        if any(contains_key(value) for value in values):
            clean.setlist(name, [])
    return clean
