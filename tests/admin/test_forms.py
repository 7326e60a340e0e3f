"""The issue, rotate and revoke forms: choices from the settings, checks before any write."""

from datetime import timedelta

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.models import User
from django.utils import timezone

from iiniit_auth import keys
from iiniit_auth.admin.forms import IssueForm, RevokeForm, RotateForm, expiry_choices
from iiniit_auth.admin.owners import Acting
from iiniit_auth.models import NEVER, APIKey

SCOPES = {"a:read": "Read A", "b:write": "Write B"}
SEARCH_URL = "/admin/iiniit_auth/apikey/owner-autocomplete/"
#: A superuser, who may issue for anyone (unsaved: these tests need no database for it).
SUPERUSER = User(username="root", is_superuser=True, is_staff=True, is_active=True)


def issue_form(data, actor=SUPERUSER):
    acting = Acting(actor, "iiniit_auth.issue_for_others", SEARCH_URL)
    return IssueForm(data, model=APIKey, admin_site=admin.site, acting=acting)


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


def test_the_owner_is_searched_through_the_admins_own_owner_search(db):
    widget = issue_form(None).fields["owner"].widget
    assert isinstance(widget, AutocompleteSelect)
    assert f'data-ajax--url="{SEARCH_URL}"' in str(issue_form(None)["owner"])


def test_a_staff_user_who_may_not_act_for_others_is_offered_themselves_alone(staff_user):
    field = issue_form(None, staff_user).fields["owner"]
    assert type(field.widget) is forms.Select
    assert list(field.widget.choices) == [(staff_user.pk, staff_user.username)]
    assert field.initial == staff_user.pk
    assert "“Can issue and rotate API keys of other users”" in field.help_text


@pytest.fixture
def staff_user(django_user_model):
    """A staff user without any permission to act for others."""
    return django_user_model.objects.create_user("desk", "desk@example.com", "x", is_staff=True)


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


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-30", "2999-01-01", None])
def test_an_expiry_date_past_100_years_is_refused(user, day):
    # 9999-12-31 overflowed datetime; any date past 100 years overflowed rotating the key.
    day = day or (timezone.localdate() + timedelta(days=36_500)).isoformat()
    data = {"once": "t", "name": "n", "owner": user.pk, "expires_in": "date", "expires_on": day}
    form = issue_form(data)
    assert not form.is_valid()
    assert form.errors["expires_on"] == [
        "The date is too far ahead: a key lives at most 100 years."
    ]


def test_an_expiry_date_just_within_100_years_is_accepted(user):
    day = timezone.localdate() + timedelta(days=36_499)
    form = valid(user, expires_in="date", expires_on=day.isoformat())
    assert timezone.localtime(form.issue_arguments()["expires_at"]).date() == day + timedelta(1)


# A key-shaped value never issued (nothing checks its checksum here).
PASTED_KEY = "iik_" + "K" * keys.BODY_LENGTH


@pytest.mark.parametrize(
    "owner",
    ["abc", "1.5", "é", "\x00", "99999999999999999999999", "-99999999999999999999999", PASTED_KEY],
    ids=["letters", "fraction", "accent", "nul", "huge", "huge negative", "pasted key"],
)
@pytest.mark.parametrize("searchable", [True, False], ids=["search", "themselves alone"])
def test_an_owner_that_is_no_user_id_is_an_error_not_a_crash(staff_user, owner, searchable):
    actor = SUPERUSER if searchable else staff_user
    form = issue_form({"once": "t", "name": "n", "owner": owner, "expires_in": "30d"}, actor)
    assert not form.is_valid()
    # "Select a valid choice." (Django's CharField says "Null characters are not allowed.")
    assert len(form.errors["owner"]) == 1
    html = str(form["owner"])  # Django's autocomplete raised ValueError/OverflowError here
    assert PASTED_KEY not in str(form.errors)
    assert PASTED_KEY not in html


def test_a_valid_owner_stays_selected_when_the_form_is_shown_again(user):
    form = issue_form({"once": "t", "name": "", "owner": user.pk, "expires_in": "30d"})
    assert not form.is_valid()
    assert f'<option value="{user.pk}" selected>{user.username}</option>' in str(form["owner"])


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
