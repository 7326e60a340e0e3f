"""The issue, rotate and revoke forms: choices from the settings, checks before any write."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, ForeignKeyRawIdWidget
from django.utils import timezone

from iiniit_auth.admin.forms import IssueForm, RevokeForm, RotateForm, expiry_choices
from iiniit_auth.models import NEVER, APIKey

SCOPES = {"a:read": "Read A", "b:write": "Write B"}


def issue_form(data, site=admin.site):
    return IssueForm(data, model=APIKey, admin_site=site)


def valid(user, **fields):
    data = {"once": "t", "name": "n", "owner": user.pk, "expires_in": "30d", **fields}
    form = issue_form(data)
    assert form.is_valid(), form.errors
    return form


@pytest.mark.parametrize(
    ("lifetime", "default", "values"),
    [
        (timedelta(days=90), "90d", ["30d", "90d", "365d", "never", "date"]),
        (timedelta(days=180), "180d", ["30d", "90d", "180d", "365d", "never", "date"]),
        (timedelta(hours=36), "36h", ["36h", "30d", "90d", "365d", "never", "date"]),
        (None, "never", ["30d", "90d", "365d", "never", "date"]),
    ],
)
def test_expiry_choices_start_at_the_default_lifetime(settings, lifetime, default, values):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "DEFAULT_KEY_LIFETIME": lifetime}
    choices, initial = expiry_choices()
    assert initial == default
    assert [value for value, _label in choices] == values
    assert next(label for value, label in choices if value == default).endswith("(default)")


def test_scope_choices_follow_the_registry(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "SCOPES": SCOPES}
    field = issue_form(None).fields["scopes"]
    assert [(v, str(label)) for v, label in field.choices] == [
        ("a:read", "<code>a:read</code> Read A"),
        ("b:write", "<code>b:write</code> Write B"),
    ]


def test_descriptions_are_escaped(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "SCOPES": {"x": "<b>bold</b>"}}
    ((_value, label),) = issue_form(None).fields["scopes"].choices
    assert str(label) == "<code>x</code> &lt;b&gt;bold&lt;/b&gt;"


def test_the_owner_is_searched_where_the_user_admin_can_search(db):
    assert isinstance(issue_form(None).fields["owner"].widget, AutocompleteSelect)
    bare = admin.AdminSite(name="bare")
    assert isinstance(issue_form(None, bare).fields["owner"].widget, ForeignKeyRawIdWidget)


def test_expiry_becomes_issue_arguments(user):
    now = timezone.now()
    thirty = valid(user).issue_arguments()["expires_at"]
    assert abs(thirty - (now + timedelta(days=30))) < timedelta(minutes=1)
    assert valid(user, expires_in="never").issue_arguments()["expires_at"] is NEVER
    day = timezone.localdate() + timedelta(days=1)
    dated = valid(user, expires_in="date", expires_on=day.isoformat()).issue_arguments()
    assert timezone.localtime(dated["expires_at"]).date() == day + timedelta(days=1)


def test_today_is_a_valid_expiry_date(user):
    form = valid(user, expires_in="date", expires_on=timezone.localdate().isoformat())
    assert form.issue_arguments()["expires_at"] > timezone.now()


def test_networks_are_normalized(user):
    form = valid(user, allowed_networks="10.0.0.0/8, 10.0.0.0/8\n2001:db8::/32")
    assert form.issue_arguments()["allowed_networks"] == ["10.0.0.0/8", "2001:db8::/32"]


def test_rotate_form_offers_now_an_hour_a_day_and_a_week():
    form = RotateForm({"once": "t", "grace": "24h"})
    assert form.is_valid()
    assert form.grace_period() == timedelta(hours=24)
    assert [v for v, _label in form.fields["grace"].choices] == ["0", "1h", "24h", "7d"]
    assert not RotateForm({"once": "t", "grace": "30d"}).is_valid()


def test_revoke_reason_is_required_and_bounded():
    assert not RevokeForm({"reason": ""}).is_valid()
    assert not RevokeForm({"reason": "x" * 201}).is_valid()
    assert RevokeForm({"reason": "leaked"}).is_valid()
