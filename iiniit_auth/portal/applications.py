"""The portal's OAuth application pages: list, register (secret shown once), details,
rotate the secret (shown once), revoke every token, delete.

Only where :func:`~iiniit_auth.portal.pages.oauth_enabled`: elsewhere each page is a 404.
django-oauth-toolkit and the OAuth lifecycle functions are imported inside the views, so the
portal imports nothing of OAuth in a project that runs API keys alone. Only applications the
user registered are found; any other id is a 404. Every write is a lifecycle function
(``register_application``, ``rotate_client_secret``, ``revoke_application_tokens``,
``delete_application``) with the user as actor and their address.
"""

from __future__ import annotations

from typing import Any, Final

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth import once, scopes
from iiniit_auth.portal import policy
from iiniit_auth.portal.application_forms import ApplicationForm
from iiniit_auth.portal.pages import (
    client_ip,
    done,
    oauth_enabled,
    page,
    portal_view,
    refused,
    scrubbed,
    url,
)
from iiniit_auth.portal.sudo import sudo_required

#: The purpose of the register form's one-time tokens (rotating: ``portal-rotate-secret:<pk>``).
REGISTER: Final = "portal-register"


def _oauth_or_404() -> None:
    if not oauth_enabled():
        raise Http404(gettext("OAuth applications are not offered here."))


def _own_application(request: HttpRequest, pk: int) -> Any:
    """The signed-in user's application ``pk``; Http404 for any other."""
    from oauth2_provider.models import get_application_model

    found = get_application_model()._default_manager.filter(pk=pk, user=request.user).first()
    if found is None:
        raise Http404(gettext("You have no OAuth application with this id."))
    return found


def _allowed_scopes(application: Any) -> list[tuple[str, str]]:
    from iiniit_auth.oauth.models import ApplicationPolicy

    return scopes.describe(sorted(ApplicationPolicy.objects.allowed_scopes(application)))


def _endpoint(name: str, request: HttpRequest) -> str | None:
    try:
        return request.build_absolute_uri(reverse(f"oauth2_provider:{name}"))
    except NoReverseMatch:
        return None


def _already_done(request: HttpRequest) -> HttpResponse:
    return refused(
        request,
        gettext(
            "This form was already submitted, so nothing was done again. Its client secret is "
            "never shown a second time."
        ),
        url("applications"),
    )


@sensitive_variables("secret")
def show_secret(
    request: HttpRequest, application: Any, secret: str, *, rotated: bool = False
) -> HttpResponse:
    """The one response that carries the client ``secret`` (never cached: :func:`portal_view`)."""
    return page(
        request,
        "show_secret.html",
        {
            "title": _("Copy your client secret"),
            "application": application,
            "secret": secret,
            "rotated": rotated,
            "public": application.client_type == application.CLIENT_PUBLIC,
            "token_url": _endpoint("token", request),
            "authorize_url": _endpoint("authorize", request),
        },
    )


@portal_view
def list_view(request: HttpRequest) -> HttpResponse:
    """The applications the user registered."""
    from oauth2_provider.models import get_application_model

    _oauth_or_404()
    found = get_application_model()._default_manager.filter(user=request.user).order_by("-pk")
    rows = [{"application": app, "scopes": _allowed_scopes(app)} for app in found]
    return page(request, "applications.html", {"title": _("OAuth applications"), "rows": rows})


