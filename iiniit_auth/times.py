"""Moments as people read them: "3 days ago", "in 12 days", with the exact time on hover.

Admin and the developer portal show times the same way, from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext, ngettext

if TYPE_CHECKING:  # django-stubs-ext is a lint dependency only
    from django_stubs_ext import StrOrPromise

#: Closer than this to now is "just now" rather than "0 minutes ago".
JUST_NOW: Final = timedelta(minutes=1)
#: Between these, a distance is said in days ("12 days"), else in its largest unit.
DAYS_FROM: Final = timedelta(days=2)
DAYS_UNTIL: Final = timedelta(days=60)


def exact(moment: datetime) -> str:
    """``moment`` in the current time zone, in the locale's long date-and-time format."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def relative(moment: datetime, now: datetime | None = None) -> str:
    """``moment`` from ``now``: "3 days ago", "in 12 days", "just now" (the largest unit only)."""
    now = now or timezone.now()
    distance = abs(moment - now)
    if distance < JUST_NOW:
        return gettext("just now")
    if DAYS_FROM <= distance < DAYS_UNTIL:
        # Days, not "1 week": an expiry is planned by the day.
        delta = ngettext("%(n)d day", "%(n)d days", distance.days) % {"n": distance.days}
    elif moment < now:
        delta = timesince(moment, now, depth=1)
    else:
        delta = timeuntil(moment, now, depth=1)
    if moment < now:
        return gettext("%(delta)s ago") % {"delta": delta}
    return gettext("in %(delta)s") % {"delta": delta}


def moment_html(
    moment: datetime | None, empty: StrOrPromise, now: datetime | None = None
) -> SafeString:
    """A ``<time>`` reading :func:`relative`, the exact moment in its tooltip; ``empty`` if None."""
    if moment is None:
        return format_html('<span class="quiet">{}</span>', empty)
    return format_html(
        '<time datetime="{}" title="{}" class="iiniit-time">{}</time>',
        moment.isoformat(),
        exact(moment),
        relative(moment, now),
    )
