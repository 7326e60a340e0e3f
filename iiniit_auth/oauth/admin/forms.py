"""The forms of the OAuth application screens: register, change, confirm.

They collect and check what a person typed; ``register_application``,
``ApplicationPolicy.objects.set_allowed_scopes`` and the other lifecycle functions check the
rest and write. No form here saves anything but an application's name and redirect URIs.
"""

from __future__ import annotations

from typing import Any, Final, cast

from django import forms
from django.contrib.admin import AdminSite
from django.db.models import ForeignKey
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication, get_application_model

from iiniit_auth import scopes
from iiniit_auth.admin import owners
from iiniit_auth.admin.forms import OnceForm, OwnedForm, clean_rate, rate_field
from iiniit_auth.models.audit import contains_key
from iiniit_auth.oauth.applications import GRANT_CHOICES as GRANT_CHOICES
from iiniit_auth.oauth.applications import check_redirect_uris

REDIRECT_URIS_HELP: Final = _(
    "For the authorization code grant: where users are sent back, one per line, over https "
    "(http only to a loopback address)."
)


def scope_choices() -> list[tuple[str, str]]:
    """The registry's scopes as checkbox choices, each with its description."""
    # Read per form, so a settings change shows on the next page.
    return [
        (name, format_html("<code>{}</code> {}", name, description))
        for name, description in scopes.registry().items()
    ]


def allowed_scopes_field() -> forms.MultipleChoiceField:
    """The "allowed scopes" checkboxes (choices are set per form by :func:`scope_choices`)."""
    return forms.MultipleChoiceField(
        label=_("Allowed scopes"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "radiolist"}),
        help_text=_(
            "The scopes the application may obtain, by any grant, refreshes included. "
            "None ticked: it obtains no scope at all."
        ),
    )


class RegisterForm(OwnedForm):
    """The add form of an OAuth application."""

    name = forms.CharField(
        label=_("Name"),
        max_length=255,
        help_text=_("What the application is, e.g. “Billing service”. Shown on consent pages."),
    )
    client_type = forms.ChoiceField(
        label=_("Client type"),
        choices=AbstractApplication.CLIENT_TYPES,
        initial=AbstractApplication.CLIENT_CONFIDENTIAL,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
        help_text=_(
            "Confidential: a server that can keep a client secret. Public: a browser or mobile "
            "app, which cannot (it uses PKCE instead)."
        ),
    )
    authorization_grant_type = forms.ChoiceField(
        label=_("Grant type"),
        choices=GRANT_CHOICES,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
        help_text=_(
            "Authorization code: users sign in and consent. Client credentials: the application "
            "acts as itself (confidential clients only)."
        ),
    )
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=REDIRECT_URIS_HELP,
    )
    user = forms.ModelChoiceField(
        label=_("User"),
        queryset=get_application_model()._default_manager.none(),
        help_text=_("Who registered the application and answers for it."),
    )
    allowed_scopes = allowed_scopes_field()
    owner_field = "user"

    def __init__(
        self, *args: Any, admin_site: AdminSite, acting: owners.Acting, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        user_field = get_application_model()._meta.get_field("user")
        self.offer_owners(cast("ForeignKey[Any, Any]", user_field), admin_site, acting)
        cast(forms.MultipleChoiceField, self.fields["allowed_scopes"]).choices = scope_choices()

    def clean_redirect_uris(self) -> str:
        return check_redirect_uris(self.cleaned_data.get("redirect_uris") or "")

    def register_arguments(self) -> dict[str, Any]:
        """The keyword arguments for ``register_application`` (without actor and address)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "client_type": data["client_type"],
            "authorization_grant_type": data["authorization_grant_type"],
            "redirect_uris": " ".join(data["redirect_uris"].split()),
            "user": data["user"],
            "allowed_scopes": data["allowed_scopes"],
        }


class ApplicationChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    """The change page: name and redirect URIs, and the allowed scopes and rate limit (set
    apart, through the policy, audited)."""

    allowed_scopes = allowed_scopes_field()
    rate = rate_field()

    class Meta:
        model = get_application_model()
        fields = ("name", "redirect_uris")
        help_texts = {"redirect_uris": REDIRECT_URIS_HELP}
        widgets = {"redirect_uris": forms.Textarea(attrs={"rows": 3, "cols": 60})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Stored space-separated; shown one per line, as the register form asks for them.
        if "redirect_uris" in self.initial:
            self.initial["redirect_uris"] = "\n".join(str(self.initial["redirect_uris"]).split())
        if "allowed_scopes" in self.fields:
            field = cast(forms.MultipleChoiceField, self.fields["allowed_scopes"])
            field.choices = scope_choices()

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name") or ""
        # register_application refuses such a name, but this form is saved by ModelAdmin, so
        # the check is made here, with the same test as APIKey.objects.issue and the audit log.
        if contains_key(name):
            raise forms.ValidationError(_("A name must not contain a key."), code="invalid")
        return name

    def clean_redirect_uris(self) -> str:
        return check_redirect_uris(" ".join((self.cleaned_data.get("redirect_uris") or "").split()))

    def clean_rate(self) -> str:
        return clean_rate(self.cleaned_data.get("rate"))


class ConfirmForm(OnceForm):
    """A confirmation that can be sent once (rotating twice would lose the shown secret)."""
