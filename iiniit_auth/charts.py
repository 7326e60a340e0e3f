"""Bar charts of one value a day, drawn on the server (SVG, no script): the geometry that the
admin's expiry timeline and the usage charts of admin and the portal share.

Pure drawing: the callers count, and say what each bar's tooltip reads and where it links.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from django.utils.formats import date_format

#: The drawing's size, in the SVG's own units (it scales to the page's width).
WIDTH: Final = 600
HEIGHT: Final = 120
#: Room under the bars for the date labels.
AXIS: Final = 18
#: A date label under every this many bars.
LABEL_EVERY: Final = 7


@dataclass(frozen=True)
class DayBar:
    """One day: its count, where its bar stands, its tooltip, its date label (or "") and the
    page it links to (or "")."""

    day: date
    count: int
    x: float
    y: float
    width: float
    height: float
    title: str
    label: str
    url: str = ""

    @property
    def right(self) -> float:
        """Where the bar ends: a label anchored there keeps the last one in view."""
        return round(self.x + self.width, 2)


@dataclass(frozen=True)
class DayChart:
    """The bars of consecutive days, oldest first, and what they say in words (the drawing's
    text for screen readers)."""

    bars: list[DayBar]
    total: int
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - AXIS


def day_bars(
    days: Sequence[tuple[date, int]],
    title: Callable[[date, int], str],
    *,
    url: Callable[[date], str] | None = None,
    label_newest: bool = False,
) -> list[DayBar]:
    """Bars for ``(day, count)``, oldest first, as tall as their count against the tallest.

    Every :data:`LABEL_EVERY`-th bar gets a date label, counted from the oldest, or from the
    newest with ``label_newest`` (so that today always has its date).
    """
    tallest = max((count for _day, count in days), default=0) or 1
    slot = WIDTH / max(len(days), 1)
    room = HEIGHT - AXIS - 4
    bars = []
    for n, (day, count) in enumerate(days):
        height = room * count / tallest if count else 0
        place = len(days) - 1 - n if label_newest else n
        bars.append(
            DayBar(
                day=day,
                count=count,
                x=round(n * slot + 1, 2),
                y=round(HEIGHT - AXIS - height, 2),
                width=round(slot - 2, 2),
                height=round(height, 2),
                title=title(day, count),
                label=date_format(day, "M j") if place % LABEL_EVERY == 0 else "",
                url=url(day) if url is not None else "",
            )
        )
    return bars
