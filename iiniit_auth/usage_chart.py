"""Usage drawn on the server (SVG, no script): requests per day of a credential, and the
busiest credentials.

Read-only pictures of :mod:`iiniit_auth.usage`'s counts, each with its text alternative (a
title, a description, the same numbers as a table), shown on a key's and an application's
admin page (the ``iiniit_usage`` template tags), on the overview, and in the portal. Admin and
the portal draw them the same way, from here; so this module imports neither admin nor
django-oauth-toolkit when it is imported. Credentials are named by non-secret identifiers only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from iiniit_auth import usage
from iiniit_auth.charts import WIDTH, DayChart, day_bars
from iiniit_auth.models import AbstractAPIKey, APIKey, CredentialEvent

#: How many days back a chart looks.
DAYS: Final = 30
#: How many credentials the busiest chart shows, and the height of each one's row.
BUSIEST: Final = 5
ROW: Final = 24
#: Room after the longest bar for its number.
NUMBER: Final = 64


@dataclass(frozen=True)
class Row:
    """One of the busiest credentials: its name, its total, its bar, its admin page (or "")."""

    name: str
    kind: str
    count: int
    y: float
    width: float
    url: str
    title: str

    @property
    def end(self) -> float:
        """Where the bar ends, in the chart (after the names' half), and its number begins."""
        return round(WIDTH / 2 + self.width + 4, 2)


@dataclass(frozen=True)
class BusiestChart:
    """The credentials with the most requests over the last ``DAYS`` days, most first."""

    rows: list[Row]
    summary: str
    width: int = WIDTH
    height: int = 0
    row: int = ROW
    half: int = WIDTH // 2


def counted_as(obj: Any) -> usage.Counted | None:
    """What a page's object is counted as: a key as itself, an OAuth application as itself
    (its tokens add to it); None for anything else."""
    if isinstance(obj, AbstractAPIKey):
        return CredentialEvent.Kind.API_KEY, obj.public_id
    from oauth2_provider.models import AbstractApplication

    if isinstance(obj, AbstractApplication) and obj.pk is not None:
        return CredentialEvent.Kind.OAUTH_APPLICATION, str(obj.pk)
    return None


def daily_chart(obj: Any, now: datetime | None = None) -> DayChart | None:
    """The chart of requests per day of ``obj`` (a key or an OAuth application); None for
    anything else. One query."""
    counted = counted_as(obj)
    if counted is None:
        return None
    return draw_days(usage.daily(*counted, days=DAYS, now=now))


def key_charts(keys: list[AbstractAPIKey], now: datetime | None = None) -> dict[str, DayChart]:
    """The chart of each of ``keys``, by public id. One query."""
    found = usage.daily_many(
        CredentialEvent.Kind.API_KEY, [key.public_id for key in keys], days=DAYS, now=now
    )
    return {public_id: draw_days(days) for public_id, days in found.items()}


def draw_days(days: list[tuple[date, int]]) -> DayChart:
    """Bars for ``(day, requests)``, oldest first, and what they say in words."""
    bars = day_bars(
        days,
        lambda day, count: (
            ngettext("%(n)d request on %(day)s", "%(n)d requests on %(day)s", count)
            % {"n": count, "day": date_format(day, "DATE_FORMAT")}
        ),
        label_newest=True,
    )
    total = sum(count for _day, count in days)
    summary = ngettext(
        "%(n)d request in the last %(days)d days.",
        "%(n)d requests in the last %(days)d days.",
        total,
    ) % {"n": total, "days": len(days)}
    if total:
        busiest_day, most = max(days, key=lambda item: item[1])
        summary += " " + gettext("The busiest day was %(day)s, with %(n)d.") % {
            "day": date_format(busiest_day, "DATE_FORMAT"),
            "n": most,
        }
    return DayChart(bars=bars, total=total, summary=summary)


def busiest_chart(
    admin_name: str, kinds: Iterable[str], now: datetime | None = None
) -> BusiestChart:
    """The ``BUSIEST`` credentials of ``kinds`` with the most requests over ``DAYS`` days,
    named and linked to their pages in the admin site named ``admin_name``. Three queries at
    most (two when only one kind is shown)."""
    found = usage.busiest(limit=BUSIEST, days=DAYS, kinds=kinds, now=now)
    key_ids = [i for kind, i, _n in found if kind == CredentialEvent.Kind.API_KEY]
    keys = (
        {
            key.public_id: key
            for key in APIKey._default_manager.filter(public_id__in=key_ids).only(
                "pk", "public_id", "name"
            )
        }
        if key_ids
        else {}
    )
    applications: dict[str, Any] = {}
    app_ids = [
        int(i)
        for kind, i, _n in found
        if kind == CredentialEvent.Kind.OAUTH_APPLICATION and i.isdigit()
    ]
    if app_ids:
        from oauth2_provider.models import get_application_model

        applications = {
            str(app.pk): app
            for app in get_application_model()
            ._default_manager.filter(pk__in=app_ids)
            .only("pk", "name")
        }
    tallest = max((n for _kind, _i, n in found), default=0) or 1
    rows = []
    for position, (kind, credential_id, count) in enumerate(found):
        obj: Any = keys.get(credential_id) if kind == CredentialEvent.Kind.API_KEY else None
        if kind == CredentialEvent.Kind.OAUTH_APPLICATION:
            obj = applications.get(credential_id)
        if obj is None:
            name, url = credential_id, ""
        else:
            label = obj.name or credential_id
            name = f"{label} ({credential_id})" if isinstance(obj, AbstractAPIKey) else label
            url = _change_url(admin_name, obj)
        rows.append(
            Row(
                name=name,
                kind=str(CredentialEvent.Kind(kind).label),
                count=count,
                y=position * ROW,
                width=round((WIDTH / 2 - NUMBER) * count / tallest, 2),
                url=url,
                title=ngettext("%(name)s: %(n)d request", "%(name)s: %(n)d requests", count)
                % {"name": name, "n": count},
            )
        )
    summary = (
        gettext("The credentials with the most requests in the last %(days)d days.")
        % {"days": DAYS}
        if rows
        else gettext("No requests counted in the last %(days)d days.") % {"days": DAYS}
    )
    return BusiestChart(rows=rows, summary=summary, height=max(len(rows), 1) * ROW)


def _change_url(admin_name: str, obj: Any) -> str:
    opts = obj._meta
    try:
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[obj.pk],
            current_app=admin_name,
        )
    except NoReverseMatch:
        return ""
