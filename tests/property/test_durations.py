"""Properties of durations as people type them (iiniit_auth.durations): no database."""

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iiniit_auth.durations import MAX_DURATION, SYNTAX, format_duration, parse_duration

#: The units, written out here rather than read from the module, so a changed unit fails.
SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
#: The whole syntax: a bare 0, or up to twelve ASCII digits and one lowercase unit.
WRITTEN = re.compile(r"0|[0-9]{1,12}[smhd]")
MAX_SECONDS = int(MAX_DURATION.total_seconds())

whole_durations = st.integers(0, MAX_SECONDS).map(lambda n: timedelta(seconds=n))
spaces = st.text(" \t\n\r", max_size=3)
#: Text near the syntax (digits of any script, signs, points, units of either case) and any text.
near_misses = st.text(
    st.one_of(
        st.sampled_from("0123456789smhdSMHDy+-.,_ "),
        st.characters(categories=["Nd"]),
    ),
    max_size=16,
)
#: Digits of any script with a unit: int() reads "٣" as 3, the syntax does not.
other_digits = st.builds(
    "{}{}".format,
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=3),
    st.sampled_from("smhd"),
)
#: Longer than a duration is ever written: never repeated in a message.
long_texts = st.one_of(
    st.text(min_size=17, max_size=40), st.text("0123456789", min_size=17, max_size=30)
)
texts = st.one_of(near_misses, other_digits, long_texts, st.text(max_size=40))


@given(whole_durations)
def test_format_then_parse_is_the_same_duration(duration):
    written = format_duration(duration)
    assert WRITTEN.fullmatch(written)
    assert parse_duration(written) == duration


@given(whole_durations)
def test_format_uses_the_largest_unit_that_divides(duration):
    written = format_duration(duration)
    seconds = int(duration.total_seconds())
    if seconds:
        size = SECONDS[written[-1]]
        assert int(written[:-1]) * size == seconds
        assert all(seconds % bigger for bigger in SECONDS.values() if bigger > size)


@given(st.timedeltas(min_value=timedelta(0), max_value=MAX_DURATION))
def test_format_drops_fractions_of_a_second(duration):
    whole = timedelta(seconds=int(duration.total_seconds()))
    assert parse_duration(format_duration(duration)) == whole


@given(st.timedeltas(max_value=-timedelta(microseconds=1)))
def test_a_negative_duration_cannot_be_written(duration):
    with pytest.raises(ValueError, match="cannot be negative"):
        format_duration(duration)


@given(st.integers(0, 10**12 - 1), st.sampled_from("smhd"), spaces, spaces)
def test_a_number_and_a_unit_read_as_their_product(number, unit, before, after):
    seconds = number * SECONDS[unit]
    text = f"{before}{number}{unit}{after}"
    if seconds > MAX_SECONDS:
        with pytest.raises(ValueError, match=r"^A duration is at most 36500d \(100 years\)"):
            parse_duration(text)
    else:
        assert parse_duration(text) == timedelta(seconds=seconds)


@given(texts)
def test_any_text_is_a_duration_or_the_documented_error(text):
    # Never another exception; a long text is never repeated in the message (it may be
    # something pasted into the wrong place).
    cleaned = text.strip()
    try:
        duration = parse_duration(text)
    except ValueError as exc:
        message = str(exc)
        assert SYNTAX in message or message.startswith("A duration is at most 36500d")
        if len(cleaned) > 16:
            assert repr(cleaned) not in message
        too_long = WRITTEN.fullmatch(cleaned) and cleaned != "0"
        assert not too_long or int(cleaned[:-1]) * SECONDS[cleaned[-1]] > MAX_SECONDS
    else:
        assert WRITTEN.fullmatch(cleaned)
        assert timedelta(0) <= duration <= MAX_DURATION
