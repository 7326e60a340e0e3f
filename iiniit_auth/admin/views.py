"""The API key screens beyond Django's own: issue, show once, rotate, revoke, revoke several.

Each view checks the permission, reads a form, calls one lifecycle method (``issue``,
``rotate`` or ``revoke``, which write the key and its ``CredentialEvent``), writes Django's
admin log (never a secret) and answers. A plaintext key exists in :func:`show_once`'s response
and nowhere else: not in ``messages``, the session, a redirect URL or a log line.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, Final

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth import once
from iiniit_auth.admin import owners
from iiniit_auth.admin.forms import IssueForm, RateForm, RevokeForm, RotateForm
from iiniit_auth.admin.pages import (
    already_done,
    change_url,
    client_ip,
    get_or_404,
    page_context,
    show_once,
    styled_forbidden,
)
from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import format_duration
from iiniit_auth.example import example_url
from iiniit_auth.exceptions import KeyStateError
from iiniit_auth.models import AbstractAPIKey, CredentialEvent
from iiniit_auth.status import can_revoke, can_rotate

#: The purpose of the add form's one-time tokens (a rotate form's is ``rotate:<pk>``).
ISSUE: Final = "issue"
KIND: Final = CredentialEvent.Kind.API_KEY


def _adminform(form: RotateForm | RevokeForm | RateForm, *fields: str) -> helpers.AdminForm:
    """``form`` laid out the way admin lays out its forms (one unnamed fieldset)."""
    # AdminForm lays out any form; django-stubs types it for model forms only.
    return helpers.AdminForm(form, [(None, {"fields": list(fields)})], {})  # type: ignore[arg-type]


def _issue_errors(form: IssueForm, exc: ValidationError) -> None:
    """Put the field errors of ``APIKey.objects.issue`` on the form's fields."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    fields = {"expires_at": form.expiry_field(), "created_by": None}
    for field, errors in exc.message_dict.items():
        target = fields.get(field, field)
        form.add_error(target if target in form.fields else None, errors)


def _with_new_token(form: IssueForm | RotateForm, request: HttpRequest, purpose: str) -> None:
    """Render ``form`` again with a fresh token (its old one was unknown to this session)."""
    data = request.POST.copy()
    data["once"] = once.new_token(request, purpose)
    form.data = data


