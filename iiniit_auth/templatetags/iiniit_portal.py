"""Template filters of the developer portal: ``{% load iiniit_portal %}``."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from iiniit_auth.times import moment_html

register = template.Library()


@register.filter
def moment(value: datetime | None, empty: str = "") -> SafeString:
    """``value`` as people read it ("in 12 days"), the exact time on hover; ``empty`` if None."""
    return moment_html(value, empty or gettext("never"))
