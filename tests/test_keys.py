"""iiniit_auth.keys: the key format, checksum and digest. Pure functions: no database."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import string
import zlib

import pytest

from iiniit_auth import keys
from iiniit_auth.exceptions import MalformedKey

PREFIX = "iik"
PEPPER = b"p" * 32
#: The alphabet written out independently of the module, so a changed ALPHABET fails here.
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def b62(number: int, width: int) -> str:
    """Base62, most significant digit first, zero-padded: the test's own encoder."""
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    assert number == 0, "value does not fit the width"
    return "".join(reversed(digits))


@pytest.fixture
def key():
    return keys.generate(PREFIX).plaintext


def refused(candidate, prefix=PREFIX, secret=None):
    """Assert ``parse`` refuses ``candidate`` and its message quotes neither it nor ``secret``;
    and that ``public_id_of``, the check requests run, refuses it too."""
    assert keys.public_id_of(candidate, prefix) is None
    with pytest.raises(MalformedKey) as info:
        keys.parse(candidate, prefix)
    shown = " ".join([str(info.value), repr(info.value), *map(str, info.value.args)])
    # A short fragment could appear in any sentence by chance; ten characters cannot.
    if len(candidate) >= 10:
        assert candidate not in shown
    if secret is not None:
        assert secret not in shown
    return info.value


# -- format ------------------------------------------------------------------------------------


def test_lengths_of_the_parts():
    assert keys.PUBLIC_ID_LENGTH == 10
    assert keys.SECRET_LENGTH == 28
    assert keys.CHECKSUM_LENGTH == 6
    assert keys.BODY_LENGTH == 44


def test_alphabet_is_base62():
    assert keys.ALPHABET == BASE62
    assert len(set(keys.ALPHABET)) == 62


def test_secret_has_at_least_160_bits_of_entropy():
    bits = keys.SECRET_LENGTH * math.log2(len(set(keys.ALPHABET)))
    assert bits >= 160


def test_checksum_width_holds_every_crc32():
    # Zero-padded base62 of width 6 is one-to-one on 32-bit values, so no two CRCs collide.
    assert 62**keys.CHECKSUM_LENGTH > 2**32


def test_generated_key_format():
    new = keys.generate(PREFIX)
    assert re.fullmatch(r"iik_[0-9A-Za-z]{44}", new.plaintext)
    assert len(new.plaintext) == len(PREFIX) + 1 + 44
    assert re.fullmatch(r"[0-9A-Za-z]{10}", new.public_id)
    body = new.plaintext[len(PREFIX) + 1 :]
    assert body[:10] == new.public_id
    assert len(body[10:38]) == 28
    assert body[38:] == keys.checksum(new.plaintext[:-6])


def test_generated_key_with_other_prefix():
    new = keys.generate("mycompany")
    assert re.fullmatch(r"mycompany_[0-9A-Za-z]{44}", new.plaintext)
    assert keys.parse(new.plaintext, "mycompany") == new.public_id


def test_longest_prefix_fits_max_key_length():
    new = keys.generate("a" * 16)
    assert len(new.plaintext) == keys.MAX_KEY_LENGTH


def test_generate_with_given_public_id():
    new = keys.generate(PREFIX, public_id="ABCDEFGHIJ")
    assert new.public_id == "ABCDEFGHIJ"
    assert new.plaintext.startswith("iik_ABCDEFGHIJ")
    assert keys.parse(new.plaintext, PREFIX) == "ABCDEFGHIJ"


@pytest.mark.parametrize("public_id", ["ABCDEFGHI", "ABCDEFGHIJK", "ABCDEFGHI-", "ABCDEFGHIé"])
def test_generate_refuses_bad_public_id(public_id):
    with pytest.raises(ValueError, match="10 base62"):
        keys.generate(PREFIX, public_id=public_id)


def test_new_public_id_format():
    assert re.fullmatch(r"[0-9A-Za-z]{10}", keys.new_public_id())


def test_generated_keys_and_public_ids_differ():
    draws = [keys.generate(PREFIX) for _ in range(1000)]
    assert len({new.plaintext for new in draws}) == len(draws)
    assert len({new.public_id for new in draws}) == len(draws)
    # Secrets differ too, not only the public ids in front of them.
    assert len({new.plaintext[14:42] for new in draws}) == len(draws)


