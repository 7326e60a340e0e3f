"""``{% usage_chart_of obj %}``: a key's or an OAuth application's requests per day, drawn.

For pages whose views do not compute the chart themselves (admin's change pages): the tag
asks :mod:`iiniit_auth.usage_chart` (one query) and renders ``iiniit_auth/usage_chart.html``;
for anything else (an unsaved object on an add page) it renders nothing.
"""

from __future__ import annotations

from typing import Any

from django import template

from iiniit_auth import usage_chart

register = template.Library()


@register.inclusion_tag("iiniit_auth/usage_chart.html")
def usage_chart_of(obj: Any) -> dict[str, Any]:
    """The context of the usage chart of ``obj`` (an API key or an OAuth application)."""
    chart = usage_chart.daily_chart(obj)
    if chart is None:
        return {"chart": None}
    return {"chart": chart, "chart_id": f"iiniit-usage-{obj._meta.model_name}-{obj.pk}"}
