"""The lifetimes people choose from: bounded by a longest one, with the default marked."""

from datetime import timedelta

import pytest

from iiniit_auth.lifetimes import expiry_choices, lifetime_label


@pytest.mark.parametrize(
    ("default", "longest", "initial", "values"),
    [
        (timedelta(days=90), None, "90d", ["30d", "90d", "365d", "never"]),
        (timedelta(days=90), timedelta(days=365), "90d", ["30d", "90d", "365d"]),
        (timedelta(days=90), timedelta(days=60), "60d", ["30d", "60d"]),
        (None, timedelta(days=180), "180d", ["30d", "90d", "180d"]),
        (None, None, "never", ["30d", "90d", "365d", "never"]),
        (timedelta(hours=36), timedelta(days=7), "36h", ["36h", "7d"]),
    ],
)
def test_nothing_longer_than_the_longest_is_offered(settings, default, longest, initial, values):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "DEFAULT_KEY_LIFETIME": default}
    choices, chosen = expiry_choices(longest=longest)
    assert chosen == initial
    assert [value for value, _label in choices] == values
    marked = [label for value, label in choices if label.endswith("(default)")]
    assert marked == [label for value, label in choices if value == initial]


def test_extra_choices_come_last():
    choices, _initial = expiry_choices(extra=[("date", "On a date")])
    assert choices[-1] == ("date", "On a date")


def test_whole_days_read_as_days():
    assert lifetime_label("1d") == "1 day"
    assert lifetime_label("30d") == "30 days"
    assert lifetime_label("36h") == "36h"


def test_the_maximum_lifetime_bounds_every_offer(settings):
    settings.IINIIT_AUTH = {
        **settings.IINIIT_AUTH,
        "DEFAULT_KEY_LIFETIME": timedelta(days=30),
        "MAX_KEY_LIFETIME": timedelta(days=90),
    }
    offered, initial = expiry_choices()
    assert [value for value, _label in offered] == ["30d", "90d"]
    assert initial == "30d"
    offered, _initial = expiry_choices(longest=timedelta(days=365))
    assert [value for value, _label in offered] == ["30d", "90d"]
