"""The applications the user authorized: their access tokens acting for the user, and revoking
one (with its refresh token) through :func:`iiniit_auth.oauth.tokens.revoke_token`, audited.

The portal's version of django-oauth-toolkit's ``/o/authorized_tokens/``: the same tokens
(the user's), the same door in the audit log (``via="authorized_tokens"``). Only where
:func:`~iiniit_auth.portal.pages.oauth_enabled`; another user's token id is a 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from iiniit_auth import scopes
from iiniit_auth.portal.pages import client_ip, done, oauth_enabled, page, portal_view, url


def _tokens(request: HttpRequest) -> Any:
    from oauth2_provider.models import get_access_token_model

    if not oauth_enabled():
        raise Http404(gettext("OAuth applications are not offered here."))
    return get_access_token_model()._default_manager.filter(user=request.user)


@portal_view
def list_view(request: HttpRequest) -> HttpResponse:
    """The access tokens that act for the user, newest first, with their application."""
    now = timezone.now()
    rows = [
        {
            "token": token,
            "scopes": scopes.describe(token.scope.split()),
            "live": token.expires > now,
        }
        for token in _tokens(request).select_related("application").order_by("-created")
    ]
    return page(request, "authorized.html", {"title": _("Authorized applications"), "rows": rows})


@portal_view
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then revoke the token (and its refresh token); back to the list."""
    from iiniit_auth.oauth.models import RevokedVia
    from iiniit_auth.oauth.tokens import revoke_token

    token = _tokens(request).select_related("application").filter(pk=pk).first()
    if token is None:
        raise Http404(gettext("You authorized no token with this id."))
    if request.method == "POST":
        revoke_token(token, actor=request.user, ip=client_ip(request), via=RevokedVia.USER)
        return done(
            request,
            gettext("Access of “%(name)s” revoked: its token no longer works.")
            % {"name": token.application.name if token.application else "?"},
            url("authorized"),
        )
    return page(
        request,
        "confirm.html",
        {
            "title": _("Revoke the access of “%(name)s”")
            % {"name": token.application.name if token.application else "?"},
            "token": token,
            "action": "revoke-authorized",
        },
    )
