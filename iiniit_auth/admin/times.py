"""Admin's moments: :mod:`iiniit_auth.times`, which the portal shares."""

from __future__ import annotations

from iiniit_auth.times import DAYS_FROM, DAYS_UNTIL, JUST_NOW, exact, moment_html, relative

__all__ = ["DAYS_FROM", "DAYS_UNTIL", "JUST_NOW", "exact", "moment_html", "relative"]
