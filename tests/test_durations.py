"""The duration parser: pure, no database."""

import re
from datetime import timedelta

import pytest

from iiniit_auth.durations import MAX_DURATION, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("30d", timedelta(days=30)),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
        ("0d", timedelta(0)),
        ("  7d\n", timedelta(days=7)),
        ("007m", timedelta(minutes=7)),
        ("36500d", MAX_DURATION),
    ],
)
def test_parse_reads_a_number_and_a_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "A duration is needed"),
        ("   ", "A duration is needed"),
        ("30", "'30' has no unit"),
        ("-5m", "no sign"),
        ("+5m", "no sign"),
        ("1.5h", "whole number"),
        ("1,5h", "whole number"),
        ("24H", "uppercase"),
        ("5M", "uppercase"),
        ("2w", "is not a duration"),
        ("1h30m", "is not a duration"),
        ("5 m", "is not a duration"),
        ("m", "is not a duration"),
        ("٣d", "is not a duration"),  # an Arabic-Indic digit: int() would read it, we do not
        ("36501d", "at most 36500d"),
        ("9999999999999d", "far too long"),
    ],
)
def test_parse_refuses_with_a_message_saying_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=re.escape(says)) as excinfo:
        parse_duration(text)
    message = str(excinfo.value)
    if text.strip():
        assert "90s, 15m, 24h, 30d" in message or "at most" in message


def test_parse_does_not_echo_long_input():
    pasted = "iik_" + "A" * 44
    with pytest.raises(ValueError, match="not a duration") as excinfo:
        parse_duration(pasted)
    assert pasted not in str(excinfo.value)
    assert "A" * 17 not in str(excinfo.value)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "0"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=30), "30d"),
        (timedelta(days=1, seconds=1), "86401s"),
        (timedelta(seconds=90, microseconds=999_999), "90s"),
        (timedelta(microseconds=1), "0"),
        (MAX_DURATION, "36500d"),
    ],
)
def test_format_uses_the_largest_unit_that_divides_evenly(duration, text):
    assert format_duration(duration) == text


@pytest.mark.parametrize(
    "duration",
    [
        timedelta(0),
        timedelta(seconds=1),
        timedelta(seconds=59),
        timedelta(minutes=61),
        timedelta(hours=25),
        timedelta(days=1, hours=1, minutes=1, seconds=1),
        timedelta(days=365),
        MAX_DURATION,
    ],
)
def test_format_and_parse_round_trip(duration):
    assert parse_duration(format_duration(duration)) == duration


def test_format_refuses_a_negative_duration():
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))
