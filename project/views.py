"""The example project's own pages (the API lives in ``project.example``)."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from iiniit_auth.scopes import registry


class HomeView(TemplateView):
    """``/``: what the demo is, where its admin and API are, and the scopes it knows."""

    template_name = "home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["scopes"] = list(registry().items())
        return context