@portal_view
@sudo_required
@sensitive_variables("secret")
def register_view(request: HttpRequest) -> HttpResponse:
    """The register form; on success, the show-once page of the client secret."""
    from iiniit_auth.oauth.applications import register_application

    _oauth_or_404()
    grantable = policy.grantable_scopes(request.user)
    if request.method != "POST":
        initial = {"once": once.new_token(request, REGISTER)}
        form = ApplicationForm(initial=initial, grantable=grantable)
    else:
        form = ApplicationForm(request.POST, grantable=grantable)
        token = request.POST.get("once", "")
        state = once.state(request, token, REGISTER)
        if state.used_for is not None:
            return _already_done(request)
        valid = form.is_valid()
        if not state.fresh:
            form.add_error(None, _("This form has expired. Check it and send it again."))
            data = scrubbed(request.POST)
            data["once"] = once.new_token(request, REGISTER)
            form.data = data
        elif valid:
            try:
                application, secret = register_application(
                    **form.register_arguments(),
                    user=request.user,
                    actor=request.user,
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                once.consume(request, token, application.pk)
                return show_secret(request, application, secret)
        form.data = scrubbed(form.data)
    return page(
        request,
        "application_form.html",
        {"title": _("Register an OAuth application"), "form": form, "grantable": grantable},
    )


@portal_view
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One application: its client id, redirect URIs, scopes, live tokens, and what to do."""
    from oauth2_provider.models import get_access_token_model

    _oauth_or_404()
    application = _own_application(request, pk)
    live = (
        get_access_token_model()
        ._default_manager.filter(application=application, expires__gt=timezone.now())
        .count()
    )
    return page(
        request,
        "application.html",
        {
            "title": application.name,
            "application": application,
            "scopes": _allowed_scopes(application),
            "live_tokens": live,
            "public": application.client_type == application.CLIENT_PUBLIC,
            "token_url": _endpoint("token", request),
            "authorize_url": _endpoint("authorize", request),
        },
    )


@portal_view
@sudo_required
@sensitive_variables("secret")
def rotate_secret_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then give the application a new client secret and show it once."""
    from iiniit_auth.oauth.applications import rotate_client_secret

    _oauth_or_404()
    application = _own_application(request, pk)
    purpose = f"portal-rotate-secret:{application.pk}"
    expired = False
    if request.method == "POST":
        token = request.POST.get("once", "")
        state = once.state(request, token, purpose)
        if state.used_for is not None:
            return _already_done(request)
        if state.fresh:
            secret = rotate_client_secret(application, actor=request.user, ip=client_ip(request))
            once.consume(request, token, application.pk)
            return show_secret(request, application, secret, rotated=True)
        expired = True
    return page(
        request,
        "confirm.html",
        {
            "title": _("Rotate the client secret of “%(name)s”") % {"name": application.name},
            "application": application,
            "action": "rotate-secret",
            "once": once.new_token(request, purpose),
            "expired": expired,
        },
    )


@portal_view
def revoke_tokens_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then revoke every live token of the application; back to its page."""
    from iiniit_auth.oauth.models import RevokedVia
    from iiniit_auth.oauth.tokens import revoke_application_tokens

    _oauth_or_404()
    application = _own_application(request, pk)
    if request.method == "POST":
        count = revoke_application_tokens(
            application, actor=request.user, ip=client_ip(request), via=RevokedVia.USER
        )
        text = ngettext("Revoked %(n)d token.", "Revoked %(n)d tokens.", count) % {"n": count}
        return done(request, text, url("application", application.pk))
    return page(
        request,
        "confirm.html",
        {
            "title": _("Revoke every token of “%(name)s”") % {"name": application.name},
            "application": application,
            "action": "revoke-tokens",
        },
    )


@portal_view
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then revoke every token of the application and delete it; back to the list."""
    from iiniit_auth.oauth.applications import delete_application
    from iiniit_auth.oauth.models import RevokedVia

    _oauth_or_404()
    application = _own_application(request, pk)
    if request.method == "POST":
        name = application.name
        try:
            delete_application(
                application, actor=request.user, ip=client_ip(request), via=RevokedVia.USER
            )
        except ValidationError:
            raise Http404(gettext("You have no OAuth application with this id.")) from None
        return done(
            request,
            gettext("The application “%(name)s” was deleted; its tokens no longer work.")
            % {"name": name},
            url("applications"),
        )
    return page(
        request,
        "confirm.html",
        {
            "title": _("Delete “%(name)s”") % {"name": application.name},
            "application": application,
            "action": "delete",
        },
    )
