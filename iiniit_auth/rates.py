"""Rates as people write them: ``100/min``, ``10/s``, ``5000/day``. Pure, no Django.

One whole number of requests, a slash, and a period: ``s`` (``sec``, ``second``), ``m``
(``min``, ``minute``), ``h`` (``hour``) or ``d`` (``day``), singular or plural. The settings,
the key and application fields, admin and the management command read rates through this
module, so a rate means the same thing wherever it is typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: Seconds per period, by every name accepted.
PERIODS: Final[dict[str, int]] = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3_600,
    "hour": 3_600,
    "d": 86_400,
    "day": 86_400,
}

#: How the syntax is described in error messages and help texts.
SYNTAX: Final = (
    "a whole number of requests, a slash and a period (s, min, hour or day), e.g. 100/min"
)
#: The longest text of a rate (the column's length).
MAX_LENGTH: Final = 32
#: The most requests a rate may allow per period.
MAX_REQUESTS: Final = 10**9

# ASCII digits on purpose: int() also reads other scripts' digits.
_RATE = re.compile(r"(?P<number>[0-9]{1,10}) */ *(?P<period>[a-z]+?)s?")


@dataclass(frozen=True)
class Rate:
    """``requests`` per ``seconds``; ``str()`` gives the canonical text, e.g. ``100/min``."""

    requests: int
    seconds: int

    def __str__(self) -> str:
        name = {1: "s", 60: "min", 3_600: "hour", 86_400: "day"}[self.seconds]
        return f"{self.requests}/{name}"


def parse_rate(text: str) -> Rate:
    """Return the :class:`Rate` ``text`` describes, e.g. ``"100/min"`` -> ``Rate(100, 60)``.

    Case and surrounding whitespace are ignored. Raises ``ValueError`` with a message saying
    what is wrong and how to write it: an empty text, no slash, an unknown period, a number
    that is not a whole number from 1 to a billion.
    """
    cleaned = text.strip().lower() if isinstance(text, str) else ""
    if not cleaned:
        raise ValueError(f"A rate is needed: write {SYNTAX}.")
    if len(cleaned) > MAX_LENGTH:
        raise ValueError(f"A rate is at most {MAX_LENGTH} characters: write {SYNTAX}.")
    found = _RATE.fullmatch(cleaned)
    if found is None:
        if "/" not in cleaned:
            raise ValueError(f"A rate needs a slash between number and period: write {SYNTAX}.")
        # The text is not repeated: whatever was typed may be a key pasted into the wrong field.
        raise ValueError(f"That is not a rate: write {SYNTAX}.")
    period = PERIODS.get(found["period"])
    if period is None:
        raise ValueError(
            f"{found['period']!r} is not a period: use s, min, hour or day, e.g. 100/min."
        )
    number = int(found["number"])
    if not 1 <= number <= MAX_REQUESTS:
        raise ValueError(f"A rate allows from 1 to {MAX_REQUESTS} requests per period.")
    return Rate(number, period)


def normalize_rate(text: str | None) -> str:
    """Return the canonical text of a rate (``""`` for none given). Raises like :func:`parse_rate`."""
    if text is None or not str(text).strip():
        return ""
    return str(parse_rate(str(text)))
