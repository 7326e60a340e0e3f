"""The OAuth application screens beyond Django's: register, rotate the secret, revoke tokens.

Registering and rotating answer with the one page that shows a client secret
(:func:`show_once`), sent with ``Cache-Control: no-store``; their forms carry a one-time token
(:mod:`iiniit_auth.admin.once`), so a reload or a second submission shows no secret and makes
nothing. Every write goes through a lifecycle function.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth.admin import once, owners
from iiniit_auth.admin.oauth_forms import ConfirmForm, RegisterForm
from iiniit_auth.admin.pages import already_done, change_url, client_ip, get_or_404, page_context
from iiniit_auth.models import CredentialEvent
from iiniit_auth.models.oauth import (
    AnyApplication,
    RevokedVia,
    application_credential_id,
    register_application,
    rotate_client_secret,
)
from iiniit_auth.oauth.tokens import revoke_application_tokens

if TYPE_CHECKING:
    from iiniit_auth.admin.oauth import ApplicationAdmin

#: The purpose of the add form's one-time tokens (a rotate form's is ``rotate-secret:<pk>``).
REGISTER: Final = "register-application"
TEMPLATES: Final = "admin/iiniit_auth/application"
KIND: Final = CredentialEvent.Kind.OAUTH_APPLICATION


def _get(model_admin: ApplicationAdmin, request: HttpRequest, object_id: str) -> AnyApplication:
    return get_or_404(
        model_admin, request, object_id, gettext("No OAuth application with this id.")
    )


def _already_done(model_admin: ApplicationAdmin, request: HttpRequest, pk: str) -> HttpResponse:
    """A form sent again after it showed a secret: go to the application, which shows none."""
    return already_done(
        model_admin,
        request,
        pk,
        _(
            "This form was already submitted, so nothing was done again. Its client secret is "
            "never shown a second time."
        ),
    )


def _expired(form: RegisterForm | ConfirmForm, request: HttpRequest, purpose: str) -> None:
    form.add_error(None, _("This form has expired. Check it and send it again."))
    data = request.POST.copy()
    data["once"] = once.new_token(request, purpose)
    form.data = data


def _token_url(request: HttpRequest) -> str | None:
    """The token endpoint's absolute URL, or None where the project did not route it."""
    try:
        return request.build_absolute_uri(reverse("oauth2_provider:token"))
    except NoReverseMatch:
        return None


@sensitive_variables("secret")
def show_once(
    model_admin: ApplicationAdmin,
    request: HttpRequest,
    application: AnyApplication,
    secret: str,
    *,
    rotated: bool = False,
) -> HttpResponse:
    """The one response that carries the client ``secret``. Not cached, by anyone."""
    context = page_context(
        model_admin,
        request,
        title=_("Copy the client secret"),
        application=application,
        secret=secret,
        rotated=rotated,
        token_url=_token_url(request),
        change_url=change_url(model_admin, application.pk),
    )
    response = render(request, f"{TEMPLATES}/show_once.html", context)
    add_never_cache_headers(response)  # Cache-Control: ... no-store ...
    return response


