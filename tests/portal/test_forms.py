"""The portal's forms: what a person may choose, checked before any lifecycle method runs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from iiniit_auth.models import NEVER
from iiniit_auth.portal.application_forms import ApplicationForm
from iiniit_auth.portal.forms import KeyForm, RevokeForm, RotateForm

GRANTABLE = ["orders:read", "reports:read"]
PASTED = "iik_" + "A" * 44


def key_form(**data):
    return KeyForm({"once": "t", "name": "n", "expires_in": "30d", **data}, grantable=GRANTABLE)


def test_scopes_are_offered_with_their_descriptions():
    choices = KeyForm(grantable=GRANTABLE).fields["scopes"].choices
    assert [(name, str(label)) for name, label in choices] == [
        ("orders:read", "<code>orders:read</code> Read orders"),
        ("reports:read", "<code>reports:read</code> Read reports"),
    ]


def test_a_scope_not_offered_is_refused_without_repeating_it():
    form = key_form(scopes=["orders:read", PASTED])
    assert not form.is_valid()
    assert form.errors["scopes"] == ["You may not grant one of the scopes chosen."]


def test_a_duration_becomes_an_expiry_and_never_needs_no_longest(settings):
    form = key_form(expires_in="90d")
    assert form.is_valid(), form.errors
    expected = timezone.now() + timedelta(days=90)
    assert abs(form.cleaned_data["expires_at"] - expected) < timedelta(seconds=5)
    assert not key_form(expires_in="never").is_valid()
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PORTAL_MAX_KEY_LIFETIME": None}
    form = key_form(expires_in="never")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["expires_at"] is NEVER


def test_networks_are_normalised_and_checked():
    form = key_form(allowed_networks="10.0.0.0/8\n::1")
    assert form.is_valid(), form.errors
    assert form.issue_arguments()["allowed_networks"] == ["10.0.0.0/8", "::1/128"]
    bad = key_form(allowed_networks=PASTED)
    assert not bad.is_valid()
    assert PASTED not in str(bad.errors)


def test_a_name_holding_a_key_is_refused():
    form = key_form(name=f"prod {PASTED}")
    assert form.errors["name"] == ["A name must not contain a key."]


@pytest.mark.parametrize(("grace", "period"), [("0", timedelta(0)), ("7d", timedelta(days=7))])
def test_the_grace_choices(grace, period):
    form = RotateForm({"once": "t", "grace": grace})
    assert form.is_valid()
    assert form.grace_period() == period
    assert not RotateForm({"once": "t", "grace": "30d"}).is_valid()


def test_a_reason_is_needed_and_holds_no_key():
    assert not RevokeForm({"reason": ""}).is_valid()
    assert "must not contain a key" in str(RevokeForm({"reason": PASTED}).errors)
    assert RevokeForm({"reason": "retired"}).is_valid()


def application_form(**data):
    values = {
        "once": "t",
        "name": "App",
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "redirect_uris": "https://app.example.com/cb\n  http://127.0.0.1:8765/cb",
        **data,
    }
    return ApplicationForm(values, grantable=GRANTABLE)


def test_the_application_form_offers_two_grants():
    form = ApplicationForm(grantable=GRANTABLE)
    assert [value for value, _label in form.fields["authorization_grant_type"].choices] == [
        "authorization-code",
        "client-credentials",
    ]
    valid = application_form(allowed_scopes=["reports:read"])
    assert valid.is_valid(), valid.errors
    assert valid.register_arguments()["redirect_uris"] == (
        "https://app.example.com/cb http://127.0.0.1:8765/cb"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"authorization_grant_type": "password"}, "authorization_grant_type"),
        ({"redirect_uris": "http://app.example.com/cb"}, "redirect_uris"),
        ({"redirect_uris": "https://*.example.com/cb"}, "redirect_uris"),
        ({"allowed_scopes": ["orders:write"]}, "allowed_scopes"),
        ({"name": PASTED}, "name"),
        (
            {"client_type": "public", "authorization_grant_type": "client-credentials"},
            "client_type",
        ),
    ],
)
def test_the_application_form_refuses(data, field):
    form = application_form(**data)
    assert not form.is_valid()
    assert field in form.errors
