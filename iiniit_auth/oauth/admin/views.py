"""The OAuth application screens beyond Django's: register, rotate the secret, revoke tokens.

Registering and rotating answer with the one page that shows a client secret
(:func:`show_once`), sent with ``Cache-Control: no-store``; their forms carry a one-time token
(:mod:`iiniit_auth.once`), so a reload or a second submission shows no secret and makes
nothing. Every write goes through a lifecycle function.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth import once
from iiniit_auth.admin import owners
from iiniit_auth.admin.pages import (
    already_done,
    change_url,
    client_ip,
    get_or_404,
    page_context,
    show_once,
    styled_forbidden,
)
from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.admin.forms import ConfirmForm, RegisterForm
from iiniit_auth.oauth.applications import register_application, rotate_client_secret
from iiniit_auth.oauth.models import (
    AnyApplication,
    ApplicationPolicy,
    RevokedVia,
    application_credential_id,
)
from iiniit_auth.oauth.tokens import revoke_application_tokens

#: The purpose of the add form's one-time tokens (a rotate form's is ``rotate-secret:<pk>``).
REGISTER: Final = "register-application"
TEMPLATES: Final = "admin/iiniit_auth/application"
KIND: Final = CredentialEvent.Kind.OAUTH_APPLICATION


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


def has_policy_perm(request: HttpRequest, codename: str) -> bool:
    """Whether ``request.user`` holds iiniit_auth's OAuth permission ``codename``."""
    return request.user.has_perm(f"{ApplicationPolicy._meta.app_label}.{codename}")


