"""Properties of the key format (iiniit_auth.keys): no database."""

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from iiniit_auth import keys
from iiniit_auth.exceptions import MalformedKey

prefixes = st.from_regex(keys.PREFIX, fullmatch=True)
public_ids = st.from_regex(keys.PUBLIC_ID, fullmatch=True)
secrets = st.text(keys.ALPHABET, min_size=keys.SECRET_LENGTH, max_size=keys.SECRET_LENGTH)
#: What a changed character may become: base62 (the likeliest typo), other ASCII, any text.
replacements = st.one_of(
    st.sampled_from(keys.ALPHABET), st.characters(codec="ascii"), st.characters()
)
#: What MalformedKey says, whatever the candidate was.
MESSAGES = {
    "Not a key of this installation (prefix or length).",
    "Not a key of this installation (characters).",
    "Not a key of this installation (checksum).",
}


def a_key(prefix, data):
    """A well-formed key for ``prefix``, drawn (not random) so that Hypothesis can replay and
    shrink what the test draws from it."""
    public_id = data.draw(public_ids, label="public id")
    head = f"{prefix}_{public_id}{data.draw(secrets, label='secret')}"
    key = head + keys.checksum(head)
    assert keys.public_id_of(key, prefix) is not None
    return key


def refused(candidate, prefix):
    """Both checks refuse ``candidate``, the exception-free one and the one that explains."""
    assert keys.public_id_of(candidate, prefix) is None
    with pytest.raises(MalformedKey) as info:
        keys.parse(candidate, prefix)
    # The message is one of three fixed texts, so it never quotes the candidate.
    assert str(info.value) in MESSAGES


@given(prefixes, public_ids)
def test_a_generated_key_parses_back_to_its_public_id(prefix, public_id):
    key = keys.generate(prefix, public_id)
    assert key.public_id == public_id
    assert keys.parse(key.plaintext, prefix) == public_id
    assert keys.public_id_of(key.plaintext, prefix) == public_id
    assert re.fullmatch(rf"{prefix}_{public_id}[0-9A-Za-z]{{34}}", key.plaintext)
    assert keys.KEY_SHAPED.fullmatch(key.plaintext)


@given(prefixes, st.data())
def test_any_one_character_changed_is_refused(prefix, data):
    key = a_key(prefix, data)
    where = data.draw(st.integers(0, len(key) - 1), label="where")
    new = data.draw(replacements.filter(lambda c: c != key[where]), label="new")
    refused(key[:where] + new + key[where + 1 :], prefix)


@given(prefixes, st.data())
def test_any_one_character_added_or_dropped_is_refused(prefix, data):
    key = a_key(prefix, data)
    where = data.draw(st.integers(0, len(key)), label="where")
    new = data.draw(replacements, label="new")
    refused(key[:where] + new + key[where:], prefix)
    gone = data.draw(st.integers(0, len(key) - 1), label="gone")
    refused(key[:gone] + key[gone + 1 :], prefix)


@given(prefixes, st.data())
def test_two_neighbours_swapped_are_refused(prefix, data):
    key = a_key(prefix, data)
    where = data.draw(st.integers(0, len(key) - 2), label="where")
    assume(key[where] != key[where + 1])
    refused(key[:where] + key[where + 1] + key[where] + key[where + 2 :], prefix)


@given(prefixes, prefixes, st.data())
def test_a_key_of_another_prefix_is_refused(prefix, other, data):
    assume(other != prefix)
    refused(a_key(other, data), prefix)


@given(st.text(max_size=keys.MAX_KEY_LENGTH + 8), prefixes)
def test_any_text_is_a_public_id_or_malformed(text, prefix):
    # Never another exception, and the two checks agree.
    found = keys.public_id_of(text, prefix)
    if found is None:
        refused(text, prefix)
    else:
        assert keys.parse(text, prefix) == found