@sensitive_variables("secret")
def register_view(model_admin: ApplicationAdmin, request: HttpRequest) -> HttpResponse:
    """The add form; on success, the show-once page. Needs the ``add_application`` permission."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    make_form = partial(
        RegisterForm, admin_site=model_admin.admin_site, acting=model_admin.acting(request)
    )
    if request.method != "POST":
        form = make_form(initial={"once": once.new_token(request, REGISTER)})
    else:
        form = make_form(request.POST)
        token = request.POST.get("once", "")
        state = once.state(request, token, REGISTER)
        if state.used_for is not None:
            return _already_done(model_admin, request, state.used_for)
        valid = form.is_valid()
        if form.denied is not None:
            owner, reason = form.denied
            owners.record_denied(
                request, kind=KIND, credential_id="", action="register", owner=owner, reason=reason
            )
        if not state.fresh:
            _expired(form, request, REGISTER)
        elif valid:
            try:
                application, secret = register_application(
                    **form.register_arguments(), actor=request.user, ip=client_ip(request)
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                once.consume(request, token, application.pk)
                model_admin.log_addition(request, application, [{"added": {}}])
                return show_once(model_admin, request, application, secret)
    fieldsets = [
        (None, {"fields": ["name", "user"]}),
        (
            _("Client"),
            {"fields": ["client_type", "authorization_grant_type", "redirect_uris"]},
        ),
        (_("Scopes"), {"fields": ["allowed_scopes"]}),
    ]
    context = page_context(
        model_admin,
        request,
        title=_("Register an OAuth application"),
        form=form,
        # AdminForm lays out any form; django-stubs types it for model forms only.
        adminform=helpers.AdminForm(form, fieldsets, {}, model_admin=model_admin),  # type: ignore[arg-type]
        media=model_admin.media + form.media,
        errors=form.errors,
    )
    return render(request, f"{TEMPLATES}/register.html", context)


@sensitive_variables("secret")
def rotate_secret_view(
    model_admin: ApplicationAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """Confirm, then rotate the client secret and show the new one once.

    Needs ``iiniit_auth.rotate_client_secret``.
    """
    if not (
        model_admin.has_rotate_permission(request) and model_admin.has_view_permission(request)
    ):
        raise PermissionDenied
    application = _get(model_admin, request, object_id)
    purpose = f"rotate-secret:{application.pk}"
    refused = owners.refusal(request.user, application.user, model_admin.for_others_permission)
    if request.method != "POST":
        if refused is not None:
            messages.warning(request, refused)
            return HttpResponseRedirect(change_url(model_admin, application.pk))
        form = ConfirmForm(initial={"once": once.new_token(request, purpose)})
    else:
        form = ConfirmForm(request.POST)
        token = request.POST.get("once", "")
        state = once.state(request, token, purpose)
        if state.used_for is not None:
            return _already_done(model_admin, request, state.used_for)
        if not state.fresh or not form.is_valid():
            _expired(form, request, purpose)
        elif refused is not None:
            form.add_error(None, refused)
            owners.record_denied(
                request,
                kind=KIND,
                credential_id=application_credential_id(application),
                action="rotate_secret",
                owner=application.user,
                reason=refused,
            )
        else:
            secret = rotate_client_secret(application, actor=request.user, ip=client_ip(request))
            once.consume(request, token, application.pk)
            model_admin.log_change(request, application, gettext("Rotated the client secret."))
            return show_once(model_admin, request, application, secret, rotated=True)
    context = page_context(
        model_admin,
        request,
        title=_("Rotate the client secret of “%(name)s”") % {"name": application.name},
        original=application,
        form=form,
        errors=form.errors,
    )
    return render(request, f"{TEMPLATES}/rotate_secret.html", context)


def revoke_tokens_view(
    model_admin: ApplicationAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """Confirm, then revoke every live token of the application; back to its page.

    Needs ``iiniit_auth.revoke_application_tokens``.
    """
    if not (
        model_admin.has_revoke_tokens_permission(request)
        and model_admin.has_view_permission(request)
    ):
        raise PermissionDenied
    application = _get(model_admin, request, object_id)
    if request.method == "POST":
        count = revoke_application_tokens(
            application, actor=request.user, ip=client_ip(request), via=RevokedVia.ADMIN
        )
        text = ngettext("Revoked %(n)d token.", "Revoked %(n)d tokens.", count) % {"n": count}
        model_admin.log_change(request, application, text)
        messages.success(request, text)
        return HttpResponseRedirect(change_url(model_admin, application.pk))
    context = page_context(
        model_admin,
        request,
        title=_("Revoke every token of “%(name)s”") % {"name": application.name},
        original=application,
    )
    return render(request, f"{TEMPLATES}/revoke_tokens.html", context)
