"""The keys that expire in the coming days, drawn as bars on the server (SVG, no script).

One bar a day, as tall as the number of keys that stop working that day (in the current time
zone); each bar links to the key list filtered to that day. One query, whatever the number of
keys.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from iiniit_auth.charts import DayChart, day_bars
from iiniit_auth.models import APIKey
from iiniit_auth.models.managers import authenticating

#: How many days ahead the timeline looks.
DAYS: Final = 30


def expiring_q(now: datetime, days: int = DAYS) -> Q:
    """Keys that authenticate now, were never rotated, and expire within ``days`` days.

    A rotated key's expiry is its grace period's end, planned when it was rotated: not counted.
    """
    return authenticating(now) & Q(
        rotated_at__isnull=True, expires_at__lte=now + timedelta(days=days)
    )


def expiring_timeline(changelist_url: str, now: datetime | None = None) -> DayChart:
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
    bars = day_bars(
        [(day, counts.get(day, 0)) for day in days],
        lambda day, count: (
            ngettext("%(n)d key expires on %(day)s", "%(n)d keys expire on %(day)s", count)
            % {"n": count, "day": date_format(day, "DATE_FORMAT")}
        ),
        url=lambda day: f"{changelist_url}?expires={day.isoformat()}",
    )
    total = sum(counts.values())
    summary = ngettext(
        "%(n)d key expires in the next %(days)d days.",
        "%(n)d keys expire in the next %(days)d days.",
        total,
    ) % {"n": total, "days": DAYS}
    return DayChart(bars=bars, total=total, summary=summary or gettext("No key expires soon."))
