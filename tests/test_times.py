"""Moments as people read them, with the exact time on hover."""

from datetime import UTC, datetime, timedelta

import pytest

from iiniit_auth.times import exact, moment_html, relative

NOW = datetime(2026, 12, 7, 18, 35, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-20), "just now"),
        (timedelta(days=-3, hours=-4), "3 days ago"),
        (timedelta(days=12, hours=2), "in 12 days"),
        (timedelta(days=45), "in 45 days"),
        (timedelta(days=400), "in 1 year"),
        (timedelta(days=-1, hours=-3), "1 day ago"),
        (timedelta(minutes=-5), "5 minutes ago"),
    ],
)
def test_relative_names_days_or_the_largest_unit(delta, text):
    # Django's own units are joined by a no-break space.
    assert relative(NOW + delta, NOW).replace("\xa0", " ") == text


def test_the_exact_moment_is_in_the_tooltip(settings):
    settings.TIME_ZONE = "UTC"
    html = moment_html(NOW - timedelta(days=3), "never", NOW)
    assert html == (
        '<time datetime="2026-12-04T18:35:00+00:00" title="Dec. 4, 2026, 6:35 p.m." '
        'class="iiniit-time">3 days ago</time>'
    )
    assert exact(NOW) == "Dec. 7, 2026, 6:35 p.m."


def test_no_moment_reads_as_given():
    assert moment_html(None, "never used") == '<span class="quiet">never used</span>'
