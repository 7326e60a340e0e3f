"""The key lifetimes and grace periods people choose from, in admin and in the portal.

Choice values are durations as :mod:`iiniit_auth.durations` writes them (``30d``), or
``"never"``; the offer starts from ``DEFAULT_KEY_LIFETIME``, so a project's default is always
among the choices and marked as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import format_duration, parse_duration

NEVER_CHOICE: Final = "never"
#: The lifetimes offered besides the configured default, as ``iiniit_auth.durations`` writes them.
LIFETIMES: Final = ("30d", "90d", "365d")
#: The grace periods offered when rotating: "0" retires the old key at once.
GRACE_CHOICES: Final = (
    ("0", _("None: the old key stops working now")),
    ("1h", _("1 hour")),
    ("24h", _("24 hours")),
    ("7d", _("7 days")),
)


def lifetime_label(text: str) -> str:
    """``"30d"`` as people read it (``"30 days"``); other durations as written."""
    duration = parse_duration(text)
    if duration.seconds == 0 and duration.microseconds == 0:
        return ngettext("%(n)d day", "%(n)d days", duration.days) % {"n": duration.days}
    return text


def expiry_choices(
    *, longest: timedelta | None = None, extra: Sequence[tuple[str, str]] = ()
) -> tuple[list[tuple[str, str]], str]:
    """Return the expiry choices and the initial one, marked "(default)".

    Offered: :data:`LIFETIMES` and ``DEFAULT_KEY_LIFETIME``, none longer than ``longest`` or
    ``MAX_KEY_LIFETIME`` (the shorter is offered itself), then "Never" unless there is either,
    then ``extra``. The
    initial choice is the default lifetime, or ``longest`` where the default is longer.
    """
    ceiling = auth_settings().MAX_KEY_LIFETIME
    if ceiling is not None and (longest is None or longest > ceiling):
        longest = ceiling
    lifetime = auth_settings().DEFAULT_KEY_LIFETIME
    if longest is not None and (lifetime is None or lifetime > longest):
        lifetime = longest
    default = NEVER_CHOICE if lifetime is None else format_duration(lifetime)
    values = [value for value in LIFETIMES if longest is None or parse_duration(value) <= longest]
    for value in (default, format_duration(longest) if longest is not None else None):
        if value is not None and value not in (*values, NEVER_CHOICE):
            values.append(value)
    values.sort(key=parse_duration)
    choices = [(value, lifetime_label(value)) for value in values]
    if longest is None:
        choices.append((NEVER_CHOICE, str(_("Never"))))
    choices += extra
    marked = [
        (value, str(_("%(label)s (default)") % {"label": label}) if value == default else label)
        for value, label in choices
    ]
    return marked, default
