"""Swagger UI's pages for a site that is its own OAuth 2.0 authorization server.

Import these in the URLconf (they need drf-spectacular's views, which the app's start-up does
not load)::

    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/docs/oauth2-redirect.html", SwaggerOAuthRedirectView.as_view()),
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils.html import format_html
from django.views import View
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response

# Swagger UI's OAuth dialog opens the authorization server in a popup, whose last page (the
# redirect URI) hands the code back through ``window.opener``. A browser keeps that link only
# while every page of the popup shares the opener's Cross-Origin-Opener-Policy. Django sends
# ``same-origin`` (SECURE_CROSS_ORIGIN_OPENER_POLICY) on the sign-in and consent pages, while
# drf-spectacular sends ``unsafe-none`` on Swagger UI's page and serves the redirect page as a
# static file, with none: the popup loses its opener, and the dialog never gets its code.
# These two views put both pages under the site's own policy.


class SwaggerView(SpectacularSwaggerView):
    """drf-spectacular's Swagger UI page, under the site's Cross-Origin-Opener-Policy."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # SecurityMiddleware then sets the site's policy (it leaves alone a header a view set).
        if "Cross-Origin-Opener-Policy" in response.headers:
            del response.headers["Cross-Origin-Opener-Policy"]
        return response


REDIRECT_PAGE = '<!doctype html><html lang="en-US"><body><script src="{}"></script></body></html>'


class SwaggerOAuthRedirectView(View):
    """Swagger UI's OAuth 2.0 redirect page (its ``oauth2-redirect.html``), served by Django.

    Route it at ``oauth2-redirect.html`` next to :class:`SwaggerView`'s URL, where Swagger UI
    looks for it, and register that URL as the Swagger UI application's redirect URI.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        dist = spectacular_settings.SWAGGER_UI_DIST
        if dist == "SIDECAR":
            script = static("drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.js")
        else:
            script = f"{dist}/oauth2-redirect.js"
        return HttpResponse(format_html(REDIRECT_PAGE, script))
