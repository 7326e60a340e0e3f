"""Durations as people type them: ``90s``, ``15m``, ``24h``, ``30d``. Pure, no Django.

One whole number and one unit: ``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days. A bare
``0`` means no time at all (``--grace 0``); any other number needs its unit, since ``30`` alone
could mean seconds or days. Units are lowercase only, so ``m`` can never be read as months.
The management command and the admin screens read and write durations through this module,
so a duration means the same thing wherever it is typed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

#: Seconds per unit, largest first (``format_duration`` picks the largest that divides evenly).
UNITS: Final[dict[str, int]] = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}

#: The longest duration accepted: far enough for any key lifetime, near enough that
#: "now + duration" stays a valid datetime and fits every database's timestamp column.
MAX_DURATION: Final = timedelta(days=36_500)

#: How the syntax is described in error messages and help texts.
SYNTAX: Final = "a whole number and a unit (s, m, h or d), e.g. 90s, 15m, 24h, 30d"

# Digits are matched as ASCII [0-9] on purpose: int() also reads other scripts' digits.
# Twelve digits bound the work and are more than MAX_DURATION needs in seconds.
_DURATION = re.compile(r"(?P<number>[0-9]{1,12})(?P<unit>[dhms])")


def parse_duration(text: str) -> timedelta:
    """Return the duration ``text`` describes, e.g. ``"24h"`` -> ``timedelta(hours=24)``.

    Surrounding whitespace is ignored. Raises ``ValueError`` with a message saying what is
    wrong and how to write it: an empty text, a missing or unknown unit, a sign, a fraction,
    or more than :data:`MAX_DURATION`.
    """
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(f"A duration is needed: write {SYNTAX}.")
    if cleaned == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"{_why_invalid(cleaned)} Write {SYNTAX}.")
    seconds = int(match["number"]) * UNITS[match["unit"]]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(
            f"A duration is at most {format_duration(MAX_DURATION)} (100 years); "
            f"{_quoted(cleaned)} is longer."
        )
    return timedelta(seconds=seconds)


def _quoted(text: str) -> str:
    # Echo short input only: a long one may be something pasted into the wrong place.
    return repr(text) if len(text) <= 16 else "The text given"


def _why_invalid(text: str) -> str:
    if text.startswith(("-", "+")):
        return "A duration has no sign (and cannot be negative)."
    if re.fullmatch(r"[0-9]+", text):
        return f"{_quoted(text)} has no unit."
    if re.fullmatch(r"[0-9]+[.,][0-9]*[a-zA-Z]*", text):
        return "A duration is a whole number of its unit: write 90m rather than 1.5h."
    if re.fullmatch(r"[0-9]+[DHMS]", text):
        return f"{_quoted(text)} has an uppercase unit; units are lowercase."
    if re.fullmatch(r"[0-9]{13,}[a-z]", text):
        return "That duration is far too long."
    return f"{_quoted(text)} is not a duration."


def format_duration(duration: timedelta) -> str:
    """Return ``duration`` written the way :func:`parse_duration` reads it: ``36h``, ``90s``, ``0``.

    Uses the largest unit that divides the duration evenly, so
    ``parse_duration(format_duration(d)) == d`` for every whole number of seconds up to
    :data:`MAX_DURATION`. Fractions of a second are dropped. Raises ``ValueError`` for a
    negative duration.
    """
    if duration < timedelta(0):
        raise ValueError("A duration cannot be negative.")
    seconds = duration.days * 86_400 + duration.seconds
    if seconds == 0:
        return "0"
    unit = next(unit for unit, size in UNITS.items() if seconds % size == 0)
    return f"{seconds // UNITS[unit]}{unit}"
