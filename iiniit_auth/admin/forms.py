"""The forms of the API key screens: issue, rotate, revoke (one key or several).

They collect and check what a person typed; the lifecycle methods check the rest and write.
No form here saves anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final, cast

from django import forms
from django.contrib.admin import AdminSite
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import ForeignKey
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from iiniit_auth import lifetimes, networks, rates, scopes
from iiniit_auth.admin import owners
from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import MAX_DURATION, parse_duration
from iiniit_auth.lifetimes import GRACE_CHOICES, NEVER_CHOICE
from iiniit_auth.models import NEVER, AbstractAPIKey
from iiniit_auth.models.managers import NAME_MAX_LENGTH, REASON_MAX_LENGTH
from iiniit_auth.once import OnceForm as OnceForm

DATE_CHOICE: Final = "date"


def expiry_choices() -> tuple[list[tuple[str, str]], str]:
    """Return the expiry choices and the initial one, which is ``DEFAULT_KEY_LIFETIME``."""
    return lifetimes.expiry_choices(extra=[(DATE_CHOICE, str(_("On the date below")))])


class OwnerSelect(AutocompleteSelect):
    """Admin's autocomplete widget, asking the admin's own owner search (``url``), which lists
    only the users the staff user may act for (:mod:`iiniit_auth.admin.owners`).

    It renders only a selected value that names a user: Django's widget filters the users by
    the value as sent, so a value that is no id (``abc``, ``1.5``, a number too large for the
    column, a key pasted into the wrong field) raised ``ValueError`` or ``OverflowError`` while
    the form was shown again with its errors. Here such a value is left out: the field says
    "Select a valid choice" and the value is not shown.
    """

    def __init__(self, field: ForeignKey[Any, Any], admin_site: AdminSite, url: str) -> None:
        super().__init__(field, admin_site)
        self.url = url

    def get_url(self) -> str:
        return self.url

    def optgroups(
        self, name: str, value: Sequence[str], attr: dict[str, Any] | None = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        field = self.choices.field
        return super().optgroups(name, [v for v in value if _names_a_choice(field, v)], attr)


def _names_a_choice(field: forms.ModelChoiceField[Any], value: str) -> bool:
    # The field's own lookup, which refuses what its column cannot hold without a query error.
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


class OwnedForm(OnceForm):
    """A form that makes a credential acting as the user in ``owner_field``.

    :meth:`offer_owners` sets that field up for one staff user; :meth:`clean` refuses an owner
    they may not act for (:func:`owners.refusal`), whatever was posted, and keeps the refusal
    in ``denied`` (owner, reason) so the view can audit it.
    """

    owner_field = "owner"
    denied: tuple[Any, str] | None = None

    def offer_owners(
        self, model_field: ForeignKey[Any, Any], admin_site: AdminSite, acting: owners.Acting
    ) -> None:
        """Offer the users the staff user may act for: a search among them where that is
        anyone but themselves, else themselves alone, saying why."""
        self.acting = acting
        actor, permission = acting.actor, acting.permission
        field = cast("forms.ModelChoiceField[Any]", self.fields[self.owner_field])
        # Every active user is a valid choice to the field, so that a refused one is refused by
        # clean() (and audited), not mistaken for a stale choice.
        users = get_user_model()._default_manager.filter(is_active=True)
        if actor.has_perm(permission):
            field.widget = OwnerSelect(model_field, admin_site, acting.search_url)
            # After the widget: setting the queryset hands the widget its choices.
            field.queryset = users
            return
        field.queryset = users
        field.widget = forms.Select(choices=[(actor.pk, str(actor))])
        field.initial = actor.pk
        field.help_text = owners.refusal(actor, None, permission) or field.help_text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        owner = data.get(self.owner_field)
        if owner is not None:
            reason = owners.refusal(self.acting.actor, owner, self.acting.permission)
            if reason is not None:
                self.denied = (owner, reason)
                self.add_error(self.owner_field, ValidationError(reason, code="denied"))
        return data


def rate_field() -> forms.CharField:
    """The rate limit, as typed: ``100/min``; empty for the default (``DEFAULT_RATE``)."""
    return forms.CharField(
        label=_("Rate limit"),
        required=False,
        max_length=rates.MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 16, "placeholder": "100/min"}),
        help_text=_(
            "Requests allowed per second, minute, hour or day on views that list "
            "CredentialRateThrottle, e.g. 100/min or 5000/day. Empty: the site's default."
        ),
    )


def rate_html(rate: str) -> SafeString:
    """A stored rate as admin shows it: the rate, or the default it falls back to."""
    if rate:
        return format_html("<code>{}</code>", rate)
    default = auth_settings().DEFAULT_RATE
    if default is not None:
        return format_html("<code>{}</code> {}", str(default), _("(the default)"))
    return format_html("{}", _("none (no default rate is set)"))


def clean_rate(value: str | None) -> str:
    """The canonical text of a typed rate (``""`` for none); a form error for anything else."""
    try:
        return rates.normalize_rate(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_rate") from None


class IssueForm(OwnedForm):
    """The add form. ``cleaned_data["expires_at"]`` is a datetime, ``NEVER`` or absent."""

    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_(
            "What the key is for, e.g. “Nightly export”. Shown in lists and the audit log."
        ),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=get_user_model()._default_manager.none(),
        help_text=_("The user the key acts as: requests made with it are this user's requests."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "radiolist"}),
        help_text=_("What the key may do. A key without scopes reaches only unscoped endpoints."),
    )
    expires_in = forms.ChoiceField(label=_("Expires"))
    expires_on = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("With “On the date below”: the key stops working at the end of this day."),
    )
    allowed_networks = forms.CharField(
        label=_("Allowed networks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=_(
            "Addresses or networks in CIDR notation (10.0.0.0/8, 2001:db8::/32), one per line. "
            "Leave empty to accept the key from any address."
        ),
    )

    rate = rate_field()

    def __init__(
        self,
        *args: Any,
        model: type[AbstractAPIKey],
        admin_site: AdminSite,
        acting: owners.Acting,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offer_owners(
            cast("ForeignKey[Any, Any]", model._meta.get_field("owner")), admin_site, acting
        )
        # The registry is read per form, so a settings change shows on the next page.
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = [
            (name, format_html("<code>{}</code> {}", name, description))
            for name, description in scopes.registry().items()
        ]
        expiry = cast(forms.ChoiceField, self.fields["expires_in"])
        expiry.choices, expiry.initial = expiry_choices()

    def clean_rate(self) -> str:
        return clean_rate(self.cleaned_data.get("rate"))

    def clean_allowed_networks(self) -> list[str]:
        try:
            return networks.normalize(self.cleaned_data.get("allowed_networks") or "")
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("expires_in")
        if choice == NEVER_CHOICE:
            data["expires_at"] = NEVER
        elif choice == DATE_CHOICE:
            day: date | None = data.get("expires_on")
            if day is None:
                self.add_error("expires_on", _("Give the date the key stops working."))
            elif day >= timezone.localdate() + MAX_DURATION:
                # The bound of every typed lifetime; past it, "the day after" and rotating
                # (expiry + grace) can overflow datetime, and some databases' timestamps.
                self.add_error(
                    "expires_on",
                    _("The date is too far ahead: a key lives at most %(years)d years.")
                    % {"years": MAX_DURATION.days // 365},
                )
            else:
                # The end of the chosen day, in the current time zone: the key works all of it.
                end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
                if end <= timezone.now():
                    self.add_error("expires_on", _("The date is in the past."))
                else:
                    data["expires_at"] = end
        elif choice:
            data["expires_at"] = timezone.now() + parse_duration(choice)
        return data

    def expiry_field(self) -> str:
        """The field an expiry error from ``issue()`` belongs to."""
        return "expires_on" if self.data.get("expires_in") == DATE_CHOICE else "expires_in"

    def issue_arguments(self) -> dict[str, Any]:
        """The keyword arguments for ``APIKey.objects.issue`` (without actor and address)."""
        data = self.cleaned_data
        return {
            "owner": data["owner"],
            "name": data["name"],
            "scopes": data["scopes"],
            "expires_at": data["expires_at"],
            "allowed_networks": data["allowed_networks"],
            "rate": data.get("rate", ""),
        }


class RotateForm(OnceForm):
    """Choose how long the old key keeps working beside its successor."""

    grace = forms.ChoiceField(
        label=_("Grace period"),
        choices=GRACE_CHOICES,
        initial="0",
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
        help_text=_(
            "How long the old key keeps working beside the new one, so clients can switch "
            "without an outage. Never past the old key's own expiry."
        ),
    )

    def grace_period(self) -> timedelta:
        return parse_duration(self.cleaned_data["grace"])


class RateForm(forms.Form):
    """A key's rate limit, changed through ``key.set_rate()``."""

    rate = rate_field()

    def clean_rate(self) -> str:
        return clean_rate(self.cleaned_data.get("rate"))


class RevokeForm(forms.Form):
    """The reason for revoking, kept in the key and the audit log."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=_(
            "Why the key is revoked, e.g. “leaked in a CI log” or “integration retired”. "
            "Kept with the key and in the audit log."
        ),
    )
