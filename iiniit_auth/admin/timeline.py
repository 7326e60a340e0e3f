"""The keys that expire in the coming days, drawn as bars on the server (SVG, no script).

One bar a day, as tall as the number of keys that stop working that day (in the current time
zone); each bar links to the key list filtered to that day. One query, whatever the number of
keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from iiniit_auth.models import APIKey
from iiniit_auth.models.managers import authenticating

#: How many days ahead the timeline looks.
DAYS: Final = 30
#: The drawing's size, in the SVG's own units (it scales to the page's width).
WIDTH: Final = 600
HEIGHT: Final = 120
#: Room under the bars for the date labels.
AXIS: Final = 18
#: A label under every this many bars.
LABEL_EVERY: Final = 7


@dataclass(frozen=True)
class Bar:
    """One day: where its bar stands, how many keys expire that day, where the bar links."""

    day: date
    count: int
    x: float
    y: float
    width: float
    height: float
    url: str
    title: str
    label: str


@dataclass(frozen=True)
class Timeline:
    """The bars of the next ``DAYS`` days, and the drawing's text for screen readers."""

    bars: list[Bar]
    total: int
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - AXIS


def expiring_q(now: datetime, days: int = DAYS) -> Q:
    """Keys that authenticate now, were never rotated, and expire within ``days`` days.

    A rotated key's expiry is its grace period's end, planned when it was rotated: not counted.
    """
    return authenticating(now) & Q(
        rotated_at__isnull=True, expires_at__lte=now + timedelta(days=days)
    )


def expiring_timeline(changelist_url: str, now: datetime | None = None) -> Timeline:
    """The timeline of keys expiring from today for ``DAYS`` days; bars link into
    ``changelist_url`` (``?expires=<day>``)."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    rows = (
        APIKey._default_manager.filter(expiring_q(now))
        .annotate(day=TruncDate("expires_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["day"]: row["n"] for row in rows}
    today = timezone.localdate(now)
    days = [today + timedelta(days=n) for n in range(DAYS + 1)]
    tallest = max(counts.values(), default=0) or 1
    slot = WIDTH / len(days)
    room = HEIGHT - AXIS - 4
    bars = []
    for n, day in enumerate(days):
        count = counts.get(day, 0)
        height = room * count / tallest if count else 0
        bars.append(
            Bar(
                day=day,
                count=count,
                x=round(n * slot + 1, 2),
                y=round(HEIGHT - AXIS - height, 2),
                width=round(slot - 2, 2),
                height=round(height, 2),
                url=f"{changelist_url}?expires={day.isoformat()}",
                title=ngettext(
                    "%(n)d key expires on %(day)s", "%(n)d keys expire on %(day)s", count
                )
                % {"n": count, "day": date_format(day, "DATE_FORMAT")},
                label=date_format(day, "M j") if n % LABEL_EVERY == 0 else "",
            )
        )
    total = sum(counts.values())
    summary = ngettext(
        "%(n)d key expires in the next %(days)d days.",
        "%(n)d keys expire in the next %(days)d days.",
        total,
    ) % {"n": total, "days": DAYS}
    return Timeline(bars=bars, total=total, summary=summary or gettext("No key expires soon."))