class KeyScreens(owners.MakesCredentials):
    """The screens of :class:`~iiniit_auth.admin.apikeys.APIKeyAdmin` beyond Django's own:
    issue (the add view), show once, rotate, revoke, revoke several; their permissions and
    their URLs."""

    # -- permissions ----------------------------------------------------------------------

    def _has(self, request: HttpRequest, codename: str) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        """``rotate_apikey``: may rotate keys (and so see the successor's plaintext once)."""
        return self._has(request, "rotate_apikey")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """``revoke_apikey``: may revoke keys, one by one or several at once."""
        return self._has(request, "revoke_apikey")

    def has_rate_permission(self, request: HttpRequest) -> bool:
        """Django's ``change`` permission of the model: may change a key's rate limit (the
        only thing about a key that is ever changed in place)."""
        return self._has(request, f"change_{self.opts.model_name}")

    @property
    def for_others_permission(self) -> str:
        """``issue_for_others``: may issue and rotate keys of other users, within the rule of
        :mod:`iiniit_auth.admin.owners`."""
        return f"{self.opts.app_label}.issue_for_others"

    def get_urls(self) -> list[URLPattern]:
        return self.screen_urls(
            ("<path:object_id>/rotate/", self.rotate_view, "rotate"),
            ("<path:object_id>/revoke/", self.revoke_view, "revoke"),
            ("<path:object_id>/rate/", self.rate_view, "rate"),
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Issue through ``APIKey.objects.issue``; the answer shows the key once."""
        return styled_forbidden(self, self.issue_view)(request)

    def issue_adminform(self, form: IssueForm) -> helpers.AdminForm:
        """The add form laid out as Django admin lays out forms."""
        fieldsets = [
            (None, {"fields": ["name", "owner", "scopes"]}),
            (_("Expiry"), {"fields": ["expires_in", "expires_on"]}),
            (_("Networks"), {"fields": ["allowed_networks"]}),
            (_("Limits"), {"fields": ["rate"]}),
        ]
        # AdminForm lays out any form; django-stubs types it for model forms only.
        return helpers.AdminForm(form, fieldsets, {}, model_admin=self)  # type: ignore[arg-type]

    # -- the screens ----------------------------------------------------------------------

    def _templates(self, name: str) -> list[str]:
        opts = self.model._meta
        return [
            f"admin/{opts.app_label}/{opts.model_name}/{name}",
            f"admin/{opts.app_label}/{name}",
            f"admin/iiniit_auth/apikey/{name}",
        ]

    def _get_key(self, request: HttpRequest, object_id: str) -> AbstractAPIKey:
        key: AbstractAPIKey = get_or_404(
            self, request, object_id, gettext("No API key with this id.")
        )
        return key

    def _already_done(self, request: HttpRequest, pk: str) -> HttpResponse:
        """A form sent again after it made a key: go to that key, which shows no plaintext."""
        return already_done(
            self,
            request,
            pk,
            _(
                "This form was already submitted, so nothing was done again. The key it made is "
                "shown below; its secret is never shown a second time."
            ),
        )

    @sensitive_variables("plaintext")
    def show_key_once(
        self,
        request: HttpRequest,
        key: AbstractAPIKey,
        plaintext: str,
        *,
        rotated: AbstractAPIKey | None = None,
    ) -> HttpResponse:
        """The one response that carries ``plaintext`` (:func:`pages.show_once`)."""
        return show_once(
            self,
            request,
            self._templates("show_once.html"),
            title=_("Copy the new API key"),
            key=key,
            rotated=rotated,
            plaintext=plaintext,
            header_scheme=auth_settings().HEADER_SCHEME,
            example_url=example_url(request),
            change_url=change_url(self, key.pk),
        )

    @sensitive_variables("plaintext")
    def issue_view(self, request: HttpRequest) -> HttpResponse:
        """The add form; on success, the show-once page. Needs the ``add`` permission."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        make_form = partial(
            IssueForm,
            model=self.model,
            admin_site=self.admin_site,
            acting=self.acting(request),
        )
        if request.method != "POST":
            form = make_form(initial={"once": once.new_token(request, ISSUE)})
        else:
            form = make_form(request.POST)
            token = request.POST.get("once", "")
            state = once.state(request, token, ISSUE)
            if state.used_for is not None:
                return self._already_done(request, state.used_for)
            valid = form.is_valid()
            if form.denied is not None:
                owner, reason = form.denied
                owners.record_denied(
                    request, kind=KIND, credential_id="", action=ISSUE, owner=owner, reason=reason
                )
            if not state.fresh:
                # Not this session's form (or one so old its token was dropped): ask once more.
                form.add_error(None, _("This form has expired. Check it and save again."))
                _with_new_token(form, request, ISSUE)
            elif valid:
                try:
                    key, plaintext = self.model._default_manager.issue(
                        **form.issue_arguments(), created_by=request.user, ip=client_ip(request)
                    )
                except ValidationError as exc:
                    _issue_errors(form, exc)
                else:
                    once.consume(request, token, key.pk)
                    self.log_addition(request, key, [{"added": {}}])
                    return self.show_key_once(request, key, plaintext)
        context = page_context(
            self,
            request,
            title=_("Issue an API key"),
            form=form,
            adminform=self.issue_adminform(form),
            media=self.media + form.media,
            errors=form.errors,
        )
        return render(request, self._templates("issue.html"), context)

    @sensitive_variables("plaintext")
    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Choose a grace period and rotate; on success, the successor's show-once page."""
        if not (self.has_rotate_permission(request) and self.has_view_permission(request)):
            raise PermissionDenied
        key = self._get_key(request, object_id)
        purpose = f"rotate:{key.pk}"
        token = request.POST.get("once", "") if request.method == "POST" else ""
        state = once.state(request, token, purpose)
        if state.used_for is not None:
            return self._already_done(request, state.used_for)
        refused = owners.refusal(request.user, key.owner, self.for_others_permission)
        if request.method != "POST":
            if not can_rotate(key) or refused is not None:
                messages.warning(
                    request,
                    refused or _("Only an active key that was never rotated can be rotated."),
                )
                return HttpResponseRedirect(change_url(self, key.pk))
            form = RotateForm(initial={"once": once.new_token(request, purpose)})
        else:
            form = RotateForm(request.POST)
            valid = form.is_valid()
            if not state.fresh:
                form.add_error(None, _("This form has expired. Check it and rotate again."))
                _with_new_token(form, request, purpose)
            elif refused is not None:
                form.add_error(None, refused)
                owners.record_denied(
                    request,
                    kind=KIND,
                    credential_id=key.public_id,
                    action="rotate",
                    owner=key.owner,
                    reason=refused,
                )
            elif valid:
                grace = form.grace_period()
                try:
                    successor, plaintext = key.rotate(
                        grace=grace, actor=request.user, ip=client_ip(request)
                    )
                except KeyStateError as exc:
                    form.add_error(None, str(exc))
                else:
                    once.consume(request, token, successor.pk)
                    self.log_change(
                        request,
                        key,
                        gettext("Rotated: successor %(successor)s, grace period %(grace)s.")
                        % {"successor": successor.display_id, "grace": format_duration(grace)},
                    )
                    self.log_addition(
                        request,
                        successor,
                        gettext("Issued by rotating %(key)s.") % {"key": key.display_id},
                    )
                    return self.show_key_once(request, successor, plaintext, rotated=key)
        context = page_context(
            self,
            request,
            title=_("Rotate the API key “%(key)s”") % {"key": key},
            original=key,
            form=form,
            adminform=_adminform(form, "grace"),
            errors=form.errors,
        )
        return render(request, self._templates("rotate.html"), context)

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm with a reason and revoke; then back to the key's page, which says so."""
        if not (self.has_revoke_permission(request) and self.has_view_permission(request)):
            raise PermissionDenied
        key = self._get_key(request, object_id)
        if request.method != "POST" and not can_revoke(key):
            messages.warning(request, _("This key is already revoked or no longer valid."))
            return HttpResponseRedirect(change_url(self, key.pk))
        form = RevokeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                key.revoke(
                    actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
                )
            except KeyStateError as exc:
                form.add_error(None, str(exc))
            else:
                self.log_change(
                    request, key, gettext("Revoked: %(reason)s") % {"reason": key.revoke_reason}
                )
                messages.success(request, _("The API key “%(key)s” was revoked.") % {"key": key})
                return HttpResponseRedirect(change_url(self, key.pk))
        context = page_context(
            self,
            request,
            title=_("Revoke the API key “%(key)s”") % {"key": key},
            original=key,
            form=form,
            adminform=_adminform(form, "reason"),
            errors=form.errors,
        )
        return render(request, self._templates("revoke.html"), context)

    def rate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Change the key's rate limit through ``key.set_rate()`` (a ``changed`` event)."""
        if not (self.has_rate_permission(request) and self.has_view_permission(request)):
            raise PermissionDenied
        key = self._get_key(request, object_id)
        form = RateForm(
            request.POST if request.method == "POST" else None, initial={"rate": key.rate}
        )
        if form.is_valid():
            before = key.rate or gettext("the default")
            try:
                changed = key.set_rate(
                    form.cleaned_data["rate"], actor=request.user, ip=client_ip(request)
                )
            except ValidationError as exc:
                form.add_error("rate", exc.message_dict.get("rate", exc.messages))
            else:
                if changed:
                    after = key.rate or gettext("the default")
                    self.log_change(
                        request,
                        key,
                        gettext("Rate limit: %(before)s → %(after)s.")
                        % {"before": before, "after": after},
                    )
                    messages.success(
                        request,
                        _("The rate limit of “%(key)s” is now %(rate)s.")
                        % {"key": key, "rate": after},
                    )
                return HttpResponseRedirect(change_url(self, key.pk))
        context = page_context(
            self,
            request,
            title=_("Rate limit of the API key “%(key)s”") % {"key": key},
            original=key,
            form=form,
            adminform=_adminform(form, "rate"),
            errors=form.errors,
        )
        return render(request, self._templates("rate.html"), context)

    @admin.action(description=_("Revoke selected API keys"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        """The bulk action: a confirmation page with a reason, then ``revoke()`` per key.

        Returns None (back to the list) once done. Keys that no longer authenticate are skipped.
        """
        keys: Sequence[AbstractAPIKey] = list(queryset.select_related("owner"))
        revocable = [key for key in keys if can_revoke(key)]
        form = RevokeForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_valid():
            done = 0
            for key in revocable:
                try:
                    key.revoke(
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        ip=client_ip(request),
                    )
                except KeyStateError:
                    continue  # revoked by someone else meanwhile: nothing left to do
                done += 1
                self.log_change(
                    request, key, gettext("Revoked: %(reason)s") % {"reason": key.revoke_reason}
                )
            self.message_user(
                request,
                ngettext("Revoked %(n)d API key.", "Revoked %(n)d API keys.", done) % {"n": done},
                messages.SUCCESS,
            )
            if len(keys) > done:
                skipped = len(keys) - done
                self.message_user(
                    request,
                    ngettext(
                        "%(n)d key was skipped: already revoked or no longer valid.",
                        "%(n)d keys were skipped: already revoked or no longer valid.",
                        skipped,
                    )
                    % {"n": skipped},
                    messages.WARNING,
                )
            return None
        context = page_context(
            self,
            request,
            title=_("Revoke API keys"),
            form=form,
            adminform=_adminform(form, "reason"),
            errors=form.errors,
            revocable=revocable,
            skipped=[key for key in keys if not can_revoke(key)],
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )
        return render(request, self._templates("revoke_selected.html"), context)
