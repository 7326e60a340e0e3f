"""The portal's key pages: the list, create (shown once), rotate (shown once), revoke.

Each page reads a form, asks :mod:`~iiniit_auth.portal.policy` what the user may make, calls
one lifecycle method (``APIKey.objects.issue``, ``key.rotate``, ``key.revoke``) with the user
as actor and their address, and answers. Only the user's own keys are found: any other id is
a 404. A plaintext key exists in :func:`show_once`'s response and nowhere else: not in
``messages``, the session, a URL or a log line.
"""

from __future__ import annotations

from typing import Any, Final

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from iiniit_auth import once, usage_chart
from iiniit_auth.conf import auth_settings
from iiniit_auth.example import example_url
from iiniit_auth.exceptions import KeyStateError
from iiniit_auth.models import AbstractAPIKey, APIKey
from iiniit_auth.models.managers import authenticating
from iiniit_auth.portal import policy
from iiniit_auth.portal.forms import KeyForm, RevokeForm, RotateForm
from iiniit_auth.portal.pages import (
    client_ip,
    done,
    page,
    portal_view,
    refused,
    scrubbed,
    url,
    user_of,
)
from iiniit_auth.portal.sudo import sudo_required
from iiniit_auth.status import can_revoke, can_rotate, status_of

#: The purpose of the create form's one-time tokens (a rotate form's is ``portal-rotate:<pk>``).
CREATE: Final = "portal-create"
#: The inactive keys listed below the active ones, newest first.
INACTIVE_SHOWN: Final = 50


def _own_key(request: HttpRequest, pk: int) -> AbstractAPIKey:
    """The signed-in user's key ``pk``; Http404 for any other (another user's is no different)."""
    key = APIKey.objects.filter(pk=pk, owner=user_of(request)).select_related("owner").first()
    if key is None:
        raise Http404(gettext("You have no API key with this id."))
    return key


def _already_done(request: HttpRequest) -> HttpResponse:
    return refused(
        request,
        gettext(
            "This form was already submitted, so nothing was done again. The key it made is "
            "in the list; its secret is never shown a second time."
        ),
        url("keys"),
    )


def _expired(form: KeyForm | RotateForm, request: HttpRequest, purpose: str) -> None:
    """The form's token is not this session's (or is too old): a fresh one, and say so."""
    form.add_error(None, _("This form has expired. Check it and send it again."))
    data = scrubbed(request.POST)
    data["once"] = once.new_token(request, purpose)
    form.data = data


@sensitive_variables("plaintext")
def show_once(
    request: HttpRequest,
    key: AbstractAPIKey,
    plaintext: str,
    *,
    rotated: AbstractAPIKey | None = None,
) -> HttpResponse:
    """The one response that carries ``plaintext`` (never cached: :func:`portal_view`)."""
    return page(
        request,
        "show_key.html",
        {
            "title": _("Copy your new API key"),
            "key": key,
            "plaintext": plaintext,
            "rotated": rotated,
            "header_scheme": auth_settings().HEADER_SCHEME,
            "example_url": example_url(request),
        },
    )


@portal_view
def list_view(request: HttpRequest) -> HttpResponse:
    """The user's keys: those that authenticate now, then the latest revoked and expired;
    each with its requests per day over the last 30 days (one query for all)."""
    now = timezone.now()
    mine = APIKey.objects.filter(owner=user_of(request))
    active = list(mine.filter(authenticating(now)))
    inactive = list(mine.exclude(authenticating(now))[:INACTIVE_SHOWN])
    grantable = policy.grantable_scopes(request.user)
    charts = usage_chart.key_charts(active + inactive, now)
    rows = [
        {
            "key": key,
            "usage": charts[key.public_id],
            # Active keys have their chart drawn under the table, at this anchor.
            "usage_id": f"usage-{key.pk}" if n < len(active) else None,
            "status": status_of(key, now),
            # Offered only where the rotation would be made: see policy.rotation_refusal.
            "can_rotate": can_rotate(key) and policy.rotation_refusal(key, grantable) is None,
            "can_revoke": can_revoke(key),
        }
        for n, key in enumerate(active + inactive)
    ]
    return page(
        request,
        "keys.html",
        {
            "title": _("API keys"),
            "active": rows[: len(active)],
            "inactive": rows[len(active) :],
            "limit": auth_settings().PORTAL_MAX_ACTIVE_KEYS,
            "counted": policy.active_keys(request.user),
            "header_scheme": auth_settings().HEADER_SCHEME,
        },
    )