class ApplicationScreens(owners.MakesCredentials):
    """The screens of :class:`~iiniit_auth.oauth.admin.applications.ApplicationAdmin` beyond Django's own:
    register (the add view), show the client secret once, rotate it, revoke every token; their
    permissions and their URLs."""

    # -- permissions ----------------------------------------------------------------------

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        """``iiniit_oauth.rotate_client_secret``: may rotate (and so see a new secret once)."""
        return has_policy_perm(request, "rotate_client_secret")

    def has_revoke_tokens_permission(self, request: HttpRequest) -> bool:
        """``iiniit_oauth.revoke_application_tokens``: may revoke every token of one."""
        return has_policy_perm(request, "revoke_application_tokens")

    @property
    def for_others_permission(self) -> str:
        """``iiniit_oauth.register_for_others``: may register applications for other users and
        rotate their secrets, within the rule of :mod:`iiniit_auth.admin.owners`."""
        return f"{ApplicationPolicy._meta.app_label}.register_for_others"

    def get_urls(self) -> list[URLPattern]:
        return self.screen_urls(
            ("<path:object_id>/rotate-secret/", self.rotate_secret_view, "rotate_secret"),
            ("<path:object_id>/revoke-tokens/", self.revoke_tokens_view, "revoke_tokens"),
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Register through ``register_application``; the answer shows the secret once."""
        return styled_forbidden(self, self.register_view)(request)

    # -- the screens ----------------------------------------------------------------------

    def _get(self, request: HttpRequest, object_id: str) -> AnyApplication:
        return get_or_404(self, request, object_id, gettext("No OAuth application with this id."))

    def _already_done(self, request: HttpRequest, pk: str) -> HttpResponse:
        """A form sent again after it showed a secret: go to the application, which shows none."""
        return already_done(
            self,
            request,
            pk,
            _(
                "This form was already submitted, so nothing was done again. Its client secret is "
                "never shown a second time."
            ),
        )

    @sensitive_variables("secret")
    def show_secret_once(
        self,
        request: HttpRequest,
        application: AnyApplication,
        secret: str,
        *,
        rotated: bool = False,
    ) -> HttpResponse:
        """The one response that carries the client ``secret`` (:func:`pages.show_once`)."""
        return show_once(
            self,
            request,
            f"{TEMPLATES}/show_once.html",
            title=_("Copy the client secret"),
            application=application,
            secret=secret,
            rotated=rotated,
            token_url=_token_url(request),
            change_url=change_url(self, application.pk),
        )

    @sensitive_variables("secret")
    def register_view(self, request: HttpRequest) -> HttpResponse:
        """The add form; on success, the show-once page. Needs the ``add_application`` permission."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        make_form = partial(RegisterForm, admin_site=self.admin_site, acting=self.acting(request))
        if request.method != "POST":
            form = make_form(initial={"once": once.new_token(request, REGISTER)})
        else:
            form = make_form(request.POST)
            token = request.POST.get("once", "")
            state = once.state(request, token, REGISTER)
            if state.used_for is not None:
                return self._already_done(request, state.used_for)
            valid = form.is_valid()
            if form.denied is not None:
                owner, reason = form.denied
                owners.record_denied(
                    request,
                    kind=KIND,
                    credential_id="",
                    action="register",
                    owner=owner,
                    reason=reason,
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
                    self.log_addition(request, application, [{"added": {}}])
                    return self.show_secret_once(request, application, secret)
        fieldsets = [
            (None, {"fields": ["name", "user"]}),
            (
                _("Client"),
                {"fields": ["client_type", "authorization_grant_type", "redirect_uris"]},
            ),
            (_("Scopes"), {"fields": ["allowed_scopes"]}),
        ]
        context = page_context(
            self,
            request,
            title=_("Register an OAuth application"),
            form=form,
            # AdminForm lays out any form; django-stubs types it for model forms only.
            adminform=helpers.AdminForm(form, fieldsets, {}, model_admin=self),  # type: ignore[arg-type]
            media=self.media + form.media,
            errors=form.errors,
        )
        return render(request, f"{TEMPLATES}/register.html", context)

    @sensitive_variables("secret")
    def rotate_secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm, then rotate the client secret and show the new one once.

        Needs ``iiniit_oauth.rotate_client_secret``.
        """
        if not (self.has_rotate_permission(request) and self.has_view_permission(request)):
            raise PermissionDenied
        application = self._get(request, object_id)
        purpose = f"rotate-secret:{application.pk}"
        refused = owners.refusal(request.user, application.user, self.for_others_permission)
        if request.method != "POST":
            if refused is not None:
                messages.warning(request, refused)
                return HttpResponseRedirect(change_url(self, application.pk))
            form = ConfirmForm(initial={"once": once.new_token(request, purpose)})
        else:
            form = ConfirmForm(request.POST)
            token = request.POST.get("once", "")
            state = once.state(request, token, purpose)
            if state.used_for is not None:
                return self._already_done(request, state.used_for)
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
                secret = rotate_client_secret(
                    application, actor=request.user, ip=client_ip(request)
                )
                once.consume(request, token, application.pk)
                self.log_change(request, application, gettext("Rotated the client secret."))
                return self.show_secret_once(request, application, secret, rotated=True)
        context = page_context(
            self,
            request,
            title=_("Rotate the client secret of “%(name)s”") % {"name": application.name},
            original=application,
            form=form,
            errors=form.errors,
        )
        return render(request, f"{TEMPLATES}/rotate_secret.html", context)

    def revoke_tokens_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm, then revoke every live token of the application; back to its page.

        Needs ``iiniit_oauth.revoke_application_tokens``.
        """
        if not (self.has_revoke_tokens_permission(request) and self.has_view_permission(request)):
            raise PermissionDenied
        application = self._get(request, object_id)
        if request.method == "POST":
            count = revoke_application_tokens(
                application, actor=request.user, ip=client_ip(request), via=RevokedVia.ADMIN
            )
            text = ngettext("Revoked %(n)d token.", "Revoked %(n)d tokens.", count) % {"n": count}
            self.log_change(request, application, text)
            messages.success(request, text)
            return HttpResponseRedirect(change_url(self, application.pk))
        context = page_context(
            self,
            request,
            title=_("Revoke every token of “%(name)s”") % {"name": application.name},
            original=application,
        )
        return render(request, f"{TEMPLATES}/revoke_tokens.html", context)
