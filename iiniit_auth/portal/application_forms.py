"""The form that registers an OAuth application in the portal.

It offers what admin's register form offers (the same grants, the same redirect URI check,
from :mod:`iiniit_auth.oauth.applications`), with the scopes limited to those the user may
grant. django-oauth-toolkit is imported when a form is made, never when this module is: the
portal imports it only where the OAuth pages are on.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from iiniit_auth.once import OnceForm
from iiniit_auth.portal.forms import clean_name, offer_scopes, scope_field


class ApplicationForm(OnceForm):
    """Register an application acting for the signed-in user."""

    name = forms.CharField(
        label=_("Name"),
        max_length=255,
        help_text=_("What the application is, e.g. “Billing service”. Shown on consent pages."),
    )
    client_type = forms.ChoiceField(
        label=_("Client type"),
        widget=forms.RadioSelect,
        help_text=_(
            "Confidential: a server that can keep a client secret. Public: a browser or mobile "
            "app, which cannot (it proves itself with PKCE instead)."
        ),
    )
    authorization_grant_type = forms.ChoiceField(
        label=_("Grant type"),
        widget=forms.RadioSelect,
        help_text=_(
            "Authorization code: users sign in and consent. Client credentials: the application "
            "acts as itself (confidential clients only)."
        ),
    )
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For the authorization code grant: where users are sent back, one per line, over "
            "https (http only to a loopback address such as http://127.0.0.1:8765/callback)."
        ),
    )
    allowed_scopes = scope_field(
        _("Scopes"),
        _("The scopes the application may obtain. None ticked: it obtains no scope at all."),
    )

    def __init__(self, *args: Any, grantable: list[str], **kwargs: Any) -> None:
        from oauth2_provider.models import AbstractApplication

        from iiniit_auth.oauth.applications import GRANT_CHOICES

        super().__init__(*args, **kwargs)
        client_type = cast(forms.ChoiceField, self.fields["client_type"])
        client_type.choices = AbstractApplication.CLIENT_TYPES
        client_type.initial = AbstractApplication.CLIENT_CONFIDENTIAL
        grant = cast(forms.ChoiceField, self.fields["authorization_grant_type"])
        grant.choices = GRANT_CHOICES
        grant.initial = AbstractApplication.GRANT_AUTHORIZATION_CODE
        offer_scopes(self.fields["allowed_scopes"], grantable)

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data.get("name") or "")

    def clean_redirect_uris(self) -> str:
        from iiniit_auth.oauth.applications import check_redirect_uris

        return check_redirect_uris(" ".join((self.cleaned_data.get("redirect_uris") or "").split()))

    def clean(self) -> dict[str, Any]:
        from oauth2_provider.models import AbstractApplication

        data = super().clean() or {}
        if (
            data.get("authorization_grant_type") == AbstractApplication.GRANT_CLIENT_CREDENTIALS
            and data.get("client_type") == AbstractApplication.CLIENT_PUBLIC
        ):
            # A public client cannot keep the secret client credentials authenticate with.
            self.add_error(
                "client_type",
                _("The client credentials grant needs a confidential client."),
            )
        return data

    def register_arguments(self) -> dict[str, Any]:
        """The keyword arguments for ``register_application`` (without user, actor, address)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "client_type": data["client_type"],
            "authorization_grant_type": data["authorization_grant_type"],
            "redirect_uris": data["redirect_uris"],
            "allowed_scopes": data["allowed_scopes"],
        }