@portal_view
@sudo_required
@sensitive_variables("plaintext")
def create_view(request: HttpRequest) -> HttpResponse:
    """The create form; on success, the show-once page."""
    grantable = policy.grantable_scopes(request.user)
    if request.method != "POST":
        form = KeyForm(initial={"once": once.new_token(request, CREATE)}, grantable=grantable)
    else:
        form = KeyForm(request.POST, grantable=grantable)
        token = request.POST.get("once", "")
        state = once.state(request, token, CREATE)
        if state.used_for is not None:
            return _already_done(request)
        valid = form.is_valid()
        if not state.fresh:
            _expired(form, request, CREATE)
        elif valid:
            made = _issue(request, form)
            if made is not None:
                key, plaintext = made
                once.consume(request, token, key.pk)
                return show_once(request, key, plaintext)
        form.data = scrubbed(form.data)
    return page(
        request,
        "key_form.html",
        {
            "title": _("Create an API key"),
            "form": form,
            "limit_reached": policy.key_limit_refusal(request.user),
            "grantable": grantable,
        },
    )


@sensitive_variables("made")
def _issue(request: HttpRequest, form: KeyForm) -> tuple[AbstractAPIKey, str] | None:
    """Issue the key ``form`` describes, within the key limit; None, with form errors, if not."""
    user = user_of(request)
    with transaction.atomic():
        # The owner's row is locked, so two simultaneous creates cannot both pass the limit.
        get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
        refusal = policy.key_limit_refusal(user)
        if refusal is not None:
            form.add_error(None, refusal)
            return None
        try:
            made = APIKey.objects.issue(
                owner=user, created_by=user, ip=client_ip(request), **form.issue_arguments()
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                target = "expires_in" if field == "expires_at" else field
                form.add_error(target if target in form.fields else None, errors)
            return None
    return made


@portal_view
@sudo_required
@sensitive_variables("plaintext")
def rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a grace period and rotate; on success, the successor's show-once page."""
    key = _own_key(request, pk)
    purpose = f"portal-rotate:{key.pk}"
    token = request.POST.get("once", "") if request.method == "POST" else ""
    state = once.state(request, token, purpose)
    if state.used_for is not None:
        return _already_done(request)
    refusal = policy.rotation_refusal(key, policy.grantable_scopes(request.user))
    if not can_rotate(key):
        refusal = gettext("Only an active key that was never rotated can be rotated.")
    if refusal is not None:
        return refused(request, refusal, url("keys"))
    if request.method != "POST":
        form = RotateForm(initial={"once": once.new_token(request, purpose)})
    else:
        form = RotateForm(request.POST)
        valid = form.is_valid()
        if not state.fresh:
            _expired(form, request, purpose)
        elif valid:
            try:
                successor, plaintext = key.rotate(
                    grace=form.grace_period(), actor=request.user, ip=client_ip(request)
                )
            except (KeyStateError, ValidationError) as exc:
                form.add_error(None, _problem(exc))
            else:
                once.consume(request, token, successor.pk)
                return show_once(request, successor, plaintext, rotated=key)
    return page(
        request,
        "rotate.html",
        {"title": _("Rotate “%(key)s”") % {"key": key.name}, "key": key, "form": form},
    )


def _problem(exc: KeyStateError | ValidationError) -> str:
    return str(exc) if isinstance(exc, KeyStateError) else " ".join(exc.messages)


@portal_view
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm with a reason and revoke; then the list, which says so."""
    key = _own_key(request, pk)
    if not can_revoke(key):
        return refused(
            request, gettext("This key is already revoked or no longer valid."), url("keys")
        )
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            key.revoke(
                actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
            )
        except KeyStateError as exc:
            form.add_error(None, str(exc))
        else:
            return done(
                request,
                gettext("The key “%(name)s” (%(id)s) was revoked. It is refused from now on.")
                % {"name": key.name, "id": key.display_id},
                url("keys"),
            )
    if form.is_bound:
        form.data = scrubbed(form.data)
    context: dict[str, Any] = {
        "title": _("Revoke “%(key)s”") % {"key": key.name},
        "key": key,
        "form": form,
    }
    return page(request, "revoke.html", context)
