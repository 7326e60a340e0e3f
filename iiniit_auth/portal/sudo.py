"""Sudo mode: making a credential asks for the password again after a while, as GitHub does.

A session that signed in (or confirmed its password here) within ``PORTAL_SUDO_TIMEOUT`` may
create and rotate keys and register applications or rotate their secrets; past it, those
pages first send the user to :func:`confirm_view`. A stolen session cookie alone then mints
no credential once the timeout has passed. The session holds only the time of the last
sign-in or confirmation, and a count of wrong passwords: after :data:`MAX_FAILURES` the
session is signed out, so the confirmation cannot be used to guess the password.
"""

from __future__ import annotations

import time
from functools import wraps
from typing import Any, Final
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import authenticate, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from iiniit_auth.conf import auth_settings
from iiniit_auth.portal.pages import View, page, portal_view, url

SESSION_KEY: Final = "iiniit_auth.portal.sudo"
FAILURES_KEY: Final = "iiniit_auth.portal.sudo_failures"
#: Wrong passwords in a row before the session is signed out.
MAX_FAILURES: Final = 5


def confirmed(request: HttpRequest) -> None:
    """Note that the user proved who they are just now (signed in, or typed the password)."""
    request.session[SESSION_KEY] = time.time()
    request.session.pop(FAILURES_KEY, None)


def signed_in(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: a sign-in counts as a confirmation."""
    if request is not None and hasattr(request, "session"):
        confirmed(request)


def is_fresh(request: HttpRequest) -> bool:
    """Whether the last sign-in or confirmation is within ``PORTAL_SUDO_TIMEOUT``."""
    timeout = auth_settings().PORTAL_SUDO_TIMEOUT
    if timeout is None:
        return True
    at = request.session.get(SESSION_KEY)
    if not isinstance(at, int | float) or isinstance(at, bool):
        return False
    return 0 <= time.time() - at < timeout.total_seconds()


def sudo_required(view: View) -> View:
    """``view``, behind a password confirmation when the session's is older than the timeout.

    The confirmation sends the user back to the page (a POST is not replayed: its form is
    shown again, empty).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_fresh(request):
            return view(request, *args, **kwargs)
        back = request.get_full_path() if request.method == "GET" else request.path
        return HttpResponseRedirect(f"{url('sudo')}?{urlencode({'next': back})}")

    return wrapper


class ConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return url("keys")


@sensitive_post_parameters("password")
@portal_view
def confirm_view(request: HttpRequest) -> HttpResponse:
    """Ask for the password; on success, go on to ``next``."""
    back = _next(request)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = request.user
        found = authenticate(
            request, username=user.get_username(), password=form.cleaned_data["password"]
        )
        if found is not None and found.pk == user.pk:
            confirmed(request)
            return HttpResponseRedirect(back)
        failures = int(request.session.get(FAILURES_KEY, 0)) + 1
        if failures >= MAX_FAILURES:
            logout(request)
            return redirect_to_login(back)
        request.session[FAILURES_KEY] = failures
        form.add_error("password", _("That is not your password."))
    return page(
        request,
        "sudo.html",
        {"title": _("Confirm your password"), "form": form, "next": back},
    )