def test_secrets_use_the_whole_alphabet():
    # 28,000 uniform draws miss one of 62 characters with probability about 62 * e**-450.
    seen = set()
    for _ in range(1000):
        seen.update(keys.generate(PREFIX).plaintext[14:42])
    assert seen == set(BASE62)


def test_mask_shows_public_id_only(key):
    public_id = keys.parse(key, PREFIX)
    masked = keys.mask(public_id, PREFIX)
    assert masked == f"iik_{public_id}…"
    assert key[14:42] not in masked


# -- parse -------------------------------------------------------------------------------------


def test_parse_round_trip():
    for _ in range(200):
        new = keys.generate(PREFIX)
        assert keys.parse(new.plaintext, PREFIX) == new.public_id
        assert keys.public_id_of(new.plaintext, PREFIX) == new.public_id


def test_wrong_prefix_refused(key):
    refused(key, prefix="abc", secret=key[14:42])
    refused(key, prefix="iikx", secret=key[14:42])
    refused(key, prefix="ii", secret=key[14:42])


def test_key_of_other_prefix_refused():
    # Same length as "iik", so only the prefix itself can tell them apart.
    other = keys.generate("abc").plaintext
    refused(other, secret=other[14:42])


def test_upper_case_prefix_refused(key):
    refused("IIK" + key[3:], secret=key[14:42])


@pytest.mark.parametrize("separator", ["-", ".", ":", "0", " "])
def test_other_separator_refused(key, separator):
    refused(key[:3] + separator + key[4:], secret=key[14:42])


def test_every_truncation_refused(key):
    for length in range(len(key)):
        refused(key[:length], secret=key[14:42] if length > 42 else None)


@pytest.mark.parametrize("extra", ["0", "a", "Z", "_", " ", "\n", "é"])
def test_one_extra_character_refused(key, extra):
    refused(key + extra, secret=key[14:42])
    refused(extra + key)
    refused(key[:20] + extra + key[20:])


def test_every_single_character_change_refused(key):
    for position, original in enumerate(key):
        for replacement in BASE62 + "_":
            if replacement == original:
                continue
            candidate = key[:position] + replacement + key[position + 1 :]
            error = refused(candidate)
            if position >= len(PREFIX) + 1 and replacement != "_":
                # A base62 change in the body keeps form and length: the checksum catches it.
                assert "checksum" in str(error)


def test_single_character_change_refused_across_many_keys():
    for _ in range(50):
        key = keys.generate(PREFIX).plaintext
        for position in range(len(PREFIX) + 1, len(key)):
            replacement = BASE62[(BASE62.index(key[position]) + 1) % 62]
            refused(key[:position] + replacement + key[position + 1 :])


def test_adjacent_transposition_refused(key):
    for position in range(len(PREFIX) + 1, len(key) - 1):
        if key[position] == key[position + 1]:
            continue
        swapped = key[:position] + key[position + 1] + key[position] + key[position + 2 :]
        refused(swapped)


@pytest.mark.parametrize("bad", ["-", "_", "+", "/", "=", " ", "\t", "\x00", "%", "!"])
def test_non_base62_character_refused(key, bad):
    for position in (4, 20, len(key) - 1):
        refused(key[:position] + bad + key[position + 1 :], secret=None)


def with_checksum(head):
    """``head`` followed by the checksum keys.py computes, by the test's own encoder."""
    return head + b62(zlib.crc32(head.encode("ascii")), keys.CHECKSUM_LENGTH)


@pytest.mark.parametrize("bad", ["-", "_", "+", "/", "=", ".", "~", " ", "%", "!"])
def test_non_base62_character_refused_even_with_a_matching_checksum(key, bad):
    # The checksum cannot be what refuses these: anyone can compute a CRC32.
    cut = len(PREFIX) + 1 + keys.PUBLIC_ID_LENGTH + keys.SECRET_LENGTH
    for position in (4, 13, 14, 20, cut - 1):
        candidate = with_checksum(key[:position] + bad + key[position + 1 : cut])
        assert len(candidate) == len(key)
        error = refused(candidate)
        assert "characters" in str(error)


@pytest.mark.parametrize("separator", ["-", ".", "~", "0", "a"])
def test_other_separator_refused_even_with_a_matching_checksum(key, separator):
    cut = len(PREFIX) + 1 + keys.PUBLIC_ID_LENGTH + keys.SECRET_LENGTH
    candidate = with_checksum(PREFIX + separator + key[len(PREFIX) + 1 : cut])
    assert len(candidate) == len(key)
    error = refused(candidate, secret=key[14:42])
    assert "prefix or length" in str(error)


