"""The forms of the portal's key pages: create, rotate, revoke.

They collect and check what a person typed, within what the project lets them make
(:mod:`iiniit_auth.portal.policy`); the lifecycle methods check the rest and write.
No form here saves anything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from iiniit_auth import lifetimes, networks, scopes
from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import parse_duration
from iiniit_auth.lifetimes import GRACE_CHOICES, NEVER_CHOICE
from iiniit_auth.models import NEVER
from iiniit_auth.models.audit import contains_key
from iiniit_auth.models.managers import NAME_MAX_LENGTH, REASON_MAX_LENGTH
from iiniit_auth.once import OnceForm


def scope_field(label: Any, help_text: Any) -> forms.MultipleChoiceField:
    """Checkboxes of scopes; :func:`offer_scopes` sets the choices for one user."""
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
        # The value is not repeated: a crafted POST may hold anything, a key included.
        error_messages={"invalid_choice": _("You may not grant one of the scopes chosen.")},
    )


def offer_scopes(field: forms.Field, grantable: list[str]) -> None:
    """Offer ``grantable`` (names) in ``field``, each with its description."""
    described = dict(scopes.describe(grantable))
    cast(forms.MultipleChoiceField, field).choices = [
        (name, format_html("<code>{}</code> {}", name, described[name])) for name in grantable
    ]


def clean_name(value: str) -> str:
    """A name shown in lists, e-mails and the audit log: never a secret."""
    if contains_key(value):
        raise forms.ValidationError(_("A name must not contain a key."), code="invalid")
    return value


class KeyForm(OnceForm):
    """Create a key. ``cleaned_data["expires_at"]`` is a datetime or ``NEVER``."""

    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("What the key is for, e.g. “Nightly export”. Shown in lists and e-mails."),
    )
    scopes = scope_field(
        _("Scopes"),
        _("What the key may do. A key without scopes reaches only endpoints that need none."),
    )
    expires_in = forms.ChoiceField(
        label=_("Expires"),
        help_text=_("The key stops working then; rotate it before, to keep a client running."),
    )
    allowed_networks = forms.CharField(
        label=_("Allowed networks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Addresses or networks in CIDR notation (10.0.0.0/8, 2001:db8::/32), one per line. "
            "Leave empty to accept the key from any address."
        ),
    )

    def __init__(self, *args: Any, grantable: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_scopes(self.fields["scopes"], grantable)
        # Read per form, so a settings change shows on the next page.
        expiry = cast(forms.ChoiceField, self.fields["expires_in"])
        longest = auth_settings().PORTAL_MAX_KEY_LIFETIME
        expiry.choices, expiry.initial = lifetimes.expiry_choices(longest=longest)

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data.get("name") or "")

    def clean_allowed_networks(self) -> list[str]:
        try:
            return networks.normalize(self.cleaned_data.get("allowed_networks") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("expires_in")
        if choice == NEVER_CHOICE:
            data["expires_at"] = NEVER
        elif choice:
            data["expires_at"] = timezone.now() + parse_duration(choice)
        return data

    def issue_arguments(self) -> dict[str, Any]:
        """The keyword arguments for ``APIKey.objects.issue`` (without owner, actor, address)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "scopes": data["scopes"],
            "expires_at": data["expires_at"],
            "allowed_networks": data["allowed_networks"],
        }


class RotateForm(OnceForm):
    """Choose how long the old key keeps working beside its successor."""

    grace = forms.ChoiceField(
        label=_("Grace period"),
        choices=GRACE_CHOICES,
        initial="0",
        widget=forms.RadioSelect,
        help_text=_(
            "How long the old key keeps working beside the new one, so your clients can switch "
            "without an outage. Never past the old key's own expiry."
        ),
    )

    def grace_period(self) -> timedelta:
        return parse_duration(self.cleaned_data["grace"])


class RevokeForm(forms.Form):
    """Why the key is revoked, kept with the key and in the audit log."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=_(
            "Why you revoke it, e.g. “leaked in a CI log” or “integration retired”. "
            "Kept with the key and in the audit log."
        ),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data.get("reason") or ""
        # revoke() would store a pasted key as [redacted]; here the person hears why.
        if contains_key(reason):
            raise forms.ValidationError(
                _("The reason must not contain a key: name it by its public id."), code="invalid"
            )
        return reason
