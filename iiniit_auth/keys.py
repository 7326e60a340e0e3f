"""The key format: generate, parse, checksum, digest, compare. Pure functions, no ORM.

A key reads ``<prefix>_<body>``, e.g. ``iik_3xY…``. The body is 44 base62 characters:

=========  ======  ===========================================================
part       chars   what it is
=========  ======  ===========================================================
public id  10      the indexed lookup value; not secret, shown in admin and logs
secret     28      ``secrets``-random, 28 x log2(62) = 166 bits
checksum   6       CRC32 of everything before it, base62, zero-padded
=========  ======  ===========================================================

The checksum lets a typo, a truncated paste or a fabricated key be refused without a database
query, and the fixed prefix and length let secret scanners match ``<prefix>_[0-9A-Za-z]{44}``.
The secret is high-entropy, so the server keeps only a fast digest (SHA-256, or HMAC-SHA-256
with a pepper); a slow password hash would protect nothing more and cost every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from typing import NamedTuple

from django.views.decorators.debug import sensitive_variables

from iiniit_auth.exceptions import MalformedKey

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PUBLIC_ID_LENGTH = 10
SECRET_LENGTH = 28
CHECKSUM_LENGTH = 6
BODY_LENGTH = PUBLIC_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH
#: The longest key any valid prefix can produce; longer input is refused unread.
MAX_KEY_LENGTH = 16 + 1 + BODY_LENGTH

_BODY = re.compile(rf"[0-9A-Za-z]{{{BODY_LENGTH}}}")
#: A key's public id (what admin, logs and commands name a key by).
PUBLIC_ID = re.compile(rf"[0-9A-Za-z]{{{PUBLIC_ID_LENGTH}}}")
#: A key prefix (``KEY_PREFIX``): 2-16 lowercase letters and digits, starting with a letter.
PREFIX = re.compile(r"[a-z][a-z0-9]{1,15}")
#: Anything shaped like a key of any prefix. Deliberately loose (no word boundaries, any
#: checksum): a key with one character mistyped or appended still reveals almost all its secret.
KEY_SHAPED = re.compile(rf"{PREFIX.pattern}_[0-9A-Za-z]{{{BODY_LENGTH}}}")


class NewKey(NamedTuple):
    """A freshly generated key: the plaintext (show it once) and its public id."""

    plaintext: str
    public_id: str


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


#: Every pair of base62 digits, by value (0 to 62**2 - 1): a checksum is three of them.
_PAIRS = tuple(a + b for a in ALPHABET for b in ALPHABET)
_PAIR = len(_PAIRS)


def checksum(text: str) -> str:
    """Return the 6-character base62 CRC32 of ``text``."""
    # Three table lookups rather than six divisions: every request with a key runs this.
    high, low = divmod(zlib.crc32(text.encode("ascii")), _PAIR)
    high, middle = divmod(high, _PAIR)
    return _PAIRS[high] + _PAIRS[middle] + _PAIRS[low]


def new_public_id() -> str:
    """Return a random public id (10 base62 characters, about 59 bits)."""
    return _random(PUBLIC_ID_LENGTH)


@sensitive_variables("secret", "head")
def generate(prefix: str, public_id: str | None = None) -> NewKey:
    """Return a new random key for ``prefix``; ``public_id`` is random unless given.

    Raises ``ValueError`` for a public id that is not 10 base62 characters.
    """
    public_id = public_id or new_public_id()
    if not PUBLIC_ID.fullmatch(public_id):
        raise ValueError("A public id is 10 base62 characters.")
    secret = _random(SECRET_LENGTH)
    head = f"{prefix}_{public_id}{secret}"
    return NewKey(head + checksum(head), public_id)


@sensitive_variables("key")
def public_id_of(key: str, prefix: str) -> str | None:
    """Return the public id of ``key``, or None when its prefix, length, alphabet or checksum is
    wrong. The check every request with a key runs: no exception, no regular expression, no
    database."""
    start = len(prefix) + 1
    cut = start + PUBLIC_ID_LENGTH + SECRET_LENGTH
    if (
        len(key) == cut + CHECKSUM_LENGTH
        and key.startswith(prefix)
        and key[start - 1] == "_"
        and key.isascii()
        and key[start:].isalnum()  # ASCII letters and digits: base62
        and checksum(key[:cut]) == key[cut:]  # not secret: anyone can compute a CRC
    ):
        return key[start : start + PUBLIC_ID_LENGTH]
    return None


@sensitive_variables("key")
def parse(key: str, prefix: str) -> str:
    """Check the form and checksum of ``key`` and return its public id.

    Raises :class:`MalformedKey` (its message never quotes the key) when the prefix, length,
    alphabet or checksum is wrong. Touches no database. :func:`public_id_of` is the same check
    without the exception.
    """
    found = public_id_of(key, prefix)
    if found is not None:
        return found
    start = len(prefix) + 1
    if len(key) != start + BODY_LENGTH or not key.startswith(prefix) or key[start - 1] != "_":
        raise MalformedKey("Not a key of this installation (prefix or length).")
    if not _BODY.fullmatch(key, start):
        raise MalformedKey("Not a key of this installation (characters).")
    raise MalformedKey("Not a key of this installation (checksum).")


@sensitive_variables("key")
def digest(key: str, pepper: bytes | None) -> str:
    """Return the hex digest stored for ``key``: SHA-256, or HMAC-SHA-256 keyed by ``pepper``."""
    data = key.encode("ascii")
    if pepper is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(pepper, data, hashlib.sha256).hexdigest()


@sensitive_variables("key")
def matches(key: str, stored_digest: str, pepper: bytes | None) -> bool:
    """Return whether ``key`` has ``stored_digest``, compared in constant time."""
    return hmac.compare_digest(digest(key, pepper), stored_digest)


def mask(public_id: str, prefix: str) -> str:
    """Return the printable, non-secret form of a key: ``iik_<public id>…``."""
    return f"{prefix}_{public_id}…"


def words_of_prefix(prefix: str) -> re.Pattern[str]:
    """The words of a text that start with ``prefix_`` (a key, or the start of one, as typed
    into a search box); group 1 is the rest of the word, its public id first."""
    return re.compile(rf"(?<![^\s\"',]){re.escape(prefix)}_([0-9A-Za-z]+)")