# Latin, Arabic-Indic digit, fullwidth letter, Kelvin sign (folds to "k"), dotless i, a
# lone surrogate, a zero-width space: none is base62, and none may reach the ASCII encoder.
NON_ASCII = ["é", "\u0663", "\uff21", "\u212a", "\u0131", "\ud800", "\u200b"]


@pytest.mark.parametrize("char", NON_ASCII)
def test_non_ascii_character_refused(key, char):
    for position in (0, 2, 4, 20, len(key) - 1):
        refused(key[:position] + char + key[position + 1 :])


def test_empty_and_oversized_refused(key):
    refused("")
    refused(" ")
    refused("iik_")
    refused(key * 200)
    refused(" " + key[1:])
    refused(key[:-1] + "\n")


def test_malformed_message_never_contains_the_key(key):
    secret = key[14:42]
    samples = [
        key[:-1],
        key + "0",
        key[:-1] + ("0" if key[-1] != "0" else "1"),
        key[:20] + "-" + key[21:],
        key[:20] + "é" + key[21:],
        "abc" + key[3:],
    ]
    for candidate in samples:
        error = refused(candidate, secret=secret)
        assert error.__cause__ is None
        assert error.__context__ is None


# -- checksum ----------------------------------------------------------------------------------


def test_checksum_is_base62_crc32_of_the_head(key):
    head = key[:-6]
    assert key[-6:] == b62(zlib.crc32(head.encode("ascii")), 6)
    assert keys.checksum(head) == b62(zlib.crc32(head.encode("ascii")), 6)


@pytest.mark.parametrize("text", ["", "a", "iik_", "iik_0000000000", "mycompany_" + "z" * 38])
def test_checksum_known_values(text):
    expected = b62(zlib.crc32(text.encode("ascii")), 6)
    assert keys.checksum(text) == expected
    assert len(keys.checksum(text)) == 6


def test_checksum_is_zero_padded():
    # crc32(b"") is 0, so every one of the six places is padding.
    assert keys.checksum("") == "000000"
    # Find heads whose CRC is small enough to need padding, and check the padding.
    padded = 0
    for number in range(2_000):
        text = f"iik_{number}"
        crc = zlib.crc32(text.encode("ascii"))
        if crc < 62**5:
            assert keys.checksum(text) == "0" + b62(crc, 5)
            padded += 1
    assert padded > 0


# -- digest and matches ------------------------------------------------------------------------


def test_digest_without_pepper_is_sha256_hex(key):
    expected = hashlib.sha256(key.encode("ascii")).hexdigest()
    assert keys.digest(key, None) == expected
    assert re.fullmatch(r"[0-9a-f]{64}", keys.digest(key, None))


def test_digest_with_pepper_is_hmac_sha256_hex(key):
    expected = hmac.new(PEPPER, key.encode("ascii"), hashlib.sha256).hexdigest()
    assert keys.digest(key, PEPPER) == expected
    assert re.fullmatch(r"[0-9a-f]{64}", keys.digest(key, PEPPER))


def test_pepper_changes_the_digest(key):
    plain = keys.digest(key, None)
    peppered = keys.digest(key, PEPPER)
    other = keys.digest(key, b"q" * 32)
    assert len({plain, peppered, other}) == 3


def test_digest_does_not_contain_the_key(key):
    assert key not in keys.digest(key, None)
    assert key[14:42] not in keys.digest(key, PEPPER)


def test_digest_is_deterministic(key):
    assert keys.digest(key, None) == keys.digest(key, None)
    assert keys.digest(key, PEPPER) == keys.digest(key, PEPPER)


def test_matches(key):
    other = keys.generate(PREFIX).plaintext
    stored = keys.digest(key, None)
    assert keys.matches(key, stored, None) is True
    assert keys.matches(other, stored, None) is False
    assert keys.matches(key, "", None) is False
    assert keys.matches(key, stored.upper(), None) is False


def test_matches_with_pepper(key):
    stored = keys.digest(key, PEPPER)
    assert keys.matches(key, stored, PEPPER) is True
    assert keys.matches(key, stored, None) is False
    assert keys.matches(key, stored, b"q" * 32) is False
    assert keys.matches(key, keys.digest(key, None), PEPPER) is False
